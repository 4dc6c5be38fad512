//! A large estate: how fast every desk page and list endpoint answers once years of records
//! have piled up. Seeds 10,000 renovations, 40,000 workers and their cards, 500,000 visitors
//! with their passes and 1,000,000 gate events (plus the audit log, alarms, deny list, goods
//! permits, keys and radios of such an estate) straight into the server's database, one
//! transaction per table, then asks each page and endpoint over HTTP as a logged-in manager
//! and prints p50/p95 against the 100 ms goal.
//!
//! Run: `cargo bench -p gatehouse-server --bench estate` (release). `GATEHOUSE_ESTATE_SCALE=0.1` seeds a
//! tenth of everything (a quick check); `GATEHOUSE_ESTATE_SAMPLES` overrides 40 requests per row.

use chrono::{DateTime, Duration as Span, NaiveDate, Utc};
use gatehouse_credential::UtcMinute;
use gatehouse_credential::api::gate::{DenyReason, GateEvent};
use gatehouse_server::db::{DbError, ts};
use gatehouse_server::domain::renovation::Document;
use rusqlite::{Connection, params};
use std::time::{Duration, Instant};

mod support;
use support::percentile;

/// The goal for every row: p95 at most this.
const GOAL_MS: f64 = 100.0;

/// A small deterministic generator, so every run seeds the same estate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: i64) -> i64 {
        // n.max(1) is positive, so the remainder fits an i64.
        (self.next() % n.max(1) as u64) as i64
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: i64) -> bool {
        self.below(100) < percent
    }
}

/// How many of each record the estate has.
struct Sizes {
    renovations: i64,
    workers_per_renovation: i64,
    visitors: i64,
    events: i64,
    audit: i64,
}

const BUILDINGS: i64 = 12;
const FLOORS: i64 = 32;
const UNITS_PER_FLOOR: i64 = 4;
const GATES: i64 = 40;
const CONTRACTORS: [&str; 8] = [
    "安居装饰",
    "美家建设",
    "城建装修",
    "宏达工程",
    "Bright Interiors",
    "佳和装饰",
    "恒泰建筑",
    "NorthBuild",
];
const SURNAMES: [&str; 10] = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴"];

fn name(rng: &mut Rng) -> String {
    format!(
        "{}{}",
        SURNAMES[rng.below(SURNAMES.len() as i64) as usize],
        ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋"][rng.below(8) as usize]
    )
}

fn unit_count() -> i64 {
    BUILDINGS * FLOORS * UNITS_PER_FLOOR
}

fn minute(t: DateTime<Utc>) -> u32 {
    UtcMinute::floor(t).expect("a time after the epoch").0
}

/// Buildings, units, gates, staff, the deny list, keys and radios.
fn seed_estate(c: &mut Connection, rng: &mut Rng, now: DateTime<Utc>) -> rusqlite::Result<()> {
    let tx = c.savepoint()?;
    for b in 1..=BUILDINGS {
        tx.execute(
            "INSERT INTO buildings (number, name, floor_lo, floor_hi) VALUES (?1, ?2, 1, ?3)",
            params![b, format!("{b}号楼"), FLOORS],
        )?;
        for f in 1..=FLOORS {
            for u in 1..=UNITS_PER_FLOOR {
                tx.execute(
                    "INSERT INTO units (label, building, floor) VALUES (?1, ?2, ?3)",
                    params![format!("{b}-{f}{u:02}"), b, f],
                )?;
            }
        }
    }
    for g in 0..GATES {
        let seen = now - Span::seconds(rng.below(if g < 37 { 60 } else { 7200 }));
        tx.execute(
            "INSERT INTO devices (id, kind, name, created_at, created_by, enrolled_at, api_key_hash, last_seen_at)
             VALUES (?1, 'gate', ?2, ?3, 'manager:admin', ?3, ?4, ?5)",
            params![gate_id(g), format!("{}号楼 门{}", g % BUILDINGS + 1, g), ts(now - Span::days(900)), format!("seed-key-{g}"), ts(seen)],
        )?;
    }
    for s in 0..30 {
        tx.execute(
            "INSERT INTO staff (username, role, password_hash, created_at) VALUES (?1, ?2, 'seeded', ?3)",
            params![format!("clerk{s}"), ["desk", "desk", "manager", "guard"][s % 4], ts(now - Span::days(800))],
        )?;
    }
    for d in 0..300 {
        let n = name(rng);
        tx.execute(
            "INSERT INTO deny_list (name_key, name_masked, phone_digits, reason, created_at, created_by)
             VALUES (?1, ?2, ?3, '多次滋扰', ?4, 'manager:admin')",
            params![format!("{n}{d}"), format!("{}*", &n[..3]), format!("139{:08}", rng.below(100_000_000)), ts(now - Span::days(d))],
        )?;
    }
    for i in 0..400 {
        tx.execute(
            "INSERT INTO custody_items (kind, label, code, key_count, state, created_at, created_by)
             VALUES (?1, ?2, ?3, 1, 'in', ?4, 'manager:admin')",
            params![["radio", "key", "equipment"][i % 3], format!("物品 {i}"), format!("K{i:05}"), ts(now - Span::days(700))],
        )?;
    }
    tx.commit()
}

fn gate_id(g: i64) -> String {
    format!("00000000-0000-4000-8000-{g:012}")
}

/// Renovations over the last 1,000 days (cards count minutes from 2024, the credential's
/// epoch): the recent ones still in progress, most of the
/// older ones refunded, some inspected and waiting; 10% extended once.
fn seed_renovations(
    c: &mut Connection,
    rng: &mut Rng,
    now: DateTime<Utc>,
    n: i64,
) -> rusqlite::Result<Vec<(NaiveDate, NaiveDate, bool)>> {
    let tx = c.savepoint()?;
    let docs = serde_json::to_string(
        &Document::ALL
            .iter()
            .map(|d| (*d, true))
            .collect::<std::collections::BTreeMap<_, _>>(),
    )
    .expect("documents");
    let span_days = 1000;
    let mut periods = Vec::with_capacity(n as usize);
    {
        let mut ins = tx.prepare(
            "INSERT INTO renovations (id, code, unit_id, owner_name, contractor, supervisor_name, supervisor_phone,
                start_date, original_end_date, end_date, waterproofing, documents, inspection_passed_on, occupied_on,
                downstairs_signed_off, certificate_presented, receipt_presented, created_at, created_by, refunded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?15, ?16, 'desk:clerk0', ?17)",
        )?;
        let mut ext = tx.prepare(
            "INSERT INTO renovation_extensions (renovation_id, previous_end, new_end, approved_by, at)
             VALUES (?1, ?2, ?3, 'desk:clerk0', ?4)",
        )?;
        for id in 1..=n {
            // Evenly through time, oldest first, so ids grow with the date as at a real desk.
            let created = now - Span::days(span_days - (id * span_days / n));
            let start = created.date_naive() + Span::days(rng.below(10));
            let original_end = start + Span::days(30 + rng.below(60));
            let extended = rng.chance(10);
            let end = if extended {
                original_end + Span::days(30)
            } else {
                original_end
            };
            let today = now.date_naive();
            let finished = end + Span::days(14) < today;
            let inspected = finished.then(|| end + Span::days(7));
            let occupied = inspected.map(|d| d + Span::days(14));
            let refunded = occupied
                .filter(|d| *d + Span::days(100) < today && rng.chance(92))
                .map(|d| ts(d.and_hms_opt(10, 0, 0).expect("time").and_utc() + Span::days(95)));
            ins.execute(params![
                id,
                format!("R{id:05}"),
                1 + rng.below(unit_count()),
                name(rng),
                CONTRACTORS[rng.below(CONTRACTORS.len() as i64) as usize],
                name(rng),
                format!("138{:08}", rng.below(100_000_000)),
                start.to_string(),
                original_end.to_string(),
                end.to_string(),
                rng.chance(30),
                docs,
                inspected.map(|d| d.to_string()),
                occupied.map(|d| d.to_string()),
                refunded.is_some(),
                ts(created),
                refunded,
            ])?;
            if extended {
                ext.execute(params![
                    id,
                    original_end.to_string(),
                    end.to_string(),
                    ts(created + Span::days(40))
                ])?;
            }
            periods.push((start, end, refunded.is_some()));
        }
    }
    tx.commit()?;
    Ok(periods)
}

/// The deposit and rubbish fee of every renovation, the refunds paid.
fn seed_ledger(
    c: &mut Connection,
    periods: &[(NaiveDate, NaiveDate, bool)],
) -> rusqlite::Result<()> {
    let tx = c.savepoint()?;
    {
        let mut ins = tx.prepare(
            "INSERT INTO ledger (renovation_id, kind, amount_cents, receipt_no, at, by)
             VALUES (?1, ?2, ?3, ?4, ?5, 'desk:clerk0')",
        )?;
        for (i, (start, end, refunded)) in periods.iter().enumerate() {
            let id = i as i64 + 1;
            let at = ts(start.and_hms_opt(9, 0, 0).expect("time").and_utc());
            ins.execute(params![id, "deposit", 500_000, format!("S{id:06}"), at])?;
            ins.execute(params![id, "rubbish_fee", 80_000, format!("F{id:06}"), at])?;
            if *refunded {
                let at = ts(end.and_hms_opt(9, 0, 0).expect("time").and_utc() + Span::days(120));
                ins.execute(params![id, "refund", 500_000, Option::<String>::None, at])?;
            }
        }
    }
    tx.commit()
}

/// Workers and one card each: cards of finished work returned (2% lost), of work in
/// progress active.
fn seed_workers(
    c: &mut Connection,
    rng: &mut Rng,
    now: DateTime<Utc>,
    periods: &[(NaiveDate, NaiveDate, bool)],
    per: i64,
) -> rusqlite::Result<()> {
    let tx = c.savepoint()?;
    {
        let mut worker = tx.prepare(
            "INSERT INTO workers (id, renovation_id, name, phone, id_last4, created_at, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'desk:clerk0')",
        )?;
        let mut card = tx.prepare(
            "INSERT INTO cards (kind, worker_id, short_id, state, not_before, printed_not_after, not_after,
                issued_at, issued_by, ended_at, ended_by)
             VALUES ('worker', ?1, ?2, ?3, ?4, ?5, ?5, ?6, 'desk:clerk0', ?7, ?8)",
        )?;
        let mut wid = 0i64;
        for (i, (start, end, _)) in periods.iter().enumerate() {
            let from = start.and_hms_opt(0, 0, 0).expect("time").and_utc();
            let until = end.and_hms_opt(23, 59, 0).expect("time").and_utc();
            for _ in 0..per {
                wid += 1;
                worker.execute(params![
                    wid,
                    i as i64 + 1,
                    name(rng),
                    format!("137{:08}", rng.below(100_000_000)),
                    format!("{:04}", rng.below(10_000)),
                    ts(from)
                ])?;
                let (state, ended) = if until > now {
                    ("active", None)
                } else if rng.chance(2) {
                    ("lost", Some(until - Span::days(3)))
                } else if rng.chance(1) {
                    // Still out after the end: overdue.
                    ("active", None)
                } else {
                    ("returned", Some(until + Span::days(1)))
                };
                card.execute(params![
                    wid,
                    format!("W{wid:07}"),
                    state,
                    minute(from),
                    minute(until),
                    ts(from),
                    ended.map(ts),
                    ended.map(|_| "desk:clerk0"),
                ])?;
            }
        }
    }
    tx.commit()
}

/// Visitors over the last two years with their passes, about 700 a day; today's still on
/// site unless they signed out.
fn seed_visitors(
    c: &mut Connection,
    rng: &mut Rng,
    now: DateTime<Utc>,
    n: i64,
) -> rusqlite::Result<()> {
    let tx = c.savepoint()?;
    {
        let mut visitor = tx.prepare(
            "INSERT INTO visitors (id, name, unit_id, host_name, purpose, party_size, phone, registered_at,
                registered_by, signed_out_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        let mut card = tx.prepare(
            "INSERT INTO cards (kind, visitor_id, short_id, state, not_before, printed_not_after, not_after,
                issued_at, issued_by, ended_at, ended_by)
             VALUES ('visitor', ?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?7)",
        )?;
        let span = 730 * 24 * 60;
        for id in 1..=n {
            // Oldest first; the last ~300 were registered within the last eight hours.
            let back = (n - id) * span / n;
            let at = now - Span::minutes(back) - Span::seconds(rng.below(60));
            let until = (at + Span::hours(12)).min(
                at.date_naive()
                    .and_hms_opt(23, 59, 0)
                    .expect("time")
                    .and_utc(),
            );
            let on_site = until > now && !rng.chance(70);
            let out = (!on_site).then(|| at + Span::minutes(30 + rng.below(180)));
            let by = if rng.chance(60) {
                "kiosk:lobby"
            } else {
                "desk:clerk1"
            };
            visitor.execute(params![
                id,
                name(rng),
                1 + rng.below(unit_count()),
                name(rng),
                ["探亲", "送货", "维修", "面试", "访友"][rng.below(5) as usize],
                1 + rng.below(3),
                rng.chance(40)
                    .then(|| format!("135{:08}", rng.below(100_000_000))),
                ts(at),
                by,
                out.map(ts),
            ])?;
            card.execute(params![
                id,
                format!("V{id:07}"),
                if on_site { "active" } else { "signed_out" },
                minute(at),
                minute(until),
                ts(at),
                by,
                out.map(ts),
            ])?;
        }
    }
    tx.commit()
}

/// Gate decisions over the last year at 40 gates: mostly admissions, some denials, a few exit
/// requests and alarms.
fn seed_events(
    c: &mut Connection,
    rng: &mut Rng,
    now: DateTime<Utc>,
    n: i64,
) -> Result<(), DbError> {
    let json = |e: &GateEvent| serde_json::to_string(e).expect("event");
    let admitted = json(&GateEvent::Admitted { flag: None });
    let reasons = [
        DenyReason::Expired,
        DenyReason::OutsideHours,
        DenyReason::Returned,
        DenyReason::WrongZone,
        DenyReason::Unreadable,
    ];
    let denied: Vec<(String, String)> = reasons
        .iter()
        .map(|r| {
            let text = json(&GateEvent::Denied { reason: *r });
            let name = serde_json::to_value(r).expect("reason");
            (text, name.as_str().unwrap_or("denied").to_owned())
        })
        .collect();
    let exit = json(&GateEvent::ExitRequest);
    let tx = c.savepoint()?;
    {
        let mut ins = tx.prepare(
            "INSERT INTO gate_events (id, device_id, at, clock_trusted, card_id, kind, result, reason, event, received_at)
             VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        let span = 365 * 24 * 3600;
        for i in 0..n {
            let at = now - Span::seconds(rng.below(span));
            let gate = gate_id(rng.below(GATES));
            let roll = rng.below(100);
            let card = 1 + rng.below(500_000);
            let kind = if card % 10 == 0 { "worker" } else { "visitor" };
            let (result, reason, event, card) = if roll < 90 {
                ("admitted", None, admitted.as_str(), Some(card))
            } else if roll < 97 {
                let (text, name) = &denied[rng.below(denied.len() as i64) as usize];
                ("denied", Some(name.as_str()), text.as_str(), Some(card))
            } else {
                ("other", None, exit.as_str(), None)
            };
            ins.execute(params![
                format!("{:016x}-{i:08x}", rng.next()),
                gate,
                ts(at),
                card,
                card.map(|_| kind),
                result,
                reason,
                event,
                ts(at + Span::seconds(2))
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// The audit log's entries, one for each thing the desk did (their hashes are not a chain:
/// the bench reads the log, it does not verify it); resolved device alarms; goods permits.
fn seed_history(
    c: &mut Connection,
    rng: &mut Rng,
    now: DateTime<Utc>,
    audit: i64,
) -> rusqlite::Result<()> {
    let tx = c.savepoint()?;
    {
        let mut ins = tx.prepare(
            "INSERT INTO audit_log (at, actor, action, subject, details, prev_hash, hash)
             VALUES (?1, 'desk:clerk0', ?2, ?3, '{}', ?4, ?4)",
        )?;
        let span = 5 * 365 * 24 * 60;
        for i in 0..audit {
            let at = now - Span::minutes((audit - i) * span / audit);
            ins.execute(params![
                ts(at),
                [
                    "card.issue",
                    "card.return",
                    "visitor.register",
                    "renovation.create"
                ][rng.below(4) as usize],
                format!("card:{i}"),
                format!("{:064x}", i)
            ])?;
        }
        let mut alarm = tx.prepare(
            "INSERT INTO device_alarms (device_id, kind, raised_at, last_reported_at, cleared_at, acknowledged_by, acknowledged_at)
             VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?4)",
        )?;
        for i in 0..20_000i64 {
            let at = now - Span::minutes((i * 26) + 60);
            let open = i < 3;
            alarm.execute(params![
                gate_id(rng.below(GATES)),
                ["door_held_open", "door_forced", "scanner_lost"][rng.below(3) as usize],
                ts(at),
                (!open).then(|| ts(at + Span::minutes(5))),
                (!open).then_some("desk:clerk0"),
            ])?;
        }
        let mut permit = tx.prepare(
            "INSERT INTO goods_permits (unit_id, applicant, applicant_name, items, valid_from, valid_to, state,
                created_at, created_by)
             VALUES (?1, 'owner', ?2, '[]', ?3, ?3, ?4, ?5, 'desk:clerk0')",
        )?;
        for i in 0..5_000i64 {
            let at = now - Span::hours((5_000 - i) * 3);
            permit.execute(params![
                1 + rng.below(unit_count()),
                name(rng),
                at.date_naive().to_string(),
                if i > 4_990 { "approved" } else { "released" },
                ts(at)
            ])?;
        }
    }
    tx.commit()
}

/// The next page a list's `Link` header names, if any.
fn next_link(resp: &reqwest::Response) -> Option<String> {
    let link = resp.headers().get("link")?.to_str().ok()?;
    let start = link.find('<')? + 1;
    let end = link.find('>')?;
    link.contains("rel=\"next\"")
        .then(|| link[start..end].to_owned())
}

#[tokio::main]
async fn main() {
    let scale: f64 = std::env::var("GATEHOUSE_ESTATE_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    let samples: usize = std::env::var("GATEHOUSE_ESTATE_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let sized = |n: f64| ((n * scale) as i64).max(1);
    let sizes = Sizes {
        renovations: sized(10_000.0),
        workers_per_renovation: 4,
        visitors: sized(500_000.0),
        events: sized(1_000_000.0),
        audit: sized(200_000.0),
    };
    let client = reqwest::Client::new();
    let server = support::start(&client).await;
    let (base, state, token) = (
        server.base.clone(),
        server.state.clone(),
        server.token.clone(),
    );
    let now = Utc::now();

    let t0 = Instant::now();
    let periods = state
        .db
        .call(move |c| {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
            seed_estate(c, &mut rng, now)?;
            seed_renovations(c, &mut rng, now, sizes.renovations).map_err(DbError::from)
        })
        .await
        .expect("estate and renovations seeded");
    // One call (so one commit) per table, as a restore or a migration would write them.
    let shared = std::sync::Arc::new(periods);
    let p = shared.clone();
    state
        .db
        .call(move |c| seed_ledger(c, &p).map_err(DbError::from))
        .await
        .expect("ledger seeded");
    let p = shared.clone();
    let per = sizes.workers_per_renovation;
    state
        .db
        .call(move |c| seed_workers(c, &mut Rng(11), now, &p, per).map_err(DbError::from))
        .await
        .expect("workers seeded");
    let visitors = sizes.visitors;
    state
        .db
        .call(move |c| seed_visitors(c, &mut Rng(13), now, visitors).map_err(DbError::from))
        .await
        .expect("visitors seeded");
    let events = sizes.events;
    state
        .db
        .call(move |c| seed_events(c, &mut Rng(17), now, events))
        .await
        .expect("events seeded");
    let audit = sizes.audit;
    let counts = state
        .db
        .call(move |c| {
            seed_history(c, &mut Rng(19), now, audit)?;
            let count = |t: &str| -> rusqlite::Result<i64> {
                c.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0))
            };
            Ok::<_, DbError>(
                [
                    "renovations",
                    "workers",
                    "cards",
                    "visitors",
                    "gate_events",
                    "audit_log",
                ]
                .map(|t| (t, count(t).unwrap_or(-1))),
            )
        })
        .await
        .expect("history seeded");
    println!("seeded in {:.1} s: {counts:?}", t0.elapsed().as_secs_f64());

    let get = |path: String| client.get(format!("{base}{path}")).bearer_auth(&token);

    // Cursors to later pages, as a clerk reaches them by following "more".
    let mut deep = Vec::new();
    let month_ago = (now - Span::days(30)).date_naive();
    let year_ago = (now - Span::days(360)).date_naive();
    for (what, first, hops) in [
        ("renovations, page 50", "/api/v1/renovations".to_owned(), 50),
        ("events, page 20", "/api/v1/events".to_owned(), 20),
        ("audit, page 20", "/api/v1/audit".to_owned(), 20),
        (
            "visitor history, page 20",
            format!("/api/v1/visitors/history?from={month_ago}"),
            20,
        ),
        (
            "alarm history over a year, page 10",
            format!("/api/v1/alarms/history?from={year_ago}"),
            10,
        ),
    ] {
        let mut path = Some(first);
        for _ in 0..hops {
            let Some(p) = path.take() else { break };
            let resp = get(p).send().await.expect("page");
            assert!(resp.status().is_success(), "{what}: {}", resp.status());
            path = next_link(&resp).map(|l| l.trim_start_matches(&base).to_owned());
        }
        if let Some(p) = path {
            deep.push((what.to_owned(), p));
        }
    }

    let mid = (sizes.renovations / 2).to_string();
    let day = (now - Span::days(3)).date_naive();
    let gate = gate_id(7);
    let mut rows: Vec<(String, String)> = [
        ("today page", "/".to_owned()),
        ("renovations page", "/desk/renovations".to_owned()),
        ("one renovation page", format!("/desk/renovations/{mid}")),
        ("visitors on site page", "/desk/visitors".to_owned()),
        (
            "outstanding cards page",
            "/desk/cards/outstanding".to_owned(),
        ),
        (
            "renovations page, building and status",
            "/desk/renovations?building=3&status=active".to_owned(),
        ),
        (
            "renovations page, contractor and period",
            format!("/desk/renovations?contractor=%E5%AE%89%E5%B1%85&from={year_ago}"),
        ),
        (
            "visitor history page (30 days)",
            "/desk/visitors/history".to_owned(),
        ),
        (
            "visitor history page, a name searched",
            "/desk/visitors/history?q=%E7%8E%8B%E4%BC%9F".to_owned(),
        ),
        (
            "visitor history page, a year searched",
            format!("/desk/visitors/history?q=%E7%8E%8B%E4%BC%9F&from={year_ago}"),
        ),
        ("alarms page", "/desk/alarms".to_owned()),
        ("audit page", "/desk/audit".to_owned()),
        ("monitor page", "/desk/monitor".to_owned()),
        ("devices page", "/desk/devices".to_owned()),
        ("invites page", "/desk/invites".to_owned()),
        (
            "events CSV of a day, exports page",
            format!("/desk/exports/events.csv?from={day}&to={day}"),
        ),
        ("doors page", "/desk/doors".to_owned()),
        ("deny list page", "/desk/deny-list".to_owned()),
        ("staff page", "/desk/staff".to_owned()),
        ("goods page", "/desk/goods".to_owned()),
        ("keys page", "/desk/keys".to_owned()),
        ("return page", "/desk/return".to_owned()),
        ("GET /api/v1/renovations", "/api/v1/renovations".to_owned()),
        (
            "GET /api/v1/renovations/{id}",
            format!("/api/v1/renovations/{mid}"),
        ),
        (
            "GET /api/v1/visitors/on-site",
            "/api/v1/visitors/on-site".to_owned(),
        ),
        (
            "GET /api/v1/visitors/overstays",
            "/api/v1/visitors/overstays".to_owned(),
        ),
        (
            "GET /api/v1/cards/outstanding",
            "/api/v1/cards/outstanding".to_owned(),
        ),
        (
            "GET /api/v1/cards/overdue-alarms",
            "/api/v1/cards/overdue-alarms".to_owned(),
        ),
        ("GET /api/v1/events", "/api/v1/events".to_owned()),
        (
            "GET /api/v1/events?device=",
            format!("/api/v1/events?device={gate}"),
        ),
        (
            "GET /api/v1/events?result=denied",
            "/api/v1/events?result=denied".to_owned(),
        ),
        (
            "GET /api/v1/events?card=",
            "/api/v1/events?card=4242".to_owned(),
        ),
        (
            "GET /api/v1/events.csv, one day",
            format!(
                "/api/v1/events.csv?from={day}T00:00:00Z&to={}T00:00:00Z",
                day + Span::days(1)
            ),
        ),
        (
            "GET /api/v1/visitors/history?q=",
            "/api/v1/visitors/history?q=%E7%8E%8B%E4%BC%9F".to_owned(),
        ),
        (
            "GET /api/v1/alarms/history",
            "/api/v1/alarms/history".to_owned(),
        ),
        ("GET /api/v1/audit", "/api/v1/audit".to_owned()),
        ("GET /api/v1/alarms", "/api/v1/alarms".to_owned()),
        ("GET /api/v1/deny-list", "/api/v1/deny-list".to_owned()),
        ("GET /api/v1/devices", "/api/v1/devices".to_owned()),
        ("GET /api/v1/staff", "/api/v1/staff".to_owned()),
        (
            "GET /api/v1/goods-permits",
            "/api/v1/goods-permits".to_owned(),
        ),
        (
            "GET /api/v1/custody-items",
            "/api/v1/custody-items".to_owned(),
        ),
    ]
    .into_iter()
    .map(|(w, p)| (w.to_owned(), p))
    .collect();
    rows.extend(deep.into_iter().map(|(w, p)| (format!("GET {w}"), p)));

    println!(
        "\n{} samples each after 3 warm-up requests, one at a time, as a manager over HTTP",
        samples
    );
    println!("\n| page or endpoint | p50 ms | p95 ms | bytes | goal p95 | met? |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let mut missed = 0;
    for (what, path) in &rows {
        let mut times = Vec::with_capacity(samples);
        let mut bytes = 0;
        for i in 0..samples + 3 {
            let t = Instant::now();
            let resp = get(path.clone()).send().await.expect("request");
            let status = resp.status();
            let body = resp.bytes().await.expect("body");
            let took = t.elapsed();
            assert!(
                status.is_success(),
                "{what} ({path}): {status} {}",
                String::from_utf8_lossy(&body)
            );
            bytes = body.len();
            if i >= 3 {
                times.push(took);
            }
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let p95 = ms(percentile(&times, 0.95));
        let met = p95 <= GOAL_MS;
        missed += usize::from(!met);
        println!(
            "| {what} | {:.1} | {p95:.1} | {bytes} | ≤ {GOAL_MS} ms | {} |",
            ms(percentile(&times, 0.5)),
            if met { "yes" } else { "**no**" }
        );
    }
    println!("\n{missed} of {} rows miss the goal", rows.len());
}
