//! What a credential says: who may pass which doors, when.

use crate::keys::KeyId;
use crate::schedule::ScheduleId;
use crate::time::UtcMinute;
use crate::zone::ZoneScope;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The kind of pass. The discriminant is the 4-bit code in the credential.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A visitor pass (临时访客).
    Visitor = 1,
    /// A renovation worker's temporary access card (人员临时出入卡).
    Worker = 2,
    /// An estate staff member's card.
    Staff = 3,
    /// A goods-release permit (物品放行通知单).
    GoodsRelease = 4,
}

impl Kind {
    /// Every kind, in code order.
    pub const ALL: [Kind; 4] = [Kind::Visitor, Kind::Worker, Kind::Staff, Kind::GoodsRelease];

    /// The kind a 4-bit code stands for.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|k| *k as u8 == code)
    }

    /// The snake_case name used in JSON and FORMAT.md.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Visitor => "visitor",
            Kind::Worker => "worker",
            Kind::Staff => "staff",
            Kind::GoodsRelease => "goods_release",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The server-assigned number of one issued card; never reused.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(format = Int64))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CardId(pub u32);

impl fmt::Display for CardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The signed content of a credential, less the signing key's id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Claims {
    /// The kind of pass.
    pub kind: Kind,
    /// The card's unique number.
    pub card_id: CardId,
    /// First minute the card is valid.
    pub not_before: UtcMinute,
    /// First minute the card is no longer valid (exclusive end).
    pub not_after: UtcMinute,
    /// The daily schedule that limits use (worker hours), or `None` for any time.
    pub schedule: Option<ScheduleId>,
    /// The doors it opens.
    pub scope: ZoneScope,
}

/// Where an instant falls relative to a validity window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validity {
    /// Before `not_before`.
    NotYetValid,
    /// Inside the window.
    Valid,
    /// At or after `not_after`.
    Expired,
}

impl Claims {
    /// Where `now` falls in the printed window.
    pub fn validity_at(&self, now: DateTime<Utc>) -> Validity {
        self.validity_with_end(now, self.not_after)
    }

    /// Where `now` falls in the window when its end has been moved to `not_after`
    /// (an extension learnt through sync).
    pub fn validity_with_end(&self, now: DateTime<Utc>, not_after: UtcMinute) -> Validity {
        if now < self.not_before.to_datetime() {
            Validity::NotYetValid
        } else if now >= not_after.to_datetime() {
            Validity::Expired
        } else {
            Validity::Valid
        }
    }
}

/// A credential whose signature has been checked: the claims and the key that signed them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Credential {
    /// The id of the key that signed it.
    pub key_id: KeyId,
    /// What it says.
    pub claims: Claims,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::{BuildingScope, ZoneClasses};

    #[test]
    fn validity_window_is_half_open() {
        let claims = Claims {
            kind: Kind::Visitor,
            card_id: CardId(1),
            not_before: UtcMinute(100),
            not_after: UtcMinute(200),
            schedule: None,
            scope: ZoneScope {
                building: BuildingScope::One(1),
                floor_lo: 0,
                floor_hi: 0,
                classes: ZoneClasses(1),
            },
        };
        let at = |m: u32| UtcMinute(m).to_datetime();
        assert_eq!(claims.validity_at(at(99)), Validity::NotYetValid);
        assert_eq!(claims.validity_at(at(100)), Validity::Valid);
        assert_eq!(claims.validity_at(at(199)), Validity::Valid);
        assert_eq!(claims.validity_at(at(200)), Validity::Expired);
        assert_eq!(
            claims.validity_with_end(at(250), UtcMinute(300)),
            Validity::Valid
        );
        assert_eq!(Kind::from_code(2), Some(Kind::Worker));
        assert_eq!(Kind::from_code(0), None);
    }
}
