//! The `fields` of a valid vector in `tests/vectors/v1.json`: its claims as plain JSON, for an
//! implementation in any language to compare with what it decodes. `examples/make_vectors.rs`
//! writes them and the vectors test reads them back, both with this one function.

use gatehouse_credential::{BuildingScope, Claims};
use serde_json::{Value, json};

/// The fields of claims signed with key `key_id`.
pub fn fields(key_id: u8, c: &Claims) -> Value {
    json!({
        "key_id": key_id,
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
    })
}
