//! Every schema change, in order. Append new migrations at the END of [`MIGRATION_LIST`]; never
//! edit or reorder one that has been committed (databases in the field have applied it).

use rusqlite_migration::{M, Migrations};

/// The ordered list of migrations.
const MIGRATION_LIST: &[M<'static>] = &[
    // 1: platform — staff, sessions, devices, audit log, gate change log, settings.
    M::up(
        r#"
CREATE TABLE staff (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('desk', 'manager')),
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    disabled_at   TEXT
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    staff_id   INTEGER NOT NULL REFERENCES staff(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_by_staff ON sessions(staff_id);
CREATE TABLE devices (
    id                   TEXT PRIMARY KEY,
    kind                 TEXT NOT NULL CHECK (kind IN ('gate', 'kiosk')),
    name                 TEXT NOT NULL,
    zone                 TEXT,
    enrolment_token_hash TEXT UNIQUE,
    enrolment_expires_at TEXT,
    api_key_hash         TEXT UNIQUE,
    created_at           TEXT NOT NULL,
    created_by           TEXT NOT NULL,
    enrolled_at          TEXT,
    revoked_at           TEXT,
    last_seen_at         TEXT
);
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    details   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE gate_changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    event   TEXT NOT NULL,
    card_id INTEGER
);
CREATE INDEX gate_changes_by_card ON gate_changes(card_id);
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#,
    ),
    // 2: estate layout — buildings, units, zones, schedules, blackout dates.
    M::up(
        r#"
CREATE TABLE buildings (
    number    INTEGER PRIMARY KEY CHECK (number BETWEEN 0 AND 254),
    name      TEXT NOT NULL,
    floor_lo  INTEGER NOT NULL CHECK (floor_lo BETWEEN -128 AND 127),
    floor_hi  INTEGER NOT NULL CHECK (floor_hi BETWEEN -128 AND 127),
    CHECK (floor_lo <= floor_hi)
);
CREATE TABLE units (
    id       INTEGER PRIMARY KEY,
    label    TEXT NOT NULL UNIQUE,
    building INTEGER NOT NULL REFERENCES buildings(number),
    floor    INTEGER NOT NULL
);
CREATE TABLE zones (
    id       INTEGER PRIMARY KEY,
    name     TEXT NOT NULL,
    building INTEGER NOT NULL REFERENCES buildings(number),
    class    TEXT NOT NULL,
    floor    INTEGER
);
CREATE TABLE schedules (
    id      INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 15),
    name    TEXT NOT NULL,
    windows TEXT NOT NULL
);
CREATE TABLE blackout_dates (
    date TEXT PRIMARY KEY,
    note TEXT NOT NULL DEFAULT ''
);
"#,
    ),
    // 3: gate journal entries, stored once by the gate's entry id.
    M::up(
        r#"
CREATE TABLE gate_events (
    id            TEXT PRIMARY KEY,
    device_id     TEXT NOT NULL REFERENCES devices(id),
    at            TEXT NOT NULL,
    clock_trusted INTEGER NOT NULL,
    card_id       INTEGER,
    kind          TEXT,
    result        TEXT NOT NULL,
    reason        TEXT,
    event         TEXT NOT NULL,
    received_at   TEXT NOT NULL
);
CREATE INDEX gate_events_by_at ON gate_events(at);
CREATE INDEX gate_events_by_card ON gate_events(card_id);
"#,
    ),
];

/// The migrations, applied by [`crate::db::open_connection`].
pub const MIGRATIONS: Migrations<'static> = Migrations::from_slice(MIGRATION_LIST);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }
}
