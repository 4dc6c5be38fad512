//! Lists that grow come a page at a time: at most `limit` rows, the next page named by the
//! `Link: <…>; rel="next"` header, every row exactly once across the pages even when new rows
//! arrive between two pages, a bad limit or cursor refused with a JSON 422; the desk pages
//! show a "more" link instead of everything.

use crate::app::{TestApp, spawn_managed};
use crate::desk::{renovation, seed_unit, worker_card};
use gatehouse_server::db::DbError;
use serde_json::Value;

/// The query of a range of local dates around 20 November 2026.
const NOV_20: &str = "from=2026-11-19&to=2026-11-21";

/// The next page's path from a response's `Link` header.
fn next_of(r: &reqwest::Response) -> Option<String> {
    let link = r.headers().get("link")?.to_str().unwrap();
    assert!(link.ends_with("; rel=\"next\""), "{link}");
    Some(link[link.find('<')? + 1..link.find('>')?].to_owned())
}

/// Follows the pages from `first`; returns every row and how many pages it took. Each page
/// has at most `limit` rows and only the last has no next page.
async fn every_page(app: &TestApp, token: &str, first: &str, limit: usize) -> (Vec<Value>, usize) {
    let (mut rows, mut pages, mut path) = (Vec::new(), 0, Some(first.to_owned()));
    while let Some(p) = path {
        let r = app.get(&p, Some(token)).await;
        assert_eq!(r.status(), 200, "{p}");
        path = next_of(&r);
        let page: Vec<Value> = r.json().await.unwrap();
        assert!(page.len() <= limit, "{p}: {} rows", page.len());
        assert!(
            path.is_none() || page.len() == limit,
            "{p}: a short page before the last"
        );
        rows.extend(page);
        pages += 1;
        assert!(pages < 100, "the pages never end");
    }
    (rows, pages)
}

/// Stores `n` gate events, five of them at one same instant, alternating two gates.
async fn seed_events(app: &TestApp, n: usize, minute_offset: usize) {
    app.db(move |c| {
            for g in ["gate-a", "gate-b"] {
                c.execute(
                    "INSERT OR IGNORE INTO devices (id, kind, name, created_at, created_by)
                     VALUES (?1, 'gate', ?1, '2026-01-01T00:00:00.000000Z', 'manager:admin')",
                    [g],
                )?;
            }
            for i in 0..n {
                let minute = if i < 5 { 30 } else { i + minute_offset };
                c.execute(
                    "INSERT INTO gate_events (id, device_id, at, clock_trusted, card_id, result, event, received_at)
                     VALUES (?1, ?2, ?3, 1, 7, 'admitted', '{\"type\":\"admitted\"}', ?3)",
                    rusqlite::params![
                        format!("ev-{minute_offset}-{i:03}"),
                        ["gate-a", "gate-b"][i % 2],
                        format!("2026-11-30T{:02}:{:02}:00.000000Z", minute / 60, minute % 60),
                    ],
                )?;
            }
            Ok(())
        })
        .await;
}

/// Runs `insert` on the server's database once for each `i` of `each`.
async fn seed_rows<I, F>(app: &TestApp, each: I, insert: F)
where
    I: IntoIterator<Item = usize> + Send + 'static,
    F: Fn(&rusqlite::Connection, usize) -> Result<(), DbError> + Send + 'static,
{
    app.db(move |c| each.into_iter().try_for_each(|i| insert(c, i)))
        .await;
}

/// A fresh server, a manager's token and a unit.
async fn app_with_unit() -> (TestApp, String, i64) {
    let (app, admin) = spawn_managed().await;
    let unit = seed_unit(&app).await;
    (app, admin, unit)
}

/// `list` (a path with a query) read whole holds `n` rows, and read five at a time holds the
/// same rows in the same order, each once.
async fn pages_hold_the_whole_list(app: &TestApp, token: &str, list: &str, n: usize, id: &str) {
    let whole = app
        .get_json(&format!("{list}&limit=500"), Some(token))
        .await;
    assert_eq!(whole.as_array().unwrap().len(), n, "{list}");
    let (paged, pages) = every_page(app, token, &format!("{list}&limit=5"), 5).await;
    assert_eq!(pages, n.div_ceil(5), "{list}");
    assert_eq!(
        ids(&paged, id),
        ids(whole.as_array().unwrap(), id),
        "{list}: every row once, newest first"
    );
}

/// The desk page `path` shows `counts.0` rows (each marked by `row`), then its "more" link a
/// last page of `counts.1` rows with no further link.
async fn page_then_more(app: &TestApp, token: &str, path: &str, row: &str, counts: (usize, usize)) {
    let page = app.get_text(path, Some(token)).await;
    assert_eq!(page.matches(row).count(), counts.0, "{path}");
    let more = href_of(&page, "more").expect("a link to the older rows");
    let rest = app.get_text(&more, Some(token)).await;
    assert_eq!(rest.matches(row).count(), counts.1, "{more}");
    assert!(href_of(&rest, "more").is_none(), "{more}");
}

/// Twelve rows: `list` (a path with a query; `id` names a row) holds them all, a page at a
/// time, and the desk `page` shows ten (each marked by `row`) and links to the last two.
async fn twelve_rows_in_pages(
    app: &TestApp,
    token: &str,
    (list, id): (&str, &str),
    (page, row): (&str, &str),
) {
    pages_hold_the_whole_list(app, token, list, 12, id).await;
    page_then_more(app, token, page, row, (10, 2)).await;
}

fn ids(rows: &[Value], field: &str) -> Vec<String> {
    rows.iter().map(|r| r[field].to_string()).collect()
}

#[tokio::test]
async fn gate_events_come_newest_first_a_page_at_a_time_without_repeats_or_gaps() {
    let (app, admin) = spawn_managed().await;
    seed_events(&app, 23, 0).await;
    let whole: Vec<Value> = app.get_ok("/api/v1/events?limit=1000", Some(&admin)).await;
    assert_eq!(whole.len(), 23);
    let (paged, pages) = every_page(&app, &admin, "/api/v1/events?limit=5", 5).await;
    assert_eq!(pages, 5);
    assert_eq!(
        ids(&paged, "id"),
        ids(&whole, "id"),
        "every event once, in order"
    );
    let order: Vec<(String, String)> = paged
        .iter()
        .map(|e| (e["at"].to_string(), e["id"].to_string()))
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] > w[1]),
        "newest first, ties by id"
    );

    // A filter stays on every page; events arriving after the first page neither repeat
    // nor push rows of the first page onto the second.
    let first = app
        .get("/api/v1/events?device=gate-a&limit=4", Some(&admin))
        .await;
    let next = next_of(&first).expect("a second page");
    assert!(next.contains("device=gate-a"), "{next}");
    let mut rows: Vec<Value> = first.json().await.unwrap();
    seed_events(&app, 10, 600).await;
    let (rest, _) = every_page(&app, &admin, &next, 4).await;
    rows.extend(rest);
    let gate_a: Vec<&Value> = whole
        .iter()
        .filter(|e| e["device_id"] == "gate-a")
        .collect();
    assert_eq!(rows.len(), gate_a.len());
    assert!(rows.iter().zip(&gate_a).all(|(a, b)| a["id"] == b["id"]));
}

#[tokio::test]
async fn the_visitor_history_pages_through_every_visit_once_and_the_page_links_to_older_ones() {
    let (app, admin, unit) = app_with_unit().await;
    seed_rows(&app, 0..23, move |c, i| {
        // Five registered in the same instant: the id orders them.
        let minute = if i < 5 { 0 } else { i };
        c.execute(
            "INSERT INTO visitors (name, unit_id, host_name, purpose, party_size, registered_at, registered_by)
             VALUES (?1, ?2, '张三', '探亲', 1, ?3, 'desk:admin')",
            rusqlite::params![
                format!("访客{i:02}"),
                unit,
                format!("2026-11-20T04:{minute:02}:00.000000Z")
            ],
        )?;
        Ok(())
    })
    .await;
    let list = format!("/api/v1/visitors/history?{NOV_20}");
    pages_hold_the_whole_list(&app, &admin, &list, 23, "visitor_id").await;
    // A search stays on every page.
    let search = format!("{list}&q=%E8%AE%BF%E5%AE%A21&limit=3");
    let (found, _) = every_page(&app, &admin, &search, 3).await;
    assert_eq!(found.len(), 10, "访客10 to 访客19");

    // The desk page shows a page and links to the older visits.
    let page = app
        .get_text(&format!("/desk/visitors/history?{NOV_20}"), Some(&admin))
        .await;
    assert_eq!(
        page.matches("data-visitor=").count(),
        23,
        "one page holds them"
    );
    assert!(!page.contains("id=\"more\""));
    let page = app
        .get_text(
            &format!("/desk/visitors/history?{NOV_20}&limit=20"),
            Some(&admin),
        )
        .await;
    assert_eq!(page.matches("data-visitor=").count(), 20);
    assert!(page.contains("id=\"more\""), "a link to the older visits");
}

#[tokio::test]
async fn the_alarm_history_pages_through_every_alarm_once_and_the_page_links_to_older_ones() {
    let (app, admin) = spawn_managed().await;
    seed_events(&app, 1, 0).await;
    seed_rows(&app, 0..23, move |c, i| {
        // Five raised in the same instant: the id orders them.
        let minute = if i < 5 { 0 } else { i };
        c.execute(
            "INSERT INTO device_alarms (device_id, kind, raised_at, last_reported_at, cleared_at,
                acknowledged_by, acknowledged_at)
             VALUES (?1, 'door_held_open', ?2, ?2, ?2, 'desk:admin', ?2)",
            rusqlite::params![
                ["gate-a", "gate-b"][i % 2],
                format!("2026-11-20T04:{minute:02}:00.000000Z")
            ],
        )?;
        Ok(())
    })
    .await;
    let list = format!("/api/v1/alarms/history?{NOV_20}");
    pages_hold_the_whole_list(&app, &admin, &list, 23, "id").await;
    let gate_a_only = format!("{list}&device=gate-a&limit=4");
    let (gate_a, _) = every_page(&app, &admin, &gate_a_only, 4).await;
    assert_eq!(gate_a.len(), 12);

    let page = format!("/desk/alarms?{NOV_20}&limit=20");
    page_then_more(&app, &admin, &page, "data-alarm=", (20, 3)).await;
}

#[tokio::test]
async fn goods_permits_page_through_every_permit_once_and_the_page_links_to_older_ones() {
    let (app, admin, unit) = app_with_unit().await;
    seed_rows(&app, 0..12, move |c, i| {
        c.execute(
            "INSERT INTO goods_permits (unit_id, applicant, applicant_name, items, valid_from, valid_to,
                state, created_at, created_by)
             VALUES (?1, 'owner', '王伟', '[]', '2026-11-20', '2026-11-20', 'released', ?2, 'desk:admin')",
            rusqlite::params![unit, format!("2026-11-20T04:{i:02}:00.000000Z")],
        )?;
        Ok(())
    })
    .await;
    let list = ("/api/v1/goods-permits?", "id");
    twelve_rows_in_pages(&app, &admin, list, ("/desk/goods?limit=10", "data-permit=")).await;
}

#[tokio::test]
async fn invites_page_through_every_invite_once_and_the_page_links_to_older_ones() {
    let (app, admin, unit) = app_with_unit().await;
    seed_rows(&app, 0..12, move |c, i| {
        // Three made in the same instant: the code orders them.
        let minute = if i < 3 { 0 } else { i };
        c.execute(
            "INSERT INTO invites (code, visitor, valid_on, created_at, created_by)
             VALUES (?1, ?2, '2099-01-01', ?3, 'desk:admin')",
            rusqlite::params![
                format!("INV{i:03}"),
                format!("{{\"name\":\"王伟\",\"unit_id\":{unit}}}"),
                format!("2026-11-20T04:{minute:02}:00.000000Z")
            ],
        )?;
        Ok(())
    })
    .await;
    let list = ("/api/v1/invites?", "code");
    twelve_rows_in_pages(
        &app,
        &admin,
        list,
        ("/desk/invites?limit=10", "data-invite="),
    )
    .await;
}

#[tokio::test]
async fn an_events_csv_holds_every_event_of_its_range_and_refuses_a_range_over_a_month() {
    let (app, admin) = spawn_managed().await;
    // More than any page holds (10,000), all on one day.
    let n = 10_050;
    seed_events(&app, 1, 0).await;
    app.db(move |c| {
        let tx = c.savepoint()?;
        {
            let mut ins = tx.prepare(
                "INSERT INTO gate_events (id, device_id, at, clock_trusted, card_id, result, event, received_at)
                 VALUES (?1, 'gate-a', ?2, 1, 7, 'admitted', '{\"type\":\"admitted\"}', ?2)",
            )?;
            for i in 0..n {
                let at = format!(
                    "2026-11-20T{:02}:{:02}:{:02}.000000Z",
                    i / 3600,
                    i / 60 % 60,
                    i % 60
                );
                ins.execute(rusqlite::params![format!("day-{i:05}"), at])?;
            }
        }
        tx.commit()?;
        Ok::<_, DbError>(())
    })
        .await;
    let r = app
        .get(
            "/api/v1/events.csv?from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z",
            Some(&admin),
        )
        .await;
    assert!(next_of(&r).is_none(), "an export is not paged");
    let rows = crate::admin::csv_rows(r).await;
    assert_eq!(rows[0][0], "at");
    assert_eq!(rows.len() - 1, n, "every event of the day, none left out");
    let ids: std::collections::BTreeSet<&str> = rows[1..].iter().map(|r| r[10].as_str()).collect();
    assert_eq!(ids.len(), n, "each once");
    assert!(
        ids.iter().all(|id| id.starts_with("day-")),
        "only that day's"
    );

    // The desk's export by local dates has no cap either.
    let desk = app
        .get(
            "/desk/exports/events.csv?from=2026-11-20&to=2026-11-21",
            Some(&admin),
        )
        .await;
    let rows = crate::admin::csv_rows(desk).await;
    assert_eq!(rows.len() - 1, n, "every event of those local dates");

    // A range over 31 days is refused with a reason, not cut short.
    for path in [
        "/api/v1/events.csv?from=2026-10-01T00:00:00Z&to=2026-11-21T00:00:00Z",
        "/api/v1/events.csv?from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:01Z",
        "/desk/exports/events.csv?from=2026-10-01&to=2026-11-21",
    ] {
        let r = app.get(path, Some(&admin)).await;
        assert_eq!(r.status(), 422, "{path}");
        let v: Value = r.json().await.expect("a JSON error");
        assert_eq!(v["error"], "range_too_large", "{path}: {v}");
        assert!(v["message"].as_str().unwrap().contains("31 days"), "{v}");
    }
    let month = app
        .get(
            "/api/v1/events.csv?from=2026-10-21T00:00:00Z&to=2026-11-21T00:00:00Z",
            Some(&admin),
        )
        .await;
    assert_eq!(month.status(), 200, "exactly 31 days is one export");
}

#[tokio::test]
async fn renovations_the_audit_log_and_outstanding_cards_page_through_every_row_once() {
    let (app, admin) = spawn_managed().await;
    let mut made = Vec::new();
    for _ in 0..7 {
        made.push(renovation(&app, &admin).await);
    }
    for i in 0..5 {
        worker_card(&app, &admin, made[i % 2], &format!("11010519900101{i:03}X")).await;
    }

    let (renovations, pages) = every_page(&app, &admin, "/api/v1/renovations?limit=3", 3).await;
    assert_eq!(pages, 3);
    let got: Vec<i64> = renovations
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    made.reverse();
    assert_eq!(got, made, "newest first, each once");

    let whole = app.get_json("/api/v1/audit?limit=1000", Some(&admin)).await;
    let (audit, _) = every_page(&app, &admin, "/api/v1/audit?limit=4", 4).await;
    assert!(
        audit.len() >= 12,
        "registrations, workers and cards are audited"
    );
    assert_eq!(ids(&audit, "seq"), ids(whole.as_array().unwrap(), "seq"));

    let whole = app
        .get_json("/api/v1/cards/outstanding?limit=1000", Some(&admin))
        .await;
    let (cards, pages) = every_page(&app, &admin, "/api/v1/cards/outstanding?limit=2", 2).await;
    assert_eq!((cards.len(), pages), (5, 3));
    let card_ids = |rows: &[Value]| -> Vec<u64> {
        rows.iter()
            .map(|c| c["card"]["card_id"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(card_ids(&cards), card_ids(whole.as_array().unwrap()));
}

#[tokio::test]
async fn a_limit_out_of_bounds_or_a_foreign_cursor_is_a_422_with_a_json_error() {
    let (app, admin) = spawn_managed().await;
    for (path, max) in [
        ("/api/v1/events", 10_000),
        ("/api/v1/events.csv", 10_000),
        ("/api/v1/renovations", 500),
        ("/api/v1/visitors/history", 500),
        ("/api/v1/alarms/history", 500),
        ("/api/v1/goods-permits", 500),
        ("/api/v1/invites", 500),
        ("/api/v1/audit", 1000),
        ("/api/v1/cards/outstanding", 1000),
    ] {
        for limit in [0, max + 1] {
            let r = app
                .get(&format!("{path}?limit={limit}"), Some(&admin))
                .await;
            assert_eq!(r.status(), 422, "{path}?limit={limit}");
            let v: Value = r.json().await.expect("a JSON error");
            assert_eq!(v["error"], "invalid", "{v}");
            let message = v["message"].as_str().unwrap();
            assert!(
                message.contains(&format!("between 1 and {max}")),
                "{message}"
            );
        }
        let ok = app.get(&format!("{path}?limit={max}"), Some(&admin)).await;
        assert_eq!(ok.status(), 200, "{path}?limit={max}");
        let r = app.get(&format!("{path}?limit=ten"), Some(&admin)).await;
        assert_eq!(r.status(), 400, "{path}?limit=ten");
        assert!(r.json::<Value>().await.unwrap()["message"].is_string());
    }
    for path in [
        "/api/v1/events?before=yesterday",
        "/api/v1/events?before=2026-11-30T10:00:00Z",
        "/api/v1/cards/outstanding?after=12",
    ] {
        let r = app.get(path, Some(&admin)).await;
        assert_eq!(r.status(), 422, "{path}");
        let v: Value = r.json().await.unwrap();
        assert!(v["message"].as_str().unwrap().contains("cursor"), "{v}");
    }
    for path in ["/api/v1/renovations?before=x", "/api/v1/audit?before=x"] {
        assert_eq!(app.get(path, Some(&admin)).await.status(), 400, "{path}");
    }
}

/// The `href` of the element with id `id` in `html`, unescaped.
fn href_of(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let tag = &html[html[..at].rfind('<')?..];
    let start = tag.find("href=\"")? + 6;
    let end = start + tag[start..].find('"')?;
    Some(tag[start..end].replace("&amp;", "&"))
}

#[tokio::test]
async fn the_renovations_and_outstanding_cards_pages_show_a_page_and_a_more_link() {
    let (app, admin, unit) = app_with_unit().await;
    seed_rows(&app, 1..=105, move |c, i| {
        c.execute(
            "INSERT INTO renovations (id, code, unit_id, owner_name, contractor, start_date, original_end_date,
                end_date, waterproofing, documents, created_at, created_by)
             VALUES (?1, ?2, ?3, '王小明', 'Acme', '2026-11-01', '2026-12-31', '2026-12-31', 0, '{}',
                '2026-11-01T00:00:00.000000Z', 'desk:seed')",
            rusqlite::params![i as i64, format!("RSEED{i:03}"), unit],
        )?;
        c.execute(
            "INSERT INTO workers (id, renovation_id, name, id_last4, created_at, created_by)
             VALUES (?1, ?1, '张三明', '123X', '2026-11-01T00:00:00.000000Z', 'desk:seed')",
            [i as i64],
        )?;
        for k in 0..2 {
            c.execute(
                "INSERT INTO cards (kind, worker_id, short_id, state, not_before, printed_not_after, not_after,
                    issued_at, issued_by)
                 VALUES ('worker', ?1, ?2, 'active', 1, 100000000, 100000000,
                    '2026-11-01T00:00:00.000000Z', 'desk:seed')",
                rusqlite::params![i as i64, format!("S{i:03}{k}")],
            )?;
        }
        Ok(())
    })
    .await;

    let page = app.get_text("/desk/renovations", Some(&admin)).await;
    assert_eq!(page.matches("RSEED").count(), 100, "the newest 100");
    assert!(page.contains("RSEED105") && !page.contains("RSEED005"));
    assert!(href_of(&page, "first-page").is_none());
    let more = href_of(&page, "more").expect("a more link");
    let rest = app.get_text(&more, Some(&admin)).await;
    assert_eq!(rest.matches("RSEED").count(), 5, "{more}");
    assert!(rest.contains("RSEED005") && rest.contains("RSEED001") && !rest.contains("RSEED006"));
    assert!(
        href_of(&rest, "more").is_none(),
        "the last page has no more"
    );
    assert_eq!(
        href_of(&rest, "first-page").as_deref(),
        Some("/desk/renovations")
    );

    let page = app.get_text("/desk/cards/outstanding", Some(&admin)).await;
    let rows = |html: &str| html.matches("<tr data-card=").count();
    assert_eq!(rows(&page), 200);
    let more = href_of(&page, "more").expect("a more link");
    let rest = app.get_text(&more, Some(&admin)).await;
    assert_eq!(rows(&rest), 10, "{more}");
    assert!(href_of(&rest, "more").is_none());

    // The home page counts everything, not a page.
    let today = app.get_text("/", Some(&admin)).await;
    assert!(
        today.contains("id=\"cards-out\" href=\"/desk/cards/outstanding\"><strong>210</strong>"),
        "{today}"
    );
}
