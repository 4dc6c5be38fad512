//! Writes the version 1 test vectors to stdout: `cargo run -p gatehouse-credential --example
//! make_vectors > credential/tests/vectors/v1.json`. Deterministic: fixed seeds, and Ed25519
//! signatures are deterministic.

use gatehouse_credential::{
    BuildingScope, CardId, Claims, KeyId, Kind, ScheduleId, Signer, UtcMinute, ZoneClass,
    ZoneClasses, ZoneScope,
};
use serde_json::json;

#[path = "../tests/it/vector_fields.rs"]
mod vector_fields;
use vector_fields::fields;

fn minute(s: &str) -> UtcMinute {
    UtcMinute::floor(s.parse().expect("vector time")).expect("after 2024")
}

fn main() {
    let signer = Signer::from_seed(KeyId::new(1).unwrap(), [0x11; 32]);
    let other = Signer::from_seed(KeyId::new(1).unwrap(), [0x22; 32]);
    let rotated = Signer::from_seed(KeyId::new(15).unwrap(), [0x33; 32]);
    let pk = |s: &Signer| s.public_info().public_key;
    use ZoneClass::*;
    let cases: Vec<(&str, &Signer, Claims)> = vec![
        (
            "visitor pass, lobby and floor 12 of building 2, until end of day",
            &signer,
            Claims {
                kind: Kind::Visitor,
                card_id: CardId(1),
                not_before: minute("2026-11-27T01:05:00Z"),
                not_after: minute("2026-11-27T16:00:00Z"),
                schedule: None,
                scope: ZoneScope {
                    building: BuildingScope::One(2),
                    floor_lo: 12,
                    floor_hi: 12,
                    classes: ZoneClasses::of(&[Entrance, Floor, PassengerElevator]),
                },
            },
        ),
        (
            "worker card, three months, renovation hours, service elevator",
            &signer,
            Claims {
                kind: Kind::Worker,
                card_id: CardId(4_294_967_295),
                not_before: minute("2026-11-26T16:00:00Z"),
                not_after: minute("2027-02-26T16:00:00Z"),
                schedule: ScheduleId::new(1),
                scope: ZoneScope {
                    building: BuildingScope::One(254),
                    floor_lo: 7,
                    floor_hi: 8,
                    classes: ZoneClasses::of(&[Entrance, Floor, ServiceElevator]),
                },
            },
        ),
        (
            "staff card, every building, basements to roof, signed with key 15",
            &rotated,
            Claims {
                kind: Kind::Staff,
                card_id: CardId(77),
                not_before: minute("2026-01-01T00:00:00Z"),
                not_after: UtcMinute(minute("2026-01-01T00:00:00Z").0 + 0x00FF_FFFF),
                schedule: ScheduleId::new(15),
                scope: ZoneScope {
                    building: BuildingScope::Every,
                    floor_lo: -128,
                    floor_hi: 127,
                    classes: ZoneClasses::of(&ZoneClass::ALL),
                },
            },
        ),
        (
            "goods-release permit, entrance of building 0, one hour",
            &signer,
            Claims {
                kind: Kind::GoodsRelease,
                card_id: CardId(65_536),
                not_before: minute("2024-01-01T00:00:00Z"),
                not_after: minute("2024-01-01T01:00:00Z"),
                schedule: None,
                scope: ZoneScope {
                    building: BuildingScope::One(0),
                    floor_lo: -3,
                    floor_hi: -1,
                    classes: ZoneClasses::of(&[Entrance, Carpark]),
                },
            },
        ),
    ];
    let mut out = Vec::new();
    for (name, s, claims) in &cases {
        let text = s.issue(claims).expect("vector claims are valid");
        out.push(json!({
            "name": name, "text": text, "key_id": s.key_id().get(),
            "public_key_hex": pk(s), "valid": true, "fields": fields(s.key_id().get(), claims),
        }));
    }
    let good = signer.issue(&cases[0].2).unwrap();
    let invalid = |name: &str, text: String, key: String, key_id: u8| {
        json!({"name": name, "text": text, "key_id": key_id, "public_key_hex": key,
               "valid": false, "fields": null})
    };
    let mut flipped = good.clone().into_bytes();
    flipped[60] = if flipped[60] == b'A' { b'B' } else { b'A' };
    out.push(invalid(
        "one character changed (bad signature)",
        String::from_utf8(flipped).unwrap(),
        pk(&signer),
        1,
    ));
    out.push(invalid(
        "signed by another key with the same id",
        good.clone(),
        pk(&other),
        1,
    ));
    out.push(invalid(
        "signed with a key id the verifier lacks",
        good.clone(),
        pk(&signer),
        2,
    ));
    out.push(invalid(
        "truncated by three characters",
        good[..119].to_string(),
        pk(&signer),
        1,
    ));
    out.push(invalid("lower case", good.to_lowercase(), pk(&signer), 1));
    out.push(invalid("empty", String::new(), pk(&signer), 1));
    out.push(invalid(
        "a URL, not a credential",
        "https://example.com/".into(),
        pk(&signer),
        1,
    ));
    // Version 2 header over otherwise valid bytes: base45 of the binary with byte 0 changed.
    let mut v2 = base45::decode(&good).unwrap();
    v2[0] = 0x21;
    out.push(invalid(
        "unknown version 2",
        base45::encode(&v2),
        pk(&signer),
        1,
    ));
    // Correctly signed but an undefined kind: only a broken issuer could make it.
    let mut bad_kind = gatehouse_credential::encode_unsigned(KeyId::new(1).unwrap(), &cases[0].2)
        .unwrap()
        .to_vec();
    bad_kind[1] = 0x90;
    let sig = ed25519_sign(&[0x11; 32], &bad_kind);
    bad_kind.extend_from_slice(&sig);
    out.push(invalid(
        "signed, but kind 9 is undefined",
        base45::encode(&bad_kind),
        pk(&signer),
        1,
    ));
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
}

fn ed25519_sign(seed: &[u8; 32], msg: &[u8]) -> [u8; 64] {
    use ed25519_dalek::Signer as _;
    ed25519_dalek::SigningKey::from_bytes(seed)
        .sign(msg)
        .to_bytes()
}
