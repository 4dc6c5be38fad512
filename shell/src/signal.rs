//! SIGTERM and SIGINT as a shutdown future.
//!
//! The handlers are installed when [`install`] returns, not when the future is first polled: a
//! program calls it before printing its ready line, so a service manager or a test that stops
//! it the moment it is ready gets a clean stop instead of the default action (death by signal).

use std::future::Future;
use thiserror::Error;
use tokio::signal::unix::{SignalKind, signal};

/// The handlers could not be installed.
#[derive(Debug, Error)]
#[error("cannot handle {signal}: {source}")]
pub struct SignalError {
    /// Which signal.
    pub signal: &'static str,
    /// The OS's reason.
    pub source: std::io::Error,
}

/// Which signal asked the program to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// SIGTERM: systemd's `stop`, `kill`.
    Terminate,
    /// SIGINT: Ctrl-C.
    Interrupt,
}

/// Installs the SIGTERM and SIGINT handlers now; the future resolves on the first of either.
/// Must be called inside a tokio runtime.
pub fn install() -> Result<impl Future<Output = Stop> + Send + 'static, SignalError> {
    let handler = |kind: SignalKind, name: &'static str| {
        signal(kind).map_err(|source| SignalError {
            signal: name,
            source,
        })
    };
    let mut term = handler(SignalKind::terminate(), "SIGTERM")?;
    let mut int = handler(SignalKind::interrupt(), "SIGINT")?;
    Ok(async move {
        let stop = tokio::select! {
            _ = term.recv() => Stop::Terminate,
            _ = int.recv() => Stop::Interrupt,
        };
        tracing::info!(signal = ?stop, "shutting down");
        stop
    })
}

/// [`install`] for a program's `run(config, shutdown)`: when the signal arrives it also tells
/// systemd the program is stopping.
pub fn shutdown() -> Result<impl Future<Output = ()> + Send + 'static, SignalError> {
    let stop = install()?;
    Ok(async move {
        stop.await;
        crate::notify::stopping();
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::signal::{Signal, raise};
    use std::time::Duration;

    // Both signals in one test: once tokio handles a signal it does so for the whole test
    // process, so a second test could not show that an uninstalled handler kills it.
    #[tokio::test]
    async fn a_signal_raised_right_after_install_resolves_the_future_instead_of_killing() {
        for (signal, stop) in [
            (Signal::SIGTERM, Stop::Terminate),
            (Signal::SIGINT, Stop::Interrupt),
        ] {
            let future = install().unwrap();
            // Raised before the future is ever polled: the handler must already be there.
            raise(signal).unwrap();
            let got = tokio::time::timeout(Duration::from_secs(10), future)
                .await
                .expect("the shutdown future resolves");
            assert_eq!(got, stop);
        }
    }
}
