//! Signing keys (server only) and the public key ring every verifier holds.
//!
//! A key file is one line: `<key id>:<64 hex digits of the Ed25519 seed>`, mode 0600.

use crate::claims::{Claims, Credential};
use crate::codec;
use crate::error::{CredentialError, IssueError, KeyFileError};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// Which signing key made a credential: 0–15, so keys can rotate while gates hold a set.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct KeyId(u8);

impl KeyId {
    /// The largest key id.
    pub const MAX: u8 = 15;

    /// A key id, if `id` is 0–15.
    pub const fn new(id: u8) -> Option<Self> {
        if id <= Self::MAX {
            Some(KeyId(id))
        } else {
            None
        }
    }

    /// The number.
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for KeyId {
    type Error = String;
    fn try_from(id: u8) -> Result<Self, Self::Error> {
        KeyId::new(id).ok_or_else(|| format!("key id {id} is out of range 0–15"))
    }
}

impl From<KeyId> for u8 {
    fn from(k: KeyId) -> u8 {
        k.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The server's signing key and its id. Its `Debug` never shows the secret.
pub struct Signer {
    key_id: KeyId,
    key: SigningKey,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("key_id", &self.key_id)
            .field(
                "public_key",
                &hex::encode(self.key.verifying_key().as_bytes()),
            )
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A new random key from the operating system's generator.
    pub fn generate(key_id: KeyId) -> Self {
        let mut seed = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut seed);
        Self::from_seed(key_id, seed)
    }

    /// The key whose 32-byte seed is `seed` (tests and vectors).
    pub fn from_seed(key_id: KeyId, seed: [u8; 32]) -> Self {
        Signer {
            key_id,
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// The key's id.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// What a verifier needs to know of this key.
    pub fn public_info(&self) -> PublicKeyInfo {
        PublicKeyInfo {
            key_id: self.key_id,
            public_key: hex::encode(self.key.verifying_key().as_bytes()),
        }
    }

    /// Signs `claims` and returns the credential's text.
    pub fn issue(&self, claims: &Claims) -> Result<String, IssueError> {
        codec::issue(self, claims)
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Signature {
        self.key.sign(message)
    }

    /// Writes the key to `path` with mode 0600, replacing the file atomically.
    pub fn save(&self, path: &Path) -> Result<(), KeyFileError> {
        let io = |source| KeyFileError::Io {
            path: path.to_owned(),
            source,
        };
        let line = format!("{}:{}\n", self.key_id, hex::encode(self.key.to_bytes()));
        let tmp = path.with_extension("tmp");
        {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&tmp).map_err(io)?;
            file.write_all(line.as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(io)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the rename itself durable.
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io)?;
        }
        Ok(())
    }

    /// Reads a key written by [`Signer::save`].
    pub fn load(path: &Path) -> Result<Self, KeyFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Io {
            path: path.to_owned(),
            source,
        })?;
        let bad = |reason: &str| KeyFileError::Malformed {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        let (id, seed) = text
            .trim()
            .split_once(':')
            .ok_or_else(|| bad("expected `<key id>:<64 hex digits>`"))?;
        let key_id = id
            .parse::<u8>()
            .ok()
            .and_then(KeyId::new)
            .ok_or_else(|| bad("key id must be a number 0–15"))?;
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(seed, &mut bytes).map_err(|_| bad("seed must be 64 hex digits"))?;
        Ok(Self::from_seed(key_id, bytes))
    }

    /// Loads the key at `path`, or creates one with `key_id` if the file does not exist.
    pub fn load_or_generate(path: &Path, key_id: KeyId) -> Result<Self, KeyFileError> {
        if path.exists() {
            Self::load(path)
        } else {
            let signer = Self::generate(key_id);
            signer.save(path)?;
            Ok(signer)
        }
    }
}

/// A public key as it travels to gates and kiosks: its id and 64 hex digits.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyInfo {
    /// The key's id, 0–15.
    pub key_id: KeyId,
    /// The Ed25519 public key, 32 bytes as lowercase hex.
    pub public_key: String,
}

/// The public keys a verifier accepts, by id.
#[derive(Clone, Debug, Default)]
pub struct KeyRing {
    keys: [Option<VerifyingKey>; 16],
}

impl KeyRing {
    /// An empty ring, which accepts nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// A ring holding every key in `infos`; fails on the first key that is not valid.
    pub fn from_infos(infos: &[PublicKeyInfo]) -> Result<Self, KeyFileError> {
        let mut ring = Self::new();
        for info in infos {
            ring.insert_hex(info.key_id, &info.public_key)?;
        }
        Ok(ring)
    }

    /// Adds or replaces the key with id `key_id`, given as 64 hex digits.
    pub fn insert_hex(&mut self, key_id: KeyId, hex_key: &str) -> Result<(), KeyFileError> {
        let bad = |reason: &str| KeyFileError::BadPublicKey {
            key_id: key_id.get(),
            reason: reason.to_owned(),
        };
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_key.trim(), &mut bytes)
            .map_err(|_| bad("must be 64 hex digits"))?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| bad("not an Ed25519 point"))?;
        if key.is_weak() {
            return Err(bad("weak key"));
        }
        self.keys[usize::from(key_id.get())] = Some(key);
        Ok(())
    }

    /// Adds the public half of `signer`.
    pub fn insert_signer(&mut self, signer: &Signer) {
        self.keys[usize::from(signer.key_id.get())] = Some(signer.key.verifying_key());
    }

    /// The key with id `key_id`, if known.
    pub fn get(&self, key_id: u8) -> Option<&VerifyingKey> {
        self.keys.get(usize::from(key_id)).and_then(Option::as_ref)
    }

    /// The ids of the keys held.
    pub fn key_ids(&self) -> Vec<KeyId> {
        (0..=KeyId::MAX)
            .filter(|i| self.get(*i).is_some())
            .filter_map(KeyId::new)
            .collect()
    }

    /// Checks `text` and returns its claims; see [`codec::decode`].
    pub fn verify(&self, text: &str) -> Result<Credential, CredentialError> {
        codec::decode(text, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_round_trips_with_private_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signing.key");
        let a = Signer::load_or_generate(&path, KeyId::new(3).unwrap()).unwrap();
        let b = Signer::load_or_generate(&path, KeyId::new(9).unwrap()).unwrap();
        assert_eq!(a.public_info(), b.public_info());
        assert_eq!(b.key_id().get(), 3);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{a:?}").contains(&hex::encode(a.key.to_bytes())));
    }

    #[test]
    fn bad_key_files_are_rejected_with_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, "nonsense").unwrap();
        let err = Signer::load(&path).unwrap_err().to_string();
        assert!(err.contains("expected"), "{err}");
        std::fs::write(&path, "16:00").unwrap();
        assert!(
            Signer::load(&path)
                .unwrap_err()
                .to_string()
                .contains("0–15")
        );
        let mut ring = KeyRing::new();
        assert!(ring.insert_hex(KeyId::new(0).unwrap(), "zz").is_err());
        assert!(KeyId::new(16).is_none());
    }
}
