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
use std::io::Write;
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
        let mut bytes = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
        Self(bytes)
    }

    /// Loads the key of `data_dir`, creating it (0600 whatever the umask, written atomically)
    /// on the first start.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, KeyError> {
        let path = path(data_dir);
        let io = |source| KeyError::Io {
            path: path.clone(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| {
                        io(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            "the personal-data key file does not hold 64 hex digits",
                        ))
                    })?;
                Ok(Self(bytes))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let dir = super::file::ensure_dir(data_dir)?;
                let key = Self::generate();
                let tmp = dir.join(format!("{FILE}.tmp"));
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create(true).truncate(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut f = options.open(&tmp).map_err(io)?;
                #[cfg(unix)]
                {
                    // The mode given at creation is masked by the umask; set it outright.
                    use std::os::unix::fs::PermissionsExt;
                    f.set_permissions(std::fs::Permissions::from_mode(0o600))
                        .map_err(io)?;
                }
                f.write_all(hex::encode(key.0).as_bytes())
                    .and_then(|()| f.sync_all())
                    .map_err(io)?;
                std::fs::rename(&tmp, &path).map_err(io)?;
                std::fs::File::open(&dir)
                    .and_then(|d| d.sync_all())
                    .map_err(io)?;
                super::file::match_owner(&path, data_dir).map_err(io)?;
                tracing::info!(path = %path.display(), "personal-data key created; back it up with the signing keys");
                Ok(key)
            }
            Err(e) => Err(io(e)),
        }
    }

    /// HMAC-SHA256 of `parts` (each length-prefixed, so no two lists collide) under this key,
    /// as hex, with `purpose` first so one key serves several uses without mixing them.
    pub fn tag(&self, purpose: &str, parts: &[&str]) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        for part in std::iter::once(purpose).chain(parts.iter().copied()) {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        hex::encode(mac.finalize().into_bytes())
    }
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
