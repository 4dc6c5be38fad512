//! Cards: worker cards (人员临时出入卡) and visitor passes as signed credentials, and every
//! change of their state — reprint, return, lost, revoke, sign-out — each in one transaction
//! with its audit entry and the gate change that makes it take effect at the doors.

use super::custody::{self, Action, CardState, Fee, Refusal};
use super::desk_error::{DeskError, DeskResult};
use super::ledger::{self, LedgerLine};
use super::refund::CardFacts;
use super::renovation;
use super::settings;
use crate::auth::Actor;
use crate::db::{instant, opt_instant, ts};
use crate::keys::SigningKeys;
use crate::{audit, changes};
use chrono::{DateTime, NaiveDate, Utc};
use gatehouse_credential::api::gate::{ChangeEvent, RevocationReason};
use gatehouse_credential::{
    BuildingScope, CardId, Claims, Kind, ScheduleId, UtcMinute, ZoneClass, ZoneClasses, ZoneScope,
};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// The schedule worker cards carry: the estate's renovation hours.
pub const WORKER_SCHEDULE: u8 = 1;

/// A card as the desk sees it (no credential text: it is shown once, at issue).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Card {
    /// The card's number.
    pub card_id: u32,
    /// Worker or visitor.
    pub kind: Kind,
    /// The worker it belongs to.
    pub worker_id: Option<i64>,
    /// The visitor it belongs to.
    pub visitor_id: Option<i64>,
    /// The short id people type.
    pub short_id: String,
    /// Its state.
    pub state: CardState,
    /// Start of validity (UTC).
    pub not_before: DateTime<Utc>,
    /// End as printed (UTC, exclusive).
    pub printed_not_after: DateTime<Utc>,
    /// End as extended (UTC, exclusive).
    pub not_after: DateTime<Utc>,
    /// When issued.
    pub issued_at: DateTime<Utc>,
    /// Who issued it.
    pub issued_by: String,
    /// When its state last changed.
    pub ended_at: Option<DateTime<Utc>>,
    /// Who changed it.
    pub ended_by: Option<String>,
    /// The card printed in its place, after a reprint.
    pub replaced_by: Option<u32>,
}

/// A newly issued card with its credential text (shown and printed once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Issued {
    /// The card.
    pub card: Card,
    /// The credential text the QR code carries.
    pub credential: String,
}

const CARD_COLUMNS: &str =
    "id, kind, worker_id, visitor_id, short_id, state, not_before, printed_not_after, not_after,
    issued_at, issued_by, ended_at, ended_by, replaced_by";

fn card_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Card> {
    let kind: String = r.get("kind")?;
    let state: String = r.get("state")?;
    let minute =
        |c: &str| -> rusqlite::Result<DateTime<Utc>> { Ok(UtcMinute(r.get(c)?).to_datetime()) };
    Ok(Card {
        card_id: r.get("id")?,
        kind: if kind == "visitor" {
            Kind::Visitor
        } else {
            Kind::Worker
        },
        worker_id: r.get("worker_id")?,
        visitor_id: r.get("visitor_id")?,
        short_id: r.get("short_id")?,
        state: CardState::parse(&state).unwrap_or(CardState::Revoked),
        not_before: minute("not_before")?,
        printed_not_after: minute("printed_not_after")?,
        not_after: minute("not_after")?,
        issued_at: instant(r, "issued_at")?,
        issued_by: r.get("issued_by")?,
        ended_at: opt_instant(r, "ended_at")?,
        ended_by: r.get("ended_by")?,
        replaced_by: r.get("replaced_by")?,
    })
}

/// The card `id`, or 404.
pub fn get(conn: &Connection, id: u32) -> DeskResult<Card> {
    conn.query_row(
        &format!("SELECT {CARD_COLUMNS} FROM cards WHERE id = ?1"),
        params![id],
        card_from_row,
    )
    .optional()?
    .ok_or_else(|| DeskError::NotFound(format!("there is no card {id}")))
}

/// The cards of a renovation's workers, by number.
pub fn of_renovation(conn: &Connection, renovation_id: i64) -> DeskResult<Vec<Card>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {CARD_COLUMNS} FROM cards WHERE worker_id IN (SELECT id FROM workers WHERE renovation_id = ?1) ORDER BY id"
    ))?;
    let rows = stmt.query_map(params![renovation_id], card_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// What the refund rules need of a renovation's cards.
pub fn facts(cards: &[Card]) -> Vec<CardFacts> {
    cards
        .iter()
        .map(|c| CardFacts {
            card_id: c.card_id,
            state: c.state,
        })
        .collect()
}

/// Who holds a card and for what, for the card's row on paper and screen.
pub struct NewCard {
    /// Worker or visitor.
    pub kind: Kind,
    /// The worker, for a worker card.
    pub worker_id: Option<i64>,
    /// The visitor, for a visitor pass.
    pub visitor_id: Option<i64>,
    /// First minute valid.
    pub not_before: UtcMinute,
    /// End (exclusive).
    pub not_after: UtcMinute,
    /// The building of the unit.
    pub building: u8,
    /// The floor of the unit.
    pub floor: i8,
}

impl NewCard {
    /// The scope the contract fixes: workers get entrance, their floor and the service lift;
    /// visitors the entrance, the floor and the passenger lift.
    fn claims(&self, card_id: u32) -> Claims {
        let (classes, schedule) = match self.kind {
            Kind::Worker => (
                ZoneClasses::of(&[
                    ZoneClass::Entrance,
                    ZoneClass::Floor,
                    ZoneClass::ServiceElevator,
                ]),
                ScheduleId::new(WORKER_SCHEDULE),
            ),
            _ => (
                ZoneClasses::of(&[
                    ZoneClass::Entrance,
                    ZoneClass::Floor,
                    ZoneClass::PassengerElevator,
                ]),
                None,
            ),
        };
        Claims {
            kind: self.kind,
            card_id: CardId(card_id),
            not_before: self.not_before,
            not_after: self.not_after,
            schedule,
            scope: ZoneScope {
                building: BuildingScope::One(self.building),
                floor_lo: self.floor,
                floor_hi: self.floor,
                classes,
            },
        }
    }
}

fn new_short_id(tx: &Connection) -> rusqlite::Result<String> {
    loop {
        let code = super::privacy::random_code(6);
        let taken: bool = tx
            .prepare_cached("SELECT EXISTS(SELECT 1 FROM cards WHERE short_id = ?1) AS taken")?
            .query_row(params![code], |r| r.get("taken"))?;
        if !taken {
            return Ok(code);
        }
    }
}

/// Stores and signs a new card; audits it as `action`.
pub fn issue(
    tx: &Connection,
    signer: &SigningKeys,
    actor: &Actor,
    new: &NewCard,
    now: DateTime<Utc>,
) -> DeskResult<Issued> {
    if new.not_after <= new.not_before {
        return Err(DeskError::conflict(
            "period_over",
            "the card's validity period is already over",
        ));
    }
    let short_id = new_short_id(tx)?;
    let kind = if new.kind == Kind::Visitor {
        "visitor"
    } else {
        "worker"
    };
    tx.prepare_cached("INSERT INTO cards (kind, worker_id, visitor_id, short_id, state, not_before, printed_not_after, not_after, issued_at, issued_by)
         VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?6, ?6, ?7, ?8)")?.execute(params![kind, new.worker_id, new.visitor_id, short_id, new.not_before.0, new.not_after.0, ts(now), actor.audit_name()],
    )?;
    let card_id = u32::try_from(tx.last_insert_rowid())
        .map_err(|_| DeskError::conflict("card_numbers_exhausted", "no card numbers are left"))?;
    let signed = signer.issue(tx, &new.claims(card_id))?;
    // Which key signed it decides when that key may be retired.
    tx.execute(
        "UPDATE cards SET key_id = ?1 WHERE id = ?2",
        params![signed.key_id.get(), card_id],
    )?;
    let credential = signed.text;
    audit::record(
        tx,
        actor,
        "card.issue",
        &format!("card:{card_id}"),
        serde_json::json!({"kind": kind, "worker": new.worker_id, "visitor": new.visitor_id, "not_after": new.not_after.0}),
        now,
    )?;
    Ok(Issued {
        card: get(tx, card_id)?,
        credential,
    })
}

/// The validity of a new worker card of `renovation_id` issued at `now`.
fn worker_card(
    tx: &Connection,
    worker_id: i64,
    now: DateTime<Utc>,
    overdue_override: Option<(&Actor, &str)>,
) -> DeskResult<NewCard> {
    let renovation_id: i64 = tx
        .query_row(
            "SELECT renovation_id FROM workers WHERE id = ?1 AND purged_at IS NULL",
            params![worker_id],
            |r| r.get("renovation_id"),
        )
        .optional()?
        .ok_or_else(|| DeskError::NotFound(format!("there is no worker {worker_id}")))?;
    let r = renovation::get(tx, renovation_id)?;
    renovation::allows(&r, renovation::Activity::IssueCard)?;
    let overdue = overdue_of(tx, &r, now)?;
    if !overdue.is_empty() {
        match overdue_override {
            Some((actor @ Actor::Manager(_), reason)) if !reason.trim().is_empty() => {
                audit::record(
                    tx,
                    actor,
                    "card.overdue_override",
                    &format!("renovation:{}", r.id),
                    serde_json::json!({"worker": worker_id, "overdue_cards": overdue, "reason": reason.trim()}),
                    now,
                )?;
            }
            _ => {
                return Err(DeskError::conflict(
                    "cards_overdue",
                    format!(
                        "card(s) {} of renovation {} are overdue (still out after their end): get them back (call the contractor) before issuing new cards, or ask a manager to override with a reason",
                        overdue
                            .iter()
                            .map(u32::to_string)
                            .collect::<Vec<_>>()
                            .join(", "),
                        r.id,
                    ),
                ));
            }
        }
    }
    let tz = settings::time_zone(tx)?;
    let start = settings::local_midnight(tz, r.start_date).max(now);
    let not_before = UtcMinute::floor(start)
        .ok_or_else(|| DeskError::invalid("invalid", "the start is out of range"))?;
    let not_after = renovation::card_end(tx, r.end_date)?;
    if not_after <= not_before {
        return Err(DeskError::conflict(
            "period_over",
            format!(
                "renovation {} ended on {}; extend it before issuing cards",
                r.id, r.end_date
            ),
        ));
    }
    Ok(NewCard {
        kind: Kind::Worker,
        worker_id: Some(worker_id),
        visitor_id: None,
        not_before,
        not_after,
        building: r.unit.building,
        floor: r.unit.floor,
    })
}

/// Issues a worker's card; refused while the worker still holds an active one, and while a
/// card of the renovation is overdue unless a manager overrides with `overdue_override` (a
/// reason, audited).
pub fn issue_worker_card(
    tx: &Connection,
    signer: &SigningKeys,
    actor: &Actor,
    worker_id: i64,
    overdue_override: Option<&str>,
    now: DateTime<Utc>,
) -> DeskResult<Issued> {
    let active: Option<u32> = tx
        .query_row(
            "SELECT id FROM cards WHERE worker_id = ?1 AND state = 'active'",
            params![worker_id],
            |r| r.get("id"),
        )
        .optional()?;
    if let Some(id) = active {
        return Err(DeskError::conflict(
            "card_active",
            format!("worker {worker_id} already holds active card {id}; reprint it instead"),
        ));
    }
    let new = worker_card(
        tx,
        worker_id,
        now,
        overdue_override.map(|reason| (actor, reason)),
    )?;
    issue(tx, signer, actor, &new, now)
}

/// The gate's reason for a card that stops opening doors by moving to `to`.
fn gate_reason(to: CardState) -> RevocationReason {
    match to {
        CardState::Returned => RevocationReason::Returned,
        CardState::Lost => RevocationReason::Lost,
        CardState::Reissued => RevocationReason::Reissued,
        CardState::SignedOut => RevocationReason::SignedOut,
        CardState::Active | CardState::Revoked => RevocationReason::Revoked,
    }
}

/// The renovation a worker card belongs to.
fn renovation_of(tx: &Connection, card: &Card) -> DeskResult<Option<i64>> {
    let Some(worker_id) = card.worker_id else {
        return Ok(None);
    };
    Ok(Some(
        tx.prepare_cached("SELECT renovation_id FROM workers WHERE id = ?1")?
            .query_row(params![worker_id], |r| r.get("renovation_id"))?,
    ))
}

/// The refusal of `action` on `card` as the clerk reads it: the card, its state, what to do.
fn refused(card: &Card, action: Action, why: Refusal) -> DeskError {
    let since = match (&card.ended_at, &card.ended_by) {
        (Some(at), Some(by)) => format!(" since {} ({by})", ts(*at)),
        _ => String::new(),
    };
    // The kiosk reads a pass already signed out by this code.
    let code = match (card.kind, why) {
        (Kind::Visitor, Refusal::AlreadyBack) => "card_not_active",
        _ => why.code(),
    };
    DeskError::conflict(
        code,
        format!(
            "card {} ({}) is {}{}{since}: {}",
            card.card_id,
            card.short_id,
            if why == Refusal::WrongKind {
                ""
            } else {
                "already "
            },
            card.state.words(),
            custody::advice(why, action, card.state)
        ),
    )
    .with_details(serde_json::json!({
        "card_id": card.card_id,
        "state": card.state.as_str(),
        "since": card
            .ended_at
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "by": card.ended_by,
    }))
}

/// Moves `card` by `action` through the custody table: its new state and who made it, the
/// gate change if it stopped opening doors, the lost-card fee charged or reversed, the audit
/// entry. `fee_cents` is the fee a move into `lost` charges.
fn apply(
    tx: &Connection,
    actor: &Actor,
    card: &Card,
    action: Action,
    fee_cents: i64,
    now: DateTime<Utc>,
) -> DeskResult<Option<LedgerLine>> {
    let step = custody::next(card.state, card.kind == Kind::Visitor, action)
        .map_err(|why| refused(card, action, why))?;
    tx.prepare_cached("UPDATE cards SET state = ?1, ended_at = ?2, ended_by = ?3 WHERE id = ?4")?
        .execute(params![
            step.to.as_str(),
            ts(now),
            actor.audit_name(),
            card.card_id
        ])?;
    if step.from.opens_doors() {
        let not_after = UtcMinute::floor(card.not_after).unwrap_or(UtcMinute(0));
        changes::append(
            tx,
            &ChangeEvent::Revoked {
                card_id: CardId(card.card_id),
                reason: gate_reason(step.to),
                not_after,
            },
            now,
        )?;
    }
    audit::record(
        tx,
        actor,
        &format!("card.{}", step.to.as_str()),
        &format!("card:{}", card.card_id),
        serde_json::json!({"from": step.from, "reason": gate_reason(step.to)}),
        now,
    )?;
    let renovation = renovation_of(tx, card)?;
    Ok(match (step.fee, renovation) {
        (Fee::Charge, Some(r)) => Some(ledger::charge_card_fee(
            tx,
            actor,
            r,
            card.card_id,
            fee_cents,
            now,
        )?),
        (Fee::Reverse, Some(r)) => ledger::reverse_card_fee(tx, actor, r, card.card_id, now)?,
        _ => None,
    })
}

/// Reprints a worker card: the old one is superseded (`reissued`, dead at every gate, still
/// returnable), a new one with the same end is issued.
pub fn reprint(
    tx: &Connection,
    signer: &SigningKeys,
    actor: &Actor,
    card_id: u32,
    now: DateTime<Utc>,
) -> DeskResult<Issued> {
    let old = get(tx, card_id)?;
    let worker_id = match (old.kind, old.worker_id) {
        (Kind::Worker, Some(w)) => w,
        _ => return Err(refused(&old, Action::Reprint, Refusal::WrongKind)),
    };
    custody::next(old.state, false, Action::Reprint)
        .map_err(|why| refused(&old, Action::Reprint, why))?;
    let new = worker_card(tx, worker_id, now, None)?;
    apply(tx, actor, &old, Action::Reprint, 0, now)?;
    let issued = issue(tx, signer, actor, &new, now)?;
    tx.prepare_cached("UPDATE cards SET replaced_by = ?1 WHERE id = ?2")?
        .execute(params![issued.card.card_id, card_id])?;
    Ok(issued)
}

/// How the desk names a card: the scanned credential text, or what the clerk typed from the
/// card (its number, or the code printed after 编号 No.).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CardRef {
    /// The text the desk scanner read.
    Scan(String),
    /// The card's number.
    Number(u32),
    /// The short code printed on the card.
    Code(String),
}

impl CardRef {
    /// Reads what was typed or scanned into one field: a credential-length text is a scan;
    /// `#12` or `12` a card number; six characters of the printed alphabet the short code.
    pub fn from_field(text: &str) -> DeskResult<CardRef> {
        let t = text.trim();
        if t.is_empty() {
            return Err(DeskError::invalid(
                "card_required",
                "scan the card, or type the number printed after 编号 No.",
            ));
        }
        if t.chars().count() > 16 {
            return Ok(CardRef::Scan(t.to_owned()));
        }
        let code = super::privacy::normalise_code(t);
        if code.len() == SHORT_ID_LEN && code.bytes().all(|b| SHORT_ID_ALPHABET.contains(&b)) {
            return Ok(CardRef::Code(code));
        }
        let digits = t.trim_start_matches(['#', '№']).trim();
        match digits.parse::<u32>() {
            Ok(n) => Ok(CardRef::Number(n)),
            Err(_) => Err(DeskError::invalid(
                "unreadable_card",
                format!(
                    "\"{t}\" is neither a card number nor the code printed on a card: type the code after 编号 No. (6 letters and digits) or scan the card again"
                ),
            )),
        }
    }
}

/// The length of the short code printed on a card.
const SHORT_ID_LEN: usize = 6;
/// The characters of a short code (no 0, O, 1, I or L to misread).
const SHORT_ID_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// The card `r` names: a scan is verified against the published keys first.
pub fn find(tx: &Connection, signer: &SigningKeys, r: &CardRef) -> DeskResult<Card> {
    match r {
        CardRef::Scan(text) => {
            let credential = signer.ring(tx)?.verify(text.trim()).map_err(|_| {
                DeskError::invalid(
                    "unreadable_card",
                    "the scan is not a card of this estate, or it was read incompletely: scan it again, or type the code printed after 编号 No.",
                )
            })?;
            get(tx, credential.claims.card_id.0)
        }
        CardRef::Number(n) => get(tx, *n).map_err(|_| {
            DeskError::NotFound(format!(
                "there is no card {n}: check the number, or type the code printed after 编号 No. (没有卡号为 {n} 的卡：请核对，或输入卡上“编号”后的代码)"
            ))
        }),
        CardRef::Code(code) => {
            let id: Option<u32> = tx
                .prepare_cached("SELECT id FROM cards WHERE short_id = ?1")?
                .query_row(params![code], |r| r.get("id"))
                .optional()?;
            match (id, code.parse::<u32>()) {
                (Some(id), _) => get(tx, id),
                // Six digits that are no card's code may still be a card number.
                (None, Ok(n)) => find(tx, signer, &CardRef::Number(n)),
                (None, Err(_)) => Err(DeskError::NotFound(format!(
                    "no card has the code {code}: check it against the card (编号 No.) (没有编号为 {code} 的卡：请与卡上的编号核对)"
                ))),
            }
        }
    }
}

/// A card with who holds it and for which renovation, masked, for the desk to confirm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CardView {
    /// The card.
    #[serde(flatten)]
    pub card: Card,
    /// The holder's name, masked.
    pub holder_masked: String,
    /// The renovation of a worker card.
    pub renovation_id: Option<i64>,
    /// Its kiosk code.
    pub renovation_code: Option<String>,
    /// The unit.
    pub unit_label: String,
}

/// A holder's name, renovation id and code, and unit label, as [`view`]'s queries name them.
type Holder = (Option<String>, Option<i64>, Option<String>, String);

fn holder_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Holder> {
    Ok((
        r.get("name")?,
        r.get("renovation_id")?,
        r.get("code")?,
        r.get("label")?,
    ))
}

/// `card` with its holder and renovation.
pub fn view(tx: &Connection, card: Card) -> DeskResult<CardView> {
    let (name, renovation_id, renovation_code, unit_label): Holder =
        match (card.worker_id, card.visitor_id) {
            (Some(w), _) => tx
                .prepare_cached(
                    "SELECT w.name, r.id AS renovation_id, r.code, u.label FROM workers w
                 JOIN renovations r ON r.id = w.renovation_id JOIN units u ON u.id = r.unit_id
                 WHERE w.id = ?1",
                )?
                .query_row(params![w], holder_row)?,
            (None, Some(v)) => tx
                .prepare_cached(
                    "SELECT v.name, NULL AS renovation_id, NULL AS code, u.label FROM visitors v
                 JOIN units u ON u.id = v.unit_id WHERE v.id = ?1",
                )?
                .query_row(params![v], holder_row)?,
            (None, None) => (None, None, None, String::new()),
        };
    Ok(CardView {
        holder_masked: name
            .map(|n| super::privacy::mask_name(&n))
            .unwrap_or_default(),
        renovation_id,
        renovation_code,
        unit_label,
        card,
    })
}

/// A card taken back at the desk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Returned {
    /// The card as it is now, with holder and renovation.
    #[serde(flatten)]
    pub view: CardView,
    /// The state it was in before (a revoked, lost or superseded card comes back too).
    pub was: CardState,
    /// The lost-card fee reversed because the card is back, in cents.
    pub fee_reversed_cents: Option<i64>,
}

/// Takes back the card `r` names, whatever happened to it (revoked, lost, superseded,
/// expired): it is returned (a visitor pass: signed out), stops at every gate if it still
/// opened doors, and a lost card's fee is reversed.
pub fn take_back(
    tx: &Connection,
    signer: &SigningKeys,
    actor: &Actor,
    r: &CardRef,
    now: DateTime<Utc>,
) -> DeskResult<Returned> {
    let card = find(tx, signer, r)?;
    let was = card.state;
    let reversed = apply(tx, actor, &card, Action::Return, 0, now)?;
    if card.kind == Kind::Visitor {
        tx.prepare_cached("UPDATE visitors SET signed_out_at = ?1 WHERE id = ?2")?
            .execute(params![ts(now), card.visitor_id])?;
    }
    Ok(Returned {
        view: view(tx, get(tx, card.card_id)?)?,
        was,
        fee_reversed_cents: reversed.map(|l| l.amount_cents),
    })
}

/// Takes back the card whose credential text was scanned.
pub fn return_scanned(
    tx: &Connection,
    signer: &SigningKeys,
    actor: &Actor,
    text: &str,
    now: DateTime<Utc>,
) -> DeskResult<Card> {
    Ok(
        take_back(tx, signer, actor, &CardRef::Scan(text.to_owned()), now)?
            .view
            .card,
    )
}

/// Revokes a card (staff decision; the card has not come back).
pub fn revoke(
    tx: &Connection,
    actor: &Actor,
    card_id: u32,
    now: DateTime<Utc>,
) -> DeskResult<Card> {
    let card = get(tx, card_id)?;
    apply(tx, actor, &card, Action::Revoke, 0, now)?;
    get(tx, card_id)
}

/// Signs a visitor pass out.
pub fn sign_out(
    tx: &Connection,
    actor: &Actor,
    card_id: u32,
    now: DateTime<Utc>,
) -> DeskResult<Card> {
    let card = get(tx, card_id)?;
    if card.kind != Kind::Visitor {
        return Err(DeskError::conflict(
            "not_a_visitor_pass",
            format!("card {card_id} is a worker card; return it at the desk"),
        ));
    }
    apply(tx, actor, &card, Action::SignOut, 0, now)?;
    tx.prepare_cached("UPDATE visitors SET signed_out_at = ?1 WHERE id = ?2")?
        .execute(params![ts(now), card.visitor_id])?;
    get(tx, card_id)
}

/// The replacement fee of a lost card: the `lost_card_fee_cents` setting, else 50 yuan.
pub fn default_fee(tx: &Connection) -> DeskResult<i64> {
    Ok(settings::lost_card_fee_cents(tx)?)
}

/// Declares a worker card lost: it stops at every gate at once if it still opened doors, and
/// the replacement fee is deducted from the deposit (shown as owed if the deposit does not
/// cover it). A revoked or superseded card that never came back may be declared lost too.
pub fn declare_lost(
    tx: &Connection,
    actor: &Actor,
    card_id: u32,
    fee_cents: Option<i64>,
    now: DateTime<Utc>,
) -> DeskResult<Card> {
    let card = get(tx, card_id)?;
    let fee = match fee_cents {
        Some(f) => f,
        None => default_fee(tx)?,
    };
    if !(1..=super::ledger::MAX_AMOUNT_CENTS).contains(&fee) {
        return Err(DeskError::invalid(
            "invalid",
            "fee_cents must be more than 0 (and at most 10 million yuan)",
        ));
    }
    if let Some(r) = renovation_of(tx, &card)? {
        if renovation::get(tx, r)?.status == renovation::Status::Refunded {
            return Err(DeskError::conflict(
                "renovation_closed",
                format!("renovation {r} was refunded and is closed; card {card_id} stays as it is"),
            ));
        }
    }
    apply(tx, actor, &card, Action::DeclareLost, fee, now)?;
    get(tx, card_id)
}

/// Whose a worker card not back is, and whom to call about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CardOut {
    /// The renovation's id.
    pub renovation_id: i64,
    /// The renovation's kiosk code.
    pub renovation_code: String,
    /// The unit.
    pub unit_label: String,
    /// The worker's masked name.
    pub holder_masked: String,
    /// The renovation's last day (as extended).
    pub renovation_end: NaiveDate,
    /// The contractor, to call about an overdue card.
    pub contractor: Option<String>,
    /// The site supervisor's phone, for an overdue card only (the desk calls it).
    pub contact_phone: Option<String>,
}

/// A worker card not back at the desk, for the desk's outstanding list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Outstanding {
    /// The card.
    pub card: Card,
    /// Whose it is.
    #[serde(flatten)]
    pub out: CardOut,
    /// Whether the card's end has passed (the renovation's end with extensions; a revoked
    /// card keeps its end): it should be back.
    pub overdue: bool,
}

/// Whether a card not back is overdue at `now`: past the end it was valid to — the
/// renovation's end with its extensions for a card in use; a revoked card keeps the end it had
/// (extensions move only cards in use), so it falls overdue while the work goes on.
fn is_overdue(card: &Card, now: DateTime<Utc>) -> bool {
    card.state.blocks_refund() && card.not_after <= now
}

/// Worker cards not back at the desk (active, or revoked without coming back), overdue first.
pub fn outstanding(conn: &Connection, now: DateTime<Utc>) -> DeskResult<Vec<Outstanding>> {
    outstanding_page(conn, now, None, u32::MAX)
}

/// Where a page of outstanding cards starts: after this card's end minute and number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DueCursor {
    /// The last card's `not_after` (UTC minute).
    pub not_after: u32,
    /// The last card's number.
    pub card_id: u32,
}

impl DueCursor {
    /// The cursor after `card`.
    pub fn after(card: &Card) -> Self {
        DueCursor {
            not_after: UtcMinute::floor(card.not_after).map_or(0, |m| m.0),
            card_id: card.card_id,
        }
    }

    /// Reads the text [`DueCursor`]'s `Display` writes: `<not_after>.<card_id>`.
    pub fn parse(text: &str) -> Option<Self> {
        let (minute, card) = text.split_once('.')?;
        Some(DueCursor {
            not_after: minute.parse().ok()?,
            card_id: card.parse().ok()?,
        })
    }
}

impl std::fmt::Display for DueCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.not_after, self.card_id)
    }
}

/// At most `limit` outstanding worker cards (as [`outstanding`]), in the order they were
/// due, so overdue first, from just after `after` if given.
pub fn outstanding_page(
    conn: &Connection,
    now: DateTime<Utc>,
    after: Option<DueCursor>,
    limit: u32,
) -> DeskResult<Vec<Outstanding>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {}, r.id AS renovation_id, r.code AS renovation_code, u.label, w.name,
         r.end_date, r.contractor, r.supervisor_phone FROM cards c
         JOIN workers w ON w.id = c.worker_id JOIN renovations r ON r.id = w.renovation_id JOIN units u ON u.id = r.unit_id
         WHERE c.state IN ('active', 'revoked') AND (c.not_after, c.id) > (?1, ?2)
         ORDER BY c.not_after, c.id LIMIT ?3",
        CARD_COLUMNS.split(',').map(|c| format!("c.{}", c.trim())).collect::<Vec<_>>().join(", ")
    ))?;
    let (minute, card) = after.map_or((-1, -1), |a| (i64::from(a.not_after), i64::from(a.card_id)));
    let rows = stmt.query_map(params![minute, card, limit], |r| {
        let card = card_from_row(r)?;
        let name: Option<String> = r.get("name")?;
        let end: String = r.get("end_date")?;
        Ok((
            Outstanding {
                card,
                out: CardOut {
                    renovation_id: r.get("renovation_id")?,
                    renovation_code: r.get("renovation_code")?,
                    unit_label: r.get("label")?,
                    holder_masked: name
                        .map(|n| super::privacy::mask_name(&n))
                        .unwrap_or_default(),
                    renovation_end: NaiveDate::MIN,
                    contractor: r.get("contractor")?,
                    contact_phone: None,
                },
                overdue: false,
            },
            end,
            r.get::<_, Option<String>>("supervisor_phone")?,
        ))
    })?;
    let mut list = Vec::new();
    for row in rows {
        let (mut o, end, phone) = row?;
        o.out.renovation_end = end
            .parse()
            .map_err(|_| DeskError::invalid("invalid", "a stored end date is unreadable"))?;
        o.overdue = is_overdue(&o.card, now);
        o.out.contact_phone = phone.filter(|_| o.overdue);
        list.push(o);
    }
    list.sort_by_key(|o| !o.overdue);
    Ok(list)
}

/// How many worker cards are outstanding, and how many of them overdue, at `now`.
pub fn outstanding_counts(conn: &Connection, now: DateTime<Utc>) -> DeskResult<(usize, usize)> {
    let now_minute = UtcMinute::floor(now).map_or(0, |m| m.0);
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*), COALESCE(SUM(c.not_after <= ?1), 0) FROM cards c
             WHERE c.state IN ('active', 'revoked') AND c.worker_id IS NOT NULL",
        )?
        .query_row(params![now_minute], |r| {
            let count = |i| r.get::<_, i64>(i).map(|n| usize::try_from(n).unwrap_or(0));
            Ok((count(0)?, count(1)?))
        })?)
}

/// The cards of renovation `r` that are overdue at `now`.
pub fn overdue_of(
    conn: &Connection,
    r: &renovation::Renovation,
    now: DateTime<Utc>,
) -> DeskResult<Vec<u32>> {
    Ok(of_renovation(conn, r.id)?
        .into_iter()
        .filter(|c| is_overdue(c, now))
        .map(|c| c.card_id)
        .collect())
}

/// An overdue worker card the desk is told about once (the alarm stays until acknowledged).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OverdueAlarm {
    /// The card still out.
    pub card_id: u32,
    /// Whose it is.
    #[serde(flatten)]
    pub out: CardOut,
    /// When the server noticed it.
    pub raised_at: DateTime<Utc>,
}

/// Raises the alarm once for every card that became overdue (the server's own audit entry
/// `card.overdue`), and returns the overdue alarms the desk has not acknowledged. An alarm
/// whose card came back in the meantime is no longer shown.
pub fn overdue_alarms(tx: &Connection, now: DateTime<Utc>) -> DeskResult<Vec<OverdueAlarm>> {
    let system = Actor::System("overdue");
    let mut shown = Vec::new();
    for o in outstanding(tx, now)?.into_iter().filter(|o| o.overdue) {
        let raised = tx
            .prepare_cached(
                "INSERT INTO overdue_cards (card_id, renovation_id, raised_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(card_id) DO NOTHING",
            )?
            .execute(params![o.card.card_id, o.out.renovation_id, ts(now)])?;
        if raised == 1 {
            audit::record(
                tx,
                &system,
                "card.overdue",
                &format!("card:{}", o.card.card_id),
                serde_json::json!({"renovation": o.out.renovation_id, "end": o.out.renovation_end}),
                now,
            )?;
        }
        let (raised_at, seen): (DateTime<Utc>, Option<String>) = tx
            .prepare_cached(
                "SELECT raised_at, acknowledged_at FROM overdue_cards WHERE card_id = ?1",
            )?
            .query_row(params![o.card.card_id], |r| {
                Ok((instant(r, "raised_at")?, r.get("acknowledged_at")?))
            })?;
        if seen.is_none() {
            shown.push(OverdueAlarm {
                card_id: o.card.card_id,
                out: o.out,
                raised_at,
            });
        }
    }
    Ok(shown)
}

/// A staff member has seen the overdue alarm of `card_id` (audited once).
pub fn acknowledge_overdue(
    tx: &Connection,
    actor: &Actor,
    card_id: u32,
    now: DateTime<Utc>,
) -> DeskResult<()> {
    let changed = tx
        .prepare_cached(
            "UPDATE overdue_cards SET acknowledged_by = ?1, acknowledged_at = ?2
             WHERE card_id = ?3 AND acknowledged_at IS NULL",
        )?
        .execute(params![actor.audit_name(), ts(now), card_id])?;
    let known: bool = tx
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM overdue_cards WHERE card_id = ?1) AS known")?
        .query_row(params![card_id], |r| r.get("known"))?;
    if !known {
        return Err(DeskError::NotFound(format!(
            "card {card_id} has no overdue alarm"
        )));
    }
    if changed == 1 {
        audit::record(
            tx,
            actor,
            "card.overdue_acknowledge",
            &format!("card:{card_id}"),
            serde_json::json!({}),
            now,
        )?;
    }
    Ok(())
}
