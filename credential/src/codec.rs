//! The byte layout of version 1 and its base45 text form. See `FORMAT.md`.

use crate::claims::{CardId, Claims, Credential, Kind};
use crate::error::{CredentialError, IssueError};
use crate::keys::{KeyId, KeyRing, Signer};
use crate::schedule::ScheduleId;
use crate::time::UtcMinute;
use crate::zone::{BuildingScope, ZoneClasses, ZoneScope};
use ed25519_dalek::Signature;

/// The format version this build writes.
pub const VERSION: u8 = 1;
/// Bytes of claims in a version 1 credential, before the signature.
pub const CLAIMS_LEN: usize = 17;
/// Bytes of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Bytes of a whole version 1 credential.
pub const V1_LEN: usize = CLAIMS_LEN + SIGNATURE_LEN;
/// The longest credential text of any version: what a version-5 QR code holds at level M
/// in alphanumeric mode.
pub const MAX_TEXT_LEN: usize = 122;
/// The longest validity window a credential can carry, in minutes.
pub const MAX_WINDOW_MINUTES: u32 = 0x00FF_FFFF;

/// The base45 alphabet of RFC 9285, which is also QR alphanumeric mode's.
pub const BASE45_ALPHABET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// The 17 claim bytes that a signer signs.
pub fn encode_unsigned(key_id: KeyId, claims: &Claims) -> Result<[u8; CLAIMS_LEN], IssueError> {
    let window = claims
        .not_after
        .0
        .checked_sub(claims.not_before.0)
        .filter(|m| *m > 0)
        .ok_or(IssueError::EmptyWindow)?;
    if window > MAX_WINDOW_MINUTES {
        return Err(IssueError::WindowTooLong {
            minutes: u64::from(window),
        });
    }
    let scope = &claims.scope;
    if scope.floor_lo > scope.floor_hi {
        return Err(IssueError::EmptyFloorRange {
            lo: scope.floor_lo,
            hi: scope.floor_hi,
        });
    }
    if scope.building == BuildingScope::One(0xFF) {
        return Err(IssueError::ReservedBuilding);
    }
    let schedule = match claims.schedule {
        None => 0,
        Some(id) => id.get(),
    };
    let mut b = [0u8; CLAIMS_LEN];
    b[0] = (VERSION << 4) | key_id.get();
    b[1] = ((claims.kind as u8) << 4) | schedule;
    b[2..6].copy_from_slice(&claims.card_id.0.to_be_bytes());
    b[6..10].copy_from_slice(&claims.not_before.0.to_be_bytes());
    b[10..13].copy_from_slice(&window.to_be_bytes()[1..]);
    b[13] = scope.building.to_byte();
    b[14] = scope.floor_lo as u8;
    b[15] = scope.floor_hi as u8;
    b[16] = scope.classes.0;
    Ok(b)
}

/// Signs `claims` with `signer` and returns the credential's text.
pub fn issue(signer: &Signer, claims: &Claims) -> Result<String, IssueError> {
    let head = encode_unsigned(signer.key_id(), claims)?;
    let signature = signer.sign(&head);
    let mut bytes = Vec::with_capacity(V1_LEN);
    bytes.extend_from_slice(&head);
    bytes.extend_from_slice(&signature.to_bytes());
    Ok(base45::encode(&bytes))
}

/// Checks `text` against `ring` and returns the credential it carries.
///
/// Order: length, alphabet, base45, version, length for the version, key id, signature; only
/// then are the claims read. Never panics.
pub fn decode(text: &str, ring: &KeyRing) -> Result<Credential, CredentialError> {
    if text.is_empty() {
        return Err(CredentialError::Empty);
    }
    let len = text.chars().count();
    if len > MAX_TEXT_LEN {
        return Err(CredentialError::TooLong {
            len,
            max: MAX_TEXT_LEN,
        });
    }
    if let Some((position, ch)) = text
        .chars()
        .enumerate()
        .find(|(_, c)| !BASE45_ALPHABET.contains(*c))
    {
        return Err(CredentialError::BadCharacter { position, ch });
    }
    let bytes = base45::decode(text).map_err(|_| CredentialError::NotBase45)?;
    let version = bytes.first().map_or(0, |b| b >> 4);
    if version != VERSION {
        return Err(CredentialError::UnknownVersion(version));
    }
    if bytes.len() != V1_LEN {
        return Err(CredentialError::WrongLength {
            len: bytes.len(),
            expected: V1_LEN,
        });
    }
    let (head, sig) = bytes.split_at(CLAIMS_LEN);
    let key_id = head[0] & 0x0F;
    let key = ring
        .get(key_id)
        .ok_or(CredentialError::UnknownKey(key_id))?;
    let signature = Signature::from_slice(sig).map_err(|_| CredentialError::BadSignature)?;
    key.verify_strict(head, &signature)
        .map_err(|_| CredentialError::BadSignature)?;
    let key_id = KeyId::new(key_id).ok_or(CredentialError::UnknownKey(key_id))?;
    Ok(Credential {
        key_id,
        claims: read_claims(head)?,
    })
}

/// Reads the fields of verified claim bytes.
fn read_claims(b: &[u8]) -> Result<Claims, CredentialError> {
    let kind = Kind::from_code(b[1] >> 4).ok_or(CredentialError::Malformed("unknown kind"))?;
    let schedule = match b[1] & 0x0F {
        0 => None,
        id => ScheduleId::new(id),
    };
    let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let card_id = CardId(u32_at(2));
    let not_before = UtcMinute(u32_at(6));
    let window = u32::from_be_bytes([0, b[10], b[11], b[12]]);
    if window == 0 {
        return Err(CredentialError::Malformed("empty validity window"));
    }
    let not_after = not_before
        .0
        .checked_add(window)
        .map(UtcMinute)
        .ok_or(CredentialError::Malformed("validity window ends too late"))?;
    let (floor_lo, floor_hi) = (b[14] as i8, b[15] as i8);
    if floor_lo > floor_hi {
        return Err(CredentialError::Malformed("empty floor range"));
    }
    Ok(Claims {
        kind,
        card_id,
        not_before,
        not_after,
        schedule,
        scope: ZoneScope {
            building: BuildingScope::from_byte(b[13]),
            floor_lo,
            floor_hi,
            classes: ZoneClasses(b[16]),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::ZoneClass;

    fn signer() -> Signer {
        Signer::from_seed(KeyId::new(1).unwrap(), [7; 32])
    }

    fn claims() -> Claims {
        Claims {
            kind: Kind::Worker,
            card_id: CardId(4_000_000_001),
            not_before: UtcMinute(1_000_000),
            not_after: UtcMinute(1_131_480),
            schedule: ScheduleId::new(1),
            scope: ZoneScope {
                building: BuildingScope::One(2),
                floor_lo: -2,
                floor_hi: 12,
                classes: ZoneClasses::of(&[ZoneClass::Entrance, ZoneClass::Floor]),
            },
        }
    }

    #[test]
    fn round_trip_and_exact_size() {
        let s = signer();
        let text = s.issue(&claims()).unwrap();
        assert_eq!(text.len(), MAX_TEXT_LEN);
        let mut ring = KeyRing::new();
        ring.insert_signer(&s);
        let cred = decode(&text, &ring).unwrap();
        assert_eq!(cred.claims, claims());
        assert_eq!(cred.key_id, s.key_id());
    }

    #[test]
    fn checks_run_in_order() {
        let ring = KeyRing::new();
        assert_eq!(decode("", &ring), Err(CredentialError::Empty));
        assert!(matches!(
            decode(&"A".repeat(123), &ring),
            Err(CredentialError::TooLong { len: 123, .. })
        ));
        assert_eq!(
            decode("AB'C", &ring),
            Err(CredentialError::BadCharacter {
                position: 2,
                ch: '\''
            })
        );
        assert_eq!(decode("ABCD", &ring), Err(CredentialError::NotBase45));
        assert_eq!(decode("GGW", &ring), Err(CredentialError::NotBase45));
        // A valid credential checked against a ring without its key.
        let text = signer().issue(&claims()).unwrap();
        assert_eq!(decode(&text, &ring), Err(CredentialError::UnknownKey(1)));
    }

    #[test]
    fn issuer_rejects_impossible_claims() {
        let s = signer();
        let mut c = claims();
        c.not_after = c.not_before;
        assert_eq!(s.issue(&c), Err(IssueError::EmptyWindow));
        let mut c = claims();
        c.not_after = UtcMinute(c.not_before.0 + MAX_WINDOW_MINUTES + 1);
        assert!(matches!(s.issue(&c), Err(IssueError::WindowTooLong { .. })));
        let mut c = claims();
        c.scope.floor_lo = 5;
        c.scope.floor_hi = 4;
        assert!(matches!(
            s.issue(&c),
            Err(IssueError::EmptyFloorRange { .. })
        ));
    }
}
