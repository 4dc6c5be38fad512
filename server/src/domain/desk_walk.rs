//! A property test over the desk's real domain functions on a real (in-memory) database: random
//! sequences of issue, return (scan, number or printed code), revoke, lost, reprint, extend,
//! inspection, occupancy, deductions, reversals, time passing and refunds, with the invariants
//! checked after every step:
//! - the refund is paid iff every rule holds (and a desk clerk's refund waits for a manager);
//! - no lost-card fee stands for a card that is back at the desk;
//! - the ledger's balance is deposits − deductions + reversals, as the walk recorded them;
//! - a refund is paid at most once;
//! - every state change has an audit entry, and a refused step changes nothing.

use super::card::{self, CardRef};
use super::custody::CardState;
use super::deposit::{self, RefundStatus};
use super::desk_error::DeskError;
use super::ledger::{self, Category, LedgerKind, NewLine};
use super::renovation::{self, NewRenovation, Progress};
use super::worker::{self, NewWorker};
use super::{estate, settings};
use crate::auth::{Actor, Role, Staff};
use crate::keys::SigningKeys;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use rusqlite::Connection;

/// One step of the walk; card and worker numbers index what the walk has issued so far.
#[derive(Clone, Debug)]
enum Op {
    Issue(usize),
    ReturnScan(usize),
    ReturnNumber(usize),
    ReturnCode(usize),
    Revoke(usize),
    Lost(usize),
    Reprint(usize),
    Extend,
    Inspect,
    Occupy,
    Papers,
    Deposit,
    Deduct(i64, Category),
    ReverseLast,
    Advance(i64),
    Refund { manager: bool },
}

fn op() -> impl Strategy<Value = Op> {
    let card = 0usize..6;
    prop_oneof![
        3 => (0usize..3).prop_map(Op::Issue),
        2 => card.clone().prop_map(Op::ReturnScan),
        1 => card.clone().prop_map(Op::ReturnNumber),
        1 => card.clone().prop_map(Op::ReturnCode),
        1 => card.clone().prop_map(Op::Revoke),
        2 => card.clone().prop_map(Op::Lost),
        1 => card.prop_map(Op::Reprint),
        1 => Just(Op::Extend),
        1 => Just(Op::Inspect),
        1 => Just(Op::Occupy),
        1 => Just(Op::Papers),
        1 => Just(Op::Deposit),
        1 => (1i64..300_000, prop_oneof![
            Just(Category::Damage), Just(Category::Cleaning), Just(Category::Violation), Just(Category::Other)
        ]).prop_map(|(a, c)| Op::Deduct(a, c)),
        1 => Just(Op::ReverseLast),
        3 => (1i64..40).prop_map(Op::Advance),
        2 => any::<bool>().prop_map(|manager| Op::Refund { manager }),
    ]
}

fn staff(role: Role, name: &str) -> Actor {
    let s = Staff {
        id: 1,
        username: name.into(),
        role,
    };
    match role {
        Role::Desk => Actor::Desk(s),
        Role::Manager => Actor::Manager(s),
        Role::Guard => Actor::Guard(s),
    }
}

/// What the walk itself recorded, to compare with what the database says.
#[derive(Default)]
struct Tally {
    deposits: i64,
    deductions: i64,
    reversals: i64,
    refunds_paid: u32,
    /// Cards the desk took back after the file was closed (their fee stays: the money is gone).
    back_after_refund: Vec<u32>,
    /// Lost cards whose fee stands (charged, neither waived nor reversed by their return).
    standing_fees: Vec<u32>,
}

struct World {
    conn: Connection,
    signer: SigningKeys,
    _dir: tempfile::TempDir,
    now: DateTime<Utc>,
    renovation: i64,
    workers: Vec<i64>,
    /// (card number, credential text, printed code)
    cards: Vec<(u32, String, String)>,
    desk: Actor,
    manager: Actor,
    tally: Tally,
}

const FEE: i64 = 5000;

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::in_memory().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 1, 5, 2, 0, 0).unwrap();
        estate::seed_defaults(&conn).unwrap();
        crate::domain::signing_keys::ensure_active(&conn, dir.path(), now).unwrap();
        conn.execute_batch(
            "INSERT OR IGNORE INTO buildings (number, name, floor_lo, floor_hi) VALUES (2, 'Tower 2', -2, 30);
             INSERT OR IGNORE INTO units (label, building, floor) VALUES ('2-1203', 2, 12);",
        )
        .unwrap();
        let unit_id: i64 = conn
            .query_row("SELECT id FROM units WHERE label = '2-1203'", [], |r| {
                r.get(0)
            })
            .unwrap();
        let desk = staff(Role::Desk, "desk1");
        let manager = staff(Role::Manager, "boss");
        let start = local_today(&conn, now);
        let r = renovation::create(
            &conn,
            &desk,
            &NewRenovation {
                unit_id,
                owner_name: "王小明".into(),
                contractor: "Acme".into(),
                supervisor_name: "李四".into(),
                supervisor_phone: "13812345678".into(),
                start_date: start,
                end_date: start + chrono::Months::new(2),
                waterproofing: false,
                documents: renovation::Document::ALL
                    .into_iter()
                    .map(|d| (d, true))
                    .collect(),
            },
            now,
        )
        .unwrap();
        let workers = (0..3)
            .map(|i| {
                worker::create(
                    &conn,
                    &crate::keys::personal::PersonalKey::generate(),
                    &desk,
                    r.id,
                    &NewWorker {
                        name: format!("张三{i}"),
                        phone: "13912345678".into(),
                        id_number: format!("11010519491231002{i}"),
                    },
                    now,
                )
                .unwrap()
                .id
            })
            .collect();
        World {
            signer: SigningKeys::new(dir.path()),
            _dir: dir,
            conn,
            now,
            renovation: r.id,
            workers,
            cards: Vec::new(),
            desk,
            manager,
            tally: Tally::default(),
        }
    }

    fn card(&self, i: usize) -> Option<(u32, String, String)> {
        self.cards.get(i).cloned()
    }

    fn state_of(&self, card_id: u32) -> CardState {
        card::get(&self.conn, card_id).unwrap().state
    }

    fn ledger(&self) -> ledger::Ledger {
        ledger::ledger(&self.conn, self.renovation).unwrap()
    }

    fn refunded(&self) -> bool {
        self.ledger().refunded()
    }

    /// Everything a step may change, as text: cards, ledger, renovation, requests.
    fn snapshot(&self) -> String {
        let mut out = String::new();
        for sql in [
            "SELECT id || state || IFNULL(ended_at, '') || not_after FROM cards ORDER BY id",
            "SELECT id || kind || amount_cents || IFNULL(reverses, '') FROM ledger ORDER BY id",
            "SELECT end_date || IFNULL(inspection_passed_on, '') || IFNULL(occupied_on, '') || downstairs_signed_off
                || certificate_presented || receipt_presented || IFNULL(refunded_at, '') FROM renovations",
            "SELECT id || IFNULL(decided_at, '') FROM refund_requests ORDER BY id",
        ] {
            let mut st = self.conn.prepare(sql).unwrap();
            let rows = st.query_map([], |r| r.get::<_, String>(0)).unwrap();
            for row in rows {
                out.push_str(&row.unwrap());
                out.push('\n');
            }
        }
        out
    }

    fn audit_count(&self) -> i64 {
        self.conn
            .query_row("SELECT COUNT(*) FROM audit_log", [], |r| r.get(0))
            .unwrap()
    }

    /// Runs one step in a savepoint, committed only if it succeeds (as every handler does).
    fn step(&mut self, op: &Op) -> Result<(), String> {
        let before = self.state_before(op);
        self.conn.execute_batch("SAVEPOINT walk").unwrap();
        let outcome = self.run(op);
        self.conn
            .execute_batch(match outcome {
                Ok(()) => "RELEASE walk",
                Err(_) => "ROLLBACK TO walk; RELEASE walk",
            })
            .unwrap();
        self.account(op, before, &outcome);
        outcome.map_err(|e| e.to_string())
    }

    /// The state of the card a step names, before it runs.
    fn state_before(&self, op: &Op) -> Option<(u32, CardState)> {
        let i = match op {
            Op::ReturnScan(i)
            | Op::ReturnNumber(i)
            | Op::ReturnCode(i)
            | Op::Revoke(i)
            | Op::Lost(i)
            | Op::Reprint(i) => *i,
            _ => return None,
        };
        self.card(i).map(|(id, _, _)| (id, self.state_of(id)))
    }

    fn run(&mut self, op: &Op) -> Result<(), DeskError> {
        let (now, desk, manager) = (self.now, self.desk.clone(), self.manager.clone());
        let tx = &self.conn;
        let missing = || DeskError::NotFound("no such card in the walk".into());
        match op {
            Op::Issue(w) => {
                let issued =
                    card::issue_worker_card(tx, &self.signer, &desk, self.workers[*w], None, now)?;
                self.cards
                    .push((issued.card.card_id, issued.credential, issued.card.short_id));
            }
            Op::ReturnScan(i) | Op::ReturnNumber(i) | Op::ReturnCode(i) => {
                let (id, text, code) = self.card(*i).ok_or_else(missing)?;
                let by = match op {
                    Op::ReturnScan(_) => CardRef::Scan(format!("{text}\r")),
                    Op::ReturnNumber(_) => CardRef::from_field(&format!("#{id}"))?,
                    _ => CardRef::from_field(&code.to_lowercase())?,
                };
                let back = card::take_back(tx, &self.signer, &desk, &by, now)?;
                assert_eq!(back.view.card.card_id, id);
            }
            Op::Revoke(i) => {
                card::revoke(tx, &desk, self.card(*i).ok_or_else(missing)?.0, now)?;
            }
            Op::Lost(i) => {
                let id = self.card(*i).ok_or_else(missing)?.0;
                card::declare_lost(tx, &desk, id, Some(FEE), now)?;
            }
            Op::Reprint(i) => {
                let id = self.card(*i).ok_or_else(missing)?.0;
                let issued = card::reprint(tx, &self.signer, &desk, id, now)?;
                self.cards
                    .push((issued.card.card_id, issued.credential, issued.card.short_id));
            }
            Op::Extend => {
                let r = renovation::get(tx, self.renovation)?;
                renovation::extend(
                    tx,
                    &desk,
                    self.renovation,
                    r.end_date + chrono::Months::new(1),
                    now,
                )?;
            }
            Op::Inspect | Op::Occupy | Op::Papers => {
                let today = local_today(tx, now);
                let p = match op {
                    Op::Inspect => Progress {
                        inspection_passed_on: Some(Some(today)),
                        ..Progress::default()
                    },
                    Op::Occupy => Progress {
                        occupied_on: Some(Some(today)),
                        downstairs_signed_off: Some(true),
                        ..Progress::default()
                    },
                    _ => Progress {
                        certificate_presented: Some(true),
                        receipt_presented: Some(true),
                        ..Progress::default()
                    },
                };
                renovation::set_progress(tx, &desk, self.renovation, &p, today, now)?;
            }
            Op::Deposit => {
                let line = NewLine {
                    kind: LedgerKind::Deposit,
                    amount_cents: 500_000,
                    receipt_no: Some("SJ-1".into()),
                    note: String::new(),
                    category: None,
                    card_id: None,
                };
                ledger::add_line(tx, &desk, self.renovation, &line, now)?;
            }
            Op::Deduct(amount, category) => {
                let line = NewLine {
                    kind: LedgerKind::Deduction,
                    amount_cents: *amount,
                    receipt_no: None,
                    note: "rubbish left in the stairwell".into(),
                    category: Some(*category),
                    card_id: None,
                };
                ledger::add_line(tx, &desk, self.renovation, &line, now)?;
            }
            Op::ReverseLast => {
                let book = ledger::ledger(tx, self.renovation)?;
                let last = book
                    .lines
                    .iter()
                    .rev()
                    .find(|l| l.kind == LedgerKind::Deduction)
                    .ok_or_else(|| DeskError::NotFound("no deduction".into()))?;
                ledger::reverse(tx, &manager, last.id, "charged in error", now)?;
            }
            Op::Advance(_) => {}
            Op::Refund {
                manager: as_manager,
            } => {
                let who = if *as_manager { &manager } else { &desk };
                let rules_hold = deposit::check(tx, self.renovation, now)?
                    .iter()
                    .all(|r| r.met);
                let was_refunded = ledger::ledger(tx, self.renovation)?.refunded();
                let requested: bool = tx
                    .query_row(
                        "SELECT EXISTS(SELECT 1 FROM refund_requests WHERE decided_at IS NULL)",
                        [],
                        |r| r.get(0),
                    )
                    .unwrap();
                let outcome = deposit::refund(tx, who, self.renovation, now);
                match (&outcome, was_refunded, rules_hold, *as_manager, requested) {
                    (Err(DeskError::Conflict { code, .. }), true, ..) => {
                        assert_eq!(*code, "already_refunded")
                    }
                    (Err(DeskError::RefundRefused(_)), false, false, ..) => {}
                    (Ok(paid), false, true, true, _) => {
                        assert_eq!(paid.status, RefundStatus::Paid);
                        assert_eq!(paid.approved_by.as_deref(), Some("manager:boss"));
                    }
                    (Ok(asked), false, true, false, false) => {
                        assert_eq!(asked.status, RefundStatus::AwaitingApproval);
                    }
                    (Err(DeskError::Conflict { code, .. }), false, true, false, true) => {
                        assert_eq!(*code, "awaiting_approval")
                    }
                    (other, ..) => panic!(
                        "refund as manager={as_manager} (rules hold: {rules_hold}, refunded: {was_refunded}, requested: {requested}) gave {other:?}"
                    ),
                }
                outcome?;
            }
        }
        Ok(())
    }

    /// Records in the tally the money a successful step moved.
    fn account(
        &mut self,
        op: &Op,
        before: Option<(u32, CardState)>,
        outcome: &Result<(), DeskError>,
    ) {
        if outcome.is_err() {
            return;
        }
        let refunded = self.refunded();
        match (op, before) {
            (Op::Deposit, _) => self.tally.deposits += 500_000,
            (Op::Deduct(a, _), _) => self.tally.deductions += a,
            (Op::Lost(_), Some((id, _))) => {
                self.tally.deductions += FEE;
                self.tally.standing_fees.push(id);
            }
            (Op::ReverseLast, _) => {
                let last = self.ledger().lines.last().cloned().unwrap();
                self.tally.reversals += last.amount_cents;
                self.tally
                    .standing_fees
                    .retain(|c| Some(*c) != last.card_id);
            }
            (Op::ReturnScan(_) | Op::ReturnNumber(_) | Op::ReturnCode(_), Some((id, _))) => {
                if refunded {
                    self.tally.back_after_refund.push(id);
                } else if self.tally.standing_fees.contains(&id) {
                    self.tally.reversals += FEE;
                    self.tally.standing_fees.retain(|c| *c != id);
                }
            }
            (Op::Refund { .. }, _) if refunded && self.tally.refunds_paid == 0 => {
                self.tally.refunds_paid = 1;
            }
            _ => {}
        }
    }

    fn check_invariants(&self, op: &Op, snap_before: &str, audit_before: i64, ok: bool) {
        let book = self.ledger();
        let changed = self.snapshot() != snap_before;
        if !ok {
            assert!(!changed, "{op:?} was refused but changed state");
        }
        if changed {
            assert!(
                self.audit_count() > audit_before,
                "{op:?} changed state without an audit entry"
            );
        }
        // The ledger is what the walk put in it.
        assert_eq!(book.deposit(), self.tally.deposits, "deposits");
        assert_eq!(book.deductions(), self.tally.deductions, "deductions");
        assert_eq!(book.reversals(), self.tally.reversals, "reversals");
        let balance = self.tally.deposits - self.tally.deductions + self.tally.reversals;
        assert_eq!(book.balance(), balance);
        // A refund pays what is left, never less than nothing; what is missing is owed.
        assert_eq!(book.refundable(), balance.max(0), "refundable");
        assert_eq!(book.owed(), (-balance).max(0), "owed");
        // At most one refund, and the renovation says so.
        let refunds = book
            .lines
            .iter()
            .filter(|l| l.kind == LedgerKind::Refund)
            .count();
        assert!(refunds <= 1, "{refunds} refunds paid");
        assert_eq!(refunds as u32, self.tally.refunds_paid);
        // No fee stands for a card the desk holds (unless it came back after the refund).
        for (id, _, _) in &self.cards {
            let state = self.state_of(*id);
            if state == CardState::Returned && !self.tally.back_after_refund.contains(id) {
                assert!(
                    !book.has_card_fee(*id),
                    "card {id} is back yet its fee stands"
                );
            }
            if state == CardState::Lost {
                assert!(book.card_fee_charged(*id), "lost card {id} without its fee");
            }
        }
        // The renovation's state follows its facts.
        let r = renovation::get(&self.conn, self.renovation).unwrap();
        let expected = if refunds == 1 {
            renovation::Status::Refunded
        } else if r.inspection_passed_on.is_some() {
            renovation::Status::Inspected
        } else {
            renovation::Status::Active
        };
        assert_eq!(r.status, expected);
        assert!(
            crate::audit::verify(&self.conn, None).unwrap().ok,
            "the audit chain verifies"
        );
    }
}

fn local_today(conn: &Connection, now: DateTime<Utc>) -> NaiveDate {
    settings::local_date(settings::time_zone(conn).unwrap(), now)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_walk_of_the_desk_keeps_custody_money_and_audit_consistent(
        ops in proptest::collection::vec(op(), 1..60)
    ) {
        let mut w = World::new();
        for op in &ops {
            if let Op::Advance(days) = op {
                w.now += Duration::days(*days);
            }
            let (snap, audit) = (w.snapshot(), w.audit_count());
            let ok = w.step(op).is_ok();
            w.check_invariants(op, &snap, audit, ok);
        }
    }
}

#[test]
fn a_walk_can_reach_a_paid_refund_with_a_lost_card_found_and_a_revoked_card_returned() {
    let mut w = World::new();
    let script = [
        Op::Deposit,
        Op::Issue(0),
        Op::Issue(1),
        Op::Issue(2),
        Op::Revoke(0),
        Op::Lost(1),
        Op::ReturnScan(0),
        Op::ReturnNumber(1),
        Op::Reprint(2),
        Op::ReturnCode(3),
        Op::Deduct(30_000, Category::Cleaning),
        Op::Advance(20),
        Op::Inspect,
        Op::Advance(2),
        Op::Occupy,
        Op::Advance(95),
        Op::Papers,
        Op::Refund { manager: false },
        Op::Refund { manager: false },
        Op::Refund { manager: true },
        Op::Refund { manager: true },
    ];
    for op in &script {
        if let Op::Advance(days) = op {
            w.now += Duration::days(*days);
        }
        let (snap, audit) = (w.snapshot(), w.audit_count());
        let outcome = w.step(op);
        w.check_invariants(op, &snap, audit, outcome.is_ok());
        match op {
            Op::Refund { manager: false } | Op::Refund { manager: true } => {}
            _ => assert!(outcome.is_ok(), "{op:?}: {outcome:?}"),
        }
    }
    let book = w.ledger();
    assert!(book.refunded());
    // Deposit 5000 yuan − cleaning 300 yuan; the lost card came back, its fee reversed.
    assert_eq!(book.refundable(), 470_000);
    assert_eq!(w.tally.reversals, FEE);
    for (id, _, _) in &w.cards {
        let s = w.state_of(*id);
        assert!(
            s == CardState::Returned || s == CardState::Reissued,
            "card {id}: {s:?}"
        );
    }
}

#[test]
fn an_overdue_card_raises_one_alarm_and_blocks_new_cards_until_a_manager_overrides() {
    let mut w = World::new();
    for op in [Op::Issue(0), Op::Issue(1), Op::Revoke(0), Op::Extend] {
        w.step(&op).unwrap();
    }
    let (revoked, _, _) = w.card(0).unwrap();
    // Past the first end: the revoked card kept it and is overdue; the one in use was extended.
    w.now += Duration::days(70);
    let r = renovation::get(&w.conn, w.renovation).unwrap();
    assert_eq!(card::overdue_of(&w.conn, &r, w.now).unwrap(), [revoked]);
    let refused = w.step(&Op::Issue(2)).unwrap_err();
    assert!(
        refused.contains(&format!("card(s) {revoked}")) && refused.contains("manager"),
        "{refused}"
    );
    let worker = w.workers[2];
    let (desk, manager) = (w.desk.clone(), w.manager.clone());
    for (who, reason) in [(&desk, "the contractor promised"), (&manager, " ")] {
        let e = card::issue_worker_card(&w.conn, &w.signer, who, worker, Some(reason), w.now);
        assert!(
            matches!(
                e,
                Err(DeskError::Conflict {
                    code: "cards_overdue",
                    ..
                })
            ),
            "{e:?}"
        );
    }
    let issued = card::issue_worker_card(
        &w.conn,
        &w.signer,
        &manager,
        worker,
        Some("new plasterer, the old card is being chased"),
        w.now,
    );
    assert!(issued.is_ok(), "{issued:?}");
    let overrides: i64 = w
        .conn
        .query_row(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'card.overdue_override' AND actor = 'manager:boss'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(overrides, 1);

    // The desk is told once, with the contractor's phone, until someone acknowledges it.
    let alarms = card::overdue_alarms(&w.conn, w.now).unwrap();
    assert_eq!(alarms.len(), 1, "{alarms:?}");
    assert_eq!(alarms[0].card_id, revoked);
    assert_eq!(alarms[0].out.contact_phone.as_deref(), Some("13812345678"));
    let audits = w.audit_count();
    w.now += Duration::minutes(10);
    assert_eq!(card::overdue_alarms(&w.conn, w.now).unwrap().len(), 1);
    assert_eq!(w.audit_count(), audits, "raised once, not on every look");
    card::acknowledge_overdue(&w.conn, &desk, revoked, w.now).unwrap();
    assert!(card::overdue_alarms(&w.conn, w.now).unwrap().is_empty());
    // Once it is back, nothing is overdue and cards are issued again.
    w.step(&Op::ReturnScan(0)).unwrap();
    let r = renovation::get(&w.conn, w.renovation).unwrap();
    assert!(card::overdue_of(&w.conn, &r, w.now).unwrap().is_empty());
}
