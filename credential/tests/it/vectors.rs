//! The committed vectors in `tests/vectors/v1.json` agree with this implementation.

use crate::vector_fields::fields;
use gatehouse_credential::{KeyId, KeyRing};
use serde_json::Value;

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
            let fields = fields(cred.key_id.get(), &cred.claims);
            assert_eq!(fields, v["fields"], "{name}");
        } else {
            assert!(result.is_err(), "{name}: should be rejected");
        }
    }
}
