//! The muster list (roll call) on paper when the server is gone: the kiosk keeps the latest
//! copy of `GET /api/v1/muster` in memory only (it holds personal data; nothing is written to
//! disk), refreshed every `muster.refresh_secs`, and prints it when a staff member asks (the
//! staff PIN) or by itself when the server reports a fire alarm or an evacuation.
//!
//! How the kiosk learns of a fire alarm: the server answers `GET /api/v1/muster` with the
//! header `Gatehouse-Emergency: fire_alarm` (or `evacuation`) while one is active. The kiosk
//! prints once when the header appears, and again only after it has gone and come back. With
//! the server down no alarm can reach the kiosk; a person asks for the list with the PIN.

use crate::printer::Ticket;
use chrono::{DateTime, Utc};
use gatehouse_credential::api::muster::{MusterKind, MusterList};

/// The card number of a staff card in `line` (a scanner line) that the server signed and that
/// is valid at `now`; anything else (a visitor's pass, an expired or forged card) is `None`.
/// The kiosk learns of no revocation: a lost staff card prints the list until it expires.
pub fn staff_card(
    ring: &gatehouse_credential::KeyRing,
    line: &str,
    now: DateTime<Utc>,
) -> Option<gatehouse_credential::CardId> {
    let credential = ring.verify(line.trim_end_matches(['\r', '\n'])).ok()?;
    let claims = credential.claims;
    (claims.kind == gatehouse_credential::Kind::Staff
        && claims.validity_at(now) == gatehouse_credential::claims::Validity::Valid)
        .then_some(claims.card_id)
}

/// The response header that says an emergency is active, and its values.
pub const EMERGENCY_HEADER: &str = "gatehouse-emergency";

/// An emergency the server reports alongside the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emergency {
    /// A gate's fire-alarm input is active.
    FireAlarm,
    /// The desk called an evacuation.
    Evacuation,
}

impl Emergency {
    /// Parses the header value; anything unknown is no emergency (and logged by the caller).
    pub fn from_header(value: &str) -> Option<Self> {
        match value.trim() {
            "fire_alarm" => Some(Emergency::FireAlarm),
            "evacuation" => Some(Emergency::Evacuation),
            _ => None,
        }
    }
}

/// The kiosk's copy of the list and when it was fetched.
#[derive(Clone, Debug)]
pub struct MusterCopy {
    /// The list as the server made it.
    pub list: MusterList,
    /// When the kiosk received it.
    pub fetched_at: DateTime<Utc>,
}

/// Decides when an emergency prints the list: once as it starts, not again while it lasts.
#[derive(Debug, Default)]
pub struct AutoPrint {
    active: bool,
}

impl AutoPrint {
    /// Takes what the latest refresh said; true when the list should be printed now.
    pub fn observe(&mut self, emergency: Option<Emergency>) -> bool {
        let now = emergency.is_some();
        let starts = now && !self.active;
        self.active = now;
        starts
    }
}

/// Whether `given` is the staff PIN, compared without an early exit.
pub fn pin_matches(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0));
    }
    diff == 0
}

fn local(t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// The slip for a muster copy printed at `now`: the copy's time first, the counts by building
/// and floor, then one line per person with a box to tick.
pub fn muster_ticket(
    copy: &MusterCopy,
    estate: &str,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    why: Option<Emergency>,
) -> Ticket {
    let list = &copy.list;
    let mut lines = vec![
        format!("名单时间 List as of: {}", local(list.generated_at, tz)),
        format!("打印时间 Printed: {}", local(now, tz)),
    ];
    if let Some(why) = why {
        lines.push(
            match why {
                Emergency::FireAlarm => "火警自动打印 Printed on fire alarm",
                Emergency::Evacuation => "疏散自动打印 Printed on evacuation",
            }
            .into(),
        );
    }
    lines.push(format!(
        "共 {} 人 People: {}",
        list.people.len(),
        list.people.len()
    ));
    for c in &list.counts {
        let building = c.building.as_deref().unwrap_or("?");
        let floor = c.floor.map_or_else(|| "?".to_owned(), |f| f.to_string());
        lines.push(format!("  {building} 楼 {floor} 层 floor: {}", c.count));
    }
    lines.push("--------------------------------".into());
    for p in &list.people {
        let kind = match p.kind {
            MusterKind::Visitor => "访客 Visitor",
            MusterKind::Worker => "施工 Worker",
        };
        lines.push(format!("[ ] {} {kind} No.{}", p.name_masked, p.card_id));
        let mut detail = format!("    {}", p.unit.as_deref().unwrap_or("-"));
        if let Some(host) = &p.host {
            detail.push_str(&format!(" / {host}"));
        }
        detail.push_str(&format!(" since {}", local(p.since, tz)));
        lines.push(detail);
        if let (Some(door), Some(at)) = (&p.last_door, p.last_seen_at) {
            lines.push(format!("    {door} {}", local(at, tz)));
        }
        if let Some(found) = p.found_at {
            lines.push(format!("    已找到 found {}", local(found, tz)));
        }
    }
    Ticket {
        heading: estate.to_owned(),
        title: "疏散点名表 MUSTER LIST".into(),
        credential: None,
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::escpos::{PrintSettings, render};
    use crate::printer::escpos_reader::read;
    use chrono::TimeZone;
    use gatehouse_credential::api::muster::{MusterCount, MusterPerson};

    fn copy() -> MusterCopy {
        let at = Utc.with_ymd_and_hms(2026, 12, 3, 2, 30, 0).unwrap();
        MusterCopy {
            list: MusterList {
                generated_at: at,
                time_zone: "Asia/Shanghai".into(),
                people: vec![MusterPerson {
                    kind: MusterKind::Visitor,
                    card_id: 1042,
                    name_masked: "张*明".into(),
                    unit: Some("2-1004".into()),
                    building: Some("2".into()),
                    floor: Some(10),
                    host: Some("李*".into()),
                    since: at - chrono::Duration::hours(1),
                    last_door: Some("大堂闸机 Lobby".into()),
                    last_seen_at: Some(at - chrono::Duration::minutes(50)),
                    found_at: None,
                    found_by: None,
                }],
                counts: vec![MusterCount {
                    building: Some("2".into()),
                    floor: Some(10),
                    count: 1,
                }],
            },
            fetched_at: at,
        }
    }

    #[test]
    fn the_slip_shows_the_copy_time_in_local_time_and_every_person() {
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 3, 0, 0).unwrap();
        let t = muster_ticket(&copy(), "翠湖花园", chrono_tz::Asia::Shanghai, now, None);
        let text = read(&render(&t, &PrintSettings::default())).unwrap().text();
        for needle in [
            "疏散点名表 MUSTER LIST",
            "List as of: 2026-12-03 10:30",
            "Printed: 2026-12-03 11:00",
            "[ ] 张*明 访客 Visitor No.1042",
            "2-1004 / 李* since 2026-12-03 09:30",
            "大堂闸机 Lobby 2026-12-03 09:40",
            "2 楼 10 层 floor: 1",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
        }
    }

    #[test]
    fn an_emergency_prints_once_as_it_starts_and_again_only_after_it_ended() {
        let mut auto = AutoPrint::default();
        assert!(!auto.observe(None));
        assert!(auto.observe(Some(Emergency::FireAlarm)));
        assert!(!auto.observe(Some(Emergency::FireAlarm)));
        assert!(!auto.observe(Some(Emergency::Evacuation)));
        assert!(!auto.observe(None));
        assert!(auto.observe(Some(Emergency::Evacuation)));
    }

    #[test]
    fn the_pin_must_match_exactly() {
        assert!(pin_matches("2468", "2468"));
        assert!(!pin_matches("2468", "246"));
        assert!(!pin_matches("2468", "24680"));
        assert!(!pin_matches("2468", "1357"));
        assert_eq!(
            Emergency::from_header(" fire_alarm "),
            Some(Emergency::FireAlarm)
        );
        assert_eq!(Emergency::from_header("drill"), None);
    }

    #[test]
    fn only_a_valid_staff_card_signed_by_the_server_opens_the_list() {
        use gatehouse_credential::{
            BuildingScope, CardId, Claims, KeyId, KeyRing, Kind, Signer, UtcMinute, ZoneClass,
            ZoneClasses, ZoneScope,
        };
        let server = Signer::from_seed(KeyId::new(1).unwrap(), [7u8; 32]);
        let forger = Signer::from_seed(KeyId::new(1).unwrap(), [9u8; 32]);
        let mut ring = KeyRing::new();
        ring.insert_signer(&server);
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 6, 0, 0).unwrap();
        // A card for the lobby of building 2, valid from a month ago for `days` from now.
        let scope = ZoneScope {
            classes: ZoneClasses::of(&[ZoneClass::Entrance, ZoneClass::Floor]),
            building: BuildingScope::One(2),
            floor_lo: 1,
            floor_hi: 1,
        };
        let card = |kind, days: i64| Claims {
            kind,
            card_id: CardId(42),
            scope: scope.clone(),
            schedule: None,
            not_before: UtcMinute::floor(now - chrono::Duration::days(30)).unwrap(),
            not_after: UtcMinute::ceil(now + chrono::Duration::days(days)).unwrap(),
        };
        let staff = server.issue(&card(Kind::Staff, 300)).unwrap();
        assert_eq!(
            staff_card(&ring, &format!("{staff}\r"), now),
            Some(CardId(42))
        );
        let visitor = server.issue(&card(Kind::Visitor, 1)).unwrap();
        assert_eq!(staff_card(&ring, &visitor, now), None, "a visitor pass");
        let expired = server.issue(&card(Kind::Staff, -1)).unwrap();
        assert_eq!(staff_card(&ring, &expired, now), None, "an expired card");
        let forged = forger.issue(&card(Kind::Staff, 300)).unwrap();
        assert_eq!(staff_card(&ring, &forged, now), None, "another key");
        assert_eq!(staff_card(&ring, "INV2026A", now), None, "an invite code");
    }
}
