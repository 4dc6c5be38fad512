//! Adding, activating and retiring signing keys: the decisions as plain functions over the key
//! list, and the steps that apply them inside the caller's transaction (audited, and announced
//! to gates with `SnapshotChanged`).

use crate::auth::Actor;
use crate::db::ts;
use crate::keys::{KeyError, KeyRecord, KeyState, file, insert, records};
use crate::{audit, changes};
use chrono::{DateTime, Utc};
use gatehouse_credential::api::gate::ChangeEvent;
use gatehouse_credential::{KeyId, Signer, UtcMinute};
use rusqlite::{Connection, params};
use serde_json::json;
use std::path::Path;

/// The id a new key gets: the next one after the newest key's id (wrapping after 15) that no
/// published or active key holds, so a retired id comes back as late as possible.
pub fn next_free_id(keys: &[KeyRecord]) -> Option<KeyId> {
    let start = keys.last().map_or(0, |k| k.key_id.get() + 1);
    (0..=KeyId::MAX)
        .map(|step| (start + step) % (KeyId::MAX + 1))
        .filter_map(KeyId::new)
        .find(|id| !keys.iter().any(|k| k.is_live() && k.key_id == *id))
}

/// The published or active key with id `id`.
pub fn live(keys: &[KeyRecord], id: KeyId) -> Result<&KeyRecord, KeyError> {
    keys.iter()
        .find(|k| k.is_live() && k.key_id == id)
        .ok_or(KeyError::NotFound(id.get()))
}

/// Whether `key` may become the active key.
pub fn check_activate(key: &KeyRecord) -> Result<(), KeyError> {
    match key.state {
        KeyState::Active => Err(KeyError::AlreadyActive(key.key_id.get())),
        _ => Ok(()),
    }
}

/// Whether `key` may be retired while `cards_in_use` cards signed with it still work.
pub fn check_retire(key: &KeyRecord, cards_in_use: u64, force: bool) -> Result<(), KeyError> {
    if key.state == KeyState::Active {
        return Err(KeyError::RetireActive(key.key_id.get()));
    }
    if cards_in_use > 0 && !force {
        return Err(KeyError::InUse {
            key_id: key.key_id.get(),
            count: cards_in_use,
        });
    }
    Ok(())
}

/// Cards signed with `key` that would still open doors: not revoked, returned or lost, and
/// not past their end (as extended). Cards of an earlier key with the same id do not count.
pub fn cards_in_use(
    conn: &Connection,
    key: &KeyRecord,
    now: DateTime<Utc>,
) -> rusqlite::Result<u64> {
    let minute = UtcMinute::floor(now).map_or(0, |m| m.0);
    let count: i64 = conn.query_row(
        "SELECT COUNT(*) FROM cards
         WHERE key_id = ?1 AND state = 'active' AND not_after > ?2
           AND issued_at > COALESCE((SELECT MAX(retired_at) FROM signing_keys
                                     WHERE key_id = ?1 AND state = 'retired'), '')",
        params![key.key_id.get(), minute],
        |r| r.get(0),
    )?;
    Ok(u64::try_from(count).unwrap_or(0))
}

fn announce(
    tx: &Connection,
    actor: &Actor,
    action: &str,
    key: &KeyRecord,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let mut details = details;
    details["fingerprint"] = json!(key.fingerprint());
    audit::record(
        tx,
        actor,
        action,
        &format!("signing_key:{}", key.key_id),
        details,
        now,
    )?;
    changes::append(tx, &ChangeEvent::SnapshotChanged, now)?;
    Ok(())
}

/// Makes sure a key is active, on every start: the first start imports the key file of
/// earlier versions (`signing.key`) or creates key 0; later starts check that the active
/// key's file is there and matches. The first key is part of the first start, like the first
/// manager account: its row records when it was made, and no gate can have synced before it,
/// so it is neither audited nor announced.
pub fn ensure_active(
    tx: &Connection,
    data_dir: &Path,
    now: DateTime<Utc>,
) -> Result<KeyRecord, KeyError> {
    if let Some(key) = crate::keys::active(tx)? {
        file::load(data_dir, key.key_id, &key.public_key)?;
        return Ok(key);
    }
    if !records(tx)?.is_empty() {
        return Err(KeyError::NoActiveKey);
    }
    let first = KeyId::new(0).ok_or(KeyError::NoFreeId)?;
    let legacy = data_dir.join(file::LEGACY_FILE);
    let signer = if legacy.exists() {
        let signer = Signer::load(&legacy)?;
        file::write(data_dir, &signer)?;
        signer
    } else if file::path(data_dir, first).exists() {
        // A first start that stopped between writing the file and committing.
        Signer::load(&file::path(data_dir, first))?
    } else {
        let signer = Signer::generate(first);
        file::write(data_dir, &signer)?;
        signer
    };
    let key = KeyRecord {
        key_id: signer.key_id(),
        state: KeyState::Active,
        public_key: signer.public_info().public_key,
        created_at: now,
        activated_at: Some(now),
        retired_at: None,
    };
    insert(tx, &key)?;
    if legacy.exists() {
        // The copy under keys/ is written and synced; a later start finds it if this commit
        // does not happen.
        std::fs::remove_file(&legacy).map_err(|source| KeyError::Io {
            path: legacy.clone(),
            source,
        })?;
    }
    Ok(key)
}

/// Creates a key with the next free id in state `published`: gates receive its public key,
/// nothing is signed with it until it is activated.
pub fn add(
    tx: &Connection,
    data_dir: &Path,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<KeyRecord, KeyError> {
    let id = next_free_id(&records(tx)?).ok_or(KeyError::NoFreeId)?;
    let signer = Signer::generate(id);
    // The file first: a committed row always has its secret on disk.
    file::write(data_dir, &signer)?;
    let key = KeyRecord {
        key_id: id,
        state: KeyState::Published,
        public_key: signer.public_info().public_key,
        created_at: now,
        activated_at: None,
        retired_at: None,
    };
    insert(tx, &key)?;
    announce(
        tx,
        actor,
        "signing_key.add",
        &key,
        json!({"state": "published"}),
        now,
    )?;
    Ok(key)
}

/// Makes key `id` the one new credentials are signed with; the previous active key stays
/// published so the cards it signed keep verifying.
pub fn activate(
    tx: &Connection,
    data_dir: &Path,
    actor: &Actor,
    id: KeyId,
    now: DateTime<Utc>,
) -> Result<KeyRecord, KeyError> {
    let keys = records(tx)?;
    let key = live(&keys, id)?;
    check_activate(key)?;
    // Refuse before switching if the secret is not usable.
    file::load(data_dir, key.key_id, &key.public_key)?;
    let previous = crate::keys::active(tx)?;
    tx.execute(
        "UPDATE signing_keys SET state = 'published' WHERE state = 'active'",
        [],
    )?;
    tx.execute(
        "UPDATE signing_keys SET state = 'active', activated_at = ?1 WHERE key_id = ?2 AND state = 'published'",
        params![ts(now), id.get()],
    )?;
    let activated = KeyRecord {
        state: KeyState::Active,
        activated_at: Some(now),
        ..key.clone()
    };
    let details = json!({"state": "active", "previous": previous.map(|p| p.key_id.get())});
    announce(tx, actor, "signing_key.activate", &activated, details, now)?;
    Ok(activated)
}

/// A retired key and how many cards still in use it locked out (non-zero only when forced).
#[derive(Debug, Clone)]
pub struct Retirement {
    /// The key, now retired.
    pub key: KeyRecord,
    /// Unexpired, unrevoked cards signed with it, which no gate accepts any more.
    pub cards_locked_out: u64,
}

/// Retires published key `id`: gates drop it at their next snapshot. Refused while cards
/// signed with it still work, unless `force`. The caller deletes the key file after commit
/// ([`file::remove`]).
pub fn retire(
    tx: &Connection,
    actor: &Actor,
    id: KeyId,
    force: bool,
    now: DateTime<Utc>,
) -> Result<Retirement, KeyError> {
    let keys = records(tx)?;
    let key = live(&keys, id)?;
    let in_use = cards_in_use(tx, key, now)?;
    check_retire(key, in_use, force)?;
    tx.execute(
        "UPDATE signing_keys SET state = 'retired', retired_at = ?1 WHERE key_id = ?2 AND state = 'published'",
        params![ts(now), id.get()],
    )?;
    let retired = KeyRecord {
        state: KeyState::Retired,
        retired_at: Some(now),
        ..key.clone()
    };
    let details = json!({"state": "retired", "forced": force, "cards_locked_out": in_use});
    announce(tx, actor, "signing_key.retire", &retired, details, now)?;
    Ok(Retirement {
        key: retired,
        cards_locked_out: in_use,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: u8, state: KeyState) -> KeyRecord {
        KeyRecord {
            key_id: KeyId::new(id).unwrap(),
            state,
            public_key: String::new(),
            created_at: Utc::now(),
            activated_at: None,
            retired_at: None,
        }
    }

    #[test]
    fn new_ids_follow_the_newest_and_reuse_only_retired_ones() {
        assert_eq!(next_free_id(&[]).unwrap().get(), 0);
        let keys = [key(0, KeyState::Active)];
        assert_eq!(next_free_id(&keys).unwrap().get(), 1);
        // 15 wraps to 0, which is still live, so 1 (retired) is next.
        let keys = [
            key(0, KeyState::Published),
            key(1, KeyState::Retired),
            key(15, KeyState::Active),
        ];
        assert_eq!(next_free_id(&keys).unwrap().get(), 1);
        let full: Vec<_> = (0..16).map(|i| key(i, KeyState::Published)).collect();
        assert_eq!(next_free_id(&full), None);
    }

    #[test]
    fn activation_and_retirement_are_refused_with_a_reason() {
        let active = key(2, KeyState::Active);
        let published = key(3, KeyState::Published);
        assert!(matches!(
            check_activate(&active),
            Err(KeyError::AlreadyActive(2))
        ));
        assert!(check_activate(&published).is_ok());
        assert!(matches!(
            check_retire(&active, 0, true),
            Err(KeyError::RetireActive(2))
        ));
        let e = check_retire(&published, 4, false).unwrap_err();
        assert!(matches!(
            e,
            KeyError::InUse {
                key_id: 3,
                count: 4
            }
        ));
        assert!(e.to_string().contains("--force"), "{e}");
        assert!(check_retire(&published, 4, true).is_ok());
        assert!(check_retire(&published, 0, false).is_ok());
        let keys = [key(3, KeyState::Retired)];
        assert!(matches!(
            live(&keys, KeyId::new(3).unwrap()),
            Err(KeyError::NotFound(3))
        ));
    }
}
