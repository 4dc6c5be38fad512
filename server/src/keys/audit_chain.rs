//! The audit-chain key: a secret in `keys/` of the data directory (mode 0600), never in the
//! database. Each audit entry carries an HMAC-SHA256 under this key over the previous entry's
//! MAC and its own fields ([`crate::audit`]), so someone who can write the database but has not
//! got this file cannot edit an entry and compute a chain that still verifies.
//!
//! The file is made on the first start; back it up with the signing keys (without it the
//! chain of a restored database cannot be verified, and a restore is refused).

use super::KeyError;
use std::path::Path;

/// The key file's name inside `keys/`.
pub const FILE: &str = "audit-chain.key";

/// The audit-chain key (32 random bytes).
#[derive(Clone)]
pub struct AuditKey([u8; 32]);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(..)")
    }
}

impl AuditKey {
    /// A key from its bytes (tests, and the file's contents).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh random key (in-memory databases of unit tests).
    pub fn generate() -> Self {
        Self(Self::random_bytes())
    }

    /// 32 bytes from the operating system's random source.
    pub(crate) fn random_bytes() -> [u8; 32] {
        let mut bytes = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
        bytes
    }

    /// Loads the key of `data_dir`; `None` if it has no key file.
    pub fn load(data_dir: &Path) -> Result<Option<Self>, KeyError> {
        Ok(super::personal::load_secret(data_dir, FILE)?.map(Self))
    }

    /// Loads the key of `data_dir`, creating it on the first start.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, KeyError> {
        super::personal::load_or_create_secret(data_dir, FILE).map(Self)
    }

    /// The MAC of one entry's fields (length-prefixed, so no two lists collide), as hex.
    pub fn mac(&self, fields: &[&str]) -> String {
        super::personal::hmac_tag(&self.0, "audit-chain", fields)
    }
}
