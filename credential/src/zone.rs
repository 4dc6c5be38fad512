//! Where a credential opens: a building, a range of floors and a set of zone classes.
//!
//! A gate knows one [`Zone`] (its own door); a credential carries a [`ZoneScope`]. The scope is
//! structural rather than a list of door ids so that it stays four bytes whatever the estate's
//! size, and so that a gate can decide from the credential alone.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::RangeInclusive;

/// One class of door. The discriminant is the bit the class takes in [`ZoneClasses`].
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneClass {
    /// Building entrance gates, lobby turnstiles.
    Entrance = 0,
    /// Doors on a floor and the elevator floor buttons of that floor.
    Floor = 1,
    /// The service (freight) elevator car, used by renovation crews.
    ServiceElevator = 2,
    /// The passenger elevator car.
    PassengerElevator = 3,
    /// Car park barriers and doors.
    Carpark = 4,
}

impl ZoneClass {
    /// Every class, in bit order.
    pub const ALL: [ZoneClass; 5] = [
        ZoneClass::Entrance,
        ZoneClass::Floor,
        ZoneClass::ServiceElevator,
        ZoneClass::PassengerElevator,
        ZoneClass::Carpark,
    ];

    /// The class's bit in the credential's zone byte.
    pub const fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// Whether a door of this class sits on one floor (and so must match the floor range).
    pub const fn is_per_floor(self) -> bool {
        matches!(self, ZoneClass::Floor)
    }

    /// The snake_case name used in configs, JSON and FORMAT.md.
    pub const fn name(self) -> &'static str {
        match self {
            ZoneClass::Entrance => "entrance",
            ZoneClass::Floor => "floor",
            ZoneClass::ServiceElevator => "service_elevator",
            ZoneClass::PassengerElevator => "passenger_elevator",
            ZoneClass::Carpark => "carpark",
        }
    }
}

/// A set of zone classes, one bit each; bits 5–7 are reserved and ignored by verifiers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ZoneClasses(pub u8);

impl ZoneClasses {
    /// The set holding `classes`.
    pub fn of(classes: &[ZoneClass]) -> Self {
        ZoneClasses(classes.iter().fold(0, |bits, c| bits | c.bit()))
    }

    /// Whether `class` is in the set.
    pub const fn contains(self, class: ZoneClass) -> bool {
        self.0 & class.bit() != 0
    }

    /// The known classes in the set, in bit order.
    pub fn iter(self) -> impl Iterator<Item = ZoneClass> {
        ZoneClass::ALL
            .into_iter()
            .filter(move |c| self.contains(*c))
    }
}

/// Which building a scope covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildingScope {
    /// One building, by its estate number 0–254.
    One(u8),
    /// Every building of the estate (byte value 255).
    Every,
}

impl BuildingScope {
    /// The byte this scope takes in a credential.
    pub const fn to_byte(self) -> u8 {
        match self {
            BuildingScope::One(b) => b,
            BuildingScope::Every => 0xFF,
        }
    }

    /// The scope a credential byte stands for.
    pub const fn from_byte(b: u8) -> Self {
        if b == 0xFF {
            BuildingScope::Every
        } else {
            BuildingScope::One(b)
        }
    }

    /// Whether the scope includes building `b`.
    pub const fn covers(self, b: u8) -> bool {
        match self {
            BuildingScope::One(x) => x == b,
            BuildingScope::Every => true,
        }
    }
}

/// What a credential opens: classes of door in a building, limited to a floor range.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ZoneScope {
    /// The building.
    pub building: BuildingScope,
    /// Lowest floor (negative for basements).
    pub floor_lo: i8,
    /// Highest floor, inclusive.
    pub floor_hi: i8,
    /// Which classes of door.
    pub classes: ZoneClasses,
}

impl ZoneScope {
    /// The floors the scope covers.
    pub fn floors(&self) -> RangeInclusive<i8> {
        self.floor_lo..=self.floor_hi
    }

    /// Whether a credential with this scope opens the door `zone`.
    pub fn permits(&self, zone: &Zone) -> bool {
        self.building.covers(zone.building)
            && self.classes.contains(zone.class)
            && match zone.floor {
                Some(f) => self.floors().contains(&f),
                None => !zone.class.is_per_floor(),
            }
    }
}

/// The door a gate controls: what its config says it is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Zone {
    /// The building number.
    pub building: u8,
    /// The door's class.
    pub class: ZoneClass,
    /// The floor, for per-floor doors (required for `floor`, ignored otherwise).
    #[serde(default)]
    pub floor: Option<i8>,
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.floor {
            Some(floor) => write!(
                f,
                "building {} {} {}",
                self.building,
                self.class.name(),
                floor
            ),
            None => write!(f, "building {} {}", self.building, self.class.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker_scope() -> ZoneScope {
        ZoneScope {
            building: BuildingScope::One(2),
            floor_lo: 12,
            floor_hi: 12,
            classes: ZoneClasses::of(&[
                ZoneClass::Entrance,
                ZoneClass::Floor,
                ZoneClass::ServiceElevator,
            ]),
        }
    }

    fn zone(building: u8, class: ZoneClass, floor: Option<i8>) -> Zone {
        Zone {
            building,
            class,
            floor,
        }
    }

    #[test]
    fn worker_opens_entrance_their_floor_and_service_lift_only() {
        let s = worker_scope();
        assert!(s.permits(&zone(2, ZoneClass::Entrance, None)));
        assert!(s.permits(&zone(2, ZoneClass::Floor, Some(12))));
        assert!(s.permits(&zone(2, ZoneClass::ServiceElevator, None)));
        assert!(!s.permits(&zone(2, ZoneClass::Floor, Some(11))));
        assert!(!s.permits(&zone(2, ZoneClass::PassengerElevator, None)));
        assert!(!s.permits(&zone(3, ZoneClass::Entrance, None)));
        // A floor door configured without a floor is a config error; it opens for nobody.
        assert!(!s.permits(&zone(2, ZoneClass::Floor, None)));
    }

    #[test]
    fn every_building_scope_covers_all() {
        let mut s = worker_scope();
        s.building = BuildingScope::Every;
        assert!(s.permits(&zone(7, ZoneClass::Entrance, None)));
        assert_eq!(BuildingScope::from_byte(0xFF), BuildingScope::Every);
        assert_eq!(BuildingScope::from_byte(3).to_byte(), 3);
    }
}
