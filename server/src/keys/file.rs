//! Key files: the secret half of each signing key, one file per key id under `keys/` in the
//! data directory, mode 0600, written atomically (write, fsync, rename, fsync the directory).

use super::KeyError;
use gatehouse_credential::{KeyId, Signer};
use std::path::{Path, PathBuf};

/// The directory inside the data directory that holds the key files.
pub const DIR: &str = "keys";

/// The key file of the first server versions (one key, id 0, in the data directory itself).
pub const LEGACY_FILE: &str = "signing.key";

/// Where the secret of key `id` lives.
pub fn path(data_dir: &Path, id: KeyId) -> PathBuf {
    data_dir.join(DIR).join(format!("key-{id}.key"))
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Creates `keys/` (mode 0700) if needed, owned like the data directory.
pub(crate) fn ensure_dir(data_dir: &Path) -> Result<PathBuf, KeyError> {
    let dir = data_dir.join(DIR);
    if !dir.is_dir() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir).map_err(io_error(&dir))?;
        match_owner(&dir, data_dir).map_err(io_error(&dir))?;
    }
    Ok(dir)
}

/// Writes `signer`'s secret to its key file, replacing any file of the same id.
pub fn write(data_dir: &Path, signer: &Signer) -> Result<(), KeyError> {
    ensure_dir(data_dir)?;
    let path = path(data_dir, signer.key_id());
    signer.save(&path)?;
    match_owner(&path, data_dir).map_err(io_error(&path))
}

/// Loads key `id` and checks that it is the key whose public half is `public_key`.
pub fn load(data_dir: &Path, id: KeyId, public_key: &str) -> Result<Signer, KeyError> {
    let path = path(data_dir, id);
    if !path.exists() {
        return Err(KeyError::MissingFile {
            key_id: id.get(),
            fingerprint: super::fingerprint(public_key),
            path,
        });
    }
    let signer = Signer::load(&path)?;
    if signer.key_id() != id || signer.public_info().public_key != public_key {
        return Err(KeyError::Mismatch {
            key_id: id.get(),
            fingerprint: super::fingerprint(public_key),
            path,
        });
    }
    Ok(signer)
}

/// Deletes the secret of key `id` (a retired key must never sign again).
pub fn remove(data_dir: &Path, id: KeyId) -> Result<(), KeyError> {
    let path = path(data_dir, id);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(&path)(e)),
    }
}

/// Writes `contents` to `dir/name` atomically (a temporary file, fsync, rename, fsync the
/// directory), mode 0600 whatever the umask.
pub fn write_private(dir: &Path, name: &str, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = dir.join(format!("{name}.tmp"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(&tmp)?;
    #[cfg(unix)]
    {
        // The mode given at creation is masked by the umask; set it outright.
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(contents)?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(name))?;
    std::fs::File::open(dir)?.sync_all()
}

/// Gives `path` the owner of `dir` when they differ, so files an operator creates as root
/// in the service's data directory stay readable by the service user.
pub fn match_owner(path: &Path, dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let want = std::fs::metadata(dir)?;
        let have = std::fs::metadata(path)?;
        if (have.uid(), have.gid()) != (want.uid(), want.gid()) {
            std::os::unix::fs::chown(path, Some(want.uid()), Some(want.gid()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_is_private_and_must_match_the_public_key_named() {
        let dir = tempfile::tempdir().unwrap();
        let id = KeyId::new(3).unwrap();
        let signer = Signer::generate(id);
        write(dir.path(), &signer).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path(dir.path(), id)), 0o600);
            assert_eq!(mode(&dir.path().join(DIR)), 0o700);
        }
        let public = signer.public_info().public_key;
        assert_eq!(
            load(dir.path(), id, &public).unwrap().public_info(),
            signer.public_info()
        );
        let other = Signer::generate(id).public_info().public_key;
        assert!(matches!(
            load(dir.path(), id, &other),
            Err(KeyError::Mismatch { key_id: 3, .. })
        ));
        remove(dir.path(), id).unwrap();
        let e = load(dir.path(), id, &public).unwrap_err().to_string();
        assert!(e.contains("key 3") && e.contains("no key file"), "{e}");
    }
}
