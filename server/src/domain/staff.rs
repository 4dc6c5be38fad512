//! Staff accounts.

use crate::audit;
use crate::auth::{Actor, Role, Staff};
use crate::db::{instant, opt_instant, ts};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// The first manager's login name.
pub const ADMIN: &str = "admin";

/// A staff account as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StaffAccount {
    /// Database id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// When created (UTC).
    #[serde(serialize_with = "crate::db::ts_json")]
    pub created_at: DateTime<Utc>,
    /// When disabled (UTC); a disabled account cannot log in.
    #[serde(serialize_with = "crate::db::opt_ts_json")]
    pub disabled_at: Option<DateTime<Utc>>,
}

/// Why a staff account cannot be created.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    /// The name is taken.
    #[error("the username `{0}` is already taken")]
    Taken(String),
    /// The name is not acceptable.
    #[error("a username is 2–32 letters, digits, `.`, `-` or `_`")]
    BadName,
    /// No account has this id.
    #[error("there is no staff account {0}")]
    NotFound(i64),
    /// A manager tried to disable their own account.
    #[error("you cannot disable your own account; ask another manager")]
    OwnAccount,
    /// The change would leave no active manager to run the estate.
    #[error("{0} is the last active manager; make another manager first")]
    LastManager(String),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] rusqlite::Error),
}

/// Checks a username's shape.
pub fn valid_username(name: &str) -> bool {
    (2..=32).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// Creates an account with an already hashed password and audits it.
pub fn create(
    tx: &Connection,
    actor: &Actor,
    username: &str,
    role: Role,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<i64, StaffError> {
    if !valid_username(username) {
        return Err(StaffError::BadName);
    }
    if find(tx, username)?.is_some() {
        return Err(StaffError::Taken(username.to_owned()));
    }
    tx.execute(
        "INSERT INTO staff (username, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![username, role.as_str(), password_hash, ts(now)],
    )?;
    let id = tx.last_insert_rowid();
    audit::record(
        tx,
        actor,
        "staff.create",
        &format!("staff:{id}"),
        serde_json::json!({ "username": username, "role": role.as_str() }),
        now,
    )?;
    Ok(id)
}

/// Whether any staff account exists.
pub fn any(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row("SELECT EXISTS(SELECT 1 FROM staff) AS any", [], |r| {
        r.get("any")
    })
}

/// How usernames are compared: without regard to case (`ADMIN` is `admin`).
pub fn fold(username: &str) -> String {
    username.to_lowercase()
}

/// The id of the account named `username` (case folded), disabled or not. Staff tables are
/// small, and SQLite folds only ASCII, so the comparison is made here.
fn find(conn: &Connection, username: &str) -> rusqlite::Result<Option<i64>> {
    let wanted = fold(username);
    let mut stmt = conn.prepare_cached("SELECT id, username FROM staff")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, i64>("id")?, r.get::<_, String>("username")?))
    })?;
    for row in rows {
        let (id, name) = row?;
        if fold(&name) == wanted {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// The active account named `username` (case folded) and its password hash.
pub fn for_login(conn: &Connection, username: &str) -> rusqlite::Result<Option<(Staff, String)>> {
    let Some(id) = find(conn, username)? else {
        return Ok(None);
    };
    conn.query_row(
        "SELECT id, username, role, password_hash FROM staff WHERE id = ?1 AND disabled_at IS NULL",
        params![id],
        |r| {
            let role: String = r.get("role")?;
            Ok((
                Staff {
                    id: r.get("id")?,
                    username: r.get("username")?,
                    role: Role::parse(&role).unwrap_or(Role::Desk),
                },
                r.get("password_hash")?,
            ))
        },
    )
    .optional()
}

/// The password hash of account `id`, if it exists.
pub fn password_hash(conn: &Connection, id: i64) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT password_hash FROM staff WHERE id = ?1",
        params![id],
        |r| r.get("password_hash"),
    )
    .optional()
}

/// Sets account `id`'s password (already hashed), ends all its sessions, and audits it as
/// `action` (`staff.password_change` by its owner, `staff.password_reset` by a manager).
pub fn set_password(
    tx: &Connection,
    actor: &Actor,
    id: i64,
    password_hash: &str,
    action: &str,
    now: DateTime<Utc>,
) -> Result<(), StaffError> {
    let changed = tx.execute(
        "UPDATE staff SET password_hash = ?2 WHERE id = ?1",
        params![id, password_hash],
    )?;
    if changed == 0 {
        return Err(StaffError::NotFound(id));
    }
    end_sessions(tx, id)?;
    audit::record(
        tx,
        actor,
        action,
        &format!("staff:{id}"),
        serde_json::json!({}),
        now,
    )?;
    Ok(())
}

/// Disables (or enables again) account `id`; disabling ends its sessions. Audited.
pub fn set_disabled(
    tx: &Connection,
    actor: &Actor,
    id: i64,
    disabled: bool,
    now: DateTime<Utc>,
) -> Result<StaffAccount, StaffError> {
    if disabled && actor.staff().is_some_and(|s| s.id == id) {
        return Err(StaffError::OwnAccount);
    }
    let changed = tx.execute(
        "UPDATE staff SET disabled_at = CASE WHEN ?2 THEN coalesce(disabled_at, ?3) END WHERE id = ?1",
        params![id, disabled, ts(now)],
    )?;
    if changed == 0 {
        return Err(StaffError::NotFound(id));
    }
    if disabled {
        end_sessions(tx, id)?;
    }
    audit::record(
        tx,
        actor,
        if disabled {
            "staff.disable"
        } else {
            "staff.enable"
        },
        &format!("staff:{id}"),
        serde_json::json!({}),
        now,
    )?;
    list(tx)?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or(StaffError::NotFound(id))
}

/// Gives account `id` the role `role`. The change ends the account's sessions, so its holder
/// logs in again and every page shows the new role's links (the role is also read afresh on
/// every request). The last active manager cannot be made anything else, or no one could
/// manage staff again. Audited with the old and the new role; a change to the same role does
/// nothing.
pub fn set_role(
    tx: &Connection,
    actor: &Actor,
    id: i64,
    role: Role,
    now: DateTime<Utc>,
) -> Result<StaffAccount, StaffError> {
    let account = list(tx)?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or(StaffError::NotFound(id))?;
    if account.role == role {
        return Ok(account);
    }
    if account.role == Role::Manager && account.disabled_at.is_none() {
        let managers: i64 = tx.query_row(
            "SELECT COUNT(*) FROM staff WHERE role = 'manager' AND disabled_at IS NULL",
            [],
            |r| r.get(0),
        )?;
        if managers <= 1 {
            return Err(StaffError::LastManager(account.username));
        }
    }
    tx.execute(
        "UPDATE staff SET role = ?2 WHERE id = ?1",
        params![id, role.as_str()],
    )?;
    end_sessions(tx, id)?;
    audit::record(
        tx,
        actor,
        "staff.role",
        &format!("staff:{id}"),
        serde_json::json!({ "from": account.role.as_str(), "to": role.as_str() }),
        now,
    )?;
    Ok(StaffAccount { role, ..account })
}

fn end_sessions(tx: &Connection, id: i64) -> rusqlite::Result<usize> {
    tx.execute("DELETE FROM sessions WHERE staff_id = ?1", params![id])
}

/// Every account, by name.
pub fn list(conn: &Connection) -> rusqlite::Result<Vec<StaffAccount>> {
    let mut stmt = conn.prepare(
        "SELECT id, username, role, created_at, disabled_at FROM staff ORDER BY username",
    )?;
    let rows = stmt.query_map([], |r| {
        let role: String = r.get("role")?;
        Ok(StaffAccount {
            id: r.get("id")?,
            username: r.get("username")?,
            role: Role::parse(&role).unwrap_or(Role::Desk),
            created_at: instant(r, "created_at")?,
            disabled_at: opt_instant(r, "disabled_at")?,
        })
    })?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_lists_its_times_as_the_database_holds_them() {
        let conn = crate::store::in_memory().unwrap();
        let at = "2026-03-01T08:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let id = create(&conn, &Actor::System("test"), "amy", Role::Desk, "x", at).unwrap();
        set_disabled(&conn, &Actor::System("test"), id, true, at).unwrap();
        let account = list(&conn)
            .unwrap()
            .into_iter()
            .find(|a| a.id == id)
            .unwrap();
        assert_eq!((account.created_at, account.disabled_at), (at, Some(at)));
        // The API's text is the stored, fixed-width form, whole seconds included.
        let json = serde_json::to_value(&account).unwrap();
        assert_eq!(json["created_at"], "2026-03-01T08:00:00.000000Z");
        assert_eq!(json["disabled_at"], "2026-03-01T08:00:00.000000Z");
    }
}
