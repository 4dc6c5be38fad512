//! Fixtures the Gatehouse crates' tests share (a dev-dependency only): the test signing key and
//! the claims most tests issue, the estate's calendar, `TEST_LOG=1` to see the tracing of the
//! code under test, and (feature `stub`) a stub of the server's device API.

#![forbid(unsafe_code)]

#[cfg(feature = "stub")]
pub mod stub;

use chrono::NaiveDate;
use gatehouse_credential::ZoneClass::{Entrance, Floor, ServiceElevator};
use gatehouse_credential::{
    BuildingScope, CardId, Claims, KeyId, Kind, Schedule, ScheduleId, Signer, UtcMinute,
    WorkCalendar, ZoneClasses, ZoneScope,
};

/// The test signing key: key id 1, a fixed seed, so credentials are the same on every run.
pub fn signer() -> Signer {
    Signer::from_seed(KeyId::new(1).unwrap(), [7; 32])
}

/// Claims for `card`: valid through November 2026, building 2, floor 12, the entrance, the
/// floor and the service lift (a worker's renovation on 2-1203), with `schedule` if any.
pub fn claims(card: u32, kind: Kind, schedule: Option<u8>) -> Claims {
    Claims {
        kind,
        card_id: CardId(card),
        not_before: minute("2026-11-01T00:00:00Z"),
        not_after: minute("2026-12-01T00:00:00Z"),
        schedule: schedule.and_then(ScheduleId::new),
        scope: ZoneScope {
            building: BuildingScope::One(2),
            floor_lo: 12,
            floor_hi: 12,
            classes: ZoneClasses::of(&[Entrance, Floor, ServiceElevator]),
        },
    }
}

/// [`claims`] valid from an hour ago for three days, for a program that reads the real clock.
pub fn current_claims(card: u32, kind: Kind, schedule: Option<u8>) -> Claims {
    let now = chrono::Utc::now();
    Claims {
        not_before: UtcMinute::floor(now - chrono::Duration::hours(1)).unwrap(),
        not_after: UtcMinute::floor(now + chrono::Duration::days(3)).unwrap(),
        ..claims(card, kind, schedule)
    }
}

/// Every document a renovation's file holds, by the name the server's API gives it (the
/// owner's application, commitment letter and floor plans; the contractor's six).
#[rustfmt::skip]
pub const RENOVATION_DOCUMENTS: [&str; 9] = [
    "application", "commitment_letter", "floor_plans",
    "business_licence", "qualification_certificate", "construction_plan",
    "supervisor_id", "supervisor_photo", "worker_register",
];

/// An RFC 3339 UTC time as a credential minute.
pub fn minute(rfc3339: &str) -> UtcMinute {
    UtcMinute::floor(rfc3339.parse().unwrap()).unwrap()
}

/// The estate's calendar: schedule 1 "renovation hours", Monday to Friday 08:00–12:00 and
/// 14:00–18:00 in Asia/Shanghai, and `blackout_dates`.
pub fn calendar(blackout_dates: Vec<NaiveDate>) -> WorkCalendar {
    WorkCalendar {
        time_zone: chrono_tz::Asia::Shanghai,
        schedules: vec![Schedule::renovation_hours()],
        blackout_dates,
    }
}

/// The `RUST_LOG` for a program a test starts (its log goes to a file the test shows on
/// failure): `TEST_LOG`'s filter if set, else `RUST_LOG` if set, else `info`.
pub fn child_log_filter() -> String {
    let test_log = std::env::var("TEST_LOG").ok();
    match gatehouse_shell::logging::test_filter(test_log.as_deref()) {
        Some(filter) => filter.to_string(),
        None => std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
    }
}

/// Turns on tracing for this test when `TEST_LOG` is set (`1`, or a filter such as
/// `gatehouse_gate=trace`); safe to call from every test.
pub fn test_log() {
    gatehouse_shell::logging::init_for_tests();
}
