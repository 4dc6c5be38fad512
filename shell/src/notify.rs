//! systemd's notification protocol (`Type=notify`, `WatchdogSec=`): ready, watchdog, stopping.
//! Outside systemd (no `NOTIFY_SOCKET`) every call does nothing.

use std::time::Duration;

fn send(state: sd_notify::NotifyState<'_>, what: &str) {
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return;
    }
    if let Err(e) = sd_notify::notify(&[state]) {
        tracing::warn!(error = %e, "cannot tell systemd {what}");
    }
}

/// Tells systemd the program is ready (after its ready line).
pub fn ready() {
    send(sd_notify::NotifyState::Ready, "READY");
}

/// Tells systemd the program is stopping (once the shutdown signal arrived).
pub fn stopping() {
    send(sd_notify::NotifyState::Stopping, "STOPPING");
}

/// Pets the watchdog.
pub fn watchdog() {
    send(sd_notify::NotifyState::Watchdog, "WATCHDOG");
}

/// How often to pet the watchdog (half its interval), if systemd set one for this process.
pub fn watchdog_every() -> Option<Duration> {
    sd_notify::watchdog_enabled().map(|interval| interval / 2)
}
