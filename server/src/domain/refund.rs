//! The deposit refund rules (装修保证金退还) as one pure function: given a renovation, its
//! cards, its ledger and today's local date, say for every rule of the brief whether it holds
//! and why, in words a front-desk clerk can read to the owner.

pub use super::custody::CardState;
pub use super::ledger::{Ledger, LedgerKind, LedgerLine};
use super::renovation::{Document, Renovation};
use chrono::{Months, NaiveDate};
use serde::Serialize;

/// One refund rule of the brief.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// 1. The renovation inspection (装修核查) has passed.
    InspectionPassed,
    /// 2. Three months since occupancy after the inspection, and the downstairs owner signed off.
    OccupancyAndDownstairs,
    /// 3. Every worker card returned or declared lost with its fee deducted.
    CardsAccountedFor,
    /// 4. Every document on the checklist recorded as received.
    DocumentsComplete,
    /// 5. The original registration certificate and the deposit receipt presented.
    CertificateAndReceipt,
}

impl Rule {
    /// Every rule, in the brief's order.
    pub const ALL: [Rule; 5] = [
        Rule::InspectionPassed,
        Rule::OccupancyAndDownstairs,
        Rule::CardsAccountedFor,
        Rule::DocumentsComplete,
        Rule::CertificateAndReceipt,
    ];

    /// The rule's title in English.
    pub const fn title(self) -> &'static str {
        match self {
            Rule::InspectionPassed => "Renovation inspection passed",
            Rule::OccupancyAndDownstairs => {
                "3 months of occupancy after inspection, downstairs owner signed off"
            }
            Rule::CardsAccountedFor => "Every worker card returned or declared lost",
            Rule::DocumentsComplete => "Renovation file complete",
            Rule::CertificateAndReceipt => "Registration certificate and deposit receipt presented",
        }
    }

    /// The rule's title in Chinese.
    pub const fn title_zh(self) -> &'static str {
        match self {
            Rule::InspectionPassed => "装修核查已通过",
            Rule::OccupancyAndDownstairs => "核查后入住满三个月且楼下业主签字确认",
            Rule::CardsAccountedFor => "所有人员临时出入卡已交回或已挂失",
            Rule::DocumentsComplete => "装修资料齐全",
            Rule::CertificateAndReceipt => "已出示装修备案登记证原件及保证金收据",
        }
    }
}

/// Whether one rule holds, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RuleResult {
    /// Which rule.
    pub rule: Rule,
    /// The rule's title.
    pub title: &'static str,
    /// The rule's title in Chinese.
    pub title_zh: &'static str,
    /// Whether it holds.
    pub met: bool,
    /// Why it holds or not, in words.
    pub reason: String,
}

impl RuleResult {
    fn new(rule: Rule, met: bool, reason: String) -> Self {
        RuleResult {
            rule,
            title: rule.title(),
            title_zh: rule.title_zh(),
            met,
            reason,
        }
    }
}

/// What the refund rules need to know of one worker card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardFacts {
    /// The card's number.
    pub card_id: u32,
    /// Its state.
    pub state: CardState,
}

fn list(ids: impl Iterator<Item = String>) -> String {
    ids.collect::<Vec<_>>().join(", ")
}

/// Every refund rule with met/unmet and a reason in words.
pub fn refund_check(
    renovation: &Renovation,
    cards: &[CardFacts],
    ledger: &Ledger,
    today: NaiveDate,
) -> Vec<RuleResult> {
    Rule::ALL
        .into_iter()
        .map(|rule| check_one(rule, renovation, cards, ledger, today))
        .collect()
}

fn check_one(
    rule: Rule,
    r: &Renovation,
    cards: &[CardFacts],
    ledger: &Ledger,
    today: NaiveDate,
) -> RuleResult {
    match rule {
        Rule::InspectionPassed => match r.inspection_passed_on {
            Some(d) => RuleResult::new(rule, true, format!("the inspection passed on {d}")),
            None => RuleResult::new(rule, false, "no passed inspection is recorded".into()),
        },
        Rule::OccupancyAndDownstairs => {
            let mut problems = Vec::new();
            match (r.inspection_passed_on, r.occupied_on) {
                (_, None) => problems.push("no occupancy date is recorded".to_owned()),
                (Some(inspected), Some(occupied)) if occupied < inspected => problems.push(format!(
                    "occupancy on {occupied} is before the inspection on {inspected}; occupancy must follow the inspection"
                )),
                (_, Some(occupied)) => match occupied.checked_add_months(Months::new(3)) {
                    Some(due) if today >= due => {}
                    Some(due) => problems.push(format!(
                        "occupied since {occupied}; three months pass on {due} ({} days to go)",
                        (due - today).num_days()
                    )),
                    None => problems.push("the occupancy date is out of range".to_owned()),
                },
            }
            if !r.downstairs_signed_off {
                problems.push("the downstairs owner has not signed off".to_owned());
            }
            if problems.is_empty() {
                let occupied = r.occupied_on.map(|d| d.to_string()).unwrap_or_default();
                RuleResult::new(
                    rule,
                    true,
                    format!(
                        "occupied since {occupied}, more than three months ago; the downstairs owner signed off"
                    ),
                )
            } else {
                RuleResult::new(rule, false, problems.join("; "))
            }
        }
        Rule::CardsAccountedFor => {
            // Custody decides: a card back at the desk counts whatever happened to it, a card
            // superseded by a reprint is void at every gate, a lost card counts once its fee
            // stands.
            let out: Vec<&CardFacts> = cards.iter().filter(|c| c.state.blocks_refund()).collect();
            let unpaid: Vec<&CardFacts> = cards
                .iter()
                .filter(|c| c.state == CardState::Lost && !ledger.card_fee_charged(c.card_id))
                .collect();
            let mut problems = Vec::new();
            if !out.is_empty() {
                problems.push(format!(
                    "{} card(s) not returned: {}",
                    out.len(),
                    list(out.iter().map(|c| format!("card {}", c.card_id)))
                ));
            }
            if !unpaid.is_empty() {
                problems.push(format!(
                    "lost card(s) without a replacement fee deducted: {}",
                    list(unpaid.iter().map(|c| format!("card {}", c.card_id)))
                ));
            }
            if problems.is_empty() {
                let count = |s: CardState| cards.iter().filter(|c| c.state == s).count();
                RuleResult::new(
                    rule,
                    true,
                    format!(
                        "{} card(s) returned, {} declared lost with the fee deducted",
                        count(CardState::Returned),
                        count(CardState::Lost)
                    ),
                )
            } else {
                RuleResult::new(rule, false, problems.join("; "))
            }
        }
        Rule::DocumentsComplete => {
            let missing: Vec<Document> = r.missing_documents();
            if missing.is_empty() {
                RuleResult::new(
                    rule,
                    true,
                    "every document on the checklist is recorded as received".into(),
                )
            } else {
                RuleResult::new(
                    rule,
                    false,
                    format!(
                        "missing: {}",
                        list(missing.iter().map(|d| d.title().to_owned()))
                    ),
                )
            }
        }
        Rule::CertificateAndReceipt => {
            let mut problems = Vec::new();
            if !r.certificate_presented {
                problems.push(
                    "the original registration certificate has not been presented".to_owned(),
                );
            }
            if !r.receipt_presented {
                problems.push("the deposit receipt has not been presented".to_owned());
            }
            if ledger.deposit_receipt().is_none() {
                problems.push("no deposit with a receipt number is recorded".to_owned());
            }
            if problems.is_empty() {
                RuleResult::new(
                    rule,
                    true,
                    format!(
                        "certificate and receipt {} presented",
                        ledger.deposit_receipt().unwrap_or_default()
                    ),
                )
            } else {
                RuleResult::new(rule, false, problems.join("; "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ledger::Category;
    use crate::domain::renovation::tests::sample;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn line(kind: LedgerKind, amount: i64, receipt: Option<&str>, card: Option<u32>) -> LedgerLine {
        LedgerLine {
            id: 0,
            kind,
            category: (kind == LedgerKind::Deduction).then_some(if card.is_some() {
                Category::LostCard
            } else {
                Category::Damage
            }),
            amount_cents: amount,
            receipt_no: receipt.map(str::to_owned),
            note: String::new(),
            card_id: card,
            reverses: None,
            approved_by: None,
            at: chrono::DateTime::UNIX_EPOCH,
            by: String::new(),
        }
    }

    /// A renovation for which every rule holds on 2026-09-01.
    fn eligible() -> (Renovation, Vec<CardFacts>, Ledger, NaiveDate) {
        let mut r = sample();
        for doc in r.required_documents() {
            r.documents.insert(doc, true);
        }
        r.inspection_passed_on = Some(d("2026-04-01"));
        r.occupied_on = Some(d("2026-05-01"));
        r.downstairs_signed_off = true;
        r.certificate_presented = true;
        r.receipt_presented = true;
        let cards = vec![
            CardFacts {
                card_id: 1,
                state: CardState::Returned,
            },
            CardFacts {
                card_id: 2,
                state: CardState::Lost,
            },
            CardFacts {
                card_id: 3,
                state: CardState::Reissued,
            },
        ];
        let ledger = Ledger {
            lines: vec![
                line(LedgerKind::Deposit, 500_000, Some("R-001"), None),
                line(LedgerKind::Deduction, 2_000, None, Some(2)),
            ],
        };
        (r, cards, ledger, d("2026-09-01"))
    }

    type Tweak = fn(&mut Renovation, &mut Vec<CardFacts>, &mut Ledger, &mut NaiveDate);

    #[test]
    fn every_rule_is_reported_and_an_eligible_renovation_meets_all() {
        let (r, c, l, t) = eligible();
        let results = refund_check(&r, &c, &l, t);
        assert_eq!(
            results.iter().map(|x| x.rule).collect::<Vec<_>>(),
            Rule::ALL
        );
        assert!(results.iter().all(|x| x.met), "{results:#?}");
        assert_eq!(l.refundable(), 498_000);
    }

    #[test]
    fn each_failure_breaks_exactly_its_rule_with_a_reason() {
        let table: &[(&str, Rule, &str, Tweak)] = &[
            (
                "no inspection",
                Rule::InspectionPassed,
                "no passed inspection",
                |r, _, _, _| r.inspection_passed_on = None,
            ),
            (
                "no occupancy",
                Rule::OccupancyAndDownstairs,
                "no occupancy date",
                |r, _, _, _| r.occupied_on = None,
            ),
            (
                "too early",
                Rule::OccupancyAndDownstairs,
                "three months pass on 2026-08-01",
                |_, _, _, t| *t = d("2026-07-31"),
            ),
            (
                "occupied before inspection",
                Rule::OccupancyAndDownstairs,
                "before the inspection",
                |r, _, _, _| r.occupied_on = Some(d("2026-03-01")),
            ),
            (
                "downstairs",
                Rule::OccupancyAndDownstairs,
                "downstairs owner has not signed off",
                |r, _, _, _| r.downstairs_signed_off = false,
            ),
            (
                "active card",
                Rule::CardsAccountedFor,
                "1 card(s) not returned: card 4",
                |_, c, _, _| {
                    c.push(CardFacts {
                        card_id: 4,
                        state: CardState::Active,
                    })
                },
            ),
            (
                "revoked card not back",
                Rule::CardsAccountedFor,
                "card 5",
                |_, c, _, _| {
                    c.push(CardFacts {
                        card_id: 5,
                        state: CardState::Revoked,
                    })
                },
            ),
            (
                "lost without fee",
                Rule::CardsAccountedFor,
                "without a replacement fee deducted: card 2",
                |_, _, l, _| l.lines.retain(|x| x.kind != LedgerKind::Deduction),
            ),
            (
                "missing document",
                Rule::DocumentsComplete,
                "Business licence",
                |r, _, _, _| {
                    r.documents.insert(Document::BusinessLicence, false);
                },
            ),
            (
                "waterproofing commitment",
                Rule::DocumentsComplete,
                "waterproofing",
                |r, _, _, _| r.waterproofing = true,
            ),
            (
                "certificate",
                Rule::CertificateAndReceipt,
                "registration certificate",
                |r, _, _, _| r.certificate_presented = false,
            ),
            (
                "receipt",
                Rule::CertificateAndReceipt,
                "deposit receipt has not been presented",
                |r, _, _, _| r.receipt_presented = false,
            ),
            (
                "no deposit",
                Rule::CertificateAndReceipt,
                "no deposit with a receipt",
                |_, _, l, _| l.lines.retain(|x| x.kind != LedgerKind::Deposit),
            ),
        ];
        for (name, broken, words, tweak) in table {
            let (mut r, mut c, mut l, mut t) = eligible();
            tweak(&mut r, &mut c, &mut l, &mut t);
            let results = refund_check(&r, &c, &l, t);
            for res in &results {
                if res.rule == *broken {
                    assert!(!res.met, "{name}: {res:?}");
                    assert!(
                        res.reason.contains(words),
                        "{name}: reason {:?} lacks {words:?}",
                        res.reason
                    );
                } else {
                    assert!(res.met, "{name}: only {broken:?} should fail, but {res:?}");
                }
            }
        }
    }

    #[test]
    fn exactly_three_months_after_occupancy_is_enough() {
        let (r, c, l, _) = eligible();
        let on_day = refund_check(&r, &c, &l, d("2026-08-01"));
        assert!(on_day[1].met, "{:?}", on_day[1]);
        let day_before = refund_check(&r, &c, &l, d("2026-07-31"));
        assert!(
            day_before[1].reason.contains("1 days to go"),
            "{:?}",
            day_before[1]
        );
    }

    #[test]
    fn refundable_never_goes_below_zero() {
        let l = Ledger {
            lines: vec![
                line(LedgerKind::Deposit, 100, Some("x"), None),
                line(LedgerKind::Deduction, 500, None, None),
            ],
        };
        assert_eq!(l.refundable(), 0);
    }
}
