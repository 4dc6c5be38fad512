//! Whether the wall clock can be trusted: one pure function of what the gate knows.
//!
//! The evidence, strongest first:
//! 1. the server's time, seen in an answer whose round trip bounds when it was stamped and
//!    carried forward with the monotonic clock (it expires: agreement seen long ago says
//!    nothing about a clock that may have been stepped since);
//! 2. the last trusted time (real time is at least that, so a reading behind it is wrong);
//! 3. the NTP daemon's verdict, or a battery-backed RTC that set the clock at boot.
//!
//! A fresh server time that disagrees makes the clock untrusted whatever NTP says; one that
//! agrees makes it trusted whatever NTP says, and also confirms a reading that is behind the
//! last trusted time, which was then in the future (it is lowered, see [`Assessment`]).

use crate::core::WallClock;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::time::Instant;

/// What the operating system says about NTP synchronisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NtpStatus {
    /// An NTP daemon keeps the clock synchronised.
    Synchronised,
    /// The clock is free-running (no daemon, or it has not reached a server).
    Unsynchronised,
    /// Not asked (`ntp = "none"`) or the answer could not be read.
    Unknown,
}

/// One sighting of the server's clock in an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerTime {
    /// The server's clock when it answered.
    pub at: DateTime<Utc>,
    /// How coarse `at` is: zero for the snapshot's `server_time`, one second for an HTTP
    /// `Date` header (it is `at` rounded down).
    pub resolution: Duration,
    /// When the request left, by the monotonic clock.
    pub sent: Instant,
    /// When the answer arrived, by the monotonic clock.
    pub received: Instant,
}

/// How the evidence is weighed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// How far the clock may be from the server's and still count as right.
    pub tolerance: Duration,
    /// How long a server time is evidence for, by the monotonic clock.
    pub server_evidence_for: std::time::Duration,
    /// How fast the monotonic clock may drift from real time, parts per million: the
    /// carried-forward server time gets this much more uncertain per second.
    pub drift_ppm: i64,
    /// Whether a battery-backed RTC that set the system clock at boot is trusted like NTP.
    pub trust_rtc: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            tolerance: Duration::seconds(120),
            server_evidence_for: std::time::Duration::from_secs(3600),
            // A Pi's crystal is within ±50 ppm; NTP slewing CLOCK_MONOTONIC is at most 500.
            drift_ppm: 500,
            trust_rtc: false,
        }
    }
}

/// Everything the decision looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inputs {
    /// The wall clock now.
    pub reading: DateTime<Utc>,
    /// The monotonic clock now.
    pub now: Instant,
    /// The NTP daemon's verdict.
    pub ntp: NtpStatus,
    /// Whether a battery-backed RTC set the system clock at this boot.
    pub rtc_set_clock: bool,
    /// The latest server time seen, if any.
    pub server: Option<ServerTime>,
    /// The last time known to be right.
    pub last_trusted: Option<DateTime<Utc>>,
}

/// Why the clock is trusted or not; shown on the status page and logged when it changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// The server's time agrees within the tolerance.
    ServerAgrees,
    /// The NTP daemon says the clock is synchronised.
    Ntp,
    /// A battery-backed RTC set the clock at boot (`trust_rtc`).
    Rtc,
    /// No NTP source is consulted and nothing contradicts the clock.
    NotContradicted,
    /// The server's time disagrees by about `skew_secs` (positive: this clock is ahead).
    ServerDisagrees {
        /// This clock minus the server's, seconds.
        skew_secs: i64,
    },
    /// The reading is behind the last trusted time.
    BehindLastTrusted {
        /// By how much, seconds.
        by_secs: i64,
    },
    /// The NTP daemon says the clock is not synchronised, and no server time agrees.
    NtpUnsynchronised,
}

impl Reason {
    /// Whether this reason trusts the clock.
    pub fn trusts(self) -> bool {
        matches!(
            self,
            Reason::ServerAgrees | Reason::Ntp | Reason::Rtc | Reason::NotContradicted
        )
    }
}

/// The last trusted time was lowered: it had been taken from a clock that was ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Correction {
    /// The poisoned value.
    pub from: DateTime<Utc>,
    /// The value the server confirmed.
    pub to: DateTime<Utc>,
}

/// The decision and what it does to the last trusted time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assessment {
    /// What the core is told.
    pub wall: WallClock,
    /// Why.
    pub reason: Reason,
    /// The last trusted time from now on: raised to a trusted reading, or lowered to a reading
    /// the server confirmed.
    pub last_trusted: Option<DateTime<Utc>>,
    /// Set when the last trusted time was lowered by more than the tolerance (an alarm).
    pub correction: Option<Correction>,
}

/// What a server time says about a reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// Every skew the round trip allows is within the tolerance.
    Agrees,
    /// Every skew the round trip allows is beyond it; the skew at the middle of the interval.
    Disagrees(Duration),
    /// Some skews are within, some beyond (a round trip too long to tell).
    Inconclusive,
}

impl ServerTime {
    /// The server's clock now lies within the returned interval, or `None` once the sighting
    /// is too old to be evidence.
    pub fn bounds_at(
        &self,
        now: Instant,
        limits: &Limits,
    ) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let since = now.saturating_duration_since(self.received);
        if since > limits.server_evidence_for {
            return None;
        }
        let since = Duration::from_std(since).ok()?;
        let round_trip =
            Duration::from_std(self.received.saturating_duration_since(self.sent)).ok()?;
        let drift =
            Duration::microseconds(since.num_microseconds()? * limits.drift_ppm / 1_000_000);
        // The server stamped its answer somewhere between `sent` and `received`.
        let earliest = self.at + since - drift;
        let latest = self.at + self.resolution + round_trip + since + drift;
        Some((earliest, latest))
    }

    fn verdict(&self, reading: DateTime<Utc>, now: Instant, limits: &Limits) -> Option<Verdict> {
        let (earliest, latest) = self.bounds_at(now, limits)?;
        let (skew_low, skew_high) = (reading - latest, reading - earliest);
        let tol = limits.tolerance;
        Some(if skew_low >= -tol && skew_high <= tol {
            Verdict::Agrees
        } else if skew_low > tol || skew_high < -tol {
            Verdict::Disagrees(skew_low + (skew_high - skew_low) / 2)
        } else {
            Verdict::Inconclusive
        })
    }
}

/// Decides whether the reading can be trusted, and what the last trusted time becomes.
pub fn assess(inputs: &Inputs, limits: &Limits) -> Assessment {
    let Inputs {
        reading,
        now,
        ntp,
        rtc_set_clock,
        server,
        last_trusted,
    } = *inputs;
    let verdict = server.and_then(|s| s.verdict(reading, now, limits));
    let behind = last_trusted
        .filter(|lt| reading < *lt)
        .map(|lt| lt - reading);
    let reason = match (verdict, behind) {
        (Some(Verdict::Disagrees(skew)), _) => Reason::ServerDisagrees {
            skew_secs: round_secs(skew),
        },
        (Some(Verdict::Agrees), _) => Reason::ServerAgrees,
        (_, Some(by)) => Reason::BehindLastTrusted {
            by_secs: round_secs(by),
        },
        (_, None) => match ntp {
            NtpStatus::Synchronised => Reason::Ntp,
            NtpStatus::Unsynchronised if limits.trust_rtc && rtc_set_clock => Reason::Rtc,
            NtpStatus::Unsynchronised => Reason::NtpUnsynchronised,
            NtpStatus::Unknown => Reason::NotContradicted,
        },
    };
    if reason.trusts() {
        // A reading the server confirmed may lower the last trusted time; any other trusted
        // reading is not behind it, so this only ever raises it.
        let correction = last_trusted
            .filter(|lt| *lt - reading > limits.tolerance)
            .map(|from| Correction { from, to: reading });
        return Assessment {
            wall: WallClock::Trusted(reading),
            reason,
            last_trusted: Some(match (reason, last_trusted) {
                (Reason::ServerAgrees, _) | (_, None) => reading,
                (_, Some(lt)) => lt.max(reading),
            }),
            correction,
        };
    }
    // Real time is at least the last trusted time, and at least the server's earliest.
    let server_floor = server
        .and_then(|s| s.bounds_at(now, limits))
        .map(|(earliest, _)| earliest);
    let floor = match (last_trusted, server_floor) {
        (Some(lt), Some(s)) => lt.max(s),
        (Some(t), None) | (None, Some(t)) => t,
        // No history and no server: the reading is all there is.
        (None, None) => reading,
    };
    Assessment {
        wall: WallClock::Untrusted {
            now: reading,
            last_trusted: floor,
        },
        reason,
        last_trusted,
        correction: None,
    }
}

/// To the nearest second, for people to read.
fn round_secs(d: Duration) -> i64 {
    (d.num_milliseconds() + 500).div_euclid(1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration as Std;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    const REAL: &str = "2026-12-03T10:00:00Z";

    /// The server's time seen `age` ago in an answer that took `rtt`, stamped at `REAL - age`.
    fn seen(base: Instant, age: Std, rtt: Std, resolution: i64) -> ServerTime {
        let now = base + Std::from_secs(100_000);
        let received = now - age;
        ServerTime {
            at: t(REAL) - Duration::from_std(age).unwrap() - Duration::from_std(rtt / 2).unwrap(),
            resolution: Duration::seconds(resolution),
            sent: received - rtt,
            received,
        }
    }

    struct Row {
        what: &'static str,
        /// Reading minus real time, seconds.
        off: i64,
        ntp: NtpStatus,
        rtc: bool,
        /// (age, round trip, resolution) of the server sighting.
        server: Option<(u64, u64, i64)>,
        /// Last trusted minus real time, seconds.
        last_trusted: Option<i64>,
        expect: Reason,
    }

    fn row(
        what: &'static str,
        off: i64,
        ntp: NtpStatus,
        server: Option<(u64, u64, i64)>,
        last_trusted: Option<i64>,
        expect: Reason,
    ) -> Row {
        Row {
            what,
            off,
            ntp,
            rtc: false,
            server,
            last_trusted,
            expect,
        }
    }

    fn run(r: &Row, limits: &Limits) -> Assessment {
        let base = Instant::now();
        let now = base + Std::from_secs(100_000);
        let inputs = Inputs {
            reading: t(REAL) + Duration::seconds(r.off),
            now,
            ntp: r.ntp,
            rtc_set_clock: r.rtc,
            server: r
                .server
                .map(|(age, rtt, res)| seen(base, Std::from_secs(age), Std::from_secs(rtt), res)),
            last_trusted: r.last_trusted.map(|s| t(REAL) + Duration::seconds(s)),
        };
        assess(&inputs, limits)
    }

    #[test]
    fn decision_table() {
        use NtpStatus::*;
        let fresh = Some((5, 0, 0));
        let rows = [
            // The estate LAN without NTP: the server's time is enough.
            row(
                "no NTP, server agrees",
                3,
                Unsynchronised,
                fresh,
                Some(-60),
                Reason::ServerAgrees,
            ),
            row(
                "no NTP, no history, server agrees",
                -30,
                Unsynchronised,
                fresh,
                None,
                Reason::ServerAgrees,
            ),
            row(
                "NTP unknown, server agrees",
                0,
                Unknown,
                fresh,
                Some(-1),
                Reason::ServerAgrees,
            ),
            row(
                "no NTP, no server",
                0,
                Unsynchronised,
                None,
                Some(-60),
                Reason::NtpUnsynchronised,
            ),
            row(
                "NTP synchronised, no server",
                0,
                Synchronised,
                None,
                Some(-60),
                Reason::Ntp,
            ),
            row(
                "no NTP source, not behind",
                0,
                Unknown,
                None,
                Some(-60),
                Reason::NotContradicted,
            ),
            // The server outranks NTP both ways.
            row(
                "NTP synchronised, server disagrees",
                3 * 3600,
                Synchronised,
                fresh,
                None,
                Reason::ServerDisagrees {
                    skew_secs: 3 * 3600,
                },
            ),
            row(
                "clock behind the server",
                -7200,
                Unsynchronised,
                fresh,
                Some(-600),
                Reason::ServerDisagrees { skew_secs: -7200 },
            ),
            row(
                "just outside the tolerance",
                121,
                Synchronised,
                fresh,
                None,
                Reason::ServerDisagrees { skew_secs: 121 },
            ),
            row(
                "just inside the tolerance",
                119,
                Unsynchronised,
                fresh,
                None,
                Reason::ServerAgrees,
            ),
            // Behind the last trusted time: only the server can vouch for it.
            row(
                "fake-hwclock boot, NTP synchronised, no server",
                -3600,
                Synchronised,
                None,
                Some(-60),
                Reason::BehindLastTrusted { by_secs: 3540 },
            ),
            row(
                "fake-hwclock boot, no server",
                -3600,
                Unknown,
                None,
                Some(-60),
                Reason::BehindLastTrusted { by_secs: 3540 },
            ),
            row(
                "poisoned last trusted, server confirms",
                0,
                Unsynchronised,
                fresh,
                Some(86_400),
                Reason::ServerAgrees,
            ),
            // Server time expires and needs a short enough round trip.
            row(
                "server agreement two hours old",
                0,
                Unsynchronised,
                Some((7200, 0, 0)),
                Some(-60),
                Reason::NtpUnsynchronised,
            ),
            row(
                "server disagreement two hours old",
                3 * 3600,
                Synchronised,
                Some((7200, 0, 0)),
                None,
                Reason::Ntp,
            ),
            row(
                "long poll round trip still agrees",
                10,
                Unsynchronised,
                Some((1, 30, 1)),
                None,
                Reason::ServerAgrees,
            ),
            row(
                "round trip too long to tell",
                0,
                Unsynchronised,
                Some((1, 300, 1)),
                None,
                Reason::NtpUnsynchronised,
            ),
        ];
        for r in &rows {
            let a = run(r, &Limits::default());
            assert_eq!(a.reason, r.expect, "{}", r.what);
            assert_eq!(a.wall.is_trusted(), r.expect.trusts(), "{}", r.what);
        }
    }

    #[test]
    fn a_battery_backed_rtc_is_trusted_from_boot_only_when_configured() {
        let mut r = row(
            "rtc",
            0,
            NtpStatus::Unsynchronised,
            None,
            Some(-600),
            Reason::Rtc,
        );
        r.rtc = true;
        let trusting = Limits {
            trust_rtc: true,
            ..Limits::default()
        };
        assert_eq!(run(&r, &trusting).reason, Reason::Rtc);
        assert_eq!(
            run(&r, &Limits::default()).reason,
            Reason::NtpUnsynchronised
        );
        // An RTC that lost its battery reads behind the last trusted time.
        r.off = -86_400;
        assert!(!run(&r, &trusting).wall.is_trusted());
        // Without the RTC having set the clock, the option changes nothing.
        r.off = 0;
        r.rtc = false;
        assert_eq!(run(&r, &trusting).reason, Reason::NtpUnsynchronised);
    }

    #[test]
    fn the_server_lowers_a_poisoned_last_trusted_time_with_a_correction() {
        let poisoned = row(
            "p",
            0,
            NtpStatus::Unsynchronised,
            Some((5, 0, 0)),
            Some(86_400),
            Reason::ServerAgrees,
        );
        let a = run(&poisoned, &Limits::default());
        let real = t(REAL);
        assert_eq!(a.last_trusted, Some(real));
        assert_eq!(
            a.correction,
            Some(Correction {
                from: real + Duration::days(1),
                to: real
            })
        );
        // Behind by less than the tolerance: lowered quietly, no alarm.
        let slight = row(
            "s",
            0,
            NtpStatus::Unsynchronised,
            Some((5, 0, 0)),
            Some(30),
            Reason::ServerAgrees,
        );
        let a = run(&slight, &Limits::default());
        assert_eq!((a.last_trusted, a.correction), (Some(real), None));
        // NTP alone never lowers it.
        let ntp = row(
            "n",
            0,
            NtpStatus::Synchronised,
            None,
            Some(86_400),
            Reason::BehindLastTrusted { by_secs: 86_400 },
        );
        let a = run(&ntp, &Limits::default());
        assert_eq!(
            (a.last_trusted, a.correction),
            (Some(real + Duration::days(1)), None)
        );
        // A trusted reading raises it.
        let up = row(
            "u",
            0,
            NtpStatus::Synchronised,
            None,
            Some(-30),
            Reason::Ntp,
        );
        assert_eq!(run(&up, &Limits::default()).last_trusted, Some(real));
    }

    #[test]
    fn an_untrusted_clock_tells_the_core_the_latest_time_real_time_is_known_to_have_passed() {
        // Two hours behind, last trusted ten minutes ago: the server's earliest time wins.
        let r = row(
            "b",
            -7200,
            NtpStatus::Unsynchronised,
            Some((5, 0, 0)),
            Some(-600),
            Reason::ServerDisagrees { skew_secs: -7200 },
        );
        match run(&r, &Limits::default()).wall {
            WallClock::Untrusted { last_trusted, now } => {
                assert_eq!(now, t(REAL) - Duration::hours(2));
                let off = (t(REAL) - last_trusted).num_milliseconds();
                assert!((0..=10).contains(&off), "floor {last_trusted}");
            }
            other => panic!("{other:?}"),
        }
        // Without a server: the last trusted time.
        let r = row(
            "n",
            -7200,
            NtpStatus::Unknown,
            None,
            Some(-600),
            Reason::BehindLastTrusted { by_secs: 6600 },
        );
        assert_eq!(
            run(&r, &Limits::default()).wall,
            WallClock::Untrusted {
                now: t(REAL) - Duration::hours(2),
                last_trusted: t(REAL) - Duration::minutes(10)
            }
        );
    }

    #[test]
    fn a_carried_forward_server_time_catches_a_clock_stepped_after_it() {
        let base = Instant::now();
        let sighting = ServerTime {
            at: t(REAL),
            resolution: Duration::zero(),
            sent: base,
            received: base + Std::from_millis(4),
        };
        let later = base + Std::from_secs(1800);
        let mut inputs = Inputs {
            reading: t(REAL) + Duration::minutes(30),
            now: later,
            ntp: NtpStatus::Unsynchronised,
            rtc_set_clock: false,
            server: Some(sighting),
            last_trusted: None,
        };
        assert_eq!(
            assess(&inputs, &Limits::default()).reason,
            Reason::ServerAgrees
        );
        // Somebody set the clock an hour back half an hour after the sighting.
        inputs.reading -= Duration::hours(1);
        assert_eq!(
            assess(&inputs, &Limits::default()).reason,
            Reason::ServerDisagrees { skew_secs: -3600 }
        );
    }
}
