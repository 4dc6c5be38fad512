//! Keys and radios (对讲机、钥匙登记): the register of things the desk lends and expects back —
//! radios, common-area and plant-room keys, owners' unit keys held in trust, other equipment —
//! each with a QR label the desk scanner reads in the same field as returned cards.
//!
//! An item moves only along [`ITEM_STEPS`] (the custody model cards and permits use); every
//! move is one row of the custody ledger `custody_events` and one audit entry, in one
//! transaction. An item out past its expected return raises one desk alarm. The shift handover
//! lists what is out, and the incoming clerk confirms it (audited).

use super::custody::{self, Step};
use super::desk_error::{DeskError, DeskResult};
use super::privacy;
use crate::audit;
use crate::auth::Actor;
use crate::db::{instant, opt_instant, ts};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// What a printed label's QR code starts with, so the desk's scan field tells an item from a
/// card.
pub const LABEL_PREFIX: &str = "GH-";

/// Where an item stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// At the desk.
    In,
    /// Lent to someone.
    Out,
    /// Declared lost.
    Lost,
    /// A unit's keys handed to its owner at move-in (final).
    HandedOver,
}

impl ItemState {
    const ALL: [ItemState; 4] = [
        ItemState::In,
        ItemState::Out,
        ItemState::Lost,
        ItemState::HandedOver,
    ];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ItemState::In => "in",
            ItemState::Out => "out",
            ItemState::Lost => "lost",
            ItemState::HandedOver => "handed_over",
        }
    }

    /// In words, Chinese and English.
    pub const fn words(self) -> &'static str {
        match self {
            ItemState::In => "在前台 at the desk",
            ItemState::Out => "借出 out",
            ItemState::Lost => "遗失 lost",
            ItemState::HandedOver => "已交业主 handed over",
        }
    }

    fn parse(s: &str) -> ItemState {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .unwrap_or(ItemState::Lost)
    }
}

/// What the desk does to an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemAction {
    /// Lend it.
    CheckOut,
    /// Take it back (also a lost item that turned up).
    CheckIn,
    /// Declare it lost.
    DeclareLost,
    /// Hand a unit's keys to its owner.
    HandOver,
}

impl ItemAction {
    const fn as_str(self) -> &'static str {
        match self {
            ItemAction::CheckOut => "check_out",
            ItemAction::CheckIn => "check_in",
            ItemAction::DeclareLost => "lost",
            ItemAction::HandOver => "hand_over",
        }
    }
}

const fn s(from: ItemState, action: ItemAction, to: ItemState) -> Step<ItemState, ItemAction> {
    Step { from, action, to }
}

/// Every allowed move of an item; anything else is refused.
pub const ITEM_STEPS: &[Step<ItemState, ItemAction>] = &[
    s(ItemState::In, ItemAction::CheckOut, ItemState::Out),
    s(ItemState::In, ItemAction::DeclareLost, ItemState::Lost),
    s(ItemState::In, ItemAction::HandOver, ItemState::HandedOver),
    s(ItemState::Out, ItemAction::CheckIn, ItemState::In),
    s(ItemState::Out, ItemAction::DeclareLost, ItemState::Lost),
    s(ItemState::Lost, ItemAction::CheckIn, ItemState::In),
];

/// The kinds of item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A walkie-talkie (对讲机).
    Radio,
    /// A key to a common area or plant room.
    Key,
    /// An owner's unit keys held in trust (房屋钥匙).
    UnitKey,
    /// Other equipment.
    Equipment,
}

impl ItemKind {
    const fn as_str(self) -> &'static str {
        match self {
            ItemKind::Radio => "radio",
            ItemKind::Key => "key",
            ItemKind::UnitKey => "unit_key",
            ItemKind::Equipment => "equipment",
        }
    }

    fn parse(s: &str) -> ItemKind {
        match s {
            "radio" => ItemKind::Radio,
            "key" => ItemKind::Key,
            "unit_key" => ItemKind::UnitKey,
            _ => ItemKind::Equipment,
        }
    }
}

/// Who an item is lent to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HolderKind {
    /// An estate staff member.
    Staff,
    /// A contractor.
    Contractor,
    /// An owner.
    Owner,
}

/// The state an item comes back in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// As lent.
    Ok,
    /// Damaged.
    Damaged,
    /// Parts missing (a battery, a key off the ring).
    MissingParts,
}

/// An item to register.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewItem {
    /// Radio, key, unit key or equipment.
    pub kind: ItemKind,
    /// What it is, e.g. "对讲机 3 radio 3", "水泵房 pump room".
    pub label: String,
    /// For unit keys: the unit.
    #[serde(default)]
    pub unit_id: Option<i64>,
    /// For unit keys: how many keys are on the ring.
    #[serde(default)]
    pub key_count: Option<u32>,
}

/// An item as the desk sees it, with who holds it (masked).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = CustodyItem)]
pub struct Item {
    /// Its number.
    pub id: i64,
    /// Its kind.
    pub kind: ItemKind,
    /// What it is.
    pub label: String,
    /// The code its QR label carries (`GH-` and six characters).
    pub code: String,
    /// For unit keys: the unit's label.
    pub unit_label: Option<String>,
    /// For unit keys: keys on the ring.
    pub key_count: Option<u32>,
    /// Where it stands.
    pub state: ItemState,
    /// Who holds it (masked), while out or since handed over.
    pub holder_masked: Option<String>,
    /// Staff, contractor or owner.
    pub holder_kind: Option<HolderKind>,
    /// Since when (UTC), while out.
    #[serde(serialize_with = "crate::db::opt_ts_json")]
    pub since: Option<DateTime<Utc>>,
    /// When it is due back (UTC), while out.
    #[serde(serialize_with = "crate::db::opt_ts_json")]
    pub expected_back: Option<DateTime<Utc>>,
    /// Whether it is out past its expected return.
    pub overdue: bool,
    /// Who lent it.
    pub lent_by: Option<String>,
    /// The latest note (a loss, a damage).
    pub note: Option<String>,
}

const ITEM_SQL: &str = "SELECT i.id, i.kind, i.label, i.code, u.label AS unit_label, i.key_count,
    i.state, e.holder_name, e.holder_kind, e.at, e.expected_back, e.by, e.note
    FROM custody_items i LEFT JOIN units u ON u.id = i.unit_id
    LEFT JOIN custody_events e ON e.id = i.last_event";

fn item_from_row(r: &rusqlite::Row<'_>, now: DateTime<Utc>) -> rusqlite::Result<Item> {
    let kind: String = r.get("kind")?;
    let state = ItemState::parse(&r.get::<_, String>("state")?);
    let holder: Option<String> = r.get("holder_name")?;
    let holder_kind: Option<String> = r.get("holder_kind")?;
    let expected = opt_instant(r, "expected_back")?;
    let holding = matches!(state, ItemState::Out | ItemState::HandedOver);
    let overdue = state == ItemState::Out && expected.is_some_and(|t| t <= now);
    Ok(Item {
        id: r.get("id")?,
        kind: ItemKind::parse(&kind),
        label: r.get("label")?,
        code: r.get("code")?,
        unit_label: r.get("unit_label")?,
        key_count: r.get("key_count")?,
        state,
        holder_masked: holder.filter(|_| holding).map(|n| privacy::mask_name(&n)),
        holder_kind: holder_kind
            .filter(|_| holding)
            .and_then(|k| match k.as_str() {
                "staff" => Some(HolderKind::Staff),
                "contractor" => Some(HolderKind::Contractor),
                "owner" => Some(HolderKind::Owner),
                _ => None,
            }),
        since: opt_instant(r, "at")?.filter(|_| holding),
        expected_back: expected.filter(|_| state == ItemState::Out),
        overdue,
        lent_by: r.get::<_, Option<String>>("by")?.filter(|_| holding),
        note: r.get("note")?,
    })
}

/// The item `id`, or 404.
pub fn get(conn: &Connection, id: i64, now: DateTime<Utc>) -> DeskResult<Item> {
    conn.prepare_cached(&format!("{ITEM_SQL} WHERE i.id = ?1"))?
        .query_row(params![id], |r| item_from_row(r, now))
        .optional()?
        .ok_or_else(|| {
            DeskError::NotFound(format!("there is no item {id} (没有编号为 {id} 的物品)"))
        })
}

/// Every item: out ones first (overdue first), then by number.
pub fn list(conn: &Connection, now: DateTime<Utc>) -> DeskResult<Vec<Item>> {
    let mut stmt = conn.prepare(&format!("{ITEM_SQL} ORDER BY i.id"))?;
    let rows = stmt.query_map([], |r| item_from_row(r, now))?;
    let mut items: Vec<Item> = rows.collect::<rusqlite::Result<_>>()?;
    items.sort_by_key(|i| (!i.overdue, i.state != ItemState::Out));
    Ok(items)
}

/// The item a label's code (as scanned or typed) names.
pub fn by_code(conn: &Connection, code: &str, now: DateTime<Utc>) -> DeskResult<Item> {
    let code = privacy::normalise_code(code);
    let id: Option<i64> = conn
        .prepare_cached("SELECT id FROM custody_items WHERE code = ?1")?
        .query_row(params![code], |r| r.get(0))
        .optional()?;
    match id {
        Some(id) => get(conn, id, now),
        None => Err(DeskError::NotFound(format!(
            "no item has the label {code}: check the label (没有标签为 {code} 的物品)"
        ))),
    }
}

/// Registers an item with a new label code; audited.
pub fn register(
    tx: &Connection,
    actor: &Actor,
    new: &NewItem,
    now: DateTime<Utc>,
) -> DeskResult<Item> {
    let label = privacy::required_text("the item's name", &new.label, 60)
        .map_err(|m| DeskError::invalid("invalid", m))?;
    let (unit_id, key_count) = match new.kind {
        ItemKind::UnitKey => {
            let unit = new.unit_id.ok_or_else(|| {
                DeskError::invalid(
                    "unit_required",
                    "unit keys name their unit (房屋钥匙须注明房号)",
                )
            })?;
            let unit = super::units::unit(tx, unit)?;
            let count = new.key_count.unwrap_or(1);
            if !(1..=50).contains(&count) {
                return Err(DeskError::invalid("invalid", "a key ring holds 1–50 keys"));
            }
            (Some(unit.id), Some(count))
        }
        _ => (None, None),
    };
    let code = loop {
        let code = format!("{LABEL_PREFIX}{}", privacy::random_code(6));
        let taken: bool = tx
            .prepare_cached("SELECT EXISTS(SELECT 1 FROM custody_items WHERE code = ?1)")?
            .query_row(params![code], |r| r.get(0))?;
        if !taken {
            break code;
        }
    };
    tx.execute(
        "INSERT INTO custody_items (kind, label, code, unit_id, key_count, state, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, 'in', ?6, ?7)",
        params![new.kind.as_str(), label, code, unit_id, key_count, ts(now), actor.audit_name()],
    )?;
    let id = tx.last_insert_rowid();
    audit::record(
        tx,
        actor,
        "custody.register",
        &format!("item:{id}"),
        serde_json::json!({"kind": new.kind.as_str(), "unit": unit_id, "keys": key_count}),
        now,
    )?;
    get(tx, id, now)
}

/// One move's facts, as the ledger row keeps them.
#[derive(Default)]
struct Entry<'a> {
    holder_name: Option<&'a str>,
    holder_phone: Option<&'a str>,
    holder_kind: Option<HolderKind>,
    expected_back: Option<DateTime<Utc>>,
    condition: Option<Condition>,
    received_by: Option<&'a str>,
    note: Option<&'a str>,
    key_count: Option<u32>,
}

/// Moves `item` by `action` along [`ITEM_STEPS`]: one ledger row, the item's state, one audit
/// entry.
fn apply(
    tx: &Connection,
    actor: &Actor,
    item: &Item,
    action: ItemAction,
    e: &Entry<'_>,
    now: DateTime<Utc>,
) -> DeskResult<Item> {
    let step = custody::step(ITEM_STEPS, item.state, action).ok_or_else(|| {
        DeskError::conflict(
            "item_state",
            format!(
                "{} ({}) is {}: it cannot be {} now ({})",
                item.label,
                item.code,
                item.state.words(),
                action.as_str(),
                match item.state {
                    ItemState::Out => "请先收回 take it back first",
                    ItemState::In => "它在前台 it is at the desk",
                    ItemState::Lost => "如已找回，请扫码收回 scan it in if it turned up",
                    ItemState::HandedOver => "已交业主 it belongs to the owner now",
                }
            ),
        )
    })?;
    let holder_kind = e.holder_kind.map(|k| match k {
        HolderKind::Staff => "staff",
        HolderKind::Contractor => "contractor",
        HolderKind::Owner => "owner",
    });
    let condition = e.condition.map(|c| match c {
        Condition::Ok => "ok",
        Condition::Damaged => "damaged",
        Condition::MissingParts => "missing_parts",
    });
    tx.prepare_cached(
        "INSERT INTO custody_events (item_id, action, at, by, holder_name, holder_phone, holder_kind,
            expected_back, condition, received_by, note, key_count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        item.id,
        action.as_str(),
        ts(now),
        actor.audit_name(),
        e.holder_name,
        e.holder_phone,
        holder_kind,
        e.expected_back.map(ts),
        condition,
        e.received_by,
        e.note,
        e.key_count
    ])?;
    let event = tx.last_insert_rowid();
    tx.prepare_cached("UPDATE custody_items SET state = ?1, last_event = ?2 WHERE id = ?3")?
        .execute(params![step.to.as_str(), event, item.id])?;
    audit::record(
        tx,
        actor,
        &format!("custody.{}", action.as_str()),
        &format!("item:{}", item.id),
        serde_json::json!({"from": step.from, "to": step.to, "event": event, "condition": condition,
            "keys": e.key_count}),
        now,
    )?;
    get(tx, item.id, now)
}

/// Lending an item.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct CheckOut {
    /// Who takes it.
    pub holder_name: String,
    /// Their phone.
    #[serde(default)]
    pub holder_phone: Option<String>,
    /// Staff, contractor or owner.
    pub holder_kind: HolderKind,
    /// When it is due back (UTC).
    pub expected_back: DateTime<Utc>,
}

/// Lends item `id`.
pub fn check_out(
    tx: &Connection,
    actor: &Actor,
    id: i64,
    c: &CheckOut,
    now: DateTime<Utc>,
) -> DeskResult<Item> {
    let item = get(tx, id, now)?;
    if item.kind == ItemKind::UnitKey {
        return Err(DeskError::conflict(
            "unit_key",
            "an owner's unit keys are handed over, not lent (房屋钥匙请用“交付业主”)",
        ));
    }
    let name = privacy::required_text("the holder's name", &c.holder_name, 40)
        .map_err(|m| DeskError::invalid("invalid", m))?;
    let phone = match c.holder_phone.as_deref().map(str::trim) {
        Some(p) if !p.is_empty() => {
            Some(privacy::valid_phone(p).map_err(|m| DeskError::invalid("invalid_phone", m))?)
        }
        _ => None,
    };
    if c.expected_back <= now {
        return Err(DeskError::invalid(
            "invalid_return_time",
            "the expected return is in the future (归还时间须晚于现在)",
        ));
    }
    apply(
        tx,
        actor,
        &item,
        ItemAction::CheckOut,
        &Entry {
            holder_name: Some(&name),
            holder_phone: phone.as_deref(),
            holder_kind: Some(c.holder_kind),
            expected_back: Some(c.expected_back),
            ..Entry::default()
        },
        now,
    )
}

/// Taking an item back.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct CheckIn {
    /// The label's code, as scanned or typed.
    pub code: String,
    /// The state it came back in.
    pub condition: Condition,
    /// Who took it back (default: the logged-in clerk).
    #[serde(default)]
    pub received_by: Option<String>,
    /// A note (what is damaged or missing).
    #[serde(default)]
    pub note: Option<String>,
}

/// Takes back the item a scanned label names (also a lost one that turned up).
pub fn check_in(
    tx: &Connection,
    actor: &Actor,
    c: &CheckIn,
    now: DateTime<Utc>,
) -> DeskResult<Item> {
    let item = by_code(tx, &c.code, now)?;
    let note = c
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| privacy::required_text("the note", n, 200))
        .transpose()
        .map_err(|m| DeskError::invalid("invalid", m))?;
    if c.condition != Condition::Ok && note.is_none() {
        return Err(DeskError::invalid(
            "note_required",
            "say what is damaged or missing (请注明损坏或缺少的部分)",
        ));
    }
    let by = actor.audit_name();
    let received_by = c
        .received_by
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or(&by);
    apply(
        tx,
        actor,
        &item,
        ItemAction::CheckIn,
        &Entry {
            condition: Some(c.condition),
            received_by: Some(received_by),
            note: note.as_deref(),
            ..Entry::default()
        },
        now,
    )
}

/// Declares item `id` lost with a note.
pub fn declare_lost(
    tx: &Connection,
    actor: &Actor,
    id: i64,
    note: &str,
    now: DateTime<Utc>,
) -> DeskResult<Item> {
    let note = privacy::required_text("the note", note, 200)
        .map_err(|_| DeskError::invalid("note_required", "say how it was lost (请注明遗失情况)"))?;
    let item = get(tx, id, now)?;
    apply(
        tx,
        actor,
        &item,
        ItemAction::DeclareLost,
        &Entry {
            note: Some(&note),
            ..Entry::default()
        },
        now,
    )
}

/// Handing a unit's keys to its owner at move-in.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct HandOver {
    /// The owner's name.
    pub owner_name: String,
    /// How many keys the owner received (counted together).
    pub key_count: u32,
}

/// Hands unit keys `id` to the owner with the count of keys; refused when the count differs
/// from the ring's.
pub fn hand_over(
    tx: &Connection,
    actor: &Actor,
    id: i64,
    h: &HandOver,
    now: DateTime<Utc>,
) -> DeskResult<Item> {
    let item = get(tx, id, now)?;
    if item.kind != ItemKind::UnitKey {
        return Err(DeskError::conflict(
            "not_unit_keys",
            "only an owner's unit keys are handed over (只有房屋钥匙可交付业主)",
        ));
    }
    if Some(h.key_count) != item.key_count {
        return Err(DeskError::conflict(
            "key_count_differs",
            format!(
                "the ring was registered with {} key(s), {} counted: count again, or record what is missing (钥匙数量不符)",
                item.key_count.unwrap_or(0),
                h.key_count
            ),
        ));
    }
    let name = privacy::required_text("the owner's name", &h.owner_name, 40)
        .map_err(|m| DeskError::invalid("invalid", m))?;
    apply(
        tx,
        actor,
        &item,
        ItemAction::HandOver,
        &Entry {
            holder_name: Some(&name),
            holder_kind: Some(HolderKind::Owner),
            key_count: Some(h.key_count),
            ..Entry::default()
        },
        now,
    )
}

/// Items out now (what the shift hands over), overdue first.
pub fn out_now(conn: &Connection, now: DateTime<Utc>) -> DeskResult<Vec<Item>> {
    Ok(list(conn, now)?
        .into_iter()
        .filter(|i| i.state == ItemState::Out)
        .collect())
}

/// An overdue item the desk is told about once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OverdueItem {
    /// The item.
    #[serde(flatten)]
    pub item: Item,
    /// When the server noticed (UTC).
    #[serde(serialize_with = "crate::db::ts_json")]
    pub raised_at: DateTime<Utc>,
}

/// Raises the alarm once for each loan that became overdue (audited as `custody.overdue`), and
/// returns the ones not acknowledged. A loan that ended is no longer shown.
pub fn overdue_alarms(tx: &Connection, now: DateTime<Utc>) -> DeskResult<Vec<OverdueItem>> {
    let system = Actor::System("overdue");
    let mut shown = Vec::new();
    for item in out_now(tx, now)?.into_iter().filter(|i| i.overdue) {
        let event: i64 = tx
            .prepare_cached("SELECT last_event FROM custody_items WHERE id = ?1")?
            .query_row(params![item.id], |r| r.get("last_event"))?;
        let raised = tx
            .prepare_cached(
                "INSERT INTO custody_overdue (event_id, raised_at) VALUES (?1, ?2) ON CONFLICT(event_id) DO NOTHING",
            )?
            .execute(params![event, ts(now)])?;
        if raised == 1 {
            audit::record(
                tx,
                &system,
                "custody.overdue",
                &format!("item:{}", item.id),
                serde_json::json!({"event": event}),
                now,
            )?;
        }
        let (raised_at, seen): (DateTime<Utc>, Option<String>) = tx
            .prepare_cached(
                "SELECT raised_at, acknowledged_at FROM custody_overdue WHERE event_id = ?1",
            )?
            .query_row(params![event], |r| {
                Ok((instant(r, "raised_at")?, r.get("acknowledged_at")?))
            })?;
        if seen.is_none() {
            shown.push(OverdueItem { item, raised_at });
        }
    }
    Ok(shown)
}

/// A staff member has seen item `id`'s overdue alarm (audited once).
pub fn acknowledge_overdue(
    tx: &Connection,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> DeskResult<()> {
    let changed = tx
        .prepare_cached(
            "UPDATE custody_overdue SET acknowledged_by = ?1, acknowledged_at = ?2
             WHERE acknowledged_at IS NULL AND event_id = (SELECT last_event FROM custody_items WHERE id = ?3)",
        )?
        .execute(params![actor.audit_name(), ts(now), id])?;
    if changed == 0 {
        return Err(DeskError::NotFound(format!(
            "item {id} has no overdue alarm to acknowledge"
        )));
    }
    audit::record(
        tx,
        actor,
        "custody.overdue_acknowledge",
        &format!("item:{id}"),
        serde_json::json!({}),
        now,
    )?;
    Ok(())
}

/// A confirmed shift handover.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Handover {
    /// Its number.
    pub id: i64,
    /// When confirmed (UTC).
    #[serde(serialize_with = "crate::db::ts_json")]
    pub at: DateTime<Utc>,
    /// The clerk going off shift.
    pub outgoing: String,
    /// The clerk who confirmed (coming on shift).
    pub incoming: String,
    /// Items out at the handover.
    pub items_out: u32,
    /// Of them, overdue.
    pub overdue: u32,
}

/// The incoming clerk confirms they took over the list of items out from `outgoing`.
pub fn confirm_handover(
    tx: &Connection,
    actor: &Actor,
    outgoing: &str,
    now: DateTime<Utc>,
) -> DeskResult<Handover> {
    let outgoing = privacy::required_text("the outgoing clerk", outgoing, 40)
        .map_err(|m| DeskError::invalid("invalid", m))?;
    let me = actor
        .staff()
        .map(|s| s.username.clone())
        .unwrap_or_default();
    if outgoing == me {
        return Err(DeskError::conflict(
            "same_clerk",
            "the incoming clerk confirms the handover, not the one going off shift (请由接班人确认)",
        ));
    }
    let out = out_now(tx, now)?;
    let overdue = out.iter().filter(|i| i.overdue).count() as u32;
    let items: Vec<i64> = out.iter().map(|i| i.id).collect();
    tx.execute(
        "INSERT INTO shift_handovers (at, outgoing, incoming, items_out, overdue) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![ts(now), outgoing, actor.audit_name(), out.len() as u32, overdue],
    )?;
    let id = tx.last_insert_rowid();
    // The sheet lists worker cards out and visitors on site too: the audit names them all.
    let cards: Vec<u32> = super::card::outstanding(tx, now)?
        .iter()
        .map(|o| o.card.card_id)
        .collect();
    let visitors: Vec<u32> = super::visitor::on_site(tx, now)?
        .iter()
        .map(|v| v.card_id)
        .collect();
    audit::record(
        tx,
        actor,
        "custody.handover",
        &format!("handover:{id}"),
        serde_json::json!({"outgoing": outgoing, "items_out": items, "overdue": overdue,
            "cards_out": cards, "visitors_on_site": visitors}),
        now,
    )?;
    Ok(Handover {
        id,
        at: now,
        outgoing,
        incoming: actor.audit_name(),
        items_out: out.len() as u32,
        overdue,
    })
}

/// The latest handovers, newest first.
pub fn handovers(conn: &Connection, limit: u32) -> DeskResult<Vec<Handover>> {
    let mut stmt = conn.prepare(
        "SELECT id, at, outgoing, incoming, items_out, overdue FROM shift_handovers ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map(params![limit], |r| {
        Ok(Handover {
            id: r.get("id")?,
            at: instant(r, "at")?,
            outgoing: r.get("outgoing")?,
            incoming: r.get("incoming")?,
            items_out: r.get("items_out")?,
            overdue: r.get("overdue")?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Erases the names and phones of loans that ended before `cutoff` (a loan still out keeps
/// its holder, and so does a hand-over, which is the unit's record until it is purged by age).
pub fn purge(tx: &Connection, cutoff: &str, now: DateTime<Utc>) -> DeskResult<u64> {
    Ok(tx.execute(
        "UPDATE custody_events SET holder_name = NULL, holder_phone = NULL, received_by = NULL, purged_at = ?2
         WHERE purged_at IS NULL AND at < ?1
           AND NOT (action = 'check_out' AND id IN (SELECT last_event FROM custody_items WHERE state = 'out'))",
        params![cutoff, ts(now)],
    )? as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_comes_back_from_out_or_lost_and_handed_over_keys_are_final() {
        for from in ItemState::ALL {
            for action in [
                ItemAction::CheckOut,
                ItemAction::CheckIn,
                ItemAction::DeclareLost,
                ItemAction::HandOver,
            ] {
                let to = custody::step(ITEM_STEPS, from, action).map(|x| x.to);
                if action == ItemAction::CheckIn {
                    assert_eq!(
                        to.is_some(),
                        matches!(from, ItemState::Out | ItemState::Lost),
                        "{from:?}"
                    );
                }
                if from == ItemState::HandedOver {
                    assert_eq!(to, None, "{action:?}");
                }
                if action == ItemAction::CheckOut {
                    assert_eq!(to.is_some(), from == ItemState::In, "only from the desk");
                }
            }
        }
    }
}
