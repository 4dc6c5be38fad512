//! Permitted hours and blackout dates, evaluated in the estate's time zone.
//!
//! The server defines them; gates receive them through sync and evaluate them offline. Times
//! are stored and compared in UTC everywhere else; only here is an instant turned into a local
//! weekday and time of day.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A schedule's number as a credential carries it: 1–15 (0 means "no schedule").
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct ScheduleId(u8);

impl ScheduleId {
    /// A schedule id, if `id` is 1–15.
    pub const fn new(id: u8) -> Option<Self> {
        if id >= 1 && id <= 15 {
            Some(ScheduleId(id))
        } else {
            None
        }
    }

    /// The number.
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for ScheduleId {
    type Error = String;
    fn try_from(id: u8) -> Result<Self, Self::Error> {
        ScheduleId::new(id).ok_or_else(|| format!("schedule id {id} is out of range 1–15"))
    }
}

impl From<ScheduleId> for u8 {
    fn from(s: ScheduleId) -> u8 {
        s.0
    }
}

impl fmt::Display for ScheduleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Local hours on some weekdays: `start` inclusive, `end` exclusive, `start < end`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindow {
    /// The weekdays it applies to ("Mon" … "Sun").
    #[cfg_attr(feature = "openapi", schema(schema_with = weekday_list_schema))]
    pub days: Vec<Weekday>,
    /// Local start time, e.g. "08:00:00".
    pub start: NaiveTime,
    /// Local end time, exclusive.
    pub end: NaiveTime,
}

impl TimeWindow {
    /// Whether a local weekday and time fall inside the window.
    pub fn contains(&self, day: Weekday, time: NaiveTime) -> bool {
        self.days.contains(&day) && self.start <= time && time < self.end
    }
}

/// Weekdays as chrono writes them ("Mon" … "Sun").
#[cfg(feature = "openapi")]
fn weekday_list_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])),
        )
        .build()
}

/// A named weekly schedule: the union of its windows.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// The id credentials carry.
    pub id: ScheduleId,
    /// A name for people, e.g. "renovation hours".
    pub name: String,
    /// When it permits entry.
    pub windows: Vec<TimeWindow>,
}

impl Schedule {
    /// Schedule 1, "renovation hours", the estate's usual permitted working hours and what a
    /// new estate starts with: Monday to Friday 08:00–12:00 and 14:00–18:00 local time.
    pub fn renovation_hours() -> Schedule {
        let at = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default();
        let weekdays = vec![
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ];
        Schedule {
            id: ScheduleId(1),
            name: "renovation hours".into(),
            windows: vec![
                TimeWindow {
                    days: weekdays.clone(),
                    start: at(8),
                    end: at(12),
                },
                TimeWindow {
                    days: weekdays,
                    start: at(14),
                    end: at(18),
                },
            ],
        }
    }

    /// Checks the windows are well formed; the reason names the first bad one.
    pub fn validate(&self) -> Result<(), String> {
        for (i, w) in self.windows.iter().enumerate() {
            if w.start >= w.end {
                return Err(format!(
                    "schedule {}: window {} must start before it ends (split windows that cross midnight)",
                    self.id,
                    i + 1
                ));
            }
            if w.days.is_empty() {
                return Err(format!(
                    "schedule {}: window {} has no days",
                    self.id,
                    i + 1
                ));
            }
        }
        Ok(())
    }
}

/// The answer of a schedule check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleCheck {
    /// Inside permitted hours, or the credential has no schedule.
    Allowed,
    /// Outside the schedule's windows.
    OutsideHours,
    /// A blackout date in the estate's time zone.
    Blackout,
    /// The credential names a schedule this calendar does not have.
    UnknownSchedule,
}

/// Everything needed to evaluate schedules: the estate's time zone, its schedules and its
/// blackout dates (days when scheduled work is not allowed).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkCalendar {
    /// IANA time zone name of the estate, e.g. "Asia/Shanghai".
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "Asia/Shanghai"))]
    pub time_zone: Tz,
    /// The schedules credentials may name.
    pub schedules: Vec<Schedule>,
    /// Local dates on which scheduled credentials are refused all day.
    pub blackout_dates: Vec<NaiveDate>,
}

impl Default for WorkCalendar {
    fn default() -> Self {
        WorkCalendar {
            time_zone: chrono_tz::Asia::Shanghai,
            schedules: Vec::new(),
            blackout_dates: Vec::new(),
        }
    }
}

impl WorkCalendar {
    /// Whether a credential with `schedule` may be used at `now`.
    pub fn check(&self, schedule: Option<ScheduleId>, now: DateTime<Utc>) -> ScheduleCheck {
        let Some(id) = schedule else {
            return ScheduleCheck::Allowed;
        };
        let Some(schedule) = self.schedules.iter().find(|s| s.id == id) else {
            return ScheduleCheck::UnknownSchedule;
        };
        let local = now.with_timezone(&self.time_zone);
        if self.blackout_dates.contains(&local.date_naive()) {
            return ScheduleCheck::Blackout;
        }
        let (day, time) = (local.weekday(), local.time());
        if schedule.windows.iter().any(|w| w.contains(day, time)) {
            ScheduleCheck::Allowed
        } else {
            ScheduleCheck::OutsideHours
        }
    }

    /// The estate's local date at `now`.
    pub fn local_date(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.time_zone).date_naive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calendar() -> WorkCalendar {
        WorkCalendar {
            time_zone: chrono_tz::Asia::Shanghai,
            schedules: vec![Schedule::renovation_hours()],
            blackout_dates: vec![NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()],
        }
    }

    #[test]
    fn renovation_hours_are_weekday_mornings_and_afternoons() {
        let s = Schedule::renovation_hours();
        assert_eq!(s.validate(), Ok(()));
        let t = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").unwrap();
        let spans: Vec<_> = s.windows.iter().map(|w| (w.start, w.end)).collect();
        assert_eq!(spans, [(t("08:00"), t("12:00")), (t("14:00"), t("18:00"))]);
        assert!(s.windows.iter().all(|w| w.days.len() == 5
            && !w.days.contains(&Weekday::Sat)
            && !w.days.contains(&Weekday::Sun)));
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn hours_are_local_to_the_estate_not_utc() {
        let cal = calendar();
        let s = ScheduleId::new(1);
        use ScheduleCheck::{Allowed, Blackout, OutsideHours, UnknownSchedule};
        let cases = [
            (
                "Friday 2026-11-27 09:00 in Shanghai is 01:00 UTC: inside the morning window",
                s,
                "2026-11-27T01:00:00Z",
                Allowed,
            ),
            (
                "09:00 UTC is 17:00 local: still inside",
                s,
                "2026-11-27T09:59:59Z",
                Allowed,
            ),
            (
                "10:00 UTC is 18:00 local: the window has ended",
                s,
                "2026-11-27T10:00:00Z",
                OutsideHours,
            ),
            (
                "lunch break, 12:30 local",
                s,
                "2026-11-27T04:30:00Z",
                OutsideHours,
            ),
            (
                "Saturday 10:00 local",
                s,
                "2026-11-28T02:00:00Z",
                OutsideHours,
            ),
            (
                "National Day is a blackout, even inside hours (Thursday 09:00 local)",
                s,
                "2026-10-01T01:00:00Z",
                Blackout,
            ),
            (
                "no schedule: no blackout either",
                None,
                "2026-10-01T01:00:00Z",
                Allowed,
            ),
            (
                "a schedule the calendar lacks",
                ScheduleId::new(2),
                "2026-11-27T01:00:00Z",
                UnknownSchedule,
            ),
        ];
        for (why, schedule, at, expected) in cases {
            assert_eq!(cal.check(schedule, utc(at)), expected, "{why}");
        }
    }

    #[test]
    fn windows_must_not_cross_midnight() {
        let mut cal = calendar();
        cal.schedules[0].windows[0].end = NaiveTime::from_hms_opt(7, 0, 0).unwrap();
        assert!(
            cal.schedules[0]
                .validate()
                .unwrap_err()
                .contains("window 1")
        );
        assert_eq!(ScheduleId::new(0), None);
        assert_eq!(ScheduleId::new(16), None);
    }
}
