//! The gate's wall clock and whether to trust it.
//!
//! A Raspberry Pi has no real-time clock (a Pi 5 has one only with its battery fitted): after
//! a power cut without network it boots with the time fake-hwclock saved, or 1970. The rule
//! is [`trust::assess`], a pure function of the reading, the monotonic clock, the NTP status,
//! the latest server time with its round trip, and the persisted last trusted time. [`Clock`]
//! is the thin shell: it reads the system clock, takes the NTP status from a small monitor
//! thread (so no decision waits on a syscall or a process) and the server time from sync.

pub mod ntp;
pub mod trust;

pub use ntp::{NtpSource, NtpSourceKind};
pub use trust::{Correction, Limits, NtpStatus, Reason, ServerTime};

use crate::config::ClockConfig;
use crate::core::WallClock;
use chrono::{DateTime, Duration, Utc};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;
use thiserror::Error;

/// The env var that shifts the gate's wall clock, for end-to-end tests only.
pub const SIM_OFFSET_ENV: &str = "GATEHOUSE_SIM_CLOCK_OFFSET_SECS";

/// How often a trusted time is persisted.
pub const CHECKPOINT_EVERY: Duration = Duration::seconds(60);

/// Where the kernel lists RTCs.
const SYSFS_RTC: &str = "/sys/class/rtc";

/// Why the simulated clock offset is unusable.
#[derive(Debug, Error)]
#[error("{SIM_OFFSET_ENV}={value:?} is not a whole number of seconds")]
pub struct BadOffset {
    value: String,
}

/// Parses the simulation offset from the environment variable's value.
pub fn parse_sim_offset(value: Option<&str>) -> Result<Option<Duration>, BadOffset> {
    match value {
        None => Ok(None),
        Some(v) => parse_secs(v).map(Some).ok_or_else(|| BadOffset {
            value: v.to_owned(),
        }),
    }
}

fn parse_secs(v: &str) -> Option<Duration> {
    v.trim().parse::<i64>().ok().and_then(Duration::try_seconds)
}

/// Where sync puts the server times it sees; the clock reads the latest.
#[derive(Clone, Debug, Default)]
pub struct ServerTimeFeed(Arc<Mutex<Option<ServerTime>>>);

impl ServerTimeFeed {
    /// Records a server time seen in an answer.
    pub fn observe(&self, seen: ServerTime) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(seen);
    }

    fn latest(&self) -> Option<ServerTime> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What the monitor thread keeps current.
#[derive(Debug)]
struct Monitored {
    ntp: AtomicU8,
    /// The simulation offset file's value, ms.
    sim_file_offset_ms: AtomicI64,
}

impl Monitored {
    fn ntp(&self) -> NtpStatus {
        match self.ntp.load(Ordering::Relaxed) {
            0 => NtpStatus::Synchronised,
            1 => NtpStatus::Unsynchronised,
            _ => NtpStatus::Unknown,
        }
    }

    fn set_ntp(&self, status: NtpStatus) {
        let v = match status {
            NtpStatus::Synchronised => 0,
            NtpStatus::Unsynchronised => 1,
            NtpStatus::Unknown => 2,
        };
        self.ntp.store(v, Ordering::Relaxed);
    }

    /// One look at the NTP source; a source that cannot be read counts as unsynchronised.
    fn poll_ntp(&self, source: &NtpSource, last_error: &mut Option<String>) {
        let status = source.read().unwrap_or_else(|e| {
            let text = e.to_string();
            if last_error.as_ref() != Some(&text) {
                tracing::warn!(error = %text, "cannot read the NTP status; counting it as unsynchronised");
            }
            *last_error = Some(text);
            NtpStatus::Unsynchronised
        });
        if status != self.ntp() {
            tracing::info!(?status, ?source, "NTP status");
        }
        self.set_ntp(status);
    }

    fn poll_sim_file(&self, path: &Path) {
        let secs = match std::fs::read_to_string(path) {
            Ok(text) => match parse_secs(&text) {
                Some(d) => d,
                None => {
                    tracing::warn!(path = %path.display(), "sim offset file is not whole seconds; kept the last value");
                    return;
                }
            },
            Err(_) => Duration::zero(),
        };
        self.sim_file_offset_ms
            .store(secs.num_milliseconds(), Ordering::Relaxed);
    }
}

/// Polls the NTP source (and the simulation offset file) until the clock is dropped.
fn spawn_monitor(monitored: Weak<Monitored>, source: NtpSource, sim_file: Option<PathBuf>) {
    let spawned = std::thread::Builder::new()
        .name("clock-monitor".into())
        .spawn(move || {
            let mut next_ntp = Instant::now() + source.poll_every();
            let mut last_error = None;
            loop {
                std::thread::sleep(std::time::Duration::from_millis(250));
                let Some(m) = monitored.upgrade() else { return };
                if Instant::now() >= next_ntp {
                    m.poll_ntp(&source, &mut last_error);
                    next_ntp = Instant::now() + source.poll_every();
                }
                if let Some(path) = &sim_file {
                    m.poll_sim_file(path);
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the clock monitor; NTP status frozen");
    }
}

/// The shell around [`trust::assess`].
#[derive(Debug)]
pub struct Clock {
    limits: Limits,
    sim_offset: Duration,
    monitored: Arc<Monitored>,
    server: ServerTimeFeed,
    rtc_set_clock: bool,
    last_trusted: Option<DateTime<Utc>>,
    last_saved: Option<DateTime<Utc>>,
    reason: Option<Reason>,
    correction: Option<Correction>,
}

impl Clock {
    /// A clock that remembers `last_trusted` from the journal, with its NTP source and limits
    /// from `[clock]`. Reads the NTP source once before returning.
    pub fn new(
        last_trusted: Option<DateTime<Utc>>,
        sim_offset: Option<Duration>,
        config: &ClockConfig,
    ) -> Self {
        let source = NtpSource::resolve(config.ntp_source(), config.ntp_flag.as_deref());
        let rtc_set_clock = rtc_set_clock_at_boot(config.trust_rtc);
        let monitored = Arc::new(Monitored {
            ntp: AtomicU8::new(2),
            sim_file_offset_ms: AtomicI64::new(0),
        });
        monitored.poll_ntp(&source, &mut None);
        if let Some(path) = &config.sim_offset_file {
            tracing::warn!(path = %path.display(), "SIMULATION ONLY: the wall clock follows the sim offset file");
            monitored.poll_sim_file(path);
        }
        if source != NtpSource::None || config.sim_offset_file.is_some() {
            spawn_monitor(
                Arc::downgrade(&monitored),
                source,
                config.sim_offset_file.clone(),
            );
        }
        Clock {
            limits: Limits {
                tolerance: Duration::seconds(config.server_tolerance_secs as i64),
                server_evidence_for: std::time::Duration::from_secs(config.server_evidence_secs),
                trust_rtc: config.trust_rtc,
                ..Limits::default()
            },
            sim_offset: sim_offset.unwrap_or_default(),
            monitored,
            server: ServerTimeFeed::default(),
            rtc_set_clock,
            last_trusted,
            last_saved: last_trusted,
            reason: None,
            correction: None,
        }
    }

    /// Where sync reports the server times it sees.
    pub fn server_time_feed(&self) -> ServerTimeFeed {
        self.server.clone()
    }

    /// What the wall clock reads now, with the simulation offsets.
    pub fn reading(&self) -> DateTime<Utc> {
        let file =
            Duration::milliseconds(self.monitored.sim_file_offset_ms.load(Ordering::Relaxed));
        Utc::now() + self.sim_offset + file
    }

    /// The wall clock now, trusted or not.
    pub fn wall(&mut self) -> WallClock {
        let inputs = trust::Inputs {
            reading: self.reading(),
            now: Instant::now(),
            ntp: self.monitored.ntp(),
            rtc_set_clock: self.rtc_set_clock,
            server: self.server.latest(),
            last_trusted: self.last_trusted,
        };
        let a = trust::assess(&inputs, &self.limits);
        self.last_trusted = a.last_trusted;
        if let Some(c) = a.correction {
            tracing::warn!(from = %c.from, to = %c.to, "the server confirmed a clock behind the last trusted time: that time was in the future; corrected");
            self.correction = Some(c);
        }
        let changed = self
            .reason
            .is_none_or(|r| std::mem::discriminant(&r) != std::mem::discriminant(&a.reason));
        if changed {
            if a.reason.trusts() {
                tracing::info!(reason = ?a.reason, "clock trusted");
            } else {
                tracing::warn!(reason = ?a.reason, reading = %inputs.reading, "clock not trusted");
            }
        }
        self.reason = Some(a.reason);
        a.wall
    }

    /// Why the clock was trusted or not at the last reading.
    pub fn reason(&self) -> Option<Reason> {
        self.reason
    }

    /// A correction of the last trusted time not yet reported (an alarm for the journal).
    pub fn take_correction(&mut self) -> Option<Correction> {
        self.correction.take()
    }

    /// A trusted time to persist: at most once a minute, and at once after a correction.
    pub fn checkpoint(&mut self) -> Option<DateTime<Utc>> {
        let lt = self.last_trusted?;
        let due = self
            .last_saved
            .is_none_or(|saved| lt < saved || lt - saved >= CHECKPOINT_EVERY);
        if !due {
            return None;
        }
        self.last_saved = Some(lt);
        Some(lt)
    }

    /// Forces the next checkpoint (at shutdown).
    pub fn force_checkpoint(&mut self) -> Option<DateTime<Utc>> {
        self.last_saved = None;
        self.checkpoint()
    }
}

/// Whether to count the RTC: only when configured, and only if the kernel says an RTC set
/// the clock at this boot.
fn rtc_set_clock_at_boot(trust_rtc: bool) -> bool {
    if !trust_rtc {
        return false;
    }
    let set = ntp::rtc_set_clock_at_boot(Path::new(SYSFS_RTC));
    if !set {
        tracing::warn!(
            "[clock] trust_rtc is set but no RTC set the system clock at boot (no hctosys under /sys/class/rtc)"
        );
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(ntp: NtpSourceKind) -> ClockConfig {
        ClockConfig {
            ntp: Some(ntp),
            ..ClockConfig::default()
        }
    }

    fn seen_now(offset: Duration) -> ServerTime {
        let now = Instant::now();
        ServerTime {
            at: Utc::now() + offset,
            resolution: Duration::zero(),
            sent: now,
            received: now,
        }
    }

    #[test]
    fn sim_offset_parses_or_says_what_is_wrong() {
        assert_eq!(parse_sim_offset(None).unwrap(), None);
        assert_eq!(
            parse_sim_offset(Some("-3600")).unwrap(),
            Some(Duration::hours(-1))
        );
        let err = parse_sim_offset(Some("1h")).unwrap_err().to_string();
        assert!(err.contains(SIM_OFFSET_ENV) && err.contains("1h"), "{err}");
    }

    #[test]
    fn an_absent_flag_with_an_agreeing_server_is_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let flag = dir.path().join("synchronized");
        let mut c = Clock::new(
            None,
            None,
            &ClockConfig {
                ntp_flag: Some(flag.clone()),
                ..ClockConfig::default()
            },
        );
        assert!(!c.wall().is_trusted());
        assert_eq!(c.reason(), Some(Reason::NtpUnsynchronised));
        c.server_time_feed().observe(seen_now(Duration::seconds(2)));
        assert!(c.wall().is_trusted());
        assert_eq!(c.reason(), Some(Reason::ServerAgrees));
    }

    #[test]
    fn server_time_distrusts_a_wrong_clock_until_it_is_right() {
        let mut c = Clock::new(None, None, &config(NtpSourceKind::None));
        // The server says it is three hours later than this machine thinks.
        c.server_time_feed().observe(seen_now(Duration::hours(3)));
        assert!(!c.wall().is_trusted());
        // NTP sets the clock right (simulated by the offset): trusted again.
        c.sim_offset = Duration::hours(3);
        assert!(c.wall().is_trusted());
    }

    #[test]
    fn a_poisoned_last_trusted_time_is_corrected_once_and_persisted_at_once() {
        let poisoned = Utc::now() + Duration::days(30);
        let mut c = Clock::new(Some(poisoned), None, &config(NtpSourceKind::None));
        assert!(!c.wall().is_trusted(), "behind the last trusted time");
        assert_eq!(c.take_correction(), None);
        c.server_time_feed().observe(seen_now(Duration::zero()));
        assert!(c.wall().is_trusted());
        let corr = c.take_correction().expect("a correction");
        assert_eq!(corr.from, poisoned);
        assert!(corr.to < poisoned - Duration::days(29));
        assert_eq!(c.take_correction(), None, "reported once");
        let saved = c.checkpoint().expect("persisted at once");
        assert!(saved < poisoned - Duration::days(29));
    }

    #[test]
    fn checkpoints_at_most_once_a_minute() {
        let mut c = Clock::new(None, None, &config(NtpSourceKind::None));
        assert!(c.wall().is_trusted());
        assert!(c.checkpoint().is_some());
        assert!(c.checkpoint().is_none());
        assert!(c.force_checkpoint().is_some());
    }

    #[test]
    fn the_sim_offset_file_steps_the_clock_while_running() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("offset");
        std::fs::write(&file, "-7200\n").unwrap();
        let c = Clock::new(
            None,
            None,
            &ClockConfig {
                ntp: Some(NtpSourceKind::None),
                sim_offset_file: Some(file.clone()),
                ..ClockConfig::default()
            },
        );
        let behind = (Utc::now() - c.reading()).num_seconds();
        assert!((7199..=7201).contains(&behind), "{behind}");
        std::fs::write(&file, "0").unwrap();
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while (Utc::now() - c.reading()).num_seconds().abs() > 1 {
            assert!(
                Instant::now() < deadline,
                "the monitor never re-read the file"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}
