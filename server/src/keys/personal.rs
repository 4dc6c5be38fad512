//! The personal-data key: a secret kept in a file beside the signing keys (`keys/` in the data
//! directory, mode 0600), never in the database. What the server must match without keeping
//! it — a worker's one-time collection code — is stored only as an HMAC-SHA256 under this key,
//! so a copy of the database alone does not let anyone recover it by trying every value.
//!
//! The file is made on the first start; it must be backed up with the signing keys (without
//! it, collection codes given out before a restore must be given out again).

use super::KeyError;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::{Path, PathBuf};

/// The key file's name inside `keys/`.
pub const FILE: &str = "personal-data.key";

/// Where the personal-data key lives.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(super::file::DIR).join(FILE)
}

/// The personal-data key (32 random bytes).
#[derive(Clone)]
pub struct PersonalKey([u8; 32]);

impl std::fmt::Debug for PersonalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonalKey(..)")
    }
}

impl PersonalKey {
    /// A key from its bytes (tests, and the file's contents).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        Self(super::audit_chain::AuditKey::random_bytes())
    }

    /// Loads the key of `data_dir`, creating it (0600 whatever the umask, written atomically)
    /// on the first start.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, KeyError> {
        load_or_create_secret(data_dir, FILE).map(Self)
    }

    /// HMAC-SHA256 of `parts` (each length-prefixed, so no two lists collide) under this key,
    /// as hex, with `purpose` first so one key serves several uses without mixing them.
    pub fn tag(&self, purpose: &str, parts: &[&str]) -> String {
        hmac_tag(&self.0, purpose, parts)
    }
}

/// HMAC-SHA256 under `key` of `purpose` then `parts`, each length-prefixed, as hex.
pub(crate) fn hmac_tag(key: &[u8; 32], purpose: &str, parts: &[&str]) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    for part in std::iter::once(purpose).chain(parts.iter().copied()) {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    hex::encode(mac.finalize().into_bytes())
}

/// Loads the 32-byte secret in `keys/<file>` of `data_dir`; `None` if there is no such file.
pub(crate) fn load_secret(data_dir: &Path, file: &str) -> Result<Option<[u8; 32]>, KeyError> {
    let path = data_dir.join(super::file::DIR).join(file);
    match std::fs::read_to_string(&path) {
        Ok(text) => hex::decode(text.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(Some)
            .ok_or_else(|| KeyError::Io {
                path,
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "the key file does not hold 64 hex digits",
                ),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(KeyError::Io { path, source }),
    }
}

/// Loads the 32-byte secret in `keys/<file>` of `data_dir`, creating it (0600 whatever the
/// umask, written atomically) if there is none yet.
pub(crate) fn load_or_create_secret(data_dir: &Path, file: &str) -> Result<[u8; 32], KeyError> {
    if let Some(key) = load_secret(data_dir, file)? {
        return Ok(key);
    }
    let path = data_dir.join(super::file::DIR).join(file);
    let io = |source| KeyError::Io {
        path: path.clone(),
        source,
    };
    let dir = super::file::ensure_dir(data_dir)?;
    let key = super::audit_chain::AuditKey::random_bytes();
    super::file::write_private(&dir, file, hex::encode(key).as_bytes()).map_err(io)?;
    super::file::match_owner(&path, data_dir).map_err(io)?;
    tracing::info!(path = %path.display(), "key file created; back it up with the signing keys");
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_private_and_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let key = PersonalKey::load_or_create(dir.path()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = PersonalKey::load_or_create(dir.path()).unwrap();
        assert_eq!(key.tag("t", &["1"]), again.tag("t", &["1"]));
        assert_ne!(key.tag("t", &["1"]), key.tag("t", &["2"]));
        assert_ne!(key.tag("t", &["12"]), key.tag("t", &["1", "2"]));
        assert_ne!(
            key.tag("t", &["1"]),
            PersonalKey::generate().tag("t", &["1"])
        );
    }
}
