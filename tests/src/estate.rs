//! The example estate the stories and the demo use: one building, its floors and units, and the
//! doors (zones) the gates guard.

use gatehouse_credential::{Zone, ZoneClass};

/// A building of the example estate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Building {
    /// Estate number 0–254.
    pub number: u8,
    /// Display name.
    pub name: &'static str,
    /// Lowest floor.
    pub floor_lo: i8,
    /// Highest floor.
    pub floor_hi: i8,
}

/// A unit (flat or office).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// e.g. "2-1203".
    pub label: String,
    /// Building number.
    pub building: u8,
    /// Floor.
    pub floor: i8,
}

/// A door, as the server records it and a gate guards it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Door {
    /// e.g. "Building 2 entrance".
    pub name: &'static str,
    /// What the door is.
    pub zone: Zone,
}

/// The whole example estate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Estate {
    /// Its buildings.
    pub buildings: Vec<Building>,
    /// Its units.
    pub units: Vec<Unit>,
    /// Its doors.
    pub doors: Vec<Door>,
}

/// The building the example uses.
pub const BUILDING: u8 = 2;
/// The floor the example renovation and visitor go to.
pub const VISITED_FLOOR: i8 = 12;
/// Another floor, where they must be denied.
pub const OTHER_FLOOR: i8 = 15;

/// The label of the unit the example's visitors and renovation go to.
pub fn visited_unit() -> String {
    format!("{BUILDING}-{VISITED_FLOOR}03")
}

/// The id of the unit labelled `label` in `units`, a list as a server or a kiosk serves it:
/// objects with a `label` and the id under `id_key` (`id` in the server's `/api/v1/estate`,
/// `unit_id` in the kiosk's `/api/units`).
pub fn unit_id(units: &serde_json::Value, label: &str, id_key: &str) -> Option<i64> {
    units
        .as_array()?
        .iter()
        .find(|u| u["label"] == label)
        .and_then(|u| u[id_key].as_i64())
}

impl Estate {
    /// Building 2 (floors 1–18, four units a floor), its entrance and the doors of floors 12 and 15.
    pub fn example() -> Estate {
        let building = Building {
            number: BUILDING,
            name: "2号楼",
            floor_lo: 1,
            floor_hi: 18,
        };
        let units = (building.floor_lo..=building.floor_hi)
            .flat_map(|floor| {
                (1..=4).map(move |n| Unit {
                    label: format!("{BUILDING}-{floor}{n:02}"),
                    building: BUILDING,
                    floor,
                })
            })
            .collect();
        let doors = vec![
            Door {
                name: "2号楼大堂入口 Building 2 entrance",
                zone: Zone {
                    building: BUILDING,
                    class: ZoneClass::Entrance,
                    floor: None,
                },
            },
            Door {
                name: "2号楼12层 Building 2 floor 12",
                zone: Zone {
                    building: BUILDING,
                    class: ZoneClass::Floor,
                    floor: Some(VISITED_FLOOR),
                },
            },
            Door {
                name: "2号楼15层 Building 2 floor 15",
                zone: Zone {
                    building: BUILDING,
                    class: ZoneClass::Floor,
                    floor: Some(OTHER_FLOOR),
                },
            },
        ];
        Estate {
            buildings: vec![building],
            units,
            doors,
        }
    }

    /// The door guarding `zone`, if the estate has one.
    pub fn door(&self, zone: &Zone) -> Option<&Door> {
        self.doors.iter().find(|d| &d.zone == zone)
    }

    /// The unit with `label`.
    pub fn unit(&self, label: &str) -> Option<&Unit> {
        self.units.iter().find(|u| u.label == label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_units_are_on_their_floors_and_unique() {
        let e = Estate::example();
        assert_eq!(e.units.len(), 18 * 4);
        let u = e.unit("2-1203").unwrap();
        assert_eq!((u.building, u.floor), (2, 12));
        let mut labels: Vec<_> = e.units.iter().map(|u| &u.label).collect();
        labels.dedup();
        assert_eq!(labels.len(), e.units.len());
    }

    #[test]
    fn example_doors_cover_the_entrance_and_two_floors() {
        let e = Estate::example();
        let floors: Vec<_> = e.doors.iter().filter_map(|d| d.zone.floor).collect();
        assert_eq!(floors, vec![VISITED_FLOOR, OTHER_FLOOR]);
        assert!(e.doors.iter().any(|d| d.zone.class == ZoneClass::Entrance));
    }
}
