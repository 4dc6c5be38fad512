//! The window every date and time a person or a device gives must fall in. A year like 1900,
//! 9999 or +10000 is a typing mistake or an attack, and would make a card valid for centuries
//! or sort a journal entry before everything else; it is refused with the field, the value and
//! the window in the error's details (`date_out_of_range`, 422).

use chrono::{DateTime, Days, NaiveDate, SecondsFormat, Utc};

/// Nothing the system records happened before 2020.
pub fn earliest_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// A date or time outside the window its field allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {value} must lie between {min} and {max}{why}")]
pub struct OutOfRange {
    /// The field, e.g. `start_date`, `valid_on`, `at`.
    pub field: String,
    /// The value given (a date, or a time in RFC 3339).
    pub value: String,
    /// The earliest allowed.
    pub min: String,
    /// The latest allowed.
    pub max: String,
    /// Why the window is what it is, as a clause (may be empty).
    pub why: String,
}

impl OutOfRange {
    /// The values for an error body's `details`.
    pub fn details(&self) -> serde_json::Value {
        serde_json::json!({
            "field": self.field,
            "value": self.value,
            "min": self.min,
            "max": self.max,
        })
    }
}

/// Checks that `value` of `field` lies in `min..=max`; `why` says what sets the window.
pub fn date(
    field: &str,
    value: NaiveDate,
    min: NaiveDate,
    max: NaiveDate,
    why: &str,
) -> Result<(), OutOfRange> {
    if (min..=max).contains(&value) {
        return Ok(());
    }
    Err(OutOfRange {
        field: field.to_owned(),
        value: value.to_string(),
        min: min.to_string(),
        max: max.to_string(),
        why: why.to_owned(),
    })
}

/// Checks that `value` of `field` lies in `min..=max` (times shown in RFC 3339).
pub fn time(
    field: &str,
    value: DateTime<Utc>,
    min: DateTime<Utc>,
    max: DateTime<Utc>,
    why: &str,
) -> Result<(), OutOfRange> {
    if (min..=max).contains(&value) {
        return Ok(());
    }
    let t = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    Err(OutOfRange {
        field: field.to_owned(),
        value: t(value),
        min: t(min),
        max: t(max),
        why: why.to_owned(),
    })
}

/// Checks that `value` of `field` lies from `today` to `days` after it.
pub fn within_days(
    field: &str,
    value: NaiveDate,
    today: NaiveDate,
    days: u64,
    why: &str,
) -> Result<(), OutOfRange> {
    date(field, value, today, days_after(today, days), why)
}

/// `today` plus `days`, or the last date there is.
pub fn days_after(today: NaiveDate, days: u64) -> NaiveDate {
    today
        .checked_add_days(Days::new(days))
        .unwrap_or(NaiveDate::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_outside_its_window_is_refused_with_the_window() {
        let today: NaiveDate = "2026-12-03".parse().unwrap();
        let max = days_after(today, 90);
        assert!(date("valid_on", today, today, max, "").is_ok());
        assert!(date("valid_on", max, today, max, "").is_ok());
        for bad in ["1900-01-01", "9999-12-31", "2026-12-02"] {
            let e = date("valid_on", bad.parse().unwrap(), today, max, "").unwrap_err();
            assert_eq!(e.details()["field"], "valid_on");
            assert_eq!(e.details()["max"], "2027-03-03");
            assert!(e.to_string().contains(bad), "{e}");
        }
        let far = NaiveDate::from_ymd_opt(10000, 1, 1).unwrap();
        assert!(date("d", far, today, max, "").is_err());
        assert_eq!(days_after(NaiveDate::MAX, 1), NaiveDate::MAX);
    }
}
