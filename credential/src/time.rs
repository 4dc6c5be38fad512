//! Minute-resolution UTC time, the only clock a credential carries.

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Unix time of the credential epoch, 2024-01-01T00:00:00Z.
pub const EPOCH_UNIX_SECONDS: i64 = 1_704_067_200;

/// A UTC instant counted in whole minutes since 2024-01-01T00:00:00Z.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UtcMinute(pub u32);

impl UtcMinute {
    /// The minute that contains `t` (seconds are dropped); `None` before the epoch or after
    /// the year 10,000.
    pub fn floor(t: DateTime<Utc>) -> Option<Self> {
        let minutes = (t.timestamp() - EPOCH_UNIX_SECONDS).div_euclid(60);
        u32::try_from(minutes).ok().map(UtcMinute)
    }

    /// The first whole minute at or after `t`.
    pub fn ceil(t: DateTime<Utc>) -> Option<Self> {
        let secs = t.timestamp() - EPOCH_UNIX_SECONDS;
        let extra = i64::from(secs.rem_euclid(60) != 0 || t.timestamp_subsec_nanos() != 0);
        u32::try_from(secs.div_euclid(60) + extra)
            .ok()
            .map(UtcMinute)
    }

    /// The instant this minute starts.
    pub fn to_datetime(self) -> DateTime<Utc> {
        Utc.timestamp_opt(EPOCH_UNIX_SECONDS + i64::from(self.0) * 60, 0)
            .single()
            .expect("every u32 minute after 2024 is a valid chrono instant")
    }
}

impl fmt::Display for UtcMinute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_datetime().format("%Y-%m-%dT%H:%MZ"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_is_new_year_2024() {
        assert_eq!(UtcMinute(0).to_string(), "2024-01-01T00:00Z");
        let t = "2026-11-27T09:30:59Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            UtcMinute::floor(t).unwrap().to_string(),
            "2026-11-27T09:30Z"
        );
        assert_eq!(UtcMinute::ceil(t).unwrap().to_string(), "2026-11-27T09:31Z");
        let exact = "2026-11-27T09:30:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(UtcMinute::ceil(exact), UtcMinute::floor(exact));
    }

    #[test]
    fn before_epoch_is_out_of_range() {
        let t = "2023-12-31T23:59:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(UtcMinute::floor(t), None);
        assert_eq!(
            chrono::Datelike::year(&UtcMinute(u32::MAX).to_datetime()),
            10190
        );
    }
}
