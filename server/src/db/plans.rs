//! The query plans of the lists a large estate's desk reads all day: each statement the
//! domain functions really run (caught by SQLite's statement trace, with its values bound) is
//! asked `EXPLAIN QUERY PLAN`, and must use the index that keeps it from reading a whole
//! table of events, visitors, cards, renovations or alarms. Dropping or changing one of those
//! indexes fails here. The plans are those of a database without `ANALYZE` statistics, as the
//! server's own.

use crate::audit;
use crate::domain::journal::{self, EventFilter};
use crate::domain::{alarms, card, renovation, visitor};
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use rusqlite::trace::{TraceEvent, TraceEventCodes};
use std::cell::RefCell;

thread_local! {
    /// The statements run on this thread while tracing, values bound.
    static RAN: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn record(event: TraceEvent<'_>) {
    if let TraceEvent::Stmt(stmt, sql) = event {
        let text = stmt.expanded_sql().unwrap_or_else(|| sql.to_owned());
        RAN.with(|r| r.borrow_mut().push(text));
    }
}

/// The statements `f` runs on `conn`.
fn statements_of(conn: &Connection, f: impl FnOnce(&Connection)) -> Vec<String> {
    RAN.with(|r| r.borrow_mut().clear());
    conn.trace_v2(TraceEventCodes::SQLITE_TRACE_STMT, Some(record));
    f(conn);
    conn.trace_v2(TraceEventCodes::empty(), None);
    RAN.with(|r| r.borrow_mut().drain(..).collect())
}

/// The plan of `sql`, one line per step.
fn plan(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
    stmt.query_map([], |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// How a list's statement may reach its big table.
#[derive(Clone, Copy, PartialEq)]
enum Access {
    /// A search of the index, in the list's order (no sort).
    Search,
    /// A search of the index for a few rows, sorted after.
    SearchThenSort,
    /// The index read in the list's order, stopping at the page's limit.
    IndexOrder,
}

/// Runs `f`, finds the one statement it ran on `table`, and checks its plan: `table` is
/// reached through `index` as `access` says; no table or index is read whole (a scan only
/// in `IndexOrder`, of `index`); nothing is sorted unless `SearchThenSort`.
fn check(
    conn: &Connection,
    what: &str,
    table: &str,
    index: &str,
    access: Access,
    f: impl FnOnce(&Connection),
) {
    let ran = statements_of(conn, f);
    let sql = ran
        .iter()
        .find(|s| {
            let words: Vec<&str> = s.split_whitespace().collect();
            words
                .windows(2)
                .any(|w| (w[0] == "FROM" || w[0] == "JOIN") && w[1] == table)
        })
        .unwrap_or_else(|| panic!("{what}: no statement read {table}; ran {ran:#?}"));
    let steps = plan(conn, sql);
    let text = steps.join("\n");
    let how = if access == Access::IndexOrder {
        "SCAN "
    } else {
        "SEARCH "
    };
    assert!(
        steps
            .iter()
            .any(|s| s.starts_with(how) && s.contains(index)),
        "{what} does not {how}through {index}:\n{text}\n{sql}"
    );
    for step in steps.iter().filter(|s| s.starts_with("SCAN ")) {
        let allowed = access == Access::IndexOrder && step.contains(index);
        assert!(
            allowed,
            "{what} reads a whole table or index ({step}):\n{text}\n{sql}"
        );
    }
    if access != Access::SearchThenSort {
        assert!(
            !text.contains("TEMP B-TREE"),
            "{what} sorts every matching row before the first page:\n{text}\n{sql}"
        );
    }
}

fn now() -> DateTime<Utc> {
    "2026-12-03T08:00:00Z".parse().unwrap()
}

#[test]
fn the_event_list_reads_a_page_through_an_index_whatever_its_filter() {
    let conn = crate::store::in_memory().unwrap();
    let cursor = Some(("2026-12-01T00:00:00.000000Z", "e1"));
    let page = |f: EventFilter, before| {
        move |c: &Connection| {
            journal::page(c, &f, before, 201).unwrap();
        }
    };
    let all = EventFilter::default();
    check(
        &conn,
        "events",
        "gate_events",
        "gate_events_by_at_id",
        Access::IndexOrder,
        page(all.clone(), None),
    );
    check(
        &conn,
        "events, next page",
        "gate_events",
        "gate_events_by_at_id",
        Access::Search,
        page(all, cursor),
    );
    let device = EventFilter {
        device: Some("gate-1".into()),
        ..Default::default()
    };
    check(
        &conn,
        "events of a gate",
        "gate_events",
        "gate_events_by_device",
        Access::Search,
        page(device, cursor),
    );
    let denied = EventFilter {
        result: Some("denied".into()),
        ..Default::default()
    };
    check(
        &conn,
        "denied events",
        "gate_events",
        "gate_events_by_result",
        Access::Search,
        page(denied, None),
    );
    let day = EventFilter {
        from: Some(now() - chrono::Duration::days(1)),
        to: Some(now()),
        ..Default::default()
    };
    check(
        &conn,
        "a day's events",
        "gate_events",
        "gate_events_by_at_id",
        Access::Search,
        page(day, None),
    );
    let card = EventFilter {
        card: Some(42),
        ..Default::default()
    };
    check(
        &conn,
        "a card's events",
        "gate_events",
        "gate_events_by_card",
        Access::SearchThenSort,
        page(card, None),
    );
}

#[test]
fn the_desk_lists_and_counts_use_their_indexes() {
    let conn = crate::store::in_memory().unwrap();
    check(
        &conn,
        "renovations page",
        "renovations",
        "INTEGER PRIMARY KEY",
        Access::Search,
        |c| {
            renovation::filtered(c, &renovation::Filter::default(), Some(500), 101).unwrap();
        },
    );
    check(
        &conn,
        "awaiting refund",
        "renovations",
        "renovations_awaiting_refund",
        Access::Search,
        |c| {
            renovation::awaiting_refund(c).unwrap();
        },
    );
    check(
        &conn,
        "a renovation's extensions",
        "renovation_extensions",
        "renovation_extensions_by_renovation",
        Access::SearchThenSort,
        |c| {
            renovation::extensions(c, 7).unwrap();
        },
    );
    check(
        &conn,
        "a renovation's cards",
        "cards",
        "cards_by_worker",
        Access::SearchThenSort,
        |c| {
            card::of_renovation(c, 7).unwrap();
        },
    );
    // Outstanding cards are a small part of all cards: sorting them is fine, reading every
    // card is not.
    check(
        &conn,
        "outstanding cards",
        "cards",
        "cards_by_state",
        Access::SearchThenSort,
        |c| {
            card::outstanding_page(c, now(), None, 201).unwrap();
        },
    );
    check(
        &conn,
        "outstanding counts",
        "cards",
        "cards_by_state",
        Access::SearchThenSort,
        |c| {
            card::outstanding_counts(c, now()).unwrap();
        },
    );
    check(
        &conn,
        "visitors on site",
        "cards",
        "cards_by_state",
        Access::SearchThenSort,
        |c| {
            visitor::on_site(c, now()).unwrap();
        },
    );
    check(
        &conn,
        "visitors on site, counted",
        "cards",
        "cards_by_state",
        Access::SearchThenSort,
        |c| {
            visitor::on_site_count(c, now()).unwrap();
        },
    );
    check(
        &conn,
        "visitor history, a later page",
        "visitors",
        "visitors_by_registered",
        Access::Search,
        |c| {
            let period = crate::domain::history::DateRange {
                from: Some(now().date_naive() - chrono::Days::new(30)),
                to: Some(now().date_naive()),
            }
            .period(chrono_tz::Tz::UTC, now().date_naive())
            .unwrap();
            let cursor = Some(("2026-11-20T00:00:00.000000Z", 9));
            crate::domain::history::visits(c, &period, Some("王"), cursor, 101).unwrap();
        },
    );
    check(
        &conn,
        "alarm history, a later page",
        "device_alarms",
        "device_alarms_by_raised",
        Access::Search,
        |c| {
            let q = alarms::AlarmQuery {
                since: Some(now() - chrono::Duration::days(30)),
                until: Some(now()),
                ..alarms::AlarmQuery::default()
            };
            alarms::history(c, &q, Some(("2026-11-20T00:00:00.000000Z", 9)), 101).unwrap();
        },
    );
    check(
        &conn,
        "audit page",
        "audit_log",
        "INTEGER PRIMARY KEY",
        Access::Search,
        |c| {
            let filter = audit::Filter {
                limit: 101,
                before: Some(1000),
                ..audit::Filter::default()
            };
            audit::page(c, &filter).unwrap();
        },
    );
    check(
        &conn,
        "alarms to see",
        "device_alarms",
        "device_alarms_to_see",
        Access::IndexOrder,
        |c| {
            alarms::open(c).unwrap();
        },
    );
}
