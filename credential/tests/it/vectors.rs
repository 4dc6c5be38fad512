//! The committed vectors in `tests/vectors/v1.json` agree with this implementation.

use gatehouse_credential::{BuildingScope, KeyId, KeyRing};
use serde_json::{Value, json};

fn vectors() -> Vec<Value> {
    let text = include_str!("../vectors/v1.json");
    serde_json::from_str(text).expect("v1.json is a JSON array")
}

#[test]
fn every_vector_verifies_or_is_rejected_as_listed() {
    let vectors = vectors();
    assert!(vectors.len() >= 10, "expected valid and invalid vectors");
    let kinds: Vec<&str> = vectors
        .iter()
        .filter(|v| v["valid"] == true)
        .map(|v| v["fields"]["kind"].as_str().unwrap())
        .collect();
    for kind in ["visitor", "worker", "staff", "goods_release"] {
        assert!(kinds.contains(&kind), "no valid vector of kind {kind}");
    }
    for v in &vectors {
        let name = v["name"].as_str().unwrap();
        let key_id = KeyId::new(v["key_id"].as_u64().unwrap() as u8).unwrap();
        let mut ring = KeyRing::new();
        ring.insert_hex(key_id, v["public_key_hex"].as_str().unwrap())
            .unwrap();
        let result = ring.verify(v["text"].as_str().unwrap());
        if v["valid"] == true {
            let cred = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            let c = &cred.claims;
            let fields = json!({
                "key_id": cred.key_id.get(),
                "kind": c.kind.name(),
                "card_id": c.card_id.0,
                "not_before": c.not_before.to_datetime().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "not_after": c.not_after.to_datetime().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "schedule": c.schedule.map(|s| s.get()),
                "building": match c.scope.building {
                    BuildingScope::One(b) => json!(b),
                    BuildingScope::Every => json!("every"),
                },
                "floor_lo": c.scope.floor_lo,
                "floor_hi": c.scope.floor_hi,
                "zones": c.scope.classes.iter().map(|z| z.name()).collect::<Vec<_>>(),
            });
            assert_eq!(fields, v["fields"], "{name}");
        } else {
            assert!(result.is_err(), "{name}: should be rejected");
        }
    }
}
