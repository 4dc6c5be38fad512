//! Integration tests of the credential: vectors, properties, QR round trips.

mod layering;
mod properties;
mod qr;
mod vector_fields;
mod vectors;

use gatehouse_credential::{
    BuildingScope, CardId, Claims, KeyId, KeyRing, Kind, ScheduleId, Signer, UtcMinute, ZoneClass,
    ZoneClasses, ZoneScope,
};

/// A signer with a fixed key, and a ring that trusts it.
pub fn signer_and_ring() -> (Signer, KeyRing) {
    let signer = Signer::from_seed(KeyId::new(4).unwrap(), [0x5A; 32]);
    let mut ring = KeyRing::new();
    ring.insert_signer(&signer);
    (signer, ring)
}

/// The largest claims of each kind: every field at its widest.
pub fn largest_claims(kind: Kind) -> Claims {
    Claims {
        kind,
        card_id: CardId(u32::MAX),
        not_before: UtcMinute(u32::MAX - 0x00FF_FFFF),
        not_after: UtcMinute(u32::MAX),
        schedule: ScheduleId::new(15),
        scope: ZoneScope {
            building: BuildingScope::One(254),
            floor_lo: -128,
            floor_hi: 127,
            classes: ZoneClasses::of(&ZoneClass::ALL),
        },
    }
}
