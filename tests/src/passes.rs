//! Passes signed by the harness itself, for gates tested without a server (their `[[keys]]`).

use gatehouse_credential::{
    BuildingScope, CardId, Claims, IssueError, KeyId, Kind, PublicKeyInfo, Signer, UtcMinute,
    ZoneClass, ZoneClasses, ZoneScope,
};

/// A signing key of the harness's own.
pub struct TestSigner {
    signer: Signer,
}

impl TestSigner {
    /// A fresh key with id `key_id` (0–15).
    pub fn new(key_id: u8) -> Option<TestSigner> {
        Some(TestSigner {
            signer: Signer::generate(KeyId::new(key_id)?),
        })
    }

    /// The public key a gate must trust.
    pub fn public(&self) -> PublicKeyInfo {
        self.signer.public_info()
    }

    /// A visitor pass for `building`, the entrance and floor `floor`, valid for the hour
    /// around now.
    pub fn visitor_pass(&self, card: u32, building: u8, floor: i8) -> Result<String, IssueError> {
        let now = chrono::Utc::now();
        let claims = Claims {
            kind: Kind::Visitor,
            card_id: CardId(card),
            not_before: UtcMinute::floor(now - chrono::Duration::minutes(30))
                .unwrap_or(UtcMinute(0)),
            not_after: UtcMinute::ceil(now + chrono::Duration::minutes(30)).unwrap_or(UtcMinute(0)),
            schedule: None,
            scope: ZoneScope {
                building: BuildingScope::One(building),
                floor_lo: floor,
                floor_hi: floor,
                classes: ZoneClasses::of(&[ZoneClass::Entrance, ZoneClass::Floor]),
            },
        };
        self.signer.issue(&claims)
    }
}

/// `text` with one character changed to another valid base45 character: still readable,
/// no longer correctly signed.
pub fn forged(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}
