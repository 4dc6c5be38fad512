//! Staff sessions (bearer tokens and the page cookie share one table) and device API keys.
//! Only SHA-256 hashes of the secrets are stored.

use super::{Actor, Device, Role, Staff, new_secret, secret_hash};
use crate::db::{parse_ts, ts};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};

/// How long a staff session lasts.
pub const SESSION_TTL: Duration = Duration::hours(12);

/// The name of the page session cookie.
pub const COOKIE_NAME: &str = "gatehouse_session";

/// Starts a session for `staff_id` and returns its token (shown once).
pub fn create(conn: &Connection, staff_id: i64, now: DateTime<Utc>) -> rusqlite::Result<String> {
    let token = new_secret();
    conn.prepare_cached("INSERT INTO sessions (token_hash, staff_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)")?.execute(params![secret_hash(&token), staff_id, ts(now), ts(now + SESSION_TTL)],
    )?;
    // Expired sessions are of no use to anyone; drop them while we are here.
    conn.prepare_cached("DELETE FROM sessions WHERE expires_at <= ?1")?
        .execute(params![ts(now)])?;
    Ok(token)
}

/// Ends the session whose token is `token`, if any.
pub fn end(conn: &Connection, token: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")?
        .execute(params![secret_hash(token)])?;
    Ok(())
}

/// Who holds `token`: a staff session or a device key; [`Actor::Anonymous`] if neither.
pub fn resolve(conn: &Connection, token: &str, now: DateTime<Utc>) -> rusqlite::Result<Actor> {
    let hash = secret_hash(token);
    let staff = conn
        .query_row(
            "SELECT s.id, s.username, s.role, x.expires_at FROM sessions x
             JOIN staff s ON s.id = x.staff_id
             WHERE x.token_hash = ?1 AND s.disabled_at IS NULL",
            params![hash],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            },
        )
        .optional()?;
    if let Some((id, username, role, expires_at)) = staff {
        if parse_ts(&expires_at)? <= now {
            return Ok(Actor::Anonymous);
        }
        let staff = Staff {
            id,
            username,
            role: Role::parse(&role).unwrap_or(Role::Desk),
        };
        return Ok(match staff.role {
            Role::Desk => Actor::Desk(staff),
            Role::Manager => Actor::Manager(staff),
            Role::Guard => Actor::Guard(staff),
        });
    }
    let device = conn
        .query_row(
            "SELECT id, kind, name FROM devices WHERE api_key_hash = ?1 AND revoked_at IS NULL",
            params![hash],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            },
        )
        .optional()?;
    Ok(match device {
        Some((id, kind, name)) => {
            seen(conn, &id, now)?;
            let device = Device { id, name };
            if kind == "gate" {
                Actor::Gate(device)
            } else {
                Actor::Kiosk(device)
            }
        }
        None => Actor::Anonymous,
    })
}

/// The `Set-Cookie` value that stores a session token in the browser.
pub fn cookie(token: &str) -> String {
    format!(
        "{COOKIE_NAME}={token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
        SESSION_TTL.num_seconds()
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE_NAME}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0")
}

/// The credential a request carries: `Authorization: Bearer …`, else the session cookie.
pub fn token_from_headers(headers: &axum::http::HeaderMap) -> Option<String> {
    if let Some(value) = headers.get(axum::http::header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))?;
        return Some(token.trim().to_owned()).filter(|t| !t.is_empty());
    }
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_owned())
        .filter(|t| !t.is_empty())
}

/// How stale a device's `last_seen_at` may get before its next request writes it again: one
/// write a minute per device, not one per request.
pub const LAST_SEEN_RESOLUTION: Duration = Duration::seconds(60);

/// Notes that device `id` called now, at most once per [`LAST_SEEN_RESOLUTION`].
pub fn seen(conn: &Connection, id: &str, now: DateTime<Utc>) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE devices SET last_seen_at = ?2
         WHERE id = ?1 AND (last_seen_at IS NULL OR last_seen_at < ?3)",
    )?
    .execute(params![id, ts(now), ts(now - LAST_SEEN_RESOLUTION)])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue, header};

    #[test]
    fn bearer_wins_over_cookie_and_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; gatehouse_session=abc; b=2"),
        );
        assert_eq!(token_from_headers(&h).as_deref(), Some("abc"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer xyz"),
        );
        assert_eq!(token_from_headers(&h).as_deref(), Some("xyz"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic xyz"));
        assert_eq!(token_from_headers(&h), None);
    }

    #[test]
    fn sessions_expire_and_end() {
        let conn = crate::store::in_memory().unwrap();
        let now = Utc::now();
        conn.execute("INSERT INTO staff (username, role, password_hash, created_at) VALUES ('amy', 'desk', 'x', ?1)", params![ts(now)],
        )
        .unwrap();
        let token = create(&conn, 1, now).unwrap();
        assert!(
            matches!(resolve(&conn, &token, now).unwrap(), Actor::Desk(s) if s.username == "amy")
        );
        assert_eq!(
            resolve(&conn, &token, now + SESSION_TTL).unwrap(),
            Actor::Anonymous
        );
        end(&conn, &token).unwrap();
        assert_eq!(resolve(&conn, &token, now).unwrap(), Actor::Anonymous);
        assert_eq!(resolve(&conn, "nonsense", now).unwrap(), Actor::Anonymous);
    }
}
