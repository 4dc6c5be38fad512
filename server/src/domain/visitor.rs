//! Visitors (临时访客): registration at the desk or the kiosk with the deny list checked,
//! invites redeemed at the kiosk, sign-out, and who is on site now.

use super::card::{self, Issued, NewCard};
use super::desk_error::{DeskError, DeskResult, Refusable};
use super::privacy;
use super::settings;
use super::units::{self, Unit};
use crate::audit;
use crate::auth::Actor;
use crate::db::{instant, parse_ts, ts};
use crate::keys::SigningKeys;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use gatehouse_credential::{Kind, UtcMinute};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// A visitor as the desk or kiosk registers them.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
pub struct NewVisitor {
    /// The visitor's name.
    pub name: String,
    /// The unit visited.
    pub unit_id: i64,
    /// Whom they visit.
    #[serde(default)]
    pub host_name: Option<String>,
    /// Why they come.
    pub purpose: String,
    /// How many people, 1–20.
    #[schema(minimum = 1, maximum = 20)]
    pub party_size: u8,
    /// Phone, optional.
    #[serde(default)]
    pub phone: Option<String>,
}

impl std::fmt::Debug for NewVisitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewVisitor")
            .field("unit_id", &self.unit_id)
            .finish_non_exhaustive()
    }
}

struct Checked {
    name: String,
    unit: Unit,
    host_name: Option<String>,
    purpose: String,
    party_size: u8,
    phone: Option<String>,
}

fn invalid(m: String) -> DeskError {
    DeskError::invalid("invalid", m)
}

fn check(conn: &Connection, v: &NewVisitor) -> DeskResult<Checked> {
    let name = privacy::person_text("name", &v.name, 64).map_err(invalid)?;
    let unit = units::unit(conn, v.unit_id)?;
    let host_name = match v
        .host_name
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(h) => Some(privacy::person_text("host_name", h, 64).map_err(invalid)?),
        None => None,
    };
    let purpose = privacy::required_text("purpose", &v.purpose, 128).map_err(invalid)?;
    if !(1..=20).contains(&v.party_size) {
        return Err(invalid("party_size must be 1–20".into()));
    }
    let phone = match v.phone.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(p) => Some(privacy::valid_phone(p).map_err(invalid)?),
        None => None,
    };
    Ok(Checked {
        name,
        unit,
        host_name,
        purpose,
        party_size: v.party_size,
        phone,
    })
}

fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

/// How a visitor matches the deny list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DenyMatch {
    /// The name matches an entry without a phone, or one whose phone is the visitor's.
    Full(i64),
    /// The name matches an entry with a phone, and the visitor gave none: someone must check.
    PhoneMissing(i64),
}

/// Whether a deny-list entry matches: the same name (as [`privacy::name_key`] folds it), and the
/// same phone when both have one. An entry with a phone still matches a visitor who gave none,
/// for the desk to check.
fn denied(
    conn: &Connection,
    name: &str,
    phone: Option<&str>,
) -> rusqlite::Result<Option<DenyMatch>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, phone_digits FROM deny_list WHERE name_key = ?1")?;
    let rows = stmt.query_map(params![privacy::name_key(name)], |r| {
        Ok((
            r.get::<_, i64>("id")?,
            r.get::<_, Option<String>>("phone_digits")?,
        ))
    })?;
    let visitor_phone = phone.map(digits).filter(|p| !p.is_empty());
    let mut found = None;
    for row in rows {
        let (id, entry_phone) = row?;
        match (entry_phone, visitor_phone.as_deref()) {
            (None, _) => return Ok(Some(DenyMatch::Full(id))),
            (Some(p), Some(v)) if p == v => return Ok(Some(DenyMatch::Full(id))),
            (Some(_), None) => found = found.or(Some(DenyMatch::PhoneMissing(id))),
            (Some(_), Some(_)) => {}
        }
    }
    Ok(found)
}

/// Refuses a deny-listed visitor: neutrally at the kiosk (the desk is alarmed when only the
/// phone was missing, to check who it is), with the reason at the desk.
fn refuse_if_denied(
    tx: &Connection,
    actor: &Actor,
    c: &Checked,
    now: DateTime<Utc>,
) -> Refusable<()> {
    let Some(found) = denied(tx, &c.name, c.phone.as_deref())? else {
        return Ok(Ok(()));
    };
    let (entry, phone_missing) = match found {
        DenyMatch::Full(id) => (id, false),
        DenyMatch::PhoneMissing(id) => (id, true),
    };
    tracing::warn!(deny_entry = entry, phone_missing, actor = %actor, "a visitor matching the deny list tried to register");
    if actor.staff().is_some() {
        return Ok(Err(if phone_missing {
            DeskError::conflict(
                "deny_list_phone_needed",
                format!(
                    "the name matches deny-list entry {entry}, which has a phone number: ask for the visitor's phone"
                ),
            )
        } else {
            DeskError::conflict("deny_listed", "this visitor is on the deny list")
        }));
    }
    if let (true, Some(device)) = (phone_missing, actor.device()) {
        audit::record(
            tx,
            actor,
            "visitor.deny_list_check",
            &format!("deny:{entry}"),
            serde_json::json!({ "phone_missing": true }),
            now,
        )?;
        super::alarms::raise_for_desk(
            tx,
            actor,
            &device.id,
            gatehouse_credential::api::device::DeviceAlarmKind::DenyListCheck,
            format!(
                "visitor {} gave no phone and matches deny-list entry {entry} by name: check who it is",
                privacy::mask_name(&c.name)
            ),
            now,
        )?;
    }
    Ok(Err(DeskError::SeeFrontDesk))
}

/// Recomputes every deny-list key with the current [`privacy::name_key`] (keys stored before it
/// folded Unicode forms are brought up to date at start; the fold is idempotent).
pub fn refold_deny_list(tx: &Connection) -> rusqlite::Result<usize> {
    let rows: Vec<(i64, String)> = {
        let mut stmt = tx.prepare("SELECT id, name_key FROM deny_list")?;
        let rows = stmt.query_map([], |r| Ok((r.get("id")?, r.get("name_key")?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut changed = 0;
    for (id, key) in rows {
        let folded = privacy::name_key(&key);
        if folded != key {
            tx.execute(
                "UPDATE deny_list SET name_key = ?2 WHERE id = ?1",
                params![id, folded],
            )?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Passes one kiosk may issue within [`KIOSK_WINDOW_MINUTES`].
pub const KIOSK_PASSES: i64 = 20;
/// People (party sizes added up) one kiosk may let in within [`KIOSK_WINDOW_MINUTES`].
pub const KIOSK_PEOPLE: i64 = 60;
/// The window of a kiosk's issuance limits.
pub const KIOSK_WINDOW_MINUTES: i64 = 10;

/// How long a kiosk must wait before issuing a pass for `party` more people, if it must: a
/// kiosk is a public terminal, and a person at it must not print passes by the hundred. The
/// desk is not limited.
fn kiosk_issuance_wait(
    tx: &Connection,
    actor: &Actor,
    party: u8,
    now: DateTime<Utc>,
) -> DeskResult<Option<u64>> {
    if !matches!(actor, Actor::Kiosk(_)) {
        return Ok(None);
    }
    let since = now - Duration::minutes(KIOSK_WINDOW_MINUTES);
    let (passes, people, oldest): (i64, i64, Option<String>) = tx
        .prepare_cached(
            "SELECT COUNT(*) AS passes, COALESCE(SUM(party_size), 0) AS people,
                    MIN(registered_at) AS oldest FROM visitors
             WHERE registered_at > ?1 AND registered_by = ?2",
        )?
        .query_row(params![ts(since), actor.audit_name()], |r| {
            Ok((r.get("passes")?, r.get("people")?, r.get("oldest")?))
        })?;
    if passes < KIOSK_PASSES && people + i64::from(party) <= KIOSK_PEOPLE {
        return Ok(None);
    }
    let oldest = oldest.as_deref().map(parse_ts).transpose()?.unwrap_or(now);
    let free_at = oldest + Duration::minutes(KIOSK_WINDOW_MINUTES);
    tracing::warn!(actor = %actor, passes, people, "kiosk pass issuance limited");
    Ok(Some((free_at - now).num_seconds().max(1).unsigned_abs()))
}

/// The end of a visitor pass issued at `now`: the configured length, or the end of the local day.
fn pass_end(conn: &Connection, now: DateTime<Utc>) -> DeskResult<UtcMinute> {
    let end = match settings::visitor_pass_minutes(conn)? {
        Some(minutes) => now + Duration::minutes(minutes),
        None => {
            let tz = settings::time_zone(conn)?;
            let tomorrow = settings::local_date(tz, now)
                .succ_opt()
                .unwrap_or(NaiveDate::MAX);
            settings::local_midnight(tz, tomorrow)
        }
    };
    UtcMinute::ceil(end).ok_or_else(|| invalid("the pass end is out of range".into()))
}

/// A pass ready for the kiosk or desk to show and print.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VisitorPass {
    /// The visitor's id.
    pub visitor_id: i64,
    /// The issued card and its credential.
    pub issued: Issued,
    /// The masked name.
    pub holder_masked: String,
    /// The unit visited.
    pub unit_label: String,
}

/// Whether a walk-in visitor registering at a kiosk gets a pass at once or waits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WalkInApproval {
    /// The kiosk issues the pass at once (invites are always issued at once).
    #[default]
    None,
    /// The visit waits until the desk, having reached the host, approves it.
    Host,
}

/// The estate's walk-in approval setting.
pub fn walk_in_approval(conn: &Connection) -> DeskResult<WalkInApproval> {
    Ok(
        match settings::get(conn, settings::WALK_IN_APPROVAL)?.as_deref() {
            Some("host") => WalkInApproval::Host,
            _ => WalkInApproval::None,
        },
    )
}

/// A manager changes the walk-in approval setting (audited).
pub fn set_walk_in_approval(
    tx: &Connection,
    actor: &Actor,
    to: WalkInApproval,
    now: DateTime<Utc>,
) -> DeskResult<WalkInApproval> {
    let word = match to {
        WalkInApproval::None => "none",
        WalkInApproval::Host => "host",
    };
    settings::set(tx, settings::WALK_IN_APPROVAL, word)?;
    audit::record(
        tx,
        actor,
        "settings.walk_in_approval",
        "settings",
        serde_json::json!({ "walk_in_approval": to }),
        now,
    )?;
    Ok(to)
}

/// Who registers: a walk-in at a kiosk may have to wait for the host's approval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// At the desk, or with an invite: the pass is issued at once.
    Expected,
    /// A walk-in at a kiosk.
    WalkIn,
}

/// Registers a visitor and issues a pass; refused (neutrally at the kiosk) for a deny-listed
/// visitor, a refusal committed with the desk alarm it may raise. A walk-in under
/// [`WalkInApproval::Host`] is recorded as pending and answered 409 `host_approval_pending`
/// until the desk approves the visit ([`decide`]).
pub fn register(
    tx: &Connection,
    signer: &SigningKeys,
    actor: &Actor,
    v: &NewVisitor,
    arrival: Arrival,
    now: DateTime<Utc>,
) -> Refusable<VisitorPass> {
    let c = check(tx, v)?;
    if let Some(retry_after_secs) = kiosk_issuance_wait(tx, actor, c.party_size, now)? {
        return Err(DeskError::Throttled { retry_after_secs });
    }
    if let Err(refusal) = refuse_if_denied(tx, actor, &c, now)? {
        return Ok(Err(refusal));
    }
    tx.prepare_cached("INSERT INTO visitors (name, unit_id, host_name, purpose, party_size, phone, registered_at, registered_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?.execute(params![c.name, c.unit.id, c.host_name, c.purpose, c.party_size, c.phone, ts(now), actor.audit_name()],
    )?;
    let visitor_id = tx.last_insert_rowid();
    let pending = arrival == Arrival::WalkIn && walk_in_approval(tx)? == WalkInApproval::Host;
    audit::record(
        tx,
        actor,
        "visitor.register",
        &format!("visitor:{visitor_id}"),
        serde_json::json!({"unit": c.unit.id, "party_size": c.party_size, "pending": pending}),
        now,
    )?;
    if pending {
        tx.prepare_cached("UPDATE visitors SET approval = 'pending' WHERE id = ?1")?
            .execute(params![visitor_id])?;
        return Ok(Err(DeskError::conflict(
            "host_approval_pending",
            "your host must approve this visit: please see the front desk",
        )));
    }
    Ok(Ok(issue_pass(
        tx, signer, actor, visitor_id, &c.name, c.unit, now,
    )?))
}

/// Issues the pass of registered visitor `visitor_id`.
fn issue_pass(
    tx: &Connection,
    signer: &SigningKeys,
    actor: &Actor,
    visitor_id: i64,
    name: &str,
    unit: Unit,
    now: DateTime<Utc>,
) -> DeskResult<VisitorPass> {
    let new = NewCard {
        kind: Kind::Visitor,
        worker_id: None,
        visitor_id: Some(visitor_id),
        not_before: UtcMinute::floor(now)
            .ok_or_else(|| invalid("the clock is out of range".into()))?,
        not_after: pass_end(tx, now)?,
        building: unit.building,
        floor: unit.floor,
    };
    let issued = card::issue(tx, signer, actor, &new, now)?;
    Ok(VisitorPass {
        visitor_id,
        issued,
        holder_masked: privacy::mask_name(name),
        unit_label: unit.label,
    })
}

/// A walk-in waiting for the host's approval, as the desk sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PendingVisit {
    /// The visitor's id, to approve or refuse.
    pub visitor_id: i64,
    /// The masked name.
    pub name_masked: String,
    /// The unit visited.
    pub unit_label: String,
    /// Whom they visit, if they said.
    pub host_name: Option<String>,
    /// How many people.
    pub party_size: u8,
    /// When they registered (UTC, stored form).
    pub registered_at: DateTime<Utc>,
}

/// Walk-ins waiting for approval, oldest first.
pub fn pending(conn: &Connection) -> DeskResult<Vec<PendingVisit>> {
    let mut stmt = conn.prepare_cached(
        "SELECT v.id, v.name, u.label, v.host_name, v.party_size, v.registered_at
         FROM visitors v JOIN units u ON u.id = v.unit_id
         WHERE v.approval = 'pending' AND v.purged_at IS NULL ORDER BY v.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(PendingVisit {
            visitor_id: r.get("id")?,
            name_masked: privacy::mask_name(
                &r.get::<_, Option<String>>("name")?.unwrap_or_default(),
            ),
            unit_label: r.get("label")?,
            host_name: r.get("host_name")?,
            party_size: r.get("party_size")?,
            registered_at: instant(r, "registered_at")?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The desk, having reached the host, approves a pending walk-in (audited): the pass is issued
/// for the desk to print or show; `approved = false` refuses the visit instead.
pub fn decide(
    tx: &Connection,
    signer: &SigningKeys,
    actor: &Actor,
    visitor_id: i64,
    approved: bool,
    now: DateTime<Utc>,
) -> DeskResult<Option<VisitorPass>> {
    let row: Option<(Option<String>, i64, Option<String>)> = tx
        .prepare_cached("SELECT name, unit_id, approval FROM visitors WHERE id = ?1")?
        .query_row(params![visitor_id], |r| {
            Ok((r.get("name")?, r.get("unit_id")?, r.get("approval")?))
        })
        .optional()?;
    let Some((name, unit_id, approval)) = row else {
        return Err(DeskError::NotFound(format!("no visitor {visitor_id}")));
    };
    if approval.as_deref() != Some("pending") {
        return Err(DeskError::conflict(
            "not_pending",
            "this visit is not waiting for approval",
        ));
    }
    let word = if approved { "approved" } else { "refused" };
    tx.prepare_cached("UPDATE visitors SET approval = ?2 WHERE id = ?1")?
        .execute(params![visitor_id, word])?;
    audit::record(
        tx,
        actor,
        if approved {
            "visitor.approve"
        } else {
            "visitor.refuse"
        },
        &format!("visitor:{visitor_id}"),
        serde_json::json!({}),
        now,
    )?;
    if !approved {
        return Ok(None);
    }
    let unit = units::unit(tx, unit_id)?;
    let name = name.unwrap_or_default();
    Ok(Some(issue_pass(
        tx, signer, actor, visitor_id, &name, unit, now,
    )?))
}

/// The card a kiosk's sign-out names: credential text as scanned, or a short id as typed.
pub fn find_pass(conn: &Connection, signer: &SigningKeys, pass: &str) -> DeskResult<u32> {
    let pass = pass.trim();
    if pass.is_empty() {
        return Err(invalid(
            "pass is required: scan the pass or type its short id".into(),
        ));
    }
    if let Ok(credential) = signer.ring(conn)?.verify(pass) {
        return Ok(credential.claims.card_id.0);
    }
    conn.prepare_cached("SELECT id FROM cards WHERE short_id = ?1")?
        .query_row(params![privacy::normalise_code(pass)], |r| r.get("id"))
        .optional()?
        .ok_or_else(|| DeskError::NotFound("no pass matches what was scanned or typed".into()))
}

/// Signs a pass out and returns (card, masked name).
pub fn sign_out(
    tx: &Connection,
    signer: &SigningKeys,
    actor: &Actor,
    pass: &str,
    now: DateTime<Utc>,
) -> DeskResult<(card::Card, String)> {
    let card_id = find_pass(tx, signer, pass)?;
    let c = card::sign_out(tx, actor, card_id, now)?;
    let name: Option<String> = tx
        .prepare_cached("SELECT name FROM visitors WHERE id = ?1")?
        .query_row(params![c.visitor_id], |r| r.get("name"))?;
    Ok((c, name.map(|n| privacy::mask_name(&n)).unwrap_or_default()))
}

/// A visit as staff see it, names masked: who, where, why, how many, since when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Visit {
    /// Masked name (empty once purged).
    pub name_masked: String,
    /// The unit visited.
    pub unit_label: String,
    /// Masked host name.
    pub host_masked: Option<String>,
    /// Why.
    pub purpose: String,
    /// How many.
    pub party_size: u8,
    /// When registered (UTC).
    pub registered_at: DateTime<Utc>,
}

impl Visit {
    /// The visit of a row with the columns `name`, `label`, `host_name`, `purpose`,
    /// `party_size` and `registered_at`.
    pub fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Visit> {
        let mask = |column| {
            r.get::<_, Option<String>>(column)
                .map(|n| n.map(|n| privacy::mask_name(&n)))
        };
        Ok(Visit {
            name_masked: mask("name")?.unwrap_or_default(),
            unit_label: r.get("label")?,
            host_masked: mask("host_name")?,
            purpose: r.get::<_, Option<String>>("purpose")?.unwrap_or_default(),
            party_size: r.get("party_size")?,
            registered_at: instant(r, "registered_at")?,
        })
    }
}

/// A visitor on site now, masked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OnSite {
    /// The visitor's id.
    pub visitor_id: i64,
    /// The pass.
    pub card_id: u32,
    /// The pass's short id.
    pub short_id: String,
    /// Who, where, why.
    #[serde(flatten)]
    pub visit: Visit,
    /// When the pass ends.
    pub not_after: DateTime<Utc>,
}

/// Visitors whose pass is active and not yet expired.
pub fn on_site(conn: &Connection, now: DateTime<Utc>) -> DeskResult<Vec<OnSite>> {
    let now_minute = UtcMinute::floor(now).map_or(0, |m| m.0);
    let mut stmt = conn.prepare(
        "SELECT v.id AS visitor_id, c.id AS card_id, c.short_id, v.name, u.label, v.host_name, v.purpose,
                v.party_size, v.registered_at, c.not_after
         FROM visitors v JOIN cards c ON c.visitor_id = v.id JOIN units u ON u.id = v.unit_id
         WHERE c.state = 'active' AND c.not_after > ?1 ORDER BY v.registered_at",
    )?;
    let rows = stmt.query_map(params![now_minute], |r| {
        Ok(OnSite {
            visitor_id: r.get("visitor_id")?,
            card_id: r.get("card_id")?,
            short_id: r.get("short_id")?,
            visit: Visit::from_row(r)?,
            not_after: UtcMinute(r.get("not_after")?).to_datetime(),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many visitors are on site now (as [`on_site`] lists them).
pub fn on_site_count(conn: &Connection, now: DateTime<Utc>) -> DeskResult<usize> {
    let now_minute = UtcMinute::floor(now).map_or(0, |m| m.0);
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM visitors v JOIN cards c ON c.visitor_id = v.id
             WHERE c.state = 'active' AND c.not_after > ?1",
        )?
        .query_row(params![now_minute], |r| r.get::<_, i64>(0))
        .map(|n| usize::try_from(n).unwrap_or(0))?)
}

/// An entry the desk puts on the deny list.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
pub struct NewDenial {
    /// The person's name.
    pub name: String,
    /// Their phone, to tell namesakes apart (optional).
    #[serde(default)]
    pub phone: Option<String>,
    /// Why, for staff.
    pub reason: String,
}

/// Adds a deny-list entry and returns its id.
pub fn deny(tx: &Connection, actor: &Actor, d: &NewDenial, now: DateTime<Utc>) -> DeskResult<i64> {
    let name = privacy::person_text("name", &d.name, 64).map_err(invalid)?;
    let reason = privacy::required_text("reason", &d.reason, 256).map_err(invalid)?;
    let phone = match d.phone.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(p) => Some(digits(&privacy::valid_phone(p).map_err(invalid)?)),
        None => None,
    };
    tx.prepare_cached("INSERT INTO deny_list (name_key, name_masked, phone_digits, reason, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?.execute(params![privacy::name_key(&name), privacy::mask_name(&name), phone, reason, ts(now), actor.audit_name()],
    )?;
    let id = tx.last_insert_rowid();
    audit::record(
        tx,
        actor,
        "deny_list.add",
        &format!("deny:{id}"),
        serde_json::json!({}),
        now,
    )?;
    Ok(id)
}

/// A deny-list entry as staff see it: the name masked, the phone masked.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Denial {
    /// Its id.
    pub id: i64,
    /// The name, masked (张*明).
    pub name_masked: String,
    /// The phone, masked, if one was given.
    pub phone_masked: Option<String>,
    /// Why.
    pub reason: String,
    /// When added (UTC).
    #[serde(serialize_with = "crate::db::ts_json")]
    pub created_at: DateTime<Utc>,
    /// Who added it.
    pub created_by: String,
}

/// Every deny-list entry, newest first.
pub fn denials(conn: &Connection) -> DeskResult<Vec<Denial>> {
    let mut st = conn.prepare_cached(
        "SELECT id, name_masked, phone_digits, reason, created_at, created_by
         FROM deny_list ORDER BY id DESC",
    )?;
    let rows = st.query_map([], |r| {
        Ok(Denial {
            id: r.get("id")?,
            name_masked: r.get("name_masked")?,
            phone_masked: r
                .get::<_, Option<String>>("phone_digits")?
                .map(|p| privacy::mask_phone(&p)),
            reason: r.get("reason")?,
            created_at: instant(r, "created_at")?,
            created_by: r.get("created_by")?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Removes a deny-list entry: the person may register again.
pub fn undeny(tx: &Connection, actor: &Actor, id: i64, now: DateTime<Utc>) -> DeskResult<()> {
    let n = tx
        .prepare_cached("DELETE FROM deny_list WHERE id = ?1")?
        .execute([id])?;
    if n == 0 {
        return Err(DeskError::NotFound(format!(
            "no deny-list entry with id {id}"
        )));
    }
    audit::record(
        tx,
        actor,
        "deny_list.remove",
        &format!("deny:{id}"),
        serde_json::json!({}),
        now,
    )?;
    Ok(())
}

/// How many days ahead an invitation may be for.
pub const INVITE_DAYS_AHEAD: u64 = 92;
const INVITE_WHY: &str = " (an invitation is for a visit within three months)";

/// An invite the desk creates for a visitor to redeem at the kiosk.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
pub struct NewInvite {
    /// The visitor as they will be registered.
    #[serde(flatten)]
    pub visitor: NewVisitor,
    /// The local date it may be redeemed on (default today).
    #[serde(default)]
    pub valid_on: Option<NaiveDate>,
}

/// A created invite.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Invite {
    /// The short code to type at the kiosk.
    pub code: String,
    /// The day it is valid.
    pub valid_on: NaiveDate,
    /// The masked visitor name.
    pub name_masked: String,
}

/// Creates an invite (checked like a registration, deny list included).
pub fn invite(
    tx: &Connection,
    actor: &Actor,
    i: &NewInvite,
    now: DateTime<Utc>,
) -> DeskResult<Invite> {
    let c = check(tx, &i.visitor)?;
    refuse_if_denied(tx, actor, &c, now)??;
    let today = settings::local_date(settings::time_zone(tx)?, now);
    let valid_on = i.valid_on.unwrap_or(today);
    if valid_on < today {
        return Err(invalid(format!("valid_on {valid_on} is in the past")));
    }
    super::bounds::within_days("valid_on", valid_on, today, INVITE_DAYS_AHEAD, INVITE_WHY)?;
    let code = loop {
        let code = privacy::random_code(8);
        let taken: bool = tx
            .prepare_cached("SELECT EXISTS(SELECT 1 FROM invites WHERE code = ?1) AS taken")?
            .query_row(params![code], |r| r.get("taken"))?;
        if !taken {
            break code;
        }
    };
    let body = serde_json::json!({
        "name": c.name, "unit_id": c.unit.id, "host_name": c.host_name, "purpose": c.purpose,
        "party_size": c.party_size, "phone": c.phone,
    });
    tx.prepare_cached("INSERT INTO invites (code, visitor, valid_on, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5)")?.execute(params![code, body.to_string(), valid_on.to_string(), ts(now), actor.audit_name()],
    )?;
    audit::record(
        tx,
        actor,
        "invite.create",
        &format!("invite:{code}"),
        serde_json::json!({"unit": c.unit.id, "valid_on": valid_on}),
        now,
    )?;
    Ok(Invite {
        code,
        valid_on,
        name_masked: privacy::mask_name(&c.name),
    })
}

/// Redeems an invite code at the kiosk: registers the visitor and issues the pass.
pub fn redeem(
    tx: &Connection,
    signer: &SigningKeys,
    actor: &Actor,
    code: &str,
    now: DateTime<Utc>,
) -> Refusable<VisitorPass> {
    let code = privacy::normalise_code(code);
    let row: Option<(String, String, Option<String>)> = tx
        .query_row(
            "SELECT visitor, valid_on, redeemed_at FROM invites WHERE code = ?1",
            params![code],
            |r| Ok((r.get("visitor")?, r.get("valid_on")?, r.get("redeemed_at")?)),
        )
        .optional()?;
    let Some((visitor, valid_on, redeemed)) = row else {
        return Err(DeskError::NotFound(
            "no invite has this code; check it or see the front desk".into(),
        ));
    };
    if redeemed.is_some() {
        return Err(DeskError::conflict(
            "already_redeemed",
            "this invite has already been used",
        ));
    }
    let today = settings::local_date(settings::time_zone(tx)?, now);
    if valid_on != today.to_string() {
        return Err(DeskError::conflict(
            "not_today",
            format!("this invite is for {valid_on}, not today"),
        ));
    }
    let v: NewVisitor = serde_json::from_str(&visitor).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })?;
    let pass = match register(tx, signer, actor, &v, Arrival::Expected, now)? {
        Ok(pass) => pass,
        Err(refusal) => return Ok(Err(refusal)),
    };
    tx.prepare_cached("UPDATE invites SET redeemed_at = ?1, visitor_id = ?2 WHERE code = ?3")?
        .execute(params![ts(now), pass.visitor_id, code])?;
    Ok(Ok(pass))
}
