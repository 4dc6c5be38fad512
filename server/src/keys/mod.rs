//! Credential signing keys: several at once, each in a state, so the key can rotate without
//! invalidating printed cards.
//!
//! - `published`: gates receive its public key in the snapshot; nothing is signed with it yet.
//! - `active`: exactly one; new credentials are signed with it. It is published too.
//! - `retired`: gates drop it at their next snapshot; its secret file is deleted and its id
//!   (0–15) may be given to a new key.
//!
//! The secret of each key is a file in the data directory ([`mod@file`]); the state and public half
//! are rows of `signing_keys`. The database is the one source of truth and is read inside every
//! transaction that signs or verifies, so `gatehouse-server keys …` — another process on the
//! same database — takes effect in a running server at its very next transaction, with no
//! restart and no window where the two disagree. Every change is audited and appends
//! `SnapshotChanged`; the running server polls its change log ([`crate::startup`]) so gates
//! that are connected learn it within a second, and gates that were offline at their next sync.

pub mod audit_chain;
pub mod file;
pub mod personal;

use crate::db::{instant, opt_instant, ts};
use chrono::{DateTime, Utc};
use gatehouse_credential::{
    Claims, IssueError, KeyFileError, KeyId, KeyRing, PublicKeyInfo, Signer,
};
use rusqlite::{Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What went wrong with a signing key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Database failure.
    #[error(transparent)]
    Db(#[from] rusqlite::Error),
    /// The database thread is gone.
    #[error(transparent)]
    DbThread(#[from] crate::db::DbError),
    /// A key file is unreadable or malformed.
    #[error("signing key file: {0}")]
    File(#[from] KeyFileError),
    /// A key file or the key directory cannot be written or removed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// No key is active (nothing can be signed).
    #[error("no signing key is active: run `gatehouse-server keys activate ID`")]
    NoActiveKey,
    /// The database names a key whose secret file is not there.
    #[error(
        "signing key {key_id} ({fingerprint}) has no key file at {path}: restore the key files from their backup"
    )]
    MissingFile {
        /// The key id.
        key_id: u8,
        /// The key's fingerprint as `keys list` shows it.
        fingerprint: String,
        /// Where the file should be.
        path: PathBuf,
    },
    /// The key file holds another key than the database names.
    #[error("{path} does not hold signing key {key_id} ({fingerprint}) that the database names")]
    Mismatch {
        /// The key id.
        key_id: u8,
        /// The fingerprint the database expects.
        fingerprint: String,
        /// The file.
        path: PathBuf,
    },
    /// No published or active key has this id.
    #[error("there is no published signing key with id {0} (see `gatehouse-server keys list`)")]
    NotFound(u8),
    /// Activating the key that is already active.
    #[error("signing key {0} is already the active key")]
    AlreadyActive(u8),
    /// Retiring the active key.
    #[error("signing key {0} is the active key: activate another key first")]
    RetireActive(u8),
    /// Retiring a key that still signs cards in use.
    #[error(
        "{count} unexpired, unrevoked card(s) were signed with key {key_id}: retiring it now would lock them out at every gate; wait until they expire or are returned, reprint them, or pass --force"
    )]
    InUse {
        /// The key id.
        key_id: u8,
        /// How many cards would stop working.
        count: u64,
    },
    /// All 16 ids are published or active.
    #[error("all 16 key ids are in use: retire a key first")]
    NoFreeId,
    /// Signing failed.
    #[error(transparent)]
    Issue(#[from] IssueError),
}

/// Where a key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Gates hold its public key; nothing is signed with it.
    Published,
    /// New credentials are signed with it.
    Active,
    /// Dropped by gates; its secret is destroyed.
    Retired,
}

impl KeyState {
    /// The word stored in the database and shown by `keys list`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Published => "published",
            KeyState::Active => "active",
            KeyState::Retired => "retired",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "published" => Some(KeyState::Published),
            "active" => Some(KeyState::Active),
            "retired" => Some(KeyState::Retired),
            _ => None,
        }
    }
}

/// One signing key as the database knows it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeyRecord {
    /// The key id credentials carry, 0–15 (reused only after retirement).
    pub key_id: KeyId,
    /// Its state.
    pub state: KeyState,
    /// The Ed25519 public key, lowercase hex.
    pub public_key: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last became the active key.
    pub activated_at: Option<DateTime<Utc>>,
    /// When it was retired.
    pub retired_at: Option<DateTime<Utc>>,
}

impl KeyRecord {
    /// A short, stable name of the public key: `sha256:` and 16 hex digits.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.public_key)
    }

    /// Whether gates should hold it.
    pub fn is_live(&self) -> bool {
        self.state != KeyState::Retired
    }

    /// What a verifier needs of it.
    pub fn public_info(&self) -> PublicKeyInfo {
        PublicKeyInfo {
            key_id: self.key_id,
            public_key: self.public_key.clone(),
        }
    }
}

/// The fingerprint of a public key given as hex: SHA-256 of its bytes, first 8 bytes in hex.
pub fn fingerprint(public_key_hex: &str) -> String {
    let bytes = hex::decode(public_key_hex).unwrap_or_else(|_| public_key_hex.as_bytes().to_vec());
    let digest = Sha256::digest(&bytes);
    format!("sha256:{}", hex::encode(&digest[..8]))
}

const COLUMNS: &str = "key_id, state, public_key, created_at, activated_at, retired_at";

fn record(r: &rusqlite::Row<'_>) -> rusqlite::Result<KeyRecord> {
    let bad = |i: usize, what: String| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, what.into())
    };
    let id: u8 = r.get("key_id")?;
    let state: String = r.get("state")?;
    Ok(KeyRecord {
        key_id: KeyId::new(id).ok_or_else(|| bad(0, format!("key id {id} out of range")))?,
        state: KeyState::parse(&state).ok_or_else(|| bad(1, format!("key state {state}")))?,
        public_key: r.get("public_key")?,
        created_at: instant(r, "created_at")?,
        activated_at: opt_instant(r, "activated_at")?,
        retired_at: opt_instant(r, "retired_at")?,
    })
}

/// Every key ever created, oldest first (retired ones included).
pub fn records(conn: &Connection) -> rusqlite::Result<Vec<KeyRecord>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM signing_keys ORDER BY id"))?;
    let rows = stmt.query_map([], record)?;
    rows.collect()
}

/// The active key, if any.
pub fn active(conn: &Connection) -> rusqlite::Result<Option<KeyRecord>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM signing_keys WHERE state = 'active'"
    ))?
    .query_row([], record)
    .optional()
}

/// The public keys gates must hold: every published or active key, by id.
pub fn published(conn: &Connection) -> rusqlite::Result<Vec<PublicKeyInfo>> {
    let mut stmt = conn.prepare_cached(
        "SELECT key_id, public_key FROM signing_keys WHERE state <> 'retired' ORDER BY key_id",
    )?;
    let rows = stmt.query_map([], |r| {
        let id: u8 = r.get(0)?;
        Ok((id, r.get::<_, String>(1)?))
    })?;
    let mut keys = Vec::new();
    for row in rows {
        let (id, public_key) = row?;
        if let Some(key_id) = KeyId::new(id) {
            keys.push(PublicKeyInfo { key_id, public_key });
        }
    }
    Ok(keys)
}

/// A ring of every published or active key, to verify a credential the desk scans.
pub fn ring(conn: &Connection) -> Result<KeyRing, KeyError> {
    Ok(KeyRing::from_infos(&published(conn)?)?)
}

/// Stores a new key record.
pub fn insert(conn: &Connection, key: &KeyRecord) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO signing_keys (key_id, state, public_key, created_at, activated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![
            key.key_id.get(),
            key.state.as_str(),
            key.public_key,
            ts(key.created_at),
            key.activated_at.map(ts)
        ],
    )?;
    Ok(())
}

/// A credential text and the id of the key that signed it.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The credential's base45 text.
    pub text: String,
    /// The key that signed it.
    pub key_id: KeyId,
}

/// The running server's view of the keys: the data directory and the secrets loaded so far.
/// Which key signs is read from the database in the caller's transaction each time.
pub struct SigningKeys {
    data_dir: PathBuf,
    loaded: Mutex<HashMap<KeyId, Arc<Signer>>>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl SigningKeys {
    /// Keys whose files live in `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        SigningKeys {
            data_dir: data_dir.to_owned(),
            loaded: Mutex::new(HashMap::new()),
        }
    }

    /// The active key's secret, loaded from its file the first time it is needed.
    pub fn active_signer(&self, conn: &Connection) -> Result<Arc<Signer>, KeyError> {
        let key = active(conn)?.ok_or(KeyError::NoActiveKey)?;
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(signer) = loaded.get(&key.key_id) {
            // An id may have been reused for a new key since it was loaded.
            if signer.public_info().public_key == key.public_key {
                return Ok(signer.clone());
            }
        }
        let signer = Arc::new(file::load(&self.data_dir, key.key_id, &key.public_key)?);
        loaded.insert(key.key_id, signer.clone());
        Ok(signer)
    }

    /// Signs `claims` with the active key.
    pub fn issue(&self, conn: &Connection, claims: &Claims) -> Result<Signed, KeyError> {
        let signer = self.active_signer(conn)?;
        Ok(Signed {
            text: signer.issue(claims)?,
            key_id: signer.key_id(),
        })
    }

    /// See [`ring`].
    pub fn ring(&self, conn: &Connection) -> Result<KeyRing, KeyError> {
        ring(conn)
    }
}
