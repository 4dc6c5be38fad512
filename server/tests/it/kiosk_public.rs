//! The kiosk is a public terminal: what an attacker standing at it can try, against the running
//! server — guessing a worker's card, and dodging the deny list.

use crate::app::{TestApp, error_code, spawn_app, texts};
use crate::desk::{collect, desk_with_renovation, detail, invite_code, renovation_code, seed_unit};
use crate::platform::enrol_device;
use serde_json::{Value, json};

async fn audit_actions(app: &TestApp, admin: &str) -> Vec<String> {
    texts(
        &app.get_json("/api/v1/audit?limit=500", Some(admin)).await,
        "action",
    )
}

async fn alarm_kinds(app: &TestApp, token: &str) -> Vec<String> {
    texts(&app.get_json("/api/v1/alarms", Some(token)).await, "kind")
}

#[tokio::test]
async fn guessing_a_workers_card_locks_the_renovation_until_the_desk_releases_it() {
    let (app, admin, desk, id) = desk_with_renovation().await;
    let w: Value = app
        .post(
            &format!("/api/v1/renovations/{id}/workers"),
            Some(&desk),
            json!({"name": "张三明", "phone": "13912345678", "id_number": "11010519491231002X"}),
        )
        .await
        .json()
        .await
        .unwrap();
    // The desk is shown the one-time code once, to give the contractor.
    let real = w["collection_code"].as_str().unwrap().to_owned();
    assert!(
        real.len() >= 6 && real.chars().all(|c| c.is_ascii_digit()),
        "{real}"
    );
    let listed = detail(&app, &desk, id).await;
    assert!(
        !listed.to_string().contains(&real),
        "the code is shown only once"
    );
    let code = renovation_code(&app, &desk, id).await;
    let (_, kiosk) = enrol_device(&app, &admin, "kiosk").await;

    // The last 4 of the ID alone no longer collects a card.
    let r = app
        .post(
            "/api/v1/kiosk/worker-cards",
            Some(&kiosk),
            json!({"renovation_code": code, "id_last4": "002X"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(error_code(r).await, "collection_code_required");

    // An attacker who knows the renovation code and the last 4 guesses collection codes.
    let wrong = if real == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    for i in 1..5 {
        let r = collect(&app, &kiosk, &code, "002X", wrong).await;
        assert_eq!(r.status(), 404, "wrong attempt {i}");
    }
    let r = collect(&app, &kiosk, &code, "002X", wrong).await;
    assert_eq!(
        error_code(r).await,
        "collection_locked",
        "the 5th wrong attempt locks"
    );
    // Locked: even the right code does not hand the card to whoever stands at the kiosk.
    let r = collect(&app, &kiosk, &code, "002X", &real).await;
    assert_eq!(error_code(r).await, "collection_locked");
    assert!(
        alarm_kinds(&app, &desk)
            .await
            .contains(&"worker_card_guessing".to_owned())
    );
    let page = app
        .get_text(&format!("/desk/renovations/{id}"), Some(&desk))
        .await;
    assert!(
        page.contains("collection-locked"),
        "the renovation page shows the lock"
    );

    // The desk releases it (audited); the real worker collects their card.
    let r = app
        .post(
            &format!("/api/v1/renovations/{id}/collection-release"),
            Some(&kiosk),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 403, "a kiosk cannot release a lock");
    let r = app
        .post(
            &format!("/api/v1/renovations/{id}/collection-release"),
            Some(&desk),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 204);
    let r = collect(&app, &kiosk, &code, "002x", &real).await;
    assert_eq!(r.status(), 200);
    let actions = audit_actions(&app, &admin).await;
    for action in [
        "worker.collection_code",
        "renovation.collection_locked",
        "renovation.collection_release",
    ] {
        assert!(
            actions.contains(&action.to_owned()),
            "{action} in {actions:?}"
        );
    }
}

#[tokio::test]
async fn a_kiosk_that_keeps_guessing_is_refused_for_a_while_and_others_are_not() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, kiosk) = enrol_device(&app, &admin, "kiosk").await;
    let (_, other) = enrol_device(&app, &admin, "kiosk").await;
    // Guesses spread over renovation codes never lock one renovation, but the kiosk is slowed.
    for i in 0..10 {
        let r = collect(&app, &kiosk, &format!("R-GUESS-{i}"), "1234", "12345678").await;
        assert_eq!(r.status(), 404, "guess {i}");
    }
    let r = collect(&app, &kiosk, "R-GUESS-X", "1234", "12345678").await;
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=15 * 60).contains(&wait), "{wait}");
    assert_eq!(error_code(r).await, "too_many_requests");
    let r = collect(&app, &other, "R-GUESS-X", "1234", "12345678").await;
    assert_eq!(r.status(), 404, "another kiosk is not slowed");
}

#[tokio::test]
async fn the_deny_list_is_not_dodged_by_invisible_or_wide_characters_or_a_blank_phone() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let desk = app.desk(&admin).await;
    let unit = seed_unit(&app).await;
    let (_, kiosk) = enrol_device(&app, &admin, "kiosk").await;
    for (name, phone) in [("张黑名", Some("13800001111")), ("John Smith", None)] {
        let r = app
            .post(
                "/api/v1/deny-list",
                Some(&desk),
                json!({"name": name, "phone": phone, "reason": "trespass"}),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let visit = |name: &str, phone: Option<&str>| json!({"name": name, "unit_id": unit, "purpose": "visit", "party_size": 1, "phone": phone});
    // A zero-width space or another invisible character in a name is refused outright.
    for name in ["张\u{200b}黑名", "张黑名\u{2060}", "John\u{feff} Smith"] {
        let r = app
            .post(
                "/api/v1/kiosk/visitors",
                Some(&kiosk),
                visit(name, Some("13800001111")),
            )
            .await;
        assert_eq!(r.status(), 422, "{name:?}");
    }
    // Full-width letters and spaces fold to the listed name.
    for (name, phone) in [
        ("张　黑名", Some("13800001111")),
        ("ＪＯＨＮ　ＳＭＩＴＨ", None),
        ("john smith", Some("13900002222")),
    ] {
        let r = app
            .post("/api/v1/kiosk/visitors", Some(&kiosk), visit(name, phone))
            .await;
        assert_eq!(r.status(), 403, "{name:?}");
        assert_eq!(error_code(r).await, "see_front_desk");
    }
    // The entry has a phone; a visitor leaving the phone blank still matches by name, and the
    // desk is asked to check who it is.
    assert!(
        !alarm_kinds(&app, &desk)
            .await
            .contains(&"deny_list_check".to_owned())
    );
    let r = app
        .post(
            "/api/v1/kiosk/visitors",
            Some(&kiosk),
            visit("张黑名", None),
        )
        .await;
    assert_eq!(error_code(r).await, "see_front_desk");
    assert!(
        alarm_kinds(&app, &desk)
            .await
            .contains(&"deny_list_check".to_owned())
    );
    let r = app
        .post("/api/v1/visitors", Some(&desk), visit("张黑名", None))
        .await;
    assert_eq!(error_code(r).await, "deny_list_phone_needed");
    // A namesake with another phone is welcome.
    let r = app
        .post(
            "/api/v1/kiosk/visitors",
            Some(&kiosk),
            visit("张黑名", Some("13700003333")),
        )
        .await;
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn a_kiosk_cannot_print_visitor_passes_by_the_hundred() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let desk = app.desk(&admin).await;
    let unit = seed_unit(&app).await;
    let (_, kiosk) = enrol_device(&app, &admin, "kiosk").await;
    let (_, other) = enrol_device(&app, &admin, "kiosk").await;
    let visit = |n: u32, party: u8| json!({"name": format!("访客{n}"), "unit_id": unit, "purpose": "visit", "party_size": party});
    // 60 people in 10 minutes: three parties of 20; a fourth is refused with a clear answer.
    for n in 0..3 {
        let r = app
            .post("/api/v1/kiosk/visitors", Some(&kiosk), visit(n, 20))
            .await;
        assert_eq!(r.status(), 201, "party {n}");
    }
    let r = app
        .post("/api/v1/kiosk/visitors", Some(&kiosk), visit(3, 20))
        .await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "too_many_requests");
    assert!(
        body["message"].as_str().unwrap().contains("try again"),
        "{body}"
    );
    // Single visitors count too: 20 passes at most.
    for n in 0..20 {
        let r = app
            .post("/api/v1/kiosk/visitors", Some(&other), visit(n, 1))
            .await;
        assert_eq!(r.status(), 201, "pass {n}");
    }
    let r = app
        .post("/api/v1/kiosk/visitors", Some(&other), visit(20, 1))
        .await;
    assert_eq!(r.status(), 429);
    // The desk registers as many as come to it.
    let r = app
        .post("/api/v1/visitors", Some(&desk), visit(99, 20))
        .await;
    assert_eq!(r.status(), 201);
    // Party size stays bounded.
    let r = app
        .post("/api/v1/kiosk/visitors", Some(&kiosk), visit(100, 21))
        .await;
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn with_host_approval_a_walk_in_waits_for_the_desk_and_invites_do_not() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let desk = app.desk(&admin).await;
    let unit = seed_unit(&app).await;
    let (_, kiosk) = enrol_device(&app, &admin, "kiosk").await;
    let setting = "/api/v1/settings/walk-in-approval";
    assert_eq!(
        app.get_json(setting, Some(&desk)).await["walk_in_approval"],
        "none"
    );
    let host = json!({"walk_in_approval": "host"});
    let r = app
        .send(
            reqwest::Method::PUT,
            setting,
            Some(&desk),
            Some(host.clone()),
        )
        .await;
    assert_eq!(r.status(), 403, "only a manager changes it");
    let r = app
        .send(reqwest::Method::PUT, setting, Some(&admin), Some(host))
        .await;
    assert_eq!(r.status(), 200);

    let visit = json!({"name": "孙悟空", "unit_id": unit, "host_name": "唐先生", "purpose": "visit", "party_size": 2});
    let r = app
        .post("/api/v1/kiosk/visitors", Some(&kiosk), visit)
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "host_approval_pending");
    let pending = app.get_json("/api/v1/visitors/pending", Some(&desk)).await;
    assert_eq!(pending.as_array().unwrap().len(), 1, "{pending}");
    assert_eq!(pending[0]["name_masked"], "孙*空");
    let id = pending[0]["visitor_id"].as_i64().unwrap();
    let on_site = app.get_json("/api/v1/visitors/on-site", Some(&desk)).await;
    assert!(
        on_site.as_array().unwrap().is_empty(),
        "no pass before approval"
    );

    let approve = format!("/api/v1/visitors/{id}/approve");
    let r = app.post(&approve, Some(&kiosk), json!({})).await;
    assert_eq!(r.status(), 403, "a kiosk cannot approve");
    let r = app.post(&approve, Some(&desk), json!({})).await;
    assert_eq!(r.status(), 201);
    let pass: Value = r.json().await.unwrap();
    assert!(pass["issued"]["credential"].as_str().is_some(), "{pass}");
    let r = app.post(&approve, Some(&desk), json!({})).await;
    assert_eq!(error_code(r).await, "not_pending");
    assert!(
        audit_actions(&app, &admin)
            .await
            .contains(&"visitor.approve".to_owned())
    );

    // An invitation was arranged with the host: it is issued at once.
    let code = invite_code(&app, &desk, "猪八戒", unit, 1).await;
    let r = app
        .post(
            "/api/v1/kiosk/invites/redeem",
            Some(&kiosk),
            json!({"code": code}),
        )
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_renovation_dated_centuries_away_is_refused_with_the_window() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let desk = app.desk(&admin).await;
    let unit = seed_unit(&app).await;
    for (start, end) in [
        ("1900-01-01", "1900-03-01"),
        ("9999-01-01", "9999-03-01"),
        ("+10000-01-01", "+10000-03-01"),
    ] {
        let r = app
            .post(
                "/api/v1/renovations",
                Some(&desk),
                json!({
                    "unit_id": unit, "owner_name": "王小明", "contractor": "Acme",
                    "supervisor_name": "李四", "supervisor_phone": "13812345678",
                    "start_date": start, "end_date": end, "waterproofing": false,
                }),
            )
            .await;
        assert_eq!(r.status(), 422, "{start}");
        let body: Value = r.json().await.unwrap();
        assert!(body["message"].as_str().is_some(), "{body}");
    }
    assert!(
        app.get_json("/api/v1/renovations", Some(&desk))
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
}
