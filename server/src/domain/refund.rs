//! The deposit refund rules (装修保证金退还) as one pure function: given a renovation, its
//! cards, its ledger and today's local date, say for every rule of the brief whether it holds
//! and why, in words a front-desk clerk can read to the owner.

pub use super::custody::CardState;
use super::language::Lang;
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
    /// Why it holds or not, in words (English, dates as ISO 8601).
    pub reason: String,
    /// The same, as facts the pages put in the reader's language.
    #[serde(skip)]
    pub findings: Vec<Finding>,
}

/// One fact behind a rule's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// The inspection passed on this day.
    InspectionPassedOn(NaiveDate),
    /// No passed inspection is recorded.
    NoInspection,
    /// No occupancy date is recorded.
    NoOccupancy,
    /// Occupancy is recorded before the inspection.
    OccupiedBeforeInspection {
        /// Occupied on.
        occupied: NaiveDate,
        /// Inspected on.
        inspected: NaiveDate,
    },
    /// Three months of occupancy have not passed yet.
    OccupancyTooRecent {
        /// Occupied on.
        occupied: NaiveDate,
        /// When three months pass.
        due: NaiveDate,
        /// Days until then.
        days: i64,
    },
    /// The occupancy date is out of range.
    OccupancyOutOfRange,
    /// The downstairs owner has not signed off.
    DownstairsNotSigned,
    /// Occupied for three months or more and the downstairs owner signed off.
    OccupiedAndSigned(Option<NaiveDate>),
    /// Cards not back at the desk.
    CardsOut(Vec<u32>),
    /// Lost cards whose fee is not deducted.
    LostUnpaid(Vec<u32>),
    /// How many cards came back and how many were lost with their fee.
    CardsSettled {
        /// Returned.
        returned: usize,
        /// Lost, fee deducted.
        lost: usize,
    },
    /// Every document is received.
    DocumentsAll,
    /// These documents are missing.
    DocumentsMissing(Vec<Document>),
    /// The original registration certificate was not presented.
    NoCertificate,
    /// The deposit receipt was not presented.
    NoReceiptPresented,
    /// No deposit with a receipt number is recorded.
    NoDepositReceipt,
    /// Certificate and this receipt presented.
    Presented(String),
}

impl Finding {
    /// The fact in `lang`, days written by `day`.
    pub fn words(&self, lang: Lang, day: &dyn Fn(NaiveDate) -> String) -> String {
        let zh = lang == Lang::Zh;
        let cards = |ids: &[u32]| {
            ids.iter()
                .map(|c| {
                    if zh {
                        format!("#{c}")
                    } else {
                        format!("card {c}")
                    }
                })
                .collect::<Vec<_>>()
                .join(if zh { "、" } else { ", " })
        };
        match self {
            Finding::InspectionPassedOn(d) if zh => format!("核查于 {} 通过", day(*d)),
            Finding::InspectionPassedOn(d) => format!("the inspection passed on {}", day(*d)),
            Finding::NoInspection => lang
                .pick("未记录核查通过", "no passed inspection is recorded")
                .into(),
            Finding::NoOccupancy => lang
                .pick("未记录入住日期", "no occupancy date is recorded")
                .into(),
            Finding::OccupiedBeforeInspection {
                occupied,
                inspected,
            } if zh => format!(
                "入住日期 {} 早于核查日期 {}，入住须在核查之后",
                day(*occupied),
                day(*inspected)
            ),
            Finding::OccupiedBeforeInspection {
                occupied,
                inspected,
            } => format!(
                "occupancy on {} is before the inspection on {}; occupancy must follow the inspection",
                day(*occupied),
                day(*inspected)
            ),
            Finding::OccupancyTooRecent {
                occupied,
                due,
                days,
            } if zh => format!(
                "自 {} 入住，{} 满三个月（还差 {days} 天）",
                day(*occupied),
                day(*due)
            ),
            Finding::OccupancyTooRecent {
                occupied,
                due,
                days,
            } => format!(
                "occupied since {}; three months pass on {} ({days} days to go)",
                day(*occupied),
                day(*due)
            ),
            Finding::OccupancyOutOfRange => lang
                .pick("入住日期超出范围", "the occupancy date is out of range")
                .into(),
            Finding::DownstairsNotSigned => lang
                .pick(
                    "楼下业主尚未签字",
                    "the downstairs owner has not signed off",
                )
                .into(),
            Finding::OccupiedAndSigned(occupied) => {
                let occupied = occupied.map(day).unwrap_or_default();
                if zh {
                    format!("自 {occupied} 入住已满三个月；楼下业主已签字")
                } else {
                    format!(
                        "occupied since {occupied}, more than three months ago; the downstairs owner signed off"
                    )
                }
            }
            Finding::CardsOut(ids) if zh => format!("{} 张卡未交回：{}", ids.len(), cards(ids)),
            Finding::CardsOut(ids) => format!("{} card(s) not returned: {}", ids.len(), cards(ids)),
            Finding::LostUnpaid(ids) if zh => format!("挂失的卡未扣补卡费：{}", cards(ids)),
            Finding::LostUnpaid(ids) => format!(
                "lost card(s) without a replacement fee deducted: {}",
                cards(ids)
            ),
            Finding::CardsSettled { returned, lost } if zh => {
                format!("已交回 {returned} 张，挂失并已扣补卡费 {lost} 张")
            }
            Finding::CardsSettled { returned, lost } => {
                format!("{returned} card(s) returned, {lost} declared lost with the fee deducted")
            }
            Finding::DocumentsAll => lang
                .pick(
                    "资料清单已全部收到",
                    "every document on the checklist is recorded as received",
                )
                .into(),
            Finding::DocumentsMissing(docs) => {
                let titles: Vec<&str> = docs
                    .iter()
                    .map(|d| lang.pick(d.title_zh(), d.title()))
                    .collect();
                if zh {
                    format!("缺少：{}", titles.join("、"))
                } else {
                    format!("missing: {}", titles.join(", "))
                }
            }
            Finding::NoCertificate => lang
                .pick(
                    "未出示装修备案登记证原件",
                    "the original registration certificate has not been presented",
                )
                .into(),
            Finding::NoReceiptPresented => lang
                .pick(
                    "未出示保证金收据",
                    "the deposit receipt has not been presented",
                )
                .into(),
            Finding::NoDepositReceipt => lang
                .pick(
                    "未记录带收据号的保证金",
                    "no deposit with a receipt number is recorded",
                )
                .into(),
            Finding::Presented(receipt) if zh => format!("登记证原件及收据 {receipt} 已出示"),
            Finding::Presented(receipt) => format!("certificate and receipt {receipt} presented"),
        }
    }
}

/// The findings of a result in `lang`, joined as one reason.
pub fn reason_in(findings: &[Finding], lang: Lang, day: &dyn Fn(NaiveDate) -> String) -> String {
    findings
        .iter()
        .map(|f| f.words(lang, day))
        .collect::<Vec<_>>()
        .join(lang.pick("；", "; "))
}

impl RuleResult {
    fn new(rule: Rule, met: bool, findings: Vec<Finding>) -> Self {
        RuleResult {
            rule,
            title: rule.title(),
            title_zh: rule.title_zh(),
            met,
            reason: reason_in(&findings, Lang::En, &|d| d.to_string()),
            findings,
        }
    }
}

/// The rules of `rules` that do not hold, each with its reason, in words.
pub fn unmet_text(rules: &[RuleResult]) -> String {
    rules
        .iter()
        .filter(|r| !r.met)
        .map(|r| format!("{} ({})", r.title, r.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

/// What the refund rules need to know of one worker card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardFacts {
    /// The card's number.
    pub card_id: u32,
    /// Its state.
    pub state: CardState,
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
        .map(|rule| {
            let findings = check_one(rule, renovation, cards, ledger, today);
            RuleResult::new(rule, findings.0, findings.1)
        })
        .collect()
}

/// Whether `rule` holds, and the facts that say so.
fn check_one(
    rule: Rule,
    r: &Renovation,
    cards: &[CardFacts],
    ledger: &Ledger,
    today: NaiveDate,
) -> (bool, Vec<Finding>) {
    match rule {
        Rule::InspectionPassed => match r.inspection_passed_on {
            Some(d) => (true, vec![Finding::InspectionPassedOn(d)]),
            None => (false, vec![Finding::NoInspection]),
        },
        Rule::OccupancyAndDownstairs => {
            let mut problems = Vec::new();
            match (r.inspection_passed_on, r.occupied_on) {
                (_, None) => problems.push(Finding::NoOccupancy),
                (Some(inspected), Some(occupied)) if occupied < inspected => {
                    problems.push(Finding::OccupiedBeforeInspection {
                        occupied,
                        inspected,
                    })
                }
                (_, Some(occupied)) => match occupied.checked_add_months(Months::new(3)) {
                    Some(due) if today >= due => {}
                    Some(due) => problems.push(Finding::OccupancyTooRecent {
                        occupied,
                        due,
                        days: (due - today).num_days(),
                    }),
                    None => problems.push(Finding::OccupancyOutOfRange),
                },
            }
            if !r.downstairs_signed_off {
                problems.push(Finding::DownstairsNotSigned);
            }
            if problems.is_empty() {
                (true, vec![Finding::OccupiedAndSigned(r.occupied_on)])
            } else {
                (false, problems)
            }
        }
        Rule::CardsAccountedFor => {
            // Custody decides: a card back at the desk counts whatever happened to it, a card
            // superseded by a reprint is void at every gate, a lost card counts once its fee
            // stands.
            let out: Vec<u32> = cards
                .iter()
                .filter(|c| c.state.blocks_refund())
                .map(|c| c.card_id)
                .collect();
            let unpaid: Vec<u32> = cards
                .iter()
                .filter(|c| c.state == CardState::Lost && !ledger.card_fee_charged(c.card_id))
                .map(|c| c.card_id)
                .collect();
            let mut problems = Vec::new();
            if !out.is_empty() {
                problems.push(Finding::CardsOut(out));
            }
            if !unpaid.is_empty() {
                problems.push(Finding::LostUnpaid(unpaid));
            }
            if problems.is_empty() {
                let count = |s: CardState| cards.iter().filter(|c| c.state == s).count();
                (
                    true,
                    vec![Finding::CardsSettled {
                        returned: count(CardState::Returned),
                        lost: count(CardState::Lost),
                    }],
                )
            } else {
                (false, problems)
            }
        }
        Rule::DocumentsComplete => {
            let missing: Vec<Document> = r.missing_documents();
            if missing.is_empty() {
                (true, vec![Finding::DocumentsAll])
            } else {
                (false, vec![Finding::DocumentsMissing(missing)])
            }
        }
        Rule::CertificateAndReceipt => {
            let mut problems = Vec::new();
            if !r.certificate_presented {
                problems.push(Finding::NoCertificate);
            }
            if !r.receipt_presented {
                problems.push(Finding::NoReceiptPresented);
            }
            if ledger.deposit_receipt().is_none() {
                problems.push(Finding::NoDepositReceipt);
            }
            if problems.is_empty() {
                (
                    true,
                    vec![Finding::Presented(
                        ledger.deposit_receipt().unwrap_or_default().to_owned(),
                    )],
                )
            } else {
                (false, problems)
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
    fn reasons_read_in_one_language_at_a_time() {
        let (mut r, c, l, _) = eligible();
        r.downstairs_signed_off = false;
        let res = refund_check(&r, &c, &l, d("2026-07-31"));
        let day = |d: NaiveDate| d.format("%Y年%-m月%-d日").to_string();
        let zh = reason_in(&res[1].findings, Lang::Zh, &day);
        assert_eq!(
            zh,
            "自 2026年5月1日 入住，2026年8月1日 满三个月（还差 1 天）；楼下业主尚未签字"
        );
        let cards = reason_in(&res[2].findings, Lang::Zh, &day);
        assert_eq!(cards, "已交回 1 张，挂失并已扣补卡费 1 张");
        assert!(
            res.iter()
                .flat_map(|x| &x.findings)
                .filter(|f| !matches!(f, Finding::Presented(_)))
                .all(|f| !f
                    .words(Lang::Zh, &day)
                    .chars()
                    .any(|c| c.is_ascii_alphabetic())),
            "no English in the Chinese reasons (but the receipt number)"
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
