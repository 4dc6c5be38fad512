//! The renovation deposit ledger (装修保证金, 垃圾清运费, deductions) and the refund itself,
//! paid only when every rule of [`super::refund::refund_check`] holds.

use super::desk_error::{DeskError, DeskResult};
use super::refund::{Ledger, LedgerKind, LedgerLine, RuleResult, refund_check};
use super::{card, desk_settings, renovation};
use crate::audit;
use crate::auth::Actor;
use crate::db::ts;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

/// The largest single amount accepted: 10 million yuan, in cents.
const MAX_AMOUNT_CENTS: i64 = 1_000_000_000;

/// A line the desk records.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewLine {
    /// `deposit`, `rubbish_fee` or `deduction` (a refund has its own endpoint).
    pub kind: LedgerKind,
    /// Amount in cents, > 0.
    pub amount_cents: i64,
    /// Receipt number (required for money received).
    #[serde(default)]
    pub receipt_no: Option<String>,
    /// Why, for a deduction.
    #[serde(default)]
    pub note: String,
    /// The card a deduction is for.
    #[serde(default)]
    #[schema(format = Int64, maximum = 4_294_967_295.0)]
    pub card_id: Option<u32>,
}

/// Records one ledger line and audits it.
pub fn add_line(
    tx: &Connection,
    actor: &Actor,
    renovation_id: i64,
    line: &NewLine,
    now: DateTime<Utc>,
) -> DeskResult<LedgerLine> {
    let r = renovation::get(tx, renovation_id)?;
    if r.status == renovation::Status::Refunded {
        return Err(DeskError::conflict(
            "renovation_closed",
            format!("renovation {renovation_id} was refunded and is closed"),
        ));
    }
    if line.kind == LedgerKind::Refund {
        return Err(DeskError::invalid(
            "invalid",
            "a refund is paid through POST /api/v1/renovations/{id}/refund",
        ));
    }
    if !(1..=MAX_AMOUNT_CENTS).contains(&line.amount_cents) {
        return Err(DeskError::invalid(
            "invalid",
            format!("amount_cents must be between 1 and {MAX_AMOUNT_CENTS}"),
        ));
    }
    let receipt = line
        .receipt_no
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    if matches!(line.kind, LedgerKind::Deposit | LedgerKind::RubbishFee) && receipt.is_none() {
        return Err(DeskError::invalid(
            "receipt_required",
            "money received needs its receipt_no",
        ));
    }
    if line.kind == LedgerKind::Deduction && line.note.trim().is_empty() {
        return Err(DeskError::invalid(
            "invalid",
            "a deduction needs a note saying why",
        ));
    }
    if line.kind == LedgerKind::Deposit && ledger(tx, renovation_id)?.deposit() > 0 {
        return Err(DeskError::conflict(
            "deposit_recorded",
            "a deposit is already recorded for this renovation",
        ));
    }
    tx.execute(
        "INSERT INTO ledger (renovation_id, kind, amount_cents, receipt_no, note, card_id, at, by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![renovation_id, line.kind.as_str(), line.amount_cents, receipt, line.note.trim(), line.card_id, ts(now), actor.audit_name()],
    )?;
    let id = tx.last_insert_rowid();
    audit::record(
        tx,
        actor,
        &format!("ledger.{}", line.kind.as_str()),
        &format!("renovation:{renovation_id}"),
        serde_json::json!({"line": id, "amount_cents": line.amount_cents, "receipt_no": receipt, "card": line.card_id}),
        now,
    )?;
    Ok(LedgerLine {
        id,
        kind: line.kind,
        amount_cents: line.amount_cents,
        receipt_no: receipt,
        note: line.note.trim().to_owned(),
        card_id: line.card_id,
        at: ts(now),
        by: actor.audit_name(),
    })
}

/// The ledger of a renovation.
pub fn ledger(conn: &Connection, renovation_id: i64) -> DeskResult<Ledger> {
    let mut stmt = conn.prepare(
        "SELECT id, kind, amount_cents, receipt_no, note, card_id, at, by FROM ledger WHERE renovation_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![renovation_id], |r| {
        let kind: String = r.get(1)?;
        Ok(LedgerLine {
            id: r.get(0)?,
            kind: LedgerKind::parse(&kind).unwrap_or(LedgerKind::Deduction),
            amount_cents: r.get(2)?,
            receipt_no: r.get(3)?,
            note: r.get(4)?,
            card_id: r.get(5)?,
            at: r.get(6)?,
            by: r.get(7)?,
        })
    })?;
    Ok(Ledger {
        lines: rows.collect::<rusqlite::Result<_>>()?,
    })
}

/// The refund rules for renovation `id` today (local date).
pub fn check(conn: &Connection, id: i64, now: DateTime<Utc>) -> DeskResult<Vec<RuleResult>> {
    let r = renovation::get(conn, id)?;
    let cards = card::of_renovation(conn, id)?;
    let ledger = ledger(conn, id)?;
    let today = desk_settings::local_date(desk_settings::time_zone(conn)?, now);
    Ok(refund_check(&r, &card::facts(&cards), &ledger, today))
}

/// A refund paid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Refund {
    /// The renovation.
    pub renovation_id: i64,
    /// The deposit received.
    pub deposit_cents: i64,
    /// The sum of deductions.
    pub deductions_cents: i64,
    /// Paid back: deposit − deductions.
    pub amount_cents: i64,
    /// Who paid it.
    pub by: String,
    /// When (UTC).
    pub at: String,
    /// The rules as they stood.
    pub rules: Vec<RuleResult>,
}

/// Pays the deposit back if, and only if, every rule holds; records amount and staff member.
pub fn refund(tx: &Connection, actor: &Actor, id: i64, now: DateTime<Utc>) -> DeskResult<Refund> {
    let r = renovation::get(tx, id)?;
    if r.status == renovation::Status::Refunded {
        return Err(DeskError::conflict(
            "already_refunded",
            format!("the deposit of renovation {id} was already refunded"),
        ));
    }
    let rules = check(tx, id, now)?;
    if rules.iter().any(|x| !x.met) {
        return Err(DeskError::RefundRefused(rules));
    }
    let ledger = ledger(tx, id)?;
    let amount = ledger.refundable();
    tx.execute(
        "INSERT INTO ledger (renovation_id, kind, amount_cents, receipt_no, note, card_id, at, by) VALUES (?1, 'refund', ?2, NULL, 'deposit refunded', NULL, ?3, ?4)",
        params![id, amount, ts(now), actor.audit_name()],
    )?;
    tx.execute(
        "UPDATE renovations SET refunded_at = ?1 WHERE id = ?2",
        params![ts(now), id],
    )?;
    audit::record(
        tx,
        actor,
        "renovation.refund",
        &format!("renovation:{id}"),
        serde_json::json!({"deposit_cents": ledger.deposit(), "deductions_cents": ledger.deductions(), "amount_cents": amount}),
        now,
    )?;
    Ok(Refund {
        renovation_id: id,
        deposit_cents: ledger.deposit(),
        deductions_cents: ledger.deductions(),
        amount_cents: amount,
        by: actor.audit_name(),
        at: ts(now),
        rules,
    })
}
