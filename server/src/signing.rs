//! The credential signing key in the data directory: created on first start, loaded after.

use gatehouse_credential::{KeyFileError, KeyId, Signer};
use std::path::Path;

/// The key file's name inside the data directory.
pub const KEY_FILE: &str = "signing.key";

/// Loads the signing key from `data_dir`, creating key id 0 on first start.
pub fn load_or_create(data_dir: &Path) -> Result<Signer, KeyFileError> {
    const FIRST: KeyId = match KeyId::new(0) {
        Some(k) => k,
        None => panic!("0 is a valid key id"),
    };
    Signer::load_or_generate(&data_dir.join(KEY_FILE), FIRST)
}
