//! Goods-release permits (物品放行通知单): the desk writes one for goods leaving a unit; a
//! manager (or the desk itself, when the `goods_desk_approves` setting says so) approves or
//! refuses it; approval signs it as a `goods_release` credential; a guard releases the goods
//! (or stops them) once, after a gate or a handheld scanner read it.
//!
//! A permit moves only along the one table [`PERMIT_STEPS`] (the custody model cards use), each
//! move audited in the same transaction. A permit takes its number from the cards' sequence,
//! so a gate never confuses it with a card. A gate with `goods_check` journals a scanned permit
//! without opening; the server keeps each such scan in `goods_scans` for the guard page.

use super::custody::{self, Step};
use super::desk_error::{DeskError, DeskResult};
use super::privacy;
use super::settings;
use super::units;
use crate::audit;
use crate::auth::Actor;
use crate::db::{date, instant, opt_instant, ts};
use crate::keys::SigningKeys;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use gatehouse_credential::{
    BuildingScope, CardId, Claims, Kind, UtcMinute, ZoneClasses, ZoneScope,
};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// The longest validity window of one permit, in days.
pub const MAX_DAYS: i64 = 31;

/// How many days ahead a permit's first day may be.
pub const PERMIT_DAYS_AHEAD: u64 = 92;
const PERMIT_WHY: &str = " (a permit is for goods leaving within three months)";

/// The most item lines on one permit (what fits a receipt).
pub const MAX_ITEMS: usize = 30;

/// Where a permit stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PermitState {
    /// Written by the desk, waiting for approval.
    Requested,
    /// Approved and signed: valid at the gate inside its window, once.
    Approved,
    /// Refused by the approver (with a reason).
    Refused,
    /// The goods went out: a guard released them.
    Released,
    /// A guard stopped the goods at the gate (with a reason); the permit is used up.
    Stopped,
}

impl PermitState {
    /// Every state.
    pub const ALL: [PermitState; 5] = [
        PermitState::Requested,
        PermitState::Approved,
        PermitState::Refused,
        PermitState::Released,
        PermitState::Stopped,
    ];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            PermitState::Requested => "requested",
            PermitState::Approved => "approved",
            PermitState::Refused => "refused",
            PermitState::Released => "released",
            PermitState::Stopped => "stopped",
        }
    }

    /// The state in words, in Chinese and English.
    pub const fn words(self) -> &'static str {
        match self {
            PermitState::Requested => "待审批 waiting for approval",
            PermitState::Approved => "已批准 approved",
            PermitState::Refused => "未批准 refused",
            PermitState::Released => "已放行 released",
            PermitState::Stopped => "已拦下 stopped at the gate",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What staff do to a permit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PermitAction {
    /// The approver signs it off.
    Approve,
    /// The approver refuses it.
    Refuse,
    /// The guard lets the goods out.
    Release,
    /// The guard stops the goods.
    Stop,
}

const fn s(
    from: PermitState,
    action: PermitAction,
    to: PermitState,
) -> Step<PermitState, PermitAction> {
    Step { from, action, to }
}

/// Every allowed move of a permit; anything else is refused. A permit is used once: nothing
/// leaves `released` or `stopped`.
pub const PERMIT_STEPS: &[Step<PermitState, PermitAction>] = &[
    s(
        PermitState::Requested,
        PermitAction::Approve,
        PermitState::Approved,
    ),
    s(
        PermitState::Requested,
        PermitAction::Refuse,
        PermitState::Refused,
    ),
    s(
        PermitState::Approved,
        PermitAction::Release,
        PermitState::Released,
    ),
    s(
        PermitState::Approved,
        PermitAction::Stop,
        PermitState::Stopped,
    ),
];

/// Who applies for the permit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Applicant {
    /// The unit's owner (业主).
    Owner,
    /// A tenant (租户), with the owner's consent recorded.
    Tenant,
}

impl Applicant {
    const fn as_str(self) -> &'static str {
        match self {
            Applicant::Owner => "owner",
            Applicant::Tenant => "tenant",
        }
    }
}

/// One line of goods.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = GoodsItem)]
pub struct Item {
    /// What it is, e.g. "沙发 sofa".
    pub description: String,
    /// How many.
    pub count: u32,
}

/// A permit as the desk writes it.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewPermit {
    /// The unit the goods leave.
    pub unit_id: i64,
    /// Owner or tenant.
    pub applicant: Applicant,
    /// The applicant's name.
    pub applicant_name: String,
    /// The applicant's phone.
    #[serde(default)]
    pub applicant_phone: Option<String>,
    /// For a tenant: how the owner consented (e.g. "phone call", "signed letter").
    #[serde(default)]
    pub consent_how: Option<String>,
    /// For a tenant: who took the owner's consent.
    #[serde(default)]
    pub consent_taken_by: Option<String>,
    /// The goods.
    pub items: Vec<Item>,
    /// The vehicle's plate, if the goods leave by car.
    #[serde(default)]
    pub plate: Option<String>,
    /// First day valid (estate's date; default today).
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    /// Last day valid (default: the first day).
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    /// Notes for the guard.
    #[serde(default)]
    pub notes: Option<String>,
}

/// A permit as staff see it: names and phones masked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Permit {
    /// The permit number (also its card number at the gates).
    pub id: u32,
    /// The unit.
    pub unit_id: i64,
    /// The unit's label.
    pub unit_label: String,
    /// Owner or tenant.
    pub applicant: Applicant,
    /// The applicant's name, masked.
    pub applicant_masked: String,
    /// The applicant's phone, masked.
    pub phone_masked: Option<String>,
    /// For a tenant: how the owner consented.
    pub consent_how: Option<String>,
    /// For a tenant: who took the consent.
    pub consent_taken_by: Option<String>,
    /// The goods.
    pub items: Vec<Item>,
    /// The vehicle's plate.
    pub plate: Option<String>,
    /// First day valid (estate's date).
    pub valid_from: NaiveDate,
    /// Last day valid (estate's date).
    pub valid_to: NaiveDate,
    /// Notes.
    pub notes: String,
    /// Its state.
    pub state: PermitState,
    /// When written (UTC).
    #[serde(serialize_with = "crate::db::ts_json")]
    pub created_at: DateTime<Utc>,
    /// Who wrote it.
    pub created_by: String,
    /// When approved or refused.
    #[serde(serialize_with = "crate::db::opt_ts_json")]
    pub decided_at: Option<DateTime<Utc>>,
    /// Who approved or refused it.
    pub decided_by: Option<String>,
    /// The refusal's reason (or the approver's note).
    pub decision_note: Option<String>,
    /// When the guard released or stopped the goods.
    #[serde(serialize_with = "crate::db::opt_ts_json")]
    pub closed_at: Option<DateTime<Utc>>,
    /// Which guard, masked (e.g. "guard 王*").
    pub closed_by: Option<String>,
    /// At which gate (its name), when the permit was scanned at one.
    pub closed_gate: Option<String>,
    /// Why the guard stopped the goods.
    pub stop_reason: Option<String>,
}

const COLUMNS: &str = "p.id, p.unit_id, u.label AS unit_label, p.applicant, p.applicant_name, p.applicant_phone,
    p.consent_how, p.consent_taken_by, p.items, p.plate, p.valid_from, p.valid_to, p.notes, p.state,
    p.created_at, p.created_by, p.decided_at, p.decided_by, p.decision_note, p.closed_at, p.closed_by,
    d.name AS closed_gate, p.purged_at";
const FROM: &str = "FROM goods_permits p JOIN units u ON u.id = p.unit_id LEFT JOIN devices d ON d.id = p.closed_device";

/// How a permit names the staff member who acted on it: their role and masked name.
pub fn staff_masked(audit_name: &str) -> String {
    match audit_name.split_once(':') {
        Some((role, name)) => format!("{role} {}", privacy::mask_name(name)),
        None => privacy::mask_name(audit_name),
    }
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Permit> {
    let applicant: String = r.get("applicant")?;
    let name: Option<String> = r.get("applicant_name")?;
    let phone: Option<String> = r.get("applicant_phone")?;
    let items: String = r.get("items")?;
    let state: String = r.get("state")?;
    let closed_by: Option<String> = r.get("closed_by")?;
    let decision_note: Option<String> = r.get("decision_note")?;
    let state = PermitState::parse(&state).unwrap_or(PermitState::Refused);
    Ok(Permit {
        id: r.get("id")?,
        unit_id: r.get("unit_id")?,
        unit_label: r.get("unit_label")?,
        applicant: if applicant == "tenant" {
            Applicant::Tenant
        } else {
            Applicant::Owner
        },
        applicant_masked: name.as_deref().map(privacy::mask_name).unwrap_or_default(),
        phone_masked: phone.as_deref().map(privacy::mask_phone),
        consent_how: r.get("consent_how")?,
        consent_taken_by: r.get("consent_taken_by")?,
        items: serde_json::from_str(&items).unwrap_or_default(),
        plate: r.get("plate")?,
        valid_from: date(r, "valid_from")?,
        valid_to: date(r, "valid_to")?,
        notes: r.get("notes")?,
        state,
        created_at: instant(r, "created_at")?,
        created_by: r.get("created_by")?,
        decided_at: opt_instant(r, "decided_at")?,
        decided_by: r.get("decided_by")?,
        stop_reason: decision_note
            .clone()
            .filter(|_| state == PermitState::Stopped),
        decision_note: decision_note.filter(|_| state != PermitState::Stopped),
        closed_at: opt_instant(r, "closed_at")?,
        closed_by: closed_by.as_deref().map(staff_masked),
        closed_gate: r.get("closed_gate")?,
    })
}

/// The permit `id`, or 404.
pub fn get(conn: &Connection, id: u32) -> DeskResult<Permit> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} {FROM} WHERE p.id = ?1"))?
        .query_row(params![id], from_row)
        .optional()?
        .ok_or_else(|| {
            DeskError::NotFound(format!(
                "there is no goods-release permit {id} (没有编号为 {id} 的放行单)"
            ))
        })
}

/// At most `limit` permits numbered below `before` (from the newest if `None`), newest first.
pub fn list(conn: &Connection, before: Option<i64>, limit: u32) -> DeskResult<Vec<Permit>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} {FROM} WHERE p.id < ?2 ORDER BY p.id DESC LIMIT ?1"
    ))?;
    let rows = stmt.query_map(params![limit, before.unwrap_or(i64::MAX)], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The next number of the one sequence cards and permits share, so that no permit has a
/// card's number at the gates.
fn allocate_number(tx: &Connection) -> DeskResult<u32> {
    tx.execute(
        "INSERT INTO sqlite_sequence (name, seq)
         SELECT 'cards', COALESCE((SELECT MAX(id) FROM cards), 0)
         WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'cards')",
        [],
    )?;
    let n: i64 = tx.query_row(
        "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'cards' RETURNING seq",
        [],
        |r| r.get(0),
    )?;
    u32::try_from(n)
        .map_err(|_| DeskError::conflict("card_numbers_exhausted", "no card numbers are left"))
}

fn optional_text(field: &str, value: Option<&str>, max: usize) -> DeskResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => privacy::required_text(field, v, max)
            .map(Some)
            .map_err(|m| DeskError::invalid("invalid", m)),
    }
}

/// A plate as printed: upper case, no spaces or dots; 5–10 letters, digits or Chinese
/// characters (京A12345, 粤B·D12345).
fn plate(value: Option<&str>) -> DeskResult<Option<String>> {
    let Some(p) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let p: String = p
        .chars()
        .filter(|c| !matches!(c, ' ' | '·' | '.' | '-'))
        .flat_map(char::to_uppercase)
        .collect();
    let n = p.chars().count();
    if !(5..=10).contains(&n) || !p.chars().all(char::is_alphanumeric) {
        return Err(DeskError::invalid(
            "invalid_plate",
            "the plate is 5–10 letters, digits or Chinese characters, e.g. 沪A12345 (车牌号格式不对)",
        ));
    }
    Ok(Some(p))
}

fn checked_items(items: &[Item]) -> DeskResult<Vec<Item>> {
    if items.is_empty() || items.len() > MAX_ITEMS {
        return Err(DeskError::invalid(
            "invalid_items",
            format!(
                "list 1–{MAX_ITEMS} items, each with a count (请填写 1–{MAX_ITEMS} 项物品及数量)"
            ),
        ));
    }
    items
        .iter()
        .map(|i| {
            let description = privacy::required_text("an item's description", &i.description, 60)
                .map_err(|m| DeskError::invalid("invalid_items", m))?;
            if !(1..=9999).contains(&i.count) {
                return Err(DeskError::invalid(
                    "invalid_items",
                    format!("the count of \"{description}\" must be 1–9999"),
                ));
            }
            Ok(Item {
                description,
                count: i.count,
            })
        })
        .collect()
}

/// Writes a permit (state `requested`); audited.
pub fn create(
    tx: &Connection,
    actor: &Actor,
    new: &NewPermit,
    now: DateTime<Utc>,
) -> DeskResult<Permit> {
    let unit = units::unit(tx, new.unit_id)?;
    let name = privacy::required_text("the applicant's name", &new.applicant_name, 40)
        .map_err(|m| DeskError::invalid("invalid", m))?;
    let phone = match new.applicant_phone.as_deref().map(str::trim) {
        Some(p) if !p.is_empty() => {
            Some(privacy::valid_phone(p).map_err(|m| DeskError::invalid("invalid_phone", m))?)
        }
        _ => None,
    };
    let consent_how = optional_text("how the owner consented", new.consent_how.as_deref(), 80)?;
    let consent_taken_by =
        optional_text("who took the consent", new.consent_taken_by.as_deref(), 40)?;
    if new.applicant == Applicant::Tenant && (consent_how.is_none() || consent_taken_by.is_none()) {
        return Err(DeskError::invalid(
            "owner_consent_required",
            "a tenant needs the owner's consent: record how it was given and who took it (租户申请须记录业主同意方式及经办人)",
        ));
    }
    let items = checked_items(&new.items)?;
    let plate = plate(new.plate.as_deref())?;
    let notes = optional_text("notes", new.notes.as_deref(), 200)?.unwrap_or_default();
    let tz = settings::time_zone(tx)?;
    let today = settings::local_date(tz, now);
    let from = new.valid_from.unwrap_or(today);
    let to = new.valid_to.unwrap_or(from);
    if from < today || to < from || (to - from).num_days() >= MAX_DAYS {
        return Err(DeskError::invalid(
            "invalid_period",
            format!(
                "the permit is valid from today ({today}) or later, to a day not before its first, for at most {MAX_DAYS} days (有效期须从今天起，最长 {MAX_DAYS} 天)"
            ),
        ));
    }
    super::bounds::within_days("valid_from", from, today, PERMIT_DAYS_AHEAD, PERMIT_WHY)?;
    let id = allocate_number(tx)?;
    let items_json = serde_json::to_string(&items).unwrap_or_else(|_| "[]".into());
    tx.execute(
        "INSERT INTO goods_permits (id, unit_id, applicant, applicant_name, applicant_phone, consent_how,
            consent_taken_by, items, plate, valid_from, valid_to, notes, state, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'requested', ?13, ?14)",
        params![
            id,
            unit.id,
            new.applicant.as_str(),
            name,
            phone,
            consent_how,
            consent_taken_by,
            items_json,
            plate,
            from.to_string(),
            to.to_string(),
            notes,
            ts(now),
            actor.audit_name()
        ],
    )?;
    audit::record(
        tx,
        actor,
        "goods.create",
        &format!("permit:{id}"),
        serde_json::json!({"unit": unit.id, "applicant": new.applicant.as_str(), "items": items.len(),
            "valid_from": from, "valid_to": to}),
        now,
    )?;
    get(tx, id)
}

/// Whether the desk may approve permits (the `goods_desk_approves` setting).
pub fn desk_approves(conn: &Connection) -> DeskResult<bool> {
    Ok(settings::flag(conn, settings::GOODS_DESK_APPROVES)?)
}

/// A manager lets the desk approve permits too, or managers only (audited).
pub fn set_desk_approves(
    tx: &Connection,
    actor: &Actor,
    on: bool,
    now: DateTime<Utc>,
) -> DeskResult<bool> {
    settings::set_flag(tx, settings::GOODS_DESK_APPROVES, on)?;
    audit::record(
        tx,
        actor,
        "settings.goods_approval",
        "settings",
        serde_json::json!({"desk_approves": on}),
        now,
    )?;
    Ok(on)
}

/// The refusal of `action` on `permit` as staff read it.
fn refused(tx: &Connection, permit: &Permit) -> DeskResult<DeskError> {
    let tz = settings::time_zone(tx)?;
    let (code, message) = match permit.state {
        PermitState::Released | PermitState::Stopped => (
            if permit.state == PermitState::Released {
                "already_released"
            } else {
                "already_stopped"
            },
            used_words(permit, tz),
        ),
        PermitState::Refused => (
            "permit_refused",
            format!(
                "permit {} was refused: {} (放行单未获批准)",
                permit.id,
                permit.decision_note.clone().unwrap_or_default()
            ),
        ),
        PermitState::Requested => (
            "permit_not_approved",
            format!(
                "permit {} is not approved yet: a manager approves it first (放行单尚未批准)",
                permit.id
            ),
        ),
        PermitState::Approved => (
            "already_approved",
            format!("permit {} is already approved (放行单已批准)", permit.id),
        ),
    };
    Ok(DeskError::conflict(code, message))
}

/// "already released at 14:02 at the east gate by guard 王*", in Chinese and English.
pub fn used_words(permit: &Permit, tz: Tz) -> String {
    let at = permit
        .closed_at
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    let gate = permit
        .closed_gate
        .clone()
        .unwrap_or_else(|| "手持扫码 handheld".to_owned());
    let by = permit.closed_by.clone().unwrap_or_default();
    match permit.state {
        PermitState::Stopped => format!(
            "已于 {at} 在 {gate} 由 {by} 拦下 already stopped at {at} at {gate} by {by}: {}",
            permit.stop_reason.clone().unwrap_or_default()
        ),
        _ => format!("已于 {at} 在 {gate} 由 {by} 放行 already released at {at} at {gate} by {by}"),
    }
}

/// Moves `permit` by `action` along [`PERMIT_STEPS`], recording who and when; audited.
fn apply(
    tx: &Connection,
    actor: &Actor,
    permit: &Permit,
    action: PermitAction,
    note: Option<&str>,
    device: Option<&str>,
    now: DateTime<Utc>,
) -> DeskResult<PermitState> {
    let step = custody::step(PERMIT_STEPS, permit.state, action)
        .ok_or_else(|| refused(tx, permit).unwrap_or_else(|e| e))?;
    let sql = match action {
        PermitAction::Approve | PermitAction::Refuse => {
            "UPDATE goods_permits SET state = ?1, decided_at = ?2, decided_by = ?3, decision_note = ?4 WHERE id = ?5"
        }
        PermitAction::Release | PermitAction::Stop => {
            "UPDATE goods_permits SET state = ?1, closed_at = ?2, closed_by = ?3, decision_note = COALESCE(?4, decision_note), closed_device = ?6 WHERE id = ?5"
        }
    };
    let mut stmt = tx.prepare_cached(sql)?;
    if matches!(action, PermitAction::Release | PermitAction::Stop) {
        stmt.execute(params![
            step.to.as_str(),
            ts(now),
            actor.audit_name(),
            note,
            permit.id,
            device
        ])?;
    } else {
        stmt.execute(params![
            step.to.as_str(),
            ts(now),
            actor.audit_name(),
            note,
            permit.id
        ])?;
    }
    audit::record(
        tx,
        actor,
        &format!("goods.{}", step.to.as_str()),
        &format!("permit:{}", permit.id),
        serde_json::json!({"from": step.from, "gate": device, "reason": note}),
        now,
    )?;
    Ok(step.to)
}

/// The claims a permit's credential carries: its window, the unit's building, and no door
/// it opens (an empty class set): gates check it, none opens for it.
fn claims(tx: &Connection, permit: &Permit) -> DeskResult<Claims> {
    let tz = settings::time_zone(tx)?;
    let unit = units::unit(tx, permit.unit_id)?;
    let minute = |d: NaiveDate| {
        UtcMinute::floor(settings::local_midnight(tz, d))
            .ok_or_else(|| DeskError::invalid("invalid", "the date is out of range"))
    };
    Ok(Claims {
        kind: Kind::GoodsRelease,
        card_id: CardId(permit.id),
        not_before: minute(permit.valid_from)?,
        not_after: minute(permit.valid_to + Duration::days(1))?,
        schedule: None,
        scope: ZoneScope {
            building: BuildingScope::One(unit.building),
            floor_lo: unit.floor,
            floor_hi: unit.floor,
            classes: ZoneClasses(0),
        },
    })
}

/// Who may approve or refuse: a manager, or desk staff when the setting allows it.
fn may_decide(tx: &Connection, actor: &Actor) -> DeskResult<()> {
    match actor {
        Actor::Manager(_) => Ok(()),
        Actor::Desk(_) if desk_approves(tx)? => Ok(()),
        _ => Err(DeskError::conflict(
            "manager_required",
            "a manager approves or refuses goods-release permits (放行单须由经理审批)",
        )),
    }
}

/// Approves a permit and signs its credential; audited.
pub fn approve(
    tx: &Connection,
    signer: &SigningKeys,
    actor: &Actor,
    id: u32,
    now: DateTime<Utc>,
) -> DeskResult<(Permit, String)> {
    may_decide(tx, actor)?;
    let permit = get(tx, id)?;
    let tz = settings::time_zone(tx)?;
    if permit.valid_to < settings::local_date(tz, now) && permit.state == PermitState::Requested {
        return Err(DeskError::conflict(
            "period_over",
            format!(
                "permit {id} was valid to {}; write a new one (放行单已过期，请重新填写)",
                permit.valid_to
            ),
        ));
    }
    apply(tx, actor, &permit, PermitAction::Approve, None, None, now)?;
    let signed = signer.issue(tx, &claims(tx, &permit)?)?;
    tx.execute(
        "UPDATE goods_permits SET credential = ?1, key_id = ?2 WHERE id = ?3",
        params![signed.text, signed.key_id.get(), id],
    )?;
    Ok((get(tx, id)?, signed.text))
}

/// Refuses a permit with a reason; audited.
pub fn refuse(
    tx: &Connection,
    actor: &Actor,
    id: u32,
    reason: &str,
    now: DateTime<Utc>,
) -> DeskResult<Permit> {
    may_decide(tx, actor)?;
    let reason = privacy::required_text("the reason", reason, 200)
        .map_err(|m| DeskError::invalid("reason_required", m))?;
    let permit = get(tx, id)?;
    apply(
        tx,
        actor,
        &permit,
        PermitAction::Refuse,
        Some(&reason),
        None,
        now,
    )?;
    get(tx, id)
}

/// The credential text of an approved permit, for its printed page.
pub fn credential(conn: &Connection, id: u32) -> DeskResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT credential FROM goods_permits WHERE id = ?1 AND purged_at IS NULL")?
        .query_row(params![id], |r| r.get(0))
        .optional()?
        .flatten())
}

/// What the guard is told about a permit just scanned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Verdict {
    /// Whether the goods may go out on it now.
    pub ok: bool,
    /// A stable code: `ok`, `already_released`, `already_stopped`, `permit_refused`,
    /// `permit_not_approved`, `not_yet_valid`, `expired`.
    pub code: String,
    /// What it means, in Chinese and English.
    pub message: String,
}

/// Whether the goods may leave on `permit` at `now` (pure: the permit and the time in).
pub fn verdict(permit: &Permit, tz: Tz, now: DateTime<Utc>) -> Verdict {
    let v = |ok, code: &str, message: String| Verdict {
        ok,
        code: code.to_owned(),
        message,
    };
    let today = settings::local_date(tz, now);
    match permit.state {
        PermitState::Released => v(false, "already_released", used_words(permit, tz)),
        PermitState::Stopped => v(false, "already_stopped", used_words(permit, tz)),
        PermitState::Refused => v(
            false,
            "permit_refused",
            "未获批准 the permit was refused".into(),
        ),
        PermitState::Requested => v(
            false,
            "permit_not_approved",
            "尚未批准 not approved yet".into(),
        ),
        PermitState::Approved if today < permit.valid_from => v(
            false,
            "not_yet_valid",
            format!("未到有效期 valid only from {}", permit.valid_from),
        ),
        PermitState::Approved if today > permit.valid_to => v(
            false,
            "expired",
            format!("已过期 expired on {}", permit.valid_to),
        ),
        PermitState::Approved => v(true, "ok", "有效，请核对物品 valid: check the goods".into()),
    }
}

/// One scan of a permit, at a gate or by the guard's handheld scanner, with what it means.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Scan {
    /// The scan's number (the guard page's cursor).
    pub scan_id: i64,
    /// When it was read (UTC).
    #[serde(serialize_with = "crate::db::ts_json")]
    pub at: DateTime<Utc>,
    /// The gate's name, or none for a handheld scan.
    pub gate: Option<String>,
    /// What the gate itself decided (e.g. `goods_permit`, `expired`, `revoked`).
    pub gate_reason: Option<String>,
    /// The permit.
    pub permit: Permit,
    /// Whether the goods may go out, as of now.
    pub verdict: Verdict,
}

/// Records that gate `device_id` read permit `card_id` (an entry of its journal). Returns
/// the scan, or `None` when no permit has that number.
pub fn record_gate_scan(
    tx: &Connection,
    device_id: &str,
    card_id: u32,
    gate_reason: Option<&str>,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<i64>> {
    let known: bool = tx
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM goods_permits WHERE id = ?1)")?
        .query_row(params![card_id], |r| r.get(0))?;
    if !known {
        return Ok(None);
    }
    tx.prepare_cached(
        "INSERT INTO goods_scans (permit_id, device_id, at, gate_reason, received_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![card_id, device_id, ts(at), gate_reason, ts(now)])?;
    Ok(Some(tx.last_insert_rowid()))
}

/// How the guard names a permit: the scanned credential text, or its typed number.
pub fn find(tx: &Connection, signer: &SigningKeys, field: &str) -> DeskResult<Permit> {
    let t = field.trim();
    if t.chars().count() > 16 {
        let credential = signer.ring(tx)?.verify(t).map_err(|_| {
            DeskError::invalid(
                "unreadable_permit",
                "the scan is not a permit of this estate, or it was read incompletely: scan it again, or type the permit number (无法识别：请重扫或输入放行单号)",
            )
        })?;
        if credential.claims.kind != Kind::GoodsRelease {
            return Err(DeskError::invalid(
                "not_a_permit",
                "this is an access card, not a goods-release permit (这是出入卡，不是放行单)",
            ));
        }
        // The signature holds; the window is judged from the permit itself (an approval
        // is final, so the stored permit and the credential agree).
        return get(tx, credential.claims.card_id.0);
    }
    match t.trim_start_matches(['#', '№']).trim().parse::<u32>() {
        Ok(n) => get(tx, n),
        Err(_) => Err(DeskError::invalid(
            "unreadable_permit",
            format!(
                "\"{t}\" is not a permit number: type the number printed on the permit (请输入放行单上的编号)"
            ),
        )),
    }
}

/// A handheld scan or a typed number at the guard page: recorded like a gate's scan.
pub fn hand_scan(
    tx: &Connection,
    signer: &SigningKeys,
    field: &str,
    now: DateTime<Utc>,
) -> DeskResult<Scan> {
    let permit = find(tx, signer, field)?;
    tx.prepare_cached(
        "INSERT INTO goods_scans (permit_id, device_id, at, gate_reason, received_at) VALUES (?1, NULL, ?2, NULL, ?2)",
    )?
    .execute(params![permit.id, ts(now)])?;
    let id = tx.last_insert_rowid();
    scan(tx, id, now)
}

fn scan(conn: &Connection, scan_id: i64, now: DateTime<Utc>) -> DeskResult<Scan> {
    let (permit_id, at, gate, gate_reason): (u32, DateTime<Utc>, Option<String>, Option<String>) =
        conn.prepare_cached(
            "SELECT s.permit_id, s.at, d.name AS gate, s.gate_reason FROM goods_scans s
             LEFT JOIN devices d ON d.id = s.device_id WHERE s.id = ?1",
        )?
        .query_row(params![scan_id], |r| {
            Ok((
                r.get("permit_id")?,
                instant(r, "at")?,
                r.get("gate")?,
                r.get("gate_reason")?,
            ))
        })
        .optional()?
        .ok_or_else(|| DeskError::NotFound(format!("there is no permit scan {scan_id}")))?;
    let permit = get(conn, permit_id)?;
    let tz = settings::time_zone(conn)?;
    Ok(Scan {
        scan_id,
        at,
        gate,
        gate_reason,
        verdict: verdict(&permit, tz, now),
        permit,
    })
}

/// The scans after `after`, newest first (at most 20).
pub fn scans_after(conn: &Connection, after: i64, now: DateTime<Utc>) -> DeskResult<Vec<Scan>> {
    let ids: Vec<i64> = {
        let mut stmt = conn
            .prepare_cached("SELECT id FROM goods_scans WHERE id > ?1 ORDER BY id DESC LIMIT 20")?;
        let rows = stmt.query_map(params![after], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    ids.into_iter().map(|id| scan(conn, id, now)).collect()
}

/// The latest scan's number (0 before any).
pub fn last_scan(conn: &Connection) -> DeskResult<i64> {
    Ok(
        conn.query_row("SELECT COALESCE(MAX(id), 0) FROM goods_scans", [], |r| {
            r.get(0)
        })?,
    )
}

/// The guard's decision on a permit.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct GuardDecision {
    /// The scan the guard is answering (its gate is recorded); none for a typed number.
    #[serde(default)]
    pub scan_id: Option<i64>,
    /// `true` to release the goods, `false` to stop them.
    pub release: bool,
    /// Why the goods are stopped (required then).
    #[serde(default)]
    pub reason: Option<String>,
}

/// The guard releases or stops the goods on permit `id`: once, inside its window (a stop
/// is allowed whatever the window). Audited, and in the events of the gate it was scanned at.
pub fn guard_decides(
    tx: &Connection,
    actor: &Actor,
    id: u32,
    d: &GuardDecision,
    now: DateTime<Utc>,
) -> DeskResult<Permit> {
    let permit = get(tx, id)?;
    let device: Option<String> = match d.scan_id {
        Some(scan_id) => tx
            .prepare_cached("SELECT device_id FROM goods_scans WHERE id = ?1 AND permit_id = ?2")?
            .query_row(params![scan_id, id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| {
                DeskError::invalid(
                    "unknown_scan",
                    format!("scan {scan_id} was not of permit {id}"),
                )
            })?,
        None => None,
    };
    let (action, reason) = if d.release {
        let tz = settings::time_zone(tx)?;
        let v = verdict(&permit, tz, now);
        if !v.ok && permit.state == PermitState::Approved {
            return Err(DeskError::conflict(
                if v.code == "expired" {
                    "expired"
                } else {
                    "not_yet_valid"
                },
                format!("permit {id}: {}", v.message),
            ));
        }
        (PermitAction::Release, None)
    } else {
        let reason = privacy::required_text("the reason", d.reason.as_deref().unwrap_or(""), 200)
            .map_err(|_| {
            DeskError::invalid(
                "reason_required",
                "say why the goods are stopped (请填写拦下原因)",
            )
        })?;
        (PermitAction::Stop, Some(reason))
    };
    let to = apply(
        tx,
        actor,
        &permit,
        action,
        reason.as_deref(),
        device.as_deref(),
        now,
    )?;
    if let Some(device) = &device {
        // The gate's event list shows what became of the permit it read.
        let event = if to == PermitState::Released {
            r#"{"type":"goods_released"}"#
        } else {
            r#"{"type":"goods_stopped"}"#
        };
        tx.prepare_cached(
            "INSERT INTO gate_events (id, device_id, at, clock_trusted, card_id, kind, result, reason, event, received_at)
             VALUES (?1, ?2, ?3, 1, ?4, 'goods_release', 'other', ?5, ?6, ?3)",
        )?
        .execute(params![
            uuid::Uuid::new_v4().to_string(),
            device,
            ts(now),
            id,
            format!("{} {}", actor.audit_name(), reason.unwrap_or_default()).trim().to_owned(),
            event
        ])?;
    }
    get(tx, id)
}

/// Erases the names, phones, consent and plate of permits written before `cutoff`.
pub fn purge(tx: &Connection, cutoff: &str, now: DateTime<Utc>) -> DeskResult<u64> {
    Ok(tx.execute(
        "UPDATE goods_permits SET applicant_name = NULL, applicant_phone = NULL, consent_how = NULL,
            consent_taken_by = NULL, plate = NULL, credential = NULL, purged_at = ?2
         WHERE purged_at IS NULL AND created_at < ?1",
        params![cutoff, ts(now)],
    )? as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_permit_is_used_once_and_only_an_approved_one_goes_out() {
        use PermitAction as A;
        use PermitState as S;
        for from in S::ALL {
            for action in [A::Approve, A::Refuse, A::Release, A::Stop] {
                let to = custody::step(PERMIT_STEPS, from, action).map(|x| x.to);
                match (from, action) {
                    (S::Requested, A::Approve) => assert_eq!(to, Some(S::Approved)),
                    (S::Requested, A::Refuse) => assert_eq!(to, Some(S::Refused)),
                    (S::Approved, A::Release) => assert_eq!(to, Some(S::Released)),
                    (S::Approved, A::Stop) => assert_eq!(to, Some(S::Stopped)),
                    _ => assert_eq!(to, None, "{from:?} {action:?}"),
                }
            }
        }
    }

    fn permit(state: PermitState) -> Permit {
        Permit {
            id: 7,
            unit_id: 1,
            unit_label: "1-0101".into(),
            applicant: Applicant::Owner,
            applicant_masked: "王*".into(),
            phone_masked: None,
            consent_how: None,
            consent_taken_by: None,
            items: vec![],
            plate: None,
            valid_from: "2026-12-03".parse().unwrap(),
            valid_to: "2026-12-04".parse().unwrap(),
            notes: String::new(),
            state,
            created_at: DateTime::UNIX_EPOCH,
            created_by: String::new(),
            decided_at: None,
            decided_by: None,
            decision_note: None,
            closed_at: Some("2026-12-03T06:02:00Z".parse().unwrap()),
            closed_by: Some(staff_masked("guard:王小明")),
            closed_gate: Some("东门 East gate".into()),
            stop_reason: None,
        }
    }

    #[test]
    fn the_guard_is_told_when_where_and_by_whom_a_permit_was_used() {
        let tz = chrono_tz::Asia::Shanghai;
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let v = verdict(
            &permit(PermitState::Released),
            tz,
            at("2026-12-03T07:00:00Z"),
        );
        assert!(!v.ok);
        assert_eq!(v.code, "already_released");
        assert!(
            v.message
                .contains("already released at 2026-12-03 14:02 at 东门 East gate by guard 王*明"),
            "{}",
            v.message
        );
        let ok = verdict(
            &permit(PermitState::Approved),
            tz,
            at("2026-12-04T15:59:00Z"),
        );
        assert!(ok.ok, "the last minute of the last local day");
        let late = verdict(
            &permit(PermitState::Approved),
            tz,
            at("2026-12-04T16:00:00Z"),
        );
        assert_eq!(late.code, "expired");
        let early = verdict(
            &permit(PermitState::Approved),
            tz,
            at("2026-12-02T15:59:00Z"),
        );
        assert_eq!(early.code, "not_yet_valid");
    }
}
