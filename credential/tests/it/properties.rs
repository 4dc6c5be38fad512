//! Properties: round trips, tamper detection, no panics on any input.

use crate::{largest_claims, signer_and_ring};
use gatehouse_credential::claims::Validity;
use gatehouse_credential::codec::BASE45_ALPHABET;
use gatehouse_credential::{
    BuildingScope, CardId, Claims, CredentialError, Kind, MAX_TEXT_LEN, ScheduleId, UtcMinute,
    ZoneClasses, ZoneScope,
};
use proptest::prelude::*;

fn claims_strategy() -> impl Strategy<Value = Claims> {
    (
        prop::sample::select(Kind::ALL.to_vec()),
        any::<u32>(),
        0u32..(u32::MAX - 0x00FF_FFFF),
        1u32..=0x00FF_FFFF,
        0u8..=15,
        0u8..=255,
        any::<i8>(),
        any::<i8>(),
        0u8..32,
    )
        .prop_map(|(kind, id, start, len, sched, b, f1, f2, zones)| Claims {
            kind,
            card_id: CardId(id),
            not_before: UtcMinute(start),
            not_after: UtcMinute(start + len),
            schedule: ScheduleId::new(sched),
            scope: ZoneScope {
                building: BuildingScope::from_byte(b),
                floor_lo: f1.min(f2),
                floor_hi: f1.max(f2),
                classes: ZoneClasses(zones),
            },
        })
}

proptest! {
    #[test]
    fn round_trip_for_every_kind(claims in claims_strategy()) {
        let (signer, ring) = signer_and_ring();
        let text = signer.issue(&claims).unwrap();
        prop_assert_eq!(text.len(), MAX_TEXT_LEN);
        let cred = ring.verify(&text).unwrap();
        prop_assert_eq!(cred.claims, claims);
        prop_assert_eq!(cred.key_id, signer.key_id());
    }

    #[test]
    fn any_single_character_change_is_rejected(
        claims in claims_strategy(),
        pos in 0usize..MAX_TEXT_LEN,
        replacement in prop::sample::select(BASE45_ALPHABET.chars().collect::<Vec<_>>()),
    ) {
        let (signer, ring) = signer_and_ring();
        let text = signer.issue(&claims).unwrap();
        let mut chars: Vec<char> = text.chars().collect();
        prop_assume!(chars[pos] != replacement);
        chars[pos] = replacement;
        let tampered: String = chars.into_iter().collect();
        prop_assert!(ring.verify(&tampered).is_err());
    }

    #[test]
    fn any_single_bit_flip_of_the_binary_is_rejected(
        claims in claims_strategy(),
        bit in 0usize..(81 * 8),
    ) {
        let (signer, ring) = signer_and_ring();
        let mut bytes = base45::decode(signer.issue(&claims).unwrap()).unwrap();
        bytes[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(ring.verify(&base45::encode(&bytes)).is_err());
    }

    #[test]
    fn random_strings_never_panic(s in ".{0,200}") {
        let (_, ring) = signer_and_ring();
        let _ = ring.verify(&s);
    }

    #[test]
    fn random_alphabet_strings_never_verify(s in "[0-9A-Z $%*+./:-]{0,130}") {
        let (_, ring) = signer_and_ring();
        prop_assert!(ring.verify(&s).is_err());
    }

    #[test]
    fn random_bytes_never_verify(bytes in prop::collection::vec(any::<u8>(), 0..120)) {
        let (_, ring) = signer_and_ring();
        prop_assert!(ring.verify(&base45::encode(&bytes)).is_err());
    }
}

#[test]
fn validity_helpers_report_not_yet_valid_and_expired() {
    let (signer, ring) = signer_and_ring();
    let start: chrono::DateTime<chrono::Utc> = "2026-11-27T08:00:00Z".parse().unwrap();
    let mut claims = largest_claims(Kind::Visitor);
    claims.not_before = UtcMinute::floor(start).unwrap();
    claims.not_after = UtcMinute(claims.not_before.0 + 60);
    let cred = ring.verify(&signer.issue(&claims).unwrap()).unwrap();
    let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    assert_eq!(
        cred.claims.validity_at(at("2026-11-27T07:59:59Z")),
        Validity::NotYetValid
    );
    assert_eq!(
        cred.claims.validity_at(at("2026-11-27T08:30:00Z")),
        Validity::Valid
    );
    assert_eq!(
        cred.claims.validity_at(at("2026-11-27T09:00:00Z")),
        Validity::Expired
    );
}

#[test]
fn wrong_key_is_bad_signature_not_unknown_key() {
    let (signer, _) = signer_and_ring();
    let impostor = gatehouse_credential::Signer::from_seed(signer.key_id(), [1; 32]);
    let mut ring = gatehouse_credential::KeyRing::new();
    ring.insert_signer(&impostor);
    let text = signer.issue(&largest_claims(Kind::Worker)).unwrap();
    assert_eq!(ring.verify(&text), Err(CredentialError::BadSignature));
}
