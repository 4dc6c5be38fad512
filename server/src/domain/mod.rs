//! The server's domain: plain functions over a SQLite connection or transaction, time passed in.

pub mod devices;
pub mod staff;

use crate::db::{Db, DbError};
use chrono::{DateTime, Utc};

/// Seeds what a fresh database needs (estate defaults); does nothing on later starts.
pub async fn first_start(_db: &Db, _now: DateTime<Utc>) -> Result<(), DbError> {
    Ok(())
}
