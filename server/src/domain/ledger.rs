//! A renovation's money ledger (装修保证金, 垃圾清运费, itemised deductions, their reversals and
//! the refund): append-only lines, each audited, and the arithmetic every screen and slip uses.
//!
//! A deduction always has a category and a reason. It is recorded even when no deposit is held
//! yet (a lost card must be stopped at once whatever the paperwork): whatever the deposit does
//! not cover is shown as an amount owed, never as a negative deposit. A deduction is undone by a
//! reversal line (a manager's, with a reason, or automatic when a lost card comes back), never
//! by editing it.

use super::custody::CardState;
use super::desk_error::{DeskError, DeskResult};
use super::renovation;
use crate::audit;
use crate::auth::Actor;
use crate::db::ts;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// The largest single amount accepted: 10 million yuan, in cents.
pub const MAX_AMOUNT_CENTS: i64 = 1_000_000_000;

/// The kind of a ledger line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    /// The renovation deposit (装修保证金) received.
    Deposit,
    /// The rubbish-removal fee (垃圾清运费) received; not refundable.
    RubbishFee,
    /// A deduction from the deposit, with its category.
    Deduction,
    /// A deduction undone (a manager's correction, or a lost card that came back).
    Reversal,
    /// The deposit paid back.
    Refund,
}

impl LedgerKind {
    const ALL: [LedgerKind; 5] = [
        LedgerKind::Deposit,
        LedgerKind::RubbishFee,
        LedgerKind::Deduction,
        LedgerKind::Reversal,
        LedgerKind::Refund,
    ];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            LedgerKind::Deposit => "deposit",
            LedgerKind::RubbishFee => "rubbish_fee",
            LedgerKind::Deduction => "deduction",
            LedgerKind::Reversal => "reversal",
            LedgerKind::Refund => "refund",
        }
    }

    /// The kind in words, Chinese and English.
    pub const fn words(self) -> &'static str {
        match self {
            LedgerKind::Deposit => "装修保证金 deposit",
            LedgerKind::RubbishFee => "垃圾清运费 rubbish-removal fee",
            LedgerKind::Deduction => "扣款 deduction",
            LedgerKind::Reversal => "冲回 reversal",
            LedgerKind::Refund => "退还 refund",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What a deduction is for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// The replacement fee of a lost worker card (names the card).
    LostCard,
    /// Damage to common parts.
    Damage,
    /// Cleaning or rubbish removal (垃圾清运).
    Cleaning,
    /// A breach of the renovation rules (违规).
    Violation,
    /// Anything else; the reason says what.
    #[default]
    Other,
}

impl Category {
    const ALL: [Category; 5] = [
        Category::LostCard,
        Category::Damage,
        Category::Cleaning,
        Category::Violation,
        Category::Other,
    ];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::LostCard => "lost_card",
            Category::Damage => "damage",
            Category::Cleaning => "cleaning",
            Category::Violation => "violation",
            Category::Other => "other",
        }
    }

    /// The category in words, Chinese and English.
    pub const fn words(self) -> &'static str {
        match self {
            Category::LostCard => "补卡费 lost card fee",
            Category::Damage => "损坏赔偿 damage",
            Category::Cleaning => "垃圾清运 cleaning / rubbish removal",
            Category::Violation => "违规 violation",
            Category::Other => "其他 other",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One line of a renovation's money ledger; amounts in cents (分), never negative.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LedgerLine {
    /// Database id.
    pub id: i64,
    /// What it is.
    pub kind: LedgerKind,
    /// What a deduction is for.
    pub category: Option<Category>,
    /// Amount in cents, > 0.
    pub amount_cents: i64,
    /// The receipt number, for money received.
    pub receipt_no: Option<String>,
    /// Why, in words.
    pub note: String,
    /// The card a lost-card fee (or its reversal) is for.
    pub card_id: Option<u32>,
    /// The deduction a reversal undoes.
    pub reverses: Option<i64>,
    /// Who approved a refund paid on another staff member's request.
    pub approved_by: Option<String>,
    /// When (UTC, stored form).
    pub at: String,
    /// Which staff member.
    pub by: String,
}

/// A renovation's ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Ledger {
    /// Lines in the order recorded.
    pub lines: Vec<LedgerLine>,
}

impl Ledger {
    fn sum(&self, kind: LedgerKind) -> i64 {
        self.lines
            .iter()
            .filter(|l| l.kind == kind)
            .map(|l| l.amount_cents)
            .sum()
    }

    /// Deposit received.
    pub fn deposit(&self) -> i64 {
        self.sum(LedgerKind::Deposit)
    }

    /// Sum of deductions, reversed ones included.
    pub fn deductions(&self) -> i64 {
        self.sum(LedgerKind::Deduction)
    }

    /// Sum of reversals.
    pub fn reversals(&self) -> i64 {
        self.sum(LedgerKind::Reversal)
    }

    /// The deposit held for the owner: deposit − deductions + reversals (negative: owed).
    pub fn balance(&self) -> i64 {
        self.deposit() - self.deductions() + self.reversals()
    }

    /// What a refund pays: the balance, never below zero.
    pub fn refundable(&self) -> i64 {
        self.balance().max(0)
    }

    /// What the deductions exceed the deposit by: owed to the estate.
    pub fn owed(&self) -> i64 {
        (-self.balance()).max(0)
    }

    /// Whether the deposit has been paid back already.
    pub fn refunded(&self) -> bool {
        self.lines.iter().any(|l| l.kind == LedgerKind::Refund)
    }

    /// The deposit's receipt number, if recorded.
    pub fn deposit_receipt(&self) -> Option<&str> {
        self.lines
            .iter()
            .find(|l| l.kind == LedgerKind::Deposit)
            .and_then(|l| l.receipt_no.as_deref())
    }

    /// Whether deduction `id` has been reversed.
    pub fn is_reversed(&self, id: i64) -> bool {
        self.lines.iter().any(|l| l.reverses == Some(id))
    }

    /// The lost-card fee standing (charged, not reversed) for `card_id`, if any.
    pub fn standing_card_fee(&self, card_id: u32) -> Option<&LedgerLine> {
        self.lines.iter().find(|l| {
            l.kind == LedgerKind::Deduction
                && l.category == Some(Category::LostCard)
                && l.card_id == Some(card_id)
                && !self.is_reversed(l.id)
        })
    }

    /// Whether a lost-card fee stands for `card_id`.
    pub fn has_card_fee(&self, card_id: u32) -> bool {
        self.standing_card_fee(card_id).is_some()
    }

    /// Whether a lost-card fee was charged for `card_id` (standing, or waived by a manager's
    /// reversal): the loss is settled either way.
    pub fn card_fee_charged(&self, card_id: u32) -> bool {
        self.lines.iter().any(|l| {
            l.kind == LedgerKind::Deduction
                && l.category == Some(Category::LostCard)
                && l.card_id == Some(card_id)
        })
    }
}

/// A line the desk records.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewLine {
    /// `deposit`, `rubbish_fee` or `deduction` (a refund and a reversal have their own endpoints).
    pub kind: LedgerKind,
    /// Amount in cents, > 0.
    pub amount_cents: i64,
    /// Receipt number (required for money received).
    #[serde(default)]
    pub receipt_no: Option<String>,
    /// Why, for a deduction.
    #[serde(default)]
    pub note: String,
    /// What a deduction is for (default `other`).
    #[serde(default)]
    pub category: Option<Category>,
    /// The card a lost-card fee is for (a worker card of this renovation).
    #[serde(default)]
    #[schema(format = Int64, maximum = 4_294_967_295.0)]
    pub card_id: Option<u32>,
}

fn refuse_if_refunded(tx: &Connection, renovation_id: i64) -> DeskResult<()> {
    let r = renovation::get(tx, renovation_id)?;
    if r.status == renovation::Status::Refunded {
        return Err(DeskError::conflict(
            "renovation_closed",
            format!("renovation {renovation_id} was refunded and is closed"),
        ));
    }
    Ok(())
}

/// Checks that `card_id` names a worker card of `renovation_id`, and returns its state; a card
/// that does not exist, a visitor pass or another renovation's card is a 422 naming it.
pub fn card_of(tx: &Connection, renovation_id: i64, card_id: u32) -> DeskResult<CardState> {
    let row: Option<(String, Option<i64>, String)> = tx
        .prepare_cached(
            "SELECT c.kind, w.renovation_id, c.state FROM cards c LEFT JOIN workers w ON w.id = c.worker_id WHERE c.id = ?1",
        )?
        .query_row(params![card_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((kind, of, state)) = row else {
        return Err(DeskError::invalid(
            "unknown_card",
            format!("there is no card {card_id}; check the number printed on the card"),
        )
        .with_details(serde_json::json!({"card_id": card_id, "q": card_id.to_string()})));
    };
    if kind == "visitor" {
        return Err(DeskError::invalid(
            "card_is_visitor_pass",
            format!("card {card_id} is a visitor pass, not a worker card of this renovation"),
        ));
    }
    if of != Some(renovation_id) {
        return Err(DeskError::invalid(
            "card_of_other_renovation",
            format!(
                "card {card_id} belongs to renovation {}, not {renovation_id}",
                of.map(|r| r.to_string()).unwrap_or_else(|| "?".into())
            ),
        ));
    }
    Ok(CardState::parse(&state).unwrap_or(CardState::Revoked))
}

/// Checks a new line (amount, receipt, reason, card reference) before it is written.
fn check_line(tx: &Connection, renovation_id: i64, line: &NewLine) -> DeskResult<()> {
    match line.kind {
        LedgerKind::Refund => {
            return Err(DeskError::invalid(
                "invalid",
                "a refund is paid through POST /api/v1/renovations/{id}/refund",
            ));
        }
        LedgerKind::Reversal => {
            return Err(DeskError::invalid(
                "invalid",
                "a deduction is reversed through POST /api/v1/ledger/{line}/reverse",
            ));
        }
        _ => {}
    }
    if !(1..=MAX_AMOUNT_CENTS).contains(&line.amount_cents) {
        return Err(DeskError::invalid(
            "invalid",
            format!("amount_cents must be between 1 and {MAX_AMOUNT_CENTS}"),
        ));
    }
    if matches!(line.kind, LedgerKind::Deposit | LedgerKind::RubbishFee)
        && line
            .receipt_no
            .as_deref()
            .is_none_or(|s| s.trim().is_empty())
    {
        return Err(DeskError::invalid(
            "receipt_required",
            "money received needs its receipt_no",
        ));
    }
    if line.kind != LedgerKind::Deduction && (line.category.is_some() || line.card_id.is_some()) {
        return Err(DeskError::invalid(
            "invalid",
            "only a deduction has a category or a card",
        ));
    }
    if line.kind == LedgerKind::Deduction && line.note.trim().is_empty() {
        return Err(DeskError::invalid(
            "reason_required",
            "a deduction needs a note saying why",
        ));
    }
    let category = line.category.unwrap_or_default();
    match (category, line.card_id) {
        (Category::LostCard, None) if line.kind == LedgerKind::Deduction => {
            return Err(DeskError::invalid(
                "card_required",
                "a lost-card fee names the card (card_id)",
            ));
        }
        (Category::LostCard, Some(card)) => {
            let state = card_of(tx, renovation_id, card)?;
            if state != CardState::Lost {
                return Err(DeskError::conflict(
                    "card_not_lost",
                    format!(
                        "card {card} is {}: a fee is charged only for a card declared lost and not back",
                        state.words()
                    ),
                ));
            }
            if ledger(tx, renovation_id)?.has_card_fee(card) {
                return Err(DeskError::conflict(
                    "fee_already_charged",
                    format!("the fee for lost card {card} is already deducted"),
                )
                .with_details(serde_json::json!({"card_id": card})));
            }
        }
        (_, Some(card)) => {
            card_of(tx, renovation_id, card)?;
            return Err(DeskError::invalid(
                "card_not_expected",
                format!(
                    "only a lost-card fee names a card; say what card {card} has to do with it in the note"
                ),
            ));
        }
        _ => {}
    }
    if line.kind == LedgerKind::Deposit && ledger(tx, renovation_id)?.deposit() > 0 {
        return Err(DeskError::conflict(
            "deposit_recorded",
            "a deposit is already recorded for this renovation",
        ));
    }
    Ok(())
}

/// Records one line the desk typed (deposit, rubbish-removal fee, deduction) and audits it.
pub fn add_line(
    tx: &Connection,
    actor: &Actor,
    renovation_id: i64,
    line: &NewLine,
    now: DateTime<Utc>,
) -> DeskResult<LedgerLine> {
    refuse_if_refunded(tx, renovation_id)?;
    check_line(tx, renovation_id, line)?;
    let new = LedgerLine {
        id: 0,
        kind: line.kind,
        category: (line.kind == LedgerKind::Deduction).then(|| line.category.unwrap_or_default()),
        amount_cents: line.amount_cents,
        receipt_no: line
            .receipt_no
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        note: line.note.trim().to_owned(),
        card_id: line.card_id,
        reverses: None,
        approved_by: None,
        at: ts(now),
        by: actor.audit_name(),
    };
    insert(tx, actor, renovation_id, new, now)
}

/// Writes `line` and its audit entry (`ledger.<kind>`, ids and amounts only).
pub fn insert(
    tx: &Connection,
    actor: &Actor,
    renovation_id: i64,
    mut line: LedgerLine,
    now: DateTime<Utc>,
) -> DeskResult<LedgerLine> {
    tx.prepare_cached(
        "INSERT INTO ledger (renovation_id, kind, category, amount_cents, receipt_no, note, card_id, reverses, approved_by, at, by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        renovation_id,
        line.kind.as_str(),
        line.category.map(Category::as_str),
        line.amount_cents,
        line.receipt_no,
        line.note,
        line.card_id,
        line.reverses,
        line.approved_by,
        line.at,
        line.by
    ])?;
    line.id = tx.last_insert_rowid();
    audit::record(
        tx,
        actor,
        &format!("ledger.{}", line.kind.as_str()),
        &format!("renovation:{renovation_id}"),
        serde_json::json!({
            "line": line.id, "amount_cents": line.amount_cents, "category": line.category,
            "receipt_no": line.receipt_no, "card": line.card_id, "reverses": line.reverses,
            "approved_by": line.approved_by,
        }),
        now,
    )?;
    Ok(line)
}

/// Deducts the replacement fee of lost card `card_id` (already in state `lost`).
pub fn charge_card_fee(
    tx: &Connection,
    actor: &Actor,
    renovation_id: i64,
    card_id: u32,
    fee_cents: i64,
    now: DateTime<Utc>,
) -> DeskResult<LedgerLine> {
    add_line(
        tx,
        actor,
        renovation_id,
        &NewLine {
            kind: LedgerKind::Deduction,
            amount_cents: fee_cents,
            receipt_no: None,
            note: format!("replacement fee for lost card {card_id}"),
            category: Some(Category::LostCard),
            card_id: Some(card_id),
        },
        now,
    )
}

/// Reverses the standing fee of card `card_id`, which is back at the desk. Nothing to do if no
/// fee stands; after the refund the file is closed and the fee stays (`None`).
pub fn reverse_card_fee(
    tx: &Connection,
    actor: &Actor,
    renovation_id: i64,
    card_id: u32,
    now: DateTime<Utc>,
) -> DeskResult<Option<LedgerLine>> {
    let book = ledger(tx, renovation_id)?;
    if book.refunded() {
        return Ok(None);
    }
    let Some(fee) = book.standing_card_fee(card_id) else {
        return Ok(None);
    };
    let line = reversal_of(
        fee,
        format!("card {card_id} found and returned"),
        actor,
        now,
    );
    insert(tx, actor, renovation_id, line, now).map(Some)
}

fn reversal_of(fee: &LedgerLine, note: String, actor: &Actor, now: DateTime<Utc>) -> LedgerLine {
    LedgerLine {
        id: 0,
        kind: LedgerKind::Reversal,
        category: None,
        amount_cents: fee.amount_cents,
        receipt_no: None,
        note,
        card_id: fee.card_id,
        reverses: Some(fee.id),
        approved_by: None,
        at: ts(now),
        by: actor.audit_name(),
    }
}

/// A manager undoes deduction `line_id` with a reason; returns the renovation and the reversal.
pub fn reverse(
    tx: &Connection,
    actor: &Actor,
    line_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> DeskResult<(i64, LedgerLine)> {
    let renovation_id: i64 = tx
        .query_row(
            "SELECT renovation_id FROM ledger WHERE id = ?1",
            params![line_id],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| DeskError::NotFound(format!("there is no ledger line {line_id}")))?;
    if !matches!(actor, Actor::Manager(_)) {
        return Err(DeskError::conflict(
            "manager_required",
            "only a manager reverses a deduction; ask a manager to log in",
        ));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(DeskError::invalid(
            "reason_required",
            "say why the deduction is reversed (reason)",
        ));
    }
    refuse_if_refunded(tx, renovation_id)?;
    let book = ledger(tx, renovation_id)?;
    let Some(line) = book.lines.iter().find(|l| l.id == line_id) else {
        return Err(DeskError::NotFound(format!(
            "there is no ledger line {line_id}"
        )));
    };
    if line.kind != LedgerKind::Deduction {
        return Err(DeskError::conflict(
            "not_a_deduction",
            format!(
                "line {line_id} is a {}; only a deduction is reversed",
                line.kind.words()
            ),
        ));
    }
    if book.is_reversed(line_id) {
        return Err(DeskError::conflict(
            "already_reversed",
            format!("deduction {line_id} is already reversed"),
        ));
    }
    let reversal = reversal_of(line, reason.to_owned(), actor, now);
    Ok((
        renovation_id,
        insert(tx, actor, renovation_id, reversal, now)?,
    ))
}

/// The ledger of a renovation.
pub fn ledger(conn: &Connection, renovation_id: i64) -> DeskResult<Ledger> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, category, amount_cents, receipt_no, note, card_id, reverses, approved_by, at, by
         FROM ledger WHERE renovation_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![renovation_id], |r| {
        let kind: String = r.get(1)?;
        let category: Option<String> = r.get(2)?;
        Ok(LedgerLine {
            id: r.get(0)?,
            kind: LedgerKind::parse(&kind).unwrap_or(LedgerKind::Deduction),
            category: category.as_deref().and_then(Category::parse),
            amount_cents: r.get(3)?,
            receipt_no: r.get(4)?,
            note: r.get(5)?,
            card_id: r.get(6)?,
            reverses: r.get(7)?,
            approved_by: r.get(8)?,
            at: r.get(9)?,
            by: r.get(10)?,
        })
    })?;
    Ok(Ledger {
        lines: rows.collect::<rusqlite::Result<_>>()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: i64, kind: LedgerKind, amount: i64, reverses: Option<i64>) -> LedgerLine {
        LedgerLine {
            id,
            kind,
            category: (kind == LedgerKind::Deduction).then_some(Category::Damage),
            amount_cents: amount,
            receipt_no: None,
            note: String::new(),
            card_id: None,
            reverses,
            approved_by: None,
            at: String::new(),
            by: String::new(),
        }
    }

    #[test]
    fn deductions_beyond_the_deposit_are_owed_never_a_negative_deposit() {
        let l = Ledger {
            lines: vec![
                line(1, LedgerKind::Deposit, 100, None),
                line(2, LedgerKind::Deduction, 500, None),
            ],
        };
        assert_eq!((l.balance(), l.refundable(), l.owed()), (-400, 0, 400));
    }

    #[test]
    fn a_reversal_gives_the_deduction_back() {
        let l = Ledger {
            lines: vec![
                line(1, LedgerKind::Deposit, 1000, None),
                line(2, LedgerKind::Deduction, 300, None),
                line(3, LedgerKind::Deduction, 200, None),
                line(4, LedgerKind::Reversal, 300, Some(2)),
            ],
        };
        assert_eq!((l.refundable(), l.owed()), (800, 0));
        assert!(l.is_reversed(2) && !l.is_reversed(3));
    }
}
