//! Staff accounts.

use crate::audit;
use crate::auth::{Actor, Role, Staff};
use crate::db::ts;
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
    pub created_at: String,
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
    let taken: bool = tx.query_row(
        "SELECT EXISTS(SELECT 1 FROM staff WHERE username = ?1)",
        params![username],
        |r| r.get(0),
    )?;
    if taken {
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
    conn.query_row("SELECT EXISTS(SELECT 1 FROM staff)", [], |r| r.get(0))
}

/// The active account named `username` and its password hash.
pub fn for_login(conn: &Connection, username: &str) -> rusqlite::Result<Option<(Staff, String)>> {
    conn.query_row(
        "SELECT id, username, role, password_hash FROM staff WHERE username = ?1 AND disabled_at IS NULL",
        params![username],
        |r| {
            let role: String = r.get(2)?;
            Ok((
                Staff { id: r.get(0)?, username: r.get(1)?, role: Role::parse(&role).unwrap_or(Role::Desk) },
                r.get(3)?,
            ))
        },
    )
    .optional()
}

/// Every account, by name.
pub fn list(conn: &Connection) -> rusqlite::Result<Vec<StaffAccount>> {
    let mut stmt =
        conn.prepare("SELECT id, username, role, created_at FROM staff ORDER BY username")?;
    let rows = stmt.query_map([], |r| {
        let role: String = r.get(2)?;
        Ok(StaffAccount {
            id: r.get(0)?,
            username: r.get(1)?,
            role: Role::parse(&role).unwrap_or(Role::Desk),
            created_at: r.get(3)?,
        })
    })?;
    rows.collect()
}
