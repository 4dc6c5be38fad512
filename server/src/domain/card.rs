//! Cards: worker cards (人员临时出入卡) and visitor passes as signed credentials, and every
//! change of their state — reprint, return, lost, revoke, sign-out — each in one transaction
//! with its audit entry and the gate change that makes it take effect at the doors.

use super::desk_error::{DeskError, DeskResult};
use super::desk_settings;
use super::refund::{CardFacts, CardState, LedgerKind};
use super::renovation;
use crate::auth::Actor;
use crate::db::ts;
use crate::keys::SigningKeys;
use crate::{audit, changes};
use chrono::{DateTime, Utc};
use gatehouse_credential::api::gate::{ChangeEvent, RevocationReason};
use gatehouse_credential::{
    BuildingScope, CardId, Claims, Kind, ScheduleId, UtcMinute, ZoneClass, ZoneClasses, ZoneScope,
};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// The schedule worker cards carry: the estate's renovation hours.
pub const WORKER_SCHEDULE: u8 = 1;

/// Settings key: the replacement fee of a lost card in cents (default 5000, i.e. 50 yuan).
pub const LOST_CARD_FEE: &str = "lost_card_fee_cents";

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
    /// When issued (UTC).
    pub issued_at: String,
    /// Who issued it.
    pub issued_by: String,
    /// When its state last changed away from active.
    pub ended_at: Option<String>,
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
    let kind: String = r.get(1)?;
    let state: String = r.get(5)?;
    let minute =
        |i: usize| -> rusqlite::Result<DateTime<Utc>> { Ok(UtcMinute(r.get(i)?).to_datetime()) };
    Ok(Card {
        card_id: r.get(0)?,
        kind: if kind == "visitor" {
            Kind::Visitor
        } else {
            Kind::Worker
        },
        worker_id: r.get(2)?,
        visitor_id: r.get(3)?,
        short_id: r.get(4)?,
        state: CardState::parse(&state).unwrap_or(CardState::Revoked),
        not_before: minute(6)?,
        printed_not_after: minute(7)?,
        not_after: minute(8)?,
        issued_at: r.get(9)?,
        issued_by: r.get(10)?,
        ended_at: r.get(11)?,
        ended_by: r.get(12)?,
        replaced_by: r.get(13)?,
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
            .prepare_cached("SELECT EXISTS(SELECT 1 FROM cards WHERE short_id = ?1)")?
            .query_row(params![code], |r| r.get(0))?;
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
fn worker_card(tx: &Connection, worker_id: i64, now: DateTime<Utc>) -> DeskResult<NewCard> {
    let renovation_id: i64 = tx
        .query_row(
            "SELECT renovation_id FROM workers WHERE id = ?1 AND purged_at IS NULL",
            params![worker_id],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| DeskError::NotFound(format!("there is no worker {worker_id}")))?;
    let r = renovation::get(tx, renovation_id)?;
    if r.status != renovation::Status::Active {
        return Err(DeskError::conflict(
            "renovation_finished",
            format!(
                "renovation {} has passed inspection; no new worker cards",
                r.id
            ),
        ));
    }
    let tz = desk_settings::time_zone(tx)?;
    let start = desk_settings::local_midnight(tz, r.start_date).max(now);
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

/// Issues a worker's card; refused while the worker still holds an active one.
pub fn issue_worker_card(
    tx: &Connection,
    signer: &SigningKeys,
    actor: &Actor,
    worker_id: i64,
    now: DateTime<Utc>,
) -> DeskResult<Issued> {
    let active: Option<u32> = tx
        .query_row(
            "SELECT id FROM cards WHERE worker_id = ?1 AND state = 'active'",
            params![worker_id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = active {
        return Err(DeskError::conflict(
            "card_active",
            format!("worker {worker_id} already holds active card {id}; reprint it instead"),
        ));
    }
    let new = worker_card(tx, worker_id, now)?;
    issue(tx, signer, actor, &new, now)
}

/// Ends an active card: sets its state, records who, tells the gates.
fn end_card(
    tx: &Connection,
    actor: &Actor,
    card: &Card,
    state: CardState,
    reason: RevocationReason,
    now: DateTime<Utc>,
) -> DeskResult<()> {
    if card.state != CardState::Active {
        return Err(DeskError::conflict(
            "card_not_active",
            format!(
                "card {} is already {} (since {})",
                card.card_id,
                card.state.as_str().replace('_', " "),
                card.ended_at.as_deref().unwrap_or("?")
            ),
        ));
    }
    tx.prepare_cached("UPDATE cards SET state = ?1, ended_at = ?2, ended_by = ?3 WHERE id = ?4")?
        .execute(params![
            state.as_str(),
            ts(now),
            actor.audit_name(),
            card.card_id
        ])?;
    let not_after = UtcMinute::floor(card.not_after).unwrap_or(UtcMinute(0));
    changes::append(
        tx,
        &ChangeEvent::Revoked {
            card_id: CardId(card.card_id),
            reason,
            not_after,
        },
        now,
    )?;
    audit::record(
        tx,
        actor,
        &format!("card.{}", state.as_str()),
        &format!("card:{}", card.card_id),
        serde_json::json!({"reason": reason}),
        now,
    )?;
    Ok(())
}

/// Reprints a worker card: the old one is revoked (`reissued`), a new one with the same end
/// is issued.
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
        _ => {
            return Err(DeskError::conflict(
                "not_a_worker_card",
                format!("card {card_id} is a visitor pass; issue a new pass instead"),
            ));
        }
    };
    end_card(
        tx,
        actor,
        &old,
        CardState::Reissued,
        RevocationReason::Reissued,
        now,
    )?;
    let new = worker_card(tx, worker_id, now)?;
    let issued = issue(tx, signer, actor, &new, now)?;
    tx.prepare_cached("UPDATE cards SET replaced_by = ?1 WHERE id = ?2")?
        .execute(params![issued.card.card_id, card_id])?;
    Ok(issued)
}

/// Takes back the card whose credential text was scanned: verified, marked returned (a
/// visitor pass: signed out), revoked at every gate.
pub fn return_scanned(
    tx: &Connection,
    signer: &SigningKeys,
    actor: &Actor,
    text: &str,
    now: DateTime<Utc>,
) -> DeskResult<Card> {
    let credential = signer.ring(tx)?.verify(text.trim()).map_err(|e| {
        DeskError::invalid(
            "unreadable_card",
            format!("the scan is not a valid card: {e}"),
        )
    })?;
    let card = get(tx, credential.claims.card_id.0)?;
    let (state, reason) = match card.kind {
        Kind::Visitor => (CardState::SignedOut, RevocationReason::SignedOut),
        _ => (CardState::Returned, RevocationReason::Returned),
    };
    if state == CardState::SignedOut {
        tx.prepare_cached("UPDATE visitors SET signed_out_at = ?1 WHERE id = ?2")?
            .execute(params![ts(now), card.visitor_id])?;
    }
    end_card(tx, actor, &card, state, reason, now)?;
    get(tx, card.card_id)
}

/// Revokes a card (staff decision; the card has not come back).
pub fn revoke(
    tx: &Connection,
    actor: &Actor,
    card_id: u32,
    now: DateTime<Utc>,
) -> DeskResult<Card> {
    let card = get(tx, card_id)?;
    end_card(
        tx,
        actor,
        &card,
        CardState::Revoked,
        RevocationReason::Revoked,
        now,
    )?;
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
    end_card(
        tx,
        actor,
        &card,
        CardState::SignedOut,
        RevocationReason::SignedOut,
        now,
    )?;
    tx.prepare_cached("UPDATE visitors SET signed_out_at = ?1 WHERE id = ?2")?
        .execute(params![ts(now), card.visitor_id])?;
    get(tx, card_id)
}

/// Declares a worker card lost: revoked at once, the replacement fee deducted from the
/// renovation's deposit. A revoked card that never came back may also be declared lost.
pub fn declare_lost(
    tx: &Connection,
    actor: &Actor,
    card_id: u32,
    fee_cents: Option<i64>,
    now: DateTime<Utc>,
) -> DeskResult<Card> {
    let mut card = get(tx, card_id)?;
    let Some(worker_id) = card.worker_id else {
        return Err(DeskError::conflict(
            "not_a_worker_card",
            format!("card {card_id} is a visitor pass; sign it out instead"),
        ));
    };
    let default_fee: Option<i64> = tx
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            params![LOST_CARD_FEE],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .and_then(|v| v.parse().ok());
    let fee = fee_cents.or(default_fee).unwrap_or(5000);
    if fee <= 0 {
        return Err(DeskError::invalid(
            "invalid",
            "fee_cents must be more than 0",
        ));
    }
    if card.state == CardState::Revoked {
        // Already dead at the gates; only the state and the fee change.
        tx.prepare_cached(
            "UPDATE cards SET state = 'lost', ended_at = ?1, ended_by = ?2 WHERE id = ?3",
        )?
        .execute(params![ts(now), actor.audit_name(), card_id])?;
        audit::record(
            tx,
            actor,
            "card.lost",
            &format!("card:{card_id}"),
            serde_json::json!({"was": "revoked"}),
            now,
        )?;
    } else {
        end_card(
            tx,
            actor,
            &card,
            CardState::Lost,
            RevocationReason::Lost,
            now,
        )?;
    }
    let renovation_id: i64 = tx
        .prepare_cached("SELECT renovation_id FROM workers WHERE id = ?1")?
        .query_row(params![worker_id], |r| r.get(0))?;
    super::deposit::add_line(
        tx,
        actor,
        renovation_id,
        &super::deposit::NewLine {
            kind: LedgerKind::Deduction,
            amount_cents: fee,
            receipt_no: None,
            note: format!("replacement fee for lost card {card_id}"),
            card_id: Some(card_id),
        },
        now,
    )?;
    card = get(tx, card_id)?;
    Ok(card)
}

/// A card still out past its end or still active, for the desk's outstanding list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Outstanding {
    /// The card.
    pub card: Card,
    /// The renovation's id.
    pub renovation_id: i64,
    /// The renovation's kiosk code.
    pub renovation_code: String,
    /// The unit.
    pub unit_label: String,
    /// The worker's masked name.
    pub holder_masked: String,
    /// Whether its end has passed (it should have come back).
    pub overdue: bool,
}

/// Worker cards not yet returned (active or revoked without coming back), overdue first.
pub fn outstanding(conn: &Connection, now: DateTime<Utc>) -> DeskResult<Vec<Outstanding>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {}, r.id, r.code, u.label, w.name FROM cards c
         JOIN workers w ON w.id = c.worker_id JOIN renovations r ON r.id = w.renovation_id JOIN units u ON u.id = r.unit_id
         WHERE c.state IN ('active', 'revoked') ORDER BY c.not_after, c.id",
        CARD_COLUMNS.split(',').map(|c| format!("c.{}", c.trim())).collect::<Vec<_>>().join(", ")
    ))?;
    let rows = stmt.query_map([], |r| {
        let card = card_from_row(r)?;
        let name: Option<String> = r.get(17)?;
        Ok(Outstanding {
            overdue: card.not_after <= now,
            card,
            renovation_id: r.get(14)?,
            renovation_code: r.get(15)?,
            unit_label: r.get(16)?,
            holder_masked: name
                .map(|n| super::privacy::mask_name(&n))
                .unwrap_or_default(),
        })
    })?;
    let mut list: Vec<Outstanding> = rows.collect::<rusqlite::Result<_>>()?;
    list.sort_by_key(|o| !o.overdue);
    Ok(list)
}

/// A worker collecting their card at the kiosk with the renovation code and the last 4 of
/// their ID number; refused (409 `already_collected`) once a card was printed for them.
pub fn collect_at_kiosk(
    tx: &Connection,
    signer: &SigningKeys,
    actor: &Actor,
    code: &str,
    last4: &str,
    now: DateTime<Utc>,
) -> DeskResult<(Issued, String, String)> {
    let not_found = || {
        DeskError::NotFound(
            "no worker matches this renovation code and ID number; see the front desk".into(),
        )
    };
    let r = renovation::by_code(tx, code)?.ok_or_else(not_found)?;
    let last4 = super::privacy::normalise_id(last4);
    let workers: Vec<i64> = {
        let mut stmt = tx.prepare("SELECT id FROM workers WHERE renovation_id = ?1 AND id_last4 = ?2 AND purged_at IS NULL")?;
        let rows = stmt.query_map(params![r.id, last4], |row| row.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let worker_id = match workers.as_slice() {
        [] => return Err(not_found()),
        [one] => *one,
        _ => {
            return Err(DeskError::conflict(
                "ambiguous",
                "two workers match; please see the front desk",
            ));
        }
    };
    let printed: bool = tx
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM cards WHERE worker_id = ?1)")?
        .query_row(params![worker_id], |row| row.get(0))?;
    if printed {
        return Err(DeskError::conflict(
            "already_collected",
            "this card was printed before; a reprint needs the front desk",
        ));
    }
    let issued = issue_worker_card(tx, signer, actor, worker_id, now)?;
    let name = super::worker::name(tx, worker_id)?;
    Ok((issued, super::privacy::mask_name(&name), r.unit.label))
}
