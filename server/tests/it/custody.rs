//! Card custody at the desk over HTTP: a revoked card, a lost card that turns up and a card
//! with a damaged QR code all come back; ledger lines name only this renovation's worker cards;
//! inspection and occupancy dates follow their rules and only a manager corrects them.

use crate::app::{TestApp, error_code};
use crate::desk::{
    add_worker, card_action, desk_with_renovation, desk_with_unit, detail, give_back, progress,
    refund_check, register, renovation_action, seed_unit, short_id, three_cards, today,
    worker_card,
};
use chrono::{Days, Months};
use serde_json::{Value, json};

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

async fn ledger_lines(app: &TestApp, token: &str, id: i64) -> Vec<Value> {
    detail(app, token, id).await["ledger"]["lines"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn revoked_lost_and_damaged_cards_all_come_back_and_a_found_card_costs_nothing() {
    let (app, _, desk, id) = desk_with_renovation().await;
    let [(revoked, revoked_text), (lost, _), (damaged, _)] = three_cards(&app, &desk, id).await;

    // A revoked card handed back is returned (it used to be refused as "already revoked").
    let r = card_action(&app, &desk, revoked, "revoke", json!({})).await;
    assert_eq!(r.status(), 200);
    let r = give_back(&app, &desk, json!({"credential": revoked_text})).await;
    assert_eq!(r.status(), 200);
    let v = json_of(r).await;
    assert_eq!(
        (v["state"].as_str(), v["was"].as_str()),
        (Some("returned"), Some("revoked")),
        "{v}"
    );
    assert_eq!(v["holder_masked"], "张*明");

    // A lost card: fee charged; it turns up and is typed in by number: fee reversed.
    let r = card_action(&app, &desk, lost, "lost", json!({"fee_cents": 5000})).await;
    assert_eq!(r.status(), 200);
    let r = give_back(&app, &desk, json!({"card_id": lost})).await;
    assert_eq!(r.status(), 200);
    let v = json_of(r).await;
    assert_eq!(
        (v["was"].as_str(), v["fee_reversed_cents"].as_i64()),
        (Some("lost"), Some(5000)),
        "{v}"
    );
    let lines = ledger_lines(&app, &desk, id).await;
    let kinds: Vec<(&str, i64)> = lines
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap(),
                l["amount_cents"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(kinds, [("deduction", 5000), ("reversal", 5000)]);
    assert_eq!(lines[1]["reverses"], lines[0]["id"]);
    // A card back at the desk cannot be declared lost afterwards.
    let r = card_action(&app, &desk, lost, "lost", json!({})).await;
    assert_eq!(error_code(r).await, "already_returned");

    // A damaged card: the desk page looks it up by the code printed on it, then returns it.
    let short = short_id(&app, &desk, id, damaged).await;
    let found = json_of(
        app.get(
            &format!("/api/v1/cards/lookup?q={}", short.to_lowercase()),
            Some(&desk),
        )
        .await,
    )
    .await;
    assert_eq!(
        (found["card_id"].as_u64(), found["state"].as_str()),
        (Some(damaged as u64), Some("active")),
        "{found}"
    );
    assert_eq!(found["holder_masked"], "张*明");
    assert!(found["renovation_code"].as_str().unwrap().starts_with('R'));
    let r = give_back(&app, &desk, json!({"credential": short})).await;
    assert_eq!(
        r.status(),
        200,
        "a typed code in the scan field is read as typed"
    );

    // Every card is back: the card rule holds and no fee is left standing.
    let rules = refund_check(&app, &desk, id).await;
    assert_eq!(rules[2]["met"], true, "{}", rules[2]);

    // Errors name the card or what was typed and say what to do; no credential-format talk.
    for (body, code, words) in [
        (json!({"card_id": 999}), "not_found", "there is no card 999"),
        (
            json!({"credential": "ZZZZZZ"}),
            "not_found",
            "no card has the code ZZZZZZ",
        ),
        (
            json!({"credential": "hello!"}),
            "unreadable_card",
            "\"hello!\" is neither",
        ),
        (
            json!({"credential": "6BFOU4T6ZFK0M0A6A7CDVGOIEE5KUHXJ5SA0V0S.CB6W4OE.WA3V2D0IG"}),
            "unreadable_card",
            "scan it again",
        ),
        (json!({}), "card_required", "card_id"),
        (
            json!({"card_id": damaged}),
            "already_returned",
            &format!("card {damaged}"),
        ),
    ] {
        let r = give_back(&app, &desk, body.clone()).await;
        let v = json_of(r).await;
        assert_eq!(v["error"], code, "{body}: {v}");
        let message = v["message"].as_str().unwrap();
        assert!(message.contains(words), "{body}: {message}");
        assert!(!message.contains("version"), "{body}: {message}");
    }
}

#[tokio::test]
async fn ledger_lines_name_only_this_renovations_worker_cards_and_overdraw_shows_as_owed() {
    let (app, admin, desk, id) = desk_with_renovation().await;
    let unit = seed_unit(&app).await;
    let t = today();
    let other = json_of(register(&app, &desk, unit, t, t + Months::new(1)).await).await["id"]
        .as_i64()
        .unwrap();
    let (theirs, _) = worker_card(&app, &desk, other, "110105194912310021").await;
    let pass = json_of(
        app.post(
            "/api/v1/visitors",
            Some(&desk),
            json!({"name": "赵六", "unit_id": unit, "host_name": "王小明", "purpose": "visit", "party_size": 1}),
        )
        .await,
    )
    .await;
    let pass_id = pass["issued"]["card"]["card_id"]
        .as_u64()
        .unwrap_or_else(|| panic!("a visitor pass: {pass}"));
    let url = format!("/api/v1/renovations/{id}/ledger");
    for (card_id, code) in [
        (json!(4_000_000), "unknown_card"),
        (json!(theirs), "card_of_other_renovation"),
        (json!(pass_id), "card_is_visitor_pass"),
    ] {
        let body = json!({"kind": "deduction", "category": "lost_card", "amount_cents": 5000, "note": "lost", "card_id": card_id});
        let r = app.post(&url, Some(&desk), body).await;
        assert_eq!(r.status(), 422, "{card_id}");
        assert_eq!(error_code(r).await, code);
    }
    assert!(
        ledger_lines(&app, &desk, id).await.is_empty(),
        "nothing recorded"
    );

    // No deposit yet: a violation deduction is recorded and shows as owed, not a negative deposit.
    let r = app
        .post(&url, Some(&desk), json!({"kind": "deduction", "category": "violation", "amount_cents": 20000, "note": "worked on a Sunday (违规)"}))
        .await;
    assert_eq!(r.status(), 201);
    let line = json_of(r).await;
    assert_eq!(line["category"], "violation");
    let before = detail(&app, &desk, id).await;
    assert_eq!(
        (
            before["ledger"]["refundable_cents"].as_i64(),
            before["ledger"]["owed_cents"].as_i64()
        ),
        (Some(0), Some(20000))
    );

    // Only a manager reverses it, with a reason, once.
    let reverse = format!("/api/v1/ledger/{}/reverse", line["id"]);
    let r = app
        .post(&reverse, Some(&desk), json!({"reason": "wrong renovation"}))
        .await;
    assert_eq!(r.status(), 403);
    let r = app
        .post(&reverse, Some(&admin), json!({"reason": " "}))
        .await;
    assert_eq!(error_code(r).await, "reason_required");
    app.created(
        &reverse,
        &admin,
        json!({"reason": "recorded on the wrong renovation"}),
    )
    .await;
    let r = app
        .post(&reverse, Some(&admin), json!({"reason": "again"}))
        .await;
    assert_eq!(error_code(r).await, "already_reversed");
    let after = detail(&app, &desk, id).await;
    assert_eq!(after["ledger"]["owed_cents"], 0);
    let log = json_of(app.get("/api/v1/audit?limit=3", Some(&admin)).await).await;
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "ledger.reversal" && e["actor"] == "manager:admin"),
        "{log}"
    );
}

#[tokio::test]
async fn progress_dates_follow_their_rules_and_only_a_manager_corrects_them() {
    let (app, admin, desk, unit) = desk_with_unit().await;
    let t = today();
    let start = t - Months::new(1);
    let id = json_of(register(&app, &desk, unit, start, start + Months::new(2)).await).await["id"]
        .as_i64()
        .unwrap();
    for (body, code) in [
        (
            json!({"inspection_passed_on": start - Days::new(1)}),
            "inspection_before_start",
        ),
        (
            json!({"inspection_passed_on": t + Days::new(1)}),
            "date_in_future",
        ),
        (
            json!({"inspection_passed_on": t - Days::new(3), "occupied_on": t - Days::new(4)}),
            "occupancy_before_inspection",
        ),
        (json!({"occupied_on": t}), "occupancy_without_inspection"),
        (
            json!({"downstairs_signed_off": true}),
            "signoff_before_inspection",
        ),
    ] {
        let r = progress(&app, &desk, id, body.clone()).await;
        assert_eq!(r.status(), 422, "{body}");
        assert_eq!(error_code(r).await, code, "{body}");
    }

    // A mistaken inspection date stops new workers and extensions with one explanation.
    let r = progress(
        &app,
        &desk,
        id,
        json!({"inspection_passed_on": t - Days::new(2)}),
    )
    .await;
    assert_eq!(json_of(r).await["status"], "inspected");
    let r = add_worker(&app, &desk, id, "110105194912310021").await;
    assert_eq!(r.status(), 409);
    let v = json_of(r).await;
    assert_eq!(v["error"], "renovation_finished");
    assert!(
        v["message"].as_str().unwrap().contains("no new workers")
            && v["message"]
                .as_str()
                .unwrap()
                .contains("a manager clears it"),
        "{v}"
    );
    let body = json!({"new_end_date": start + Months::new(3)});
    let r = renovation_action(&app, &desk, id, "extensions", body).await;
    assert_eq!(error_code(r).await, "renovation_finished");

    // The desk cannot clear it; a manager can, with a reason, and the renovation is active again.
    let r = progress(
        &app,
        &desk,
        id,
        json!({"inspection_passed_on": null, "reason": "typed on the wrong file"}),
    )
    .await;
    assert_eq!(error_code(r).await, "correction_needs_manager");
    let r = progress(&app, &admin, id, json!({"inspection_passed_on": null})).await;
    assert_eq!(error_code(r).await, "correction_needs_manager");
    let r = progress(
        &app,
        &admin,
        id,
        json!({"inspection_passed_on": null, "reason": "typed on the wrong file"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let v = json_of(r).await;
    assert_eq!(
        (v["status"].as_str(), v["inspection_passed_on"].as_str()),
        (Some("active"), None),
        "{v}"
    );
    let log = json_of(app.get("/api/v1/audit?limit=1", Some(&admin)).await).await;
    assert!(
        log[0]["details"]
            .as_str()
            .unwrap()
            .contains("typed on the wrong file"),
        "{log}"
    );
    let r = add_worker(&app, &desk, id, "110105194912310021").await;
    assert_eq!(r.status(), 201);

    // A JSON body error states its cause once.
    let r = renovation_action(&app, &desk, id, "extensions", json!({})).await;
    let message = json_of(r).await["message"].as_str().unwrap().to_owned();
    assert_eq!(message.matches("missing field").count(), 1, "{message}");
}
