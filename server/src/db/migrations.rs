//! Every schema change, in order. Append new migrations at the END of `MIGRATION_LIST`; never
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
    // 4: front desk — renovations, extensions, workers, visitors, cards, ledger, deny list, invites.
    M::up(
        r#"
CREATE TABLE renovations (
    id                    INTEGER PRIMARY KEY,
    code                  TEXT NOT NULL UNIQUE,
    unit_id               INTEGER NOT NULL REFERENCES units(id),
    owner_name            TEXT,
    contractor            TEXT,
    supervisor_name       TEXT,
    supervisor_phone      TEXT,
    start_date            TEXT NOT NULL,
    original_end_date     TEXT NOT NULL,
    end_date              TEXT NOT NULL,
    waterproofing         INTEGER NOT NULL,
    documents             TEXT NOT NULL,
    inspection_passed_on  TEXT,
    occupied_on           TEXT,
    downstairs_signed_off INTEGER NOT NULL DEFAULT 0,
    certificate_presented INTEGER NOT NULL DEFAULT 0,
    receipt_presented     INTEGER NOT NULL DEFAULT 0,
    created_at            TEXT NOT NULL,
    created_by            TEXT NOT NULL,
    refunded_at           TEXT,
    purged_at             TEXT
);
CREATE TABLE renovation_extensions (
    id            INTEGER PRIMARY KEY,
    renovation_id INTEGER NOT NULL REFERENCES renovations(id),
    previous_end  TEXT NOT NULL,
    new_end       TEXT NOT NULL,
    approved_by   TEXT NOT NULL,
    at            TEXT NOT NULL
);
CREATE TABLE workers (
    id            INTEGER PRIMARY KEY,
    renovation_id INTEGER NOT NULL REFERENCES renovations(id),
    name          TEXT,
    phone         TEXT,
    id_hash       TEXT,
    id_last4      TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    purged_at     TEXT
);
CREATE INDEX workers_by_renovation ON workers(renovation_id);
CREATE TABLE visitors (
    id            INTEGER PRIMARY KEY,
    name          TEXT,
    unit_id       INTEGER NOT NULL REFERENCES units(id),
    host_name     TEXT,
    purpose       TEXT,
    party_size    INTEGER NOT NULL,
    phone         TEXT,
    registered_at TEXT NOT NULL,
    registered_by TEXT NOT NULL,
    signed_out_at TEXT,
    purged_at     TEXT
);
CREATE INDEX visitors_by_registered ON visitors(registered_at);
CREATE TABLE cards (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    kind              TEXT NOT NULL CHECK (kind IN ('worker', 'visitor')),
    worker_id         INTEGER REFERENCES workers(id),
    visitor_id        INTEGER REFERENCES visitors(id),
    short_id          TEXT NOT NULL UNIQUE,
    state             TEXT NOT NULL CHECK (state IN ('active', 'returned', 'lost', 'revoked', 'reissued', 'signed_out')),
    not_before        INTEGER NOT NULL,
    printed_not_after INTEGER NOT NULL,
    not_after         INTEGER NOT NULL,
    issued_at         TEXT NOT NULL,
    issued_by         TEXT NOT NULL,
    ended_at          TEXT,
    ended_by          TEXT,
    replaced_by       INTEGER REFERENCES cards(id),
    CHECK ((worker_id IS NULL) <> (visitor_id IS NULL))
);
CREATE INDEX cards_by_worker ON cards(worker_id);
CREATE INDEX cards_by_visitor ON cards(visitor_id);
CREATE INDEX cards_by_state ON cards(state, not_after);
CREATE TABLE ledger (
    id            INTEGER PRIMARY KEY,
    renovation_id INTEGER NOT NULL REFERENCES renovations(id),
    kind          TEXT NOT NULL CHECK (kind IN ('deposit', 'rubbish_fee', 'deduction', 'refund')),
    amount_cents  INTEGER NOT NULL CHECK (amount_cents >= 0),
    receipt_no    TEXT,
    note          TEXT NOT NULL DEFAULT '',
    card_id       INTEGER REFERENCES cards(id),
    at            TEXT NOT NULL,
    by            TEXT NOT NULL
);
CREATE INDEX ledger_by_renovation ON ledger(renovation_id);
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TABLE deny_list (
    id           INTEGER PRIMARY KEY,
    name_key     TEXT NOT NULL,
    name_masked  TEXT NOT NULL,
    phone_digits TEXT,
    reason       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL
);
CREATE INDEX deny_list_by_name ON deny_list(name_key);
CREATE TABLE invites (
    code        TEXT PRIMARY KEY,
    visitor     TEXT NOT NULL,
    valid_on    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    redeemed_at TEXT,
    visitor_id  INTEGER REFERENCES visitors(id),
    purged_at   TEXT
);
"#,
    ),
    // 5: signing keys with their state (rotation), and which key signed each card.
    M::up(
        r#"
CREATE TABLE signing_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id       INTEGER NOT NULL CHECK (key_id BETWEEN 0 AND 15),
    public_key   TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('published', 'active', 'retired')),
    created_at   TEXT NOT NULL,
    activated_at TEXT,
    retired_at   TEXT
);
CREATE UNIQUE INDEX signing_keys_live_id ON signing_keys(key_id) WHERE state <> 'retired';
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys(state) WHERE state = 'active';
ALTER TABLE cards ADD COLUMN key_id INTEGER NOT NULL DEFAULT 0;
"#,
    ),
    // Device alarms the desk must see (kiosk printer, gate door/scanner/clock).
    M::up(
        r#"
CREATE TABLE device_alarms (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id        TEXT NOT NULL REFERENCES devices(id),
    kind             TEXT NOT NULL,
    detail           TEXT,
    raised_at        TEXT NOT NULL,
    last_reported_at TEXT NOT NULL,
    cleared_at       TEXT,
    acknowledged_by  TEXT,
    acknowledged_at  TEXT
);
CREATE UNIQUE INDEX device_alarms_one_open ON device_alarms(device_id, kind) WHERE cleared_at IS NULL;
CREATE INDEX device_alarms_unseen ON device_alarms(acknowledged_at, cleared_at);
"#,
    ),
    // The direction of a scan at an entry/exit lane (gate journal entries carry it).
    M::up("ALTER TABLE gate_events ADD COLUMN direction TEXT;"),
    // Emergencies: muster ticks (who found whom, when) and the overstay notice of each pass.
    M::up(
        r#"
CREATE TABLE muster_found (
    id       INTEGER PRIMARY KEY,
    kind     TEXT NOT NULL CHECK (kind IN ('visitor', 'worker')),
    card_id  INTEGER NOT NULL REFERENCES cards(id),
    found_at TEXT NOT NULL,
    found_by TEXT NOT NULL
);
CREATE INDEX muster_found_by_time ON muster_found(found_at);
CREATE TABLE visitor_overstays (
    card_id         INTEGER PRIMARY KEY REFERENCES cards(id),
    noticed_at      TEXT NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at TEXT,
    signed_out_at   TEXT
);
"#,
    ),
    // How often a device reported the same momentary alarm before the desk
    // acknowledged it (repeats collapse into one row).
    M::up("ALTER TABLE device_alarms ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1;"),
    // Deposit ledger with itemised deductions (category), reversals of a deduction, the
    // approver of a refund; refund requests awaiting approval; overdue worker-card alarms and
    // manager overrides. The ledger is rebuilt (SQLite cannot widen a CHECK) with its ids.
    M::up(
        r#"
DROP TRIGGER ledger_no_update;
DROP TRIGGER ledger_no_delete;
CREATE TABLE ledger_v2 (
    id            INTEGER PRIMARY KEY,
    renovation_id INTEGER NOT NULL REFERENCES renovations(id),
    kind          TEXT NOT NULL CHECK (kind IN ('deposit', 'rubbish_fee', 'deduction', 'reversal', 'refund')),
    category      TEXT CHECK (category IN ('lost_card', 'damage', 'cleaning', 'violation', 'other')),
    amount_cents  INTEGER NOT NULL CHECK (amount_cents >= 0),
    receipt_no    TEXT,
    note          TEXT NOT NULL DEFAULT '',
    card_id       INTEGER REFERENCES cards(id),
    reverses      INTEGER UNIQUE REFERENCES ledger_v2(id),
    approved_by   TEXT,
    at            TEXT NOT NULL,
    by            TEXT NOT NULL,
    CHECK ((kind = 'deduction') = (category IS NOT NULL)),
    CHECK ((kind = 'reversal') = (reverses IS NOT NULL))
);
INSERT INTO ledger_v2 (id, renovation_id, kind, category, amount_cents, receipt_no, note, card_id, at, by)
    SELECT id, renovation_id, kind,
           CASE WHEN kind <> 'deduction' THEN NULL WHEN card_id IS NOT NULL THEN 'lost_card' ELSE 'other' END,
           amount_cents, receipt_no, note, card_id, at, by
    FROM ledger;
DROP TABLE ledger;
ALTER TABLE ledger_v2 RENAME TO ledger;
CREATE INDEX ledger_by_renovation ON ledger(renovation_id);
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TABLE refund_requests (
    id            INTEGER PRIMARY KEY,
    renovation_id INTEGER NOT NULL REFERENCES renovations(id),
    amount_cents  INTEGER NOT NULL,
    requested_by  TEXT NOT NULL,
    requested_at  TEXT NOT NULL,
    decided_by    TEXT,
    decided_at    TEXT
);
CREATE UNIQUE INDEX refund_requests_one_open ON refund_requests(renovation_id) WHERE decided_at IS NULL;
CREATE TABLE overdue_cards (
    card_id         INTEGER PRIMARY KEY REFERENCES cards(id),
    renovation_id   INTEGER NOT NULL REFERENCES renovations(id),
    raised_at       TEXT NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at TEXT
);
"#,
    ),
    // The language each staff member reads the pages in.
    M::up(
        "ALTER TABLE staff ADD COLUMN language TEXT NOT NULL DEFAULT 'zh' CHECK (language IN ('zh', 'en'));",
    ),
    // goods-release permits (物品放行通知单) and the guard role. SQLite cannot widen a CHECK,
    // so `staff` is rebuilt; its sessions are kept aside meanwhile so nobody is logged out.
    M::up(
        r#"
CREATE TEMP TABLE sessions_kept AS SELECT * FROM sessions;
DELETE FROM sessions;
CREATE TABLE staff_v2 (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('desk', 'manager', 'guard')),
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    disabled_at   TEXT,
    language      TEXT NOT NULL DEFAULT 'zh' CHECK (language IN ('zh', 'en'))
);
INSERT INTO staff_v2 SELECT id, username, role, password_hash, created_at, disabled_at, language FROM staff;
DROP TABLE staff;
ALTER TABLE staff_v2 RENAME TO staff;
INSERT INTO sessions SELECT * FROM sessions_kept;
DROP TABLE sessions_kept;
CREATE TABLE goods_permits (
    id               INTEGER PRIMARY KEY,
    unit_id          INTEGER NOT NULL REFERENCES units(id),
    applicant        TEXT NOT NULL CHECK (applicant IN ('owner', 'tenant')),
    applicant_name   TEXT,
    applicant_phone  TEXT,
    consent_how      TEXT,
    consent_taken_by TEXT,
    items            TEXT NOT NULL,
    plate            TEXT,
    valid_from       TEXT NOT NULL,
    valid_to         TEXT NOT NULL,
    notes            TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL CHECK (state IN ('requested', 'approved', 'refused', 'released', 'stopped')),
    created_at       TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    decided_at       TEXT,
    decided_by       TEXT,
    decision_note    TEXT,
    credential       TEXT,
    key_id           INTEGER,
    closed_at        TEXT,
    closed_by        TEXT,
    closed_device    TEXT REFERENCES devices(id),
    purged_at        TEXT
);
CREATE INDEX goods_permits_by_state ON goods_permits(state, created_at);
CREATE TABLE goods_scans (
    id          INTEGER PRIMARY KEY,
    permit_id   INTEGER NOT NULL REFERENCES goods_permits(id),
    device_id   TEXT REFERENCES devices(id),
    at          TEXT NOT NULL,
    gate_reason TEXT,
    received_at TEXT NOT NULL
);
CREATE INDEX goods_scans_by_permit ON goods_scans(permit_id);
"#,
    ),
    // keys and radios: the register, the custody ledger, overdue alarms, shift handovers.
    M::up(
        r#"
CREATE TABLE custody_items (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('radio', 'key', 'unit_key', 'equipment')),
    label      TEXT NOT NULL,
    code       TEXT NOT NULL UNIQUE,
    unit_id    INTEGER REFERENCES units(id),
    key_count  INTEGER,
    state      TEXT NOT NULL CHECK (state IN ('in', 'out', 'lost', 'handed_over')),
    last_event INTEGER,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE TABLE custody_events (
    id            INTEGER PRIMARY KEY,
    item_id       INTEGER NOT NULL REFERENCES custody_items(id),
    action        TEXT NOT NULL CHECK (action IN ('check_out', 'check_in', 'lost', 'hand_over')),
    at            TEXT NOT NULL,
    by            TEXT NOT NULL,
    holder_name   TEXT,
    holder_phone  TEXT,
    holder_kind   TEXT,
    expected_back TEXT,
    condition     TEXT,
    received_by   TEXT,
    note          TEXT,
    key_count     INTEGER,
    purged_at     TEXT
);
CREATE INDEX custody_events_by_item ON custody_events(item_id);
CREATE TRIGGER custody_events_no_delete BEFORE DELETE ON custody_events
BEGIN SELECT RAISE(ABORT, 'the custody ledger is append-only'); END;
CREATE TABLE custody_overdue (
    event_id        INTEGER PRIMARY KEY REFERENCES custody_events(id),
    raised_at       TEXT NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at TEXT
);
CREATE TABLE shift_handovers (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    outgoing  TEXT NOT NULL,
    incoming  TEXT NOT NULL,
    items_out INTEGER NOT NULL,
    overdue   INTEGER NOT NULL
);
"#,
    ),
    // Worker-card collection at the kiosk: a one-time collection code per worker (its keyed
    // hash only), the wrong attempts per renovation (locked after a few until the desk
    // releases it) and per kiosk.
    M::up(
        r#"
ALTER TABLE workers ADD COLUMN collection_code_hash TEXT;
ALTER TABLE renovations ADD COLUMN collect_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE renovations ADD COLUMN collect_locked_at TEXT;
CREATE TABLE kiosk_collect_failures (
    id        INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX kiosk_collect_failures_by_device ON kiosk_collect_failures(device_id, at);
"#,
    ),
    // Anti-passback areas: which gates belong to which area, set by a manager; only a member's
    // passages reach the area's other doors. Gates whose passages the server already passed on
    // (the change log keeps a day of them) start as members, so an upgrade keeps working.
    M::up(
        r#"
CREATE TABLE area_members (
    area      TEXT NOT NULL,
    device_id TEXT NOT NULL REFERENCES devices(id),
    set_by    TEXT NOT NULL,
    set_at    TEXT NOT NULL,
    PRIMARY KEY (area, device_id)
);
INSERT OR IGNORE INTO area_members (area, device_id, set_by, set_at)
    SELECT DISTINCT json_extract(c.event, '$.area'), json_extract(c.event, '$.device_id'),
           'system:upgrade', c.at
    FROM gate_changes c JOIN devices d ON d.id = json_extract(c.event, '$.device_id')
    WHERE json_extract(c.event, '$.type') = 'passage' AND d.kind = 'gate';
"#,
    ),
    // A walk-in visit waiting for the host's approval (`pending`), then `approved` or
    // `refused`; NULL for a visit that needed none.
    M::up(
        "ALTER TABLE visitors ADD COLUMN approval TEXT CHECK (approval IN ('pending', 'approved', 'refused'));",
    ),
    // ID numbers are hashed with HMAC under the personal-data key (a file outside the
    // database). The salted SHA-256 hashes made before, whose salt lay in this database, could
    // be searched for the number: they are dropped with the salt. Those workers keep their
    // last 4 characters; a second registration of one of them on the same renovation is no
    // longer noticed.
    M::up(
        r#"
UPDATE workers SET id_hash = NULL WHERE id_hash IS NOT NULL AND id_hash NOT LIKE 'hmac:%';
DELETE FROM settings WHERE key = 'id_number_salt';
"#,
    ),
    // Audit entries from here on carry an HMAC under the audit-chain key (a file outside the
    // database) instead of a plain SHA-256; `keyed` says which an entry has.
    M::up("ALTER TABLE audit_log ADD COLUMN keyed INTEGER NOT NULL DEFAULT 0;"),
    // Goods-release permits the desk sends to a kiosk's receipt printer: each job handed to
    // the kiosk once (`taken_at`), and what became of the slip.
    M::up(
        r#"
CREATE TABLE kiosk_print_jobs (
    id           INTEGER PRIMARY KEY,
    device_id    TEXT NOT NULL REFERENCES devices(id),
    permit_id    INTEGER NOT NULL REFERENCES goods_permits(id),
    requested_at TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    taken_at     TEXT,
    done_at      TEXT,
    printed      INTEGER,
    paper        TEXT
);
CREATE INDEX kiosk_print_jobs_waiting ON kiosk_print_jobs(device_id, taken_at);
CREATE INDEX kiosk_print_jobs_by_permit ON kiosk_print_jobs(permit_id);
"#,
    ),
    // The last state each gate reported with its long poll: the cursor it asked from (how far
    // behind its sync is), its relay, door and fire input.
    M::up(
        r#"
CREATE TABLE gate_reports (
    device_id   TEXT PRIMARY KEY REFERENCES devices(id),
    cursor      INTEGER NOT NULL,
    relay       TEXT CHECK (relay IN ('locked', 'released')),
    door        TEXT CHECK (door IN ('closed', 'open', 'held')),
    fire        INTEGER CHECK (fire IN (0, 1)),
    reported_at TEXT NOT NULL
);
"#,
    ),
    // Indexes for a large estate's lists, read a page at a time: gate events newest first
    // (alone, by gate, by result) with the id breaking ties as the page cursor does; the
    // renovations awaiting a refund; a renovation's extensions; the alarms the desk still
    // has to see, newest first.
    M::up(
        r#"
CREATE INDEX gate_events_by_at_id ON gate_events(at, id);
DROP INDEX gate_events_by_at;
CREATE INDEX gate_events_by_device ON gate_events(device_id, at, id);
CREATE INDEX gate_events_by_result ON gate_events(result, at, id);
CREATE INDEX renovations_awaiting_refund ON renovations(inspection_passed_on) WHERE refunded_at IS NULL;
CREATE INDEX renovation_extensions_by_renovation ON renovation_extensions(renovation_id);
CREATE INDEX device_alarms_to_see ON device_alarms(raised_at, id) WHERE cleared_at IS NULL OR acknowledged_at IS NULL;
"#,
    ),
    // The alarm history, newest first a page at a time, over every alarm ever raised.
    M::up("CREATE INDEX device_alarms_by_raised ON device_alarms(raised_at, id);"),
];

/// The migrations, applied by [`crate::db::connect`].
pub const MIGRATIONS: Migrations<'static> = Migrations::from_slice(MIGRATION_LIST);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }
}
