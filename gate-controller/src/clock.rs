//! The gate's wall clock and whether to trust it.
//!
//! A Raspberry Pi has no real-time clock: after a power cut without network it boots with a
//! wrong time. The last trusted time is persisted; a clock behind it, a clock that the server
//! says is off, or (where it can be read) a clock the system says is not synchronised puts the
//! gate in untrusted-clock mode. [`assess`] is the pure rule; [`Clock`] is the thin shell.

use crate::core::WallClock;
use chrono::{DateTime, Duration, Utc};
use std::path::PathBuf;
use std::time::Instant;
use thiserror::Error;

/// The env var that shifts the gate's wall clock, for end-to-end tests only.
pub const SIM_OFFSET_ENV: &str = "GATEHOUSE_SIM_CLOCK_OFFSET_SECS";

/// How far the clock may disagree with the server before it is distrusted.
pub const SERVER_SKEW_TOLERANCE: Duration = Duration::seconds(120);

/// How often a trusted time is persisted.
pub const CHECKPOINT_EVERY: Duration = Duration::seconds(60);

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
        Some(v) => v
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(Duration::try_seconds)
            .map(Some)
            .ok_or_else(|| BadOffset {
                value: v.to_owned(),
            }),
    }
}

/// Decides whether a clock reading can be trusted.
///
/// - `last_trusted`: the last time known to be right (real time is at least that);
/// - `server_skew`: reading minus the server's time at the last sync, if known;
/// - `synchronised`: what the OS says about NTP, where it can be read.
pub fn assess(
    reading: DateTime<Utc>,
    last_trusted: Option<DateTime<Utc>>,
    server_skew: Option<Duration>,
    synchronised: Option<bool>,
) -> WallClock {
    let behind = last_trusted.is_some_and(|lt| reading < lt);
    let skewed = server_skew.is_some_and(|s| s.abs() > SERVER_SKEW_TOLERANCE);
    let unsynchronised = synchronised == Some(false);
    match last_trusted {
        Some(lt) if behind || skewed || unsynchronised => WallClock::Untrusted {
            now: reading,
            last_trusted: lt,
        },
        None if skewed || unsynchronised => WallClock::Untrusted {
            now: reading,
            last_trusted: reading.min(reading - server_skew.unwrap_or_default()),
        },
        _ => WallClock::Trusted(reading),
    }
}

/// The shell around [`assess`]: reads the system clock (plus the simulation offset).
#[derive(Debug)]
pub struct Clock {
    sim_offset: Duration,
    last_trusted: Option<DateTime<Utc>>,
    last_saved: Option<DateTime<Utc>>,
    /// The server's clock at the last snapshot and when it arrived: extrapolated with the
    /// monotonic clock, so a wall clock that NTP fixes later is trusted again.
    server_anchor: Option<(DateTime<Utc>, Instant)>,
    ntp_flag: Option<PathBuf>,
}

impl Clock {
    /// A clock that remembers `last_trusted` from the journal. `ntp_flag` is a file whose
    /// existence means "synchronised" (systemd-timesyncd's `/run/systemd/timesync/synchronized`).
    pub fn new(
        last_trusted: Option<DateTime<Utc>>,
        sim_offset: Option<Duration>,
        ntp_flag: Option<PathBuf>,
    ) -> Self {
        Clock {
            sim_offset: sim_offset.unwrap_or_default(),
            last_trusted,
            last_saved: last_trusted,
            server_anchor: None,
            ntp_flag,
        }
    }

    /// What the wall clock reads now, with the simulation offset.
    pub fn reading(&self) -> DateTime<Utc> {
        Utc::now() + self.sim_offset
    }

    /// The wall clock now, trusted or not.
    pub fn wall(&mut self) -> WallClock {
        let synchronised = self.ntp_flag.as_ref().map(|p| p.exists());
        let reading = self.reading();
        let server_skew = self.server_anchor.and_then(|(server, at)| {
            let elapsed = Duration::from_std(at.elapsed()).ok()?;
            Some(reading - (server + elapsed))
        });
        let wall = assess(reading, self.last_trusted, server_skew, synchronised);
        if let WallClock::Trusted(t) = wall {
            self.last_trusted = Some(self.last_trusted.map_or(t, |lt| lt.max(t)));
        }
        wall
    }

    /// Notes the server's clock from a snapshot.
    pub fn note_server_time(&mut self, server_time: DateTime<Utc>) {
        self.server_anchor = Some((server_time, Instant::now()));
    }

    /// A trusted time to persist, at most once a minute.
    pub fn checkpoint(&mut self) -> Option<DateTime<Utc>> {
        let lt = self.last_trusted?;
        if self
            .last_saved
            .is_some_and(|saved| lt - saved < CHECKPOINT_EVERY)
        {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn clock_behind_last_trusted_is_untrusted_until_it_catches_up() {
        let last = t("2026-11-27T01:00:00Z");
        // A Pi that booted after a power cut thinks it is 1970-ish.
        let boot = t("2024-01-01T00:00:00Z");
        assert_eq!(
            assess(boot, Some(last), None, None),
            WallClock::Untrusted {
                now: boot,
                last_trusted: last
            }
        );
        // NTP set it right: trusted again.
        let later = t("2026-11-27T02:00:00Z");
        assert_eq!(
            assess(later, Some(last), None, None),
            WallClock::Trusted(later)
        );
    }

    #[test]
    fn server_skew_and_unsynchronised_clock_are_untrusted() {
        let last = t("2026-11-27T01:00:00Z");
        let now = t("2026-11-27T05:00:00Z");
        assert!(!assess(now, Some(last), Some(Duration::hours(3)), None).is_trusted());
        assert!(assess(now, Some(last), Some(Duration::seconds(5)), None).is_trusted());
        assert!(!assess(now, Some(last), None, Some(false)).is_trusted());
        assert!(assess(now, None, None, Some(true)).is_trusted());
        // First start, no history, clock 3 h ahead of the server: real time is at most the
        // server's, so that is what counts as last trusted.
        match assess(now, None, Some(Duration::hours(3)), None) {
            WallClock::Untrusted { last_trusted, .. } => {
                assert_eq!(last_trusted, t("2026-11-27T02:00:00Z"))
            }
            other => panic!("{other:?}"),
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
    fn server_time_distrusts_a_wrong_clock_until_it_is_right() {
        let mut c = Clock::new(None, None, None);
        // The server says it is three hours later than this machine thinks.
        c.note_server_time(Utc::now() + Duration::hours(3));
        assert!(!c.wall().is_trusted());
        // NTP sets the clock right (simulated by the offset): trusted again.
        c.sim_offset = Duration::hours(3);
        assert!(c.wall().is_trusted());
    }

    #[test]
    fn checkpoints_at_most_once_a_minute() {
        let mut c = Clock::new(None, None, None);
        assert!(c.wall().is_trusted());
        assert!(c.checkpoint().is_some());
        assert!(c.checkpoint().is_none());
        assert!(c.force_checkpoint().is_some());
    }
}
