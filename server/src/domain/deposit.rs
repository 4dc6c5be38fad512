//! The deposit refund (装修保证金退还): paid only when every rule of
//! [`super::refund::refund_check`] holds, at most once, and — by default — only with a second
//! person's approval: a desk clerk's refund waits for a manager (setting `refund_approval`:
//! `manager`, the default; `second_person`, any other staff member; `none`, the clerk alone).
//! Both names go on the ledger line and in the audit log.

use super::desk_error::{DeskError, DeskResult};
use super::ledger::{self, Ledger, LedgerKind, LedgerLine};
use super::refund::{RuleResult, refund_check};
use super::{card, renovation, settings};
use crate::audit;
use crate::auth::Actor;
use crate::db::{instant, ts};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// Who must approve a refund requested by a desk clerk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    /// A manager (the safe default). A manager's own refund is paid at once.
    #[default]
    Manager,
    /// Any staff member other than the one who asked.
    SecondPerson,
    /// Nobody: the clerk pays alone (not recommended).
    None,
}

impl Approval {
    const fn as_str(self) -> &'static str {
        match self {
            Approval::Manager => "manager",
            Approval::SecondPerson => "second_person",
            Approval::None => "none",
        }
    }
}

/// The estate's refund approval setting.
pub fn approval(conn: &Connection) -> DeskResult<Approval> {
    Ok(
        match settings::get(conn, settings::REFUND_APPROVAL)?.as_deref() {
            Some("second_person") => Approval::SecondPerson,
            Some("none") => Approval::None,
            _ => Approval::Manager,
        },
    )
}

/// A manager changes the refund approval setting (audited).
pub fn set_approval(
    tx: &Connection,
    actor: &Actor,
    to: Approval,
    now: DateTime<Utc>,
) -> DeskResult<Approval> {
    settings::set(tx, settings::REFUND_APPROVAL, to.as_str())?;
    audit::record(
        tx,
        actor,
        "settings.refund_approval",
        "settings",
        serde_json::json!({"refund_approval": to}),
        now,
    )?;
    Ok(to)
}

/// The refund rules for renovation `id` today (local date).
pub fn check(conn: &Connection, id: i64, now: DateTime<Utc>) -> DeskResult<Vec<RuleResult>> {
    let r = renovation::get(conn, id)?;
    let cards = card::of_renovation(conn, id)?;
    let ledger = ledger::ledger(conn, id)?;
    let today = settings::local_date(settings::time_zone(conn)?, now);
    Ok(refund_check(&r, &card::facts(&cards), &ledger, today))
}

/// Whether the refund was paid or waits for approval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// Paid: the ledger has its refund line.
    Paid,
    /// Requested by a desk clerk; a manager (or a second person) must confirm it.
    AwaitingApproval,
}

/// A refund paid or requested, with every ledger line behind its amount (the slip).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Refund {
    /// Paid, or waiting for approval.
    pub status: RefundStatus,
    /// The renovation.
    pub renovation_id: i64,
    /// The deposit received.
    pub deposit_cents: i64,
    /// The sum of deductions (reversed ones included).
    pub deductions_cents: i64,
    /// The sum of reversals.
    pub reversals_cents: i64,
    /// Paid back: deposit − deductions + reversals, never below zero.
    pub amount_cents: i64,
    /// What the deductions exceed the deposit by (owed by the owner).
    pub owed_cents: i64,
    /// Who asked for it.
    pub by: String,
    /// Who approved it (a manager or the second person), once paid.
    pub approved_by: Option<String>,
    /// When: paid, or requested.
    pub at: DateTime<Utc>,
    /// Every ledger line, in order.
    pub lines: Vec<LedgerLine>,
    /// The rules as they stood.
    pub rules: Vec<RuleResult>,
}

/// An open refund request: who asked and when.
fn open_request(tx: &Connection, id: i64) -> DeskResult<Option<(i64, String, DateTime<Utc>)>> {
    Ok(tx
        .prepare_cached(
            "SELECT id, requested_by, requested_at FROM refund_requests WHERE renovation_id = ?1 AND decided_at IS NULL",
        )?
        .query_row(params![id], |r| Ok((r.get("id")?, r.get("requested_by")?, instant(r, "requested_at")?)))
        .optional()?)
}

fn slip(
    status: RefundStatus,
    id: i64,
    book: Ledger,
    by: String,
    approved_by: Option<String>,
    at: DateTime<Utc>,
    rules: Vec<RuleResult>,
) -> Refund {
    Refund {
        status,
        renovation_id: id,
        deposit_cents: book.deposit(),
        deductions_cents: book.deductions(),
        reversals_cents: book.reversals(),
        amount_cents: book.refundable(),
        owed_cents: book.owed(),
        by,
        approved_by,
        at,
        lines: book.lines,
        rules,
    }
}

/// Pays the deposit back if, and only if, every rule holds, once. A desk clerk's refund is
/// recorded as a request when the approval setting asks for one; the approver's call (a
/// manager, or under `second_person` any other staff member) pays it.
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
        return Err(DeskError::RefundRefused(super::refund::unmet_text(&rules)));
    }
    let me = actor.audit_name();
    let request = open_request(tx, id)?;
    let policy = approval(tx)?;
    let is_manager = matches!(actor, Actor::Manager(_));
    let approves = match (&request, policy) {
        (_, Approval::None) => true,
        (_, _) if is_manager => true,
        (Some((_, by, _)), Approval::SecondPerson) => *by != me,
        _ => false,
    };
    let book = ledger::ledger(tx, id)?;
    if !approves {
        if let Some((_, by, at)) = request {
            return Err(DeskError::conflict(
                "awaiting_approval",
                format!(
                    "the refund was requested by {by} at {} and waits for {}",
                    ts(at),
                    match policy {
                        Approval::SecondPerson => "another staff member to confirm it",
                        _ => "a manager to approve it",
                    }
                ),
            ));
        }
        tx.prepare_cached(
            "INSERT INTO refund_requests (renovation_id, amount_cents, requested_by, requested_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![id, book.refundable(), me, ts(now)])?;
        audit::record(
            tx,
            actor,
            "renovation.refund_request",
            &format!("renovation:{id}"),
            serde_json::json!({"amount_cents": book.refundable(), "approval": policy}),
            now,
        )?;
        return Ok(slip(
            RefundStatus::AwaitingApproval,
            id,
            book,
            me,
            None,
            now,
            rules,
        ));
    }
    let (by, approved_by) = match &request {
        Some((req, by, _)) => {
            tx.prepare_cached(
                "UPDATE refund_requests SET decided_by = ?1, decided_at = ?2 WHERE id = ?3",
            )?
            .execute(params![me, ts(now), req])?;
            (by.clone(), Some(me.clone()))
        }
        None if is_manager => (me.clone(), Some(me.clone())),
        None => (me.clone(), None),
    };
    let amount = book.refundable();
    let paid = LedgerLine {
        id: 0,
        kind: LedgerKind::Refund,
        category: None,
        amount_cents: amount,
        receipt_no: None,
        note: "deposit refunded".into(),
        card_id: None,
        reverses: None,
        approved_by: approved_by.clone(),
        at: now,
        by: by.clone(),
    };
    ledger::insert(tx, actor, id, paid, now)?;
    tx.execute(
        "UPDATE renovations SET refunded_at = ?1 WHERE id = ?2",
        params![ts(now), id],
    )?;
    audit::record(
        tx,
        actor,
        "renovation.refund",
        &format!("renovation:{id}"),
        serde_json::json!({
            "deposit_cents": book.deposit(), "deductions_cents": book.deductions(),
            "reversals_cents": book.reversals(), "amount_cents": amount,
            "requested_by": by, "approved_by": approved_by,
        }),
        now,
    )?;
    let book = ledger::ledger(tx, id)?;
    Ok(slip(
        RefundStatus::Paid,
        id,
        book,
        by,
        approved_by,
        now,
        rules,
    ))
}
