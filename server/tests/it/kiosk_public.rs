//! The kiosk is a public terminal: what an attacker standing at it can try, against the running
//! server — guessing a worker's card, and dodging the deny list.

use crate::app::{
    TestApp, assert_contains_all, assert_slowed_down, audit_action_names, error_code,
    spawn_managed, texts,
};
use crate::desk::{
    add_worker, collect, deny, desk_with_renovation, desk_with_unit, detail, invite_code,
    kiosk_visitor, redeem, register, renovation_action, renovation_code,
};
use crate::platform::enrol_device;
use serde_json::{Value, json};

/// Whether an alarm of `kind` is open.
async fn alarm_open(app: &TestApp, token: &str, kind: &str) -> bool {
    let kinds = texts(&app.get_json("/api/v1/alarms", Some(token)).await, "kind");
    kinds.iter().any(|k| k == kind)
}

#[tokio::test]
async fn guessing_a_workers_card_locks_the_renovation_until_the_desk_releases_it() {
    let (app, admin, desk, id) = desk_with_renovation().await;
    let w: Value = add_worker(&app, &desk, id, "11010519491231002X")
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
    assert!(alarm_open(&app, &desk, "worker_card_guessing").await);
    let page = app
        .get_text(&format!("/desk/renovations/{id}"), Some(&desk))
        .await;
    assert!(
        page.contains("collection-locked"),
        "the renovation page shows the lock"
    );

    // The desk releases it (audited); the real worker collects their card.
    let r = renovation_action(&app, &kiosk, id, "collection-release", json!({})).await;
    assert_eq!(r.status(), 403, "a kiosk cannot release a lock");
    let r = renovation_action(&app, &desk, id, "collection-release", json!({})).await;
    assert_eq!(r.status(), 204);
    let r = collect(&app, &kiosk, &code, "002x", &real).await;
    assert_eq!(r.status(), 200);
    let actions = audit_action_names(&app, &admin).await;
    let wanted = [
        "worker.collection_code",
        "renovation.collection_locked",
        "renovation.collection_release",
    ];
    assert_contains_all(&actions, &wanted);
}

#[tokio::test]
async fn a_kiosk_that_keeps_guessing_is_refused_for_a_while_and_others_are_not() {
    let (app, admin) = spawn_managed().await;
    let (_, kiosk) = enrol_device(&app, &admin, "kiosk").await;
    let (_, other) = enrol_device(&app, &admin, "kiosk").await;
    // Guesses spread over renovation codes never lock one renovation, but the kiosk is slowed.
    for i in 0..10 {
        let r = collect(&app, &kiosk, &format!("R-GUESS-{i}"), "1234", "12345678").await;
        assert_eq!(r.status(), 404, "guess {i}");
    }
    let r = collect(&app, &kiosk, "R-GUESS-X", "1234", "12345678").await;
    assert_slowed_down(r).await;
    let r = collect(&app, &other, "R-GUESS-X", "1234", "12345678").await;
    assert_eq!(r.status(), 404, "another kiosk is not slowed");
}

#[tokio::test]
async fn the_deny_list_is_not_dodged_by_invisible_or_wide_characters_or_a_blank_phone() {
    let (app, admin, desk, unit) = desk_with_unit().await;
    let (_, kiosk) = enrol_device(&app, &admin, "kiosk").await;
    for (name, phone) in [("张黑名", Some("13800001111")), ("John Smith", None)] {
        let r = deny(
            &app,
            &desk,
            json!({"name": name, "phone": phone, "reason": "trespass"}),
        )
        .await;
        assert_eq!(r.status(), 201);
    }
    let visit = |name: &str, phone: Option<&str>| json!({"name": name, "unit_id": unit, "purpose": "visit", "party_size": 1, "phone": phone});
    // A zero-width space or another invisible character in a name is refused outright.
    for name in ["张\u{200b}黑名", "张黑名\u{2060}", "John\u{feff} Smith"] {
        let r = kiosk_visitor(&app, &kiosk, visit(name, Some("13800001111"))).await;
        assert_eq!(r.status(), 422, "{name:?}");
    }
    // Full-width letters and spaces fold to the listed name.
    for (name, phone) in [
        ("张　黑名", Some("13800001111")),
        ("ＪＯＨＮ　ＳＭＩＴＨ", None),
        ("john smith", Some("13900002222")),
    ] {
        let r = kiosk_visitor(&app, &kiosk, visit(name, phone)).await;
        assert_eq!(r.status(), 403, "{name:?}");
        assert_eq!(error_code(r).await, "see_front_desk");
    }
    // The entry has a phone; a visitor leaving the phone blank still matches by name, and the
    // desk is asked to check who it is.
    assert!(!alarm_open(&app, &desk, "deny_list_check").await);
    let r = kiosk_visitor(&app, &kiosk, visit("张黑名", None)).await;
    assert_eq!(error_code(r).await, "see_front_desk");
    assert!(alarm_open(&app, &desk, "deny_list_check").await);
    let r = app
        .post("/api/v1/visitors", Some(&desk), visit("张黑名", None))
        .await;
    assert_eq!(error_code(r).await, "deny_list_phone_needed");
    // A namesake with another phone is welcome.
    let r = kiosk_visitor(&app, &kiosk, visit("张黑名", Some("13700003333"))).await;
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn a_kiosk_cannot_print_visitor_passes_by_the_hundred() {
    let (app, admin, desk, unit) = desk_with_unit().await;
    let (_, kiosk) = enrol_device(&app, &admin, "kiosk").await;
    let (_, other) = enrol_device(&app, &admin, "kiosk").await;
    let visit = |n: u32, party: u8| json!({"name": format!("访客{n}"), "unit_id": unit, "purpose": "visit", "party_size": party});
    // 60 people in 10 minutes: three parties of 20; a fourth is refused with a clear answer.
    for n in 0..3 {
        let r = kiosk_visitor(&app, &kiosk, visit(n, 20)).await;
        assert_eq!(r.status(), 201, "party {n}");
    }
    let r = kiosk_visitor(&app, &kiosk, visit(3, 20)).await;
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
        let r = kiosk_visitor(&app, &other, visit(n, 1)).await;
        assert_eq!(r.status(), 201, "pass {n}");
    }
    let r = kiosk_visitor(&app, &other, visit(20, 1)).await;
    assert_eq!(r.status(), 429);
    // The desk registers as many as come to it.
    let r = app
        .post("/api/v1/visitors", Some(&desk), visit(99, 20))
        .await;
    assert_eq!(r.status(), 201);
    // Party size stays bounded.
    let r = kiosk_visitor(&app, &kiosk, visit(100, 21)).await;
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn with_host_approval_a_walk_in_waits_for_the_desk_and_invites_do_not() {
    let (app, admin, desk, unit) = desk_with_unit().await;
    let (_, kiosk) = enrol_device(&app, &admin, "kiosk").await;
    let setting = "/api/v1/settings/walk-in-approval";
    assert_eq!(
        app.get_json(setting, Some(&desk)).await["walk_in_approval"],
        "none"
    );
    let host = json!({"walk_in_approval": "host"});
    let r = app.put(setting, Some(&desk), host.clone()).await;
    assert_eq!(r.status(), 403, "only a manager changes it");
    let r = app.put(setting, Some(&admin), host).await;
    assert_eq!(r.status(), 200);

    let visit = json!({"name": "孙悟空", "unit_id": unit, "host_name": "唐先生", "purpose": "visit", "party_size": 2});
    let r = kiosk_visitor(&app, &kiosk, visit).await;
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
        audit_action_names(&app, &admin)
            .await
            .contains(&"visitor.approve".to_owned())
    );

    // An invitation was arranged with the host: it is issued at once.
    let code = invite_code(&app, &desk, "猪八戒", unit, 1).await;
    let r = redeem(&app, &kiosk, &code).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_renovation_dated_centuries_away_is_refused_with_the_window() {
    let (app, _, desk, unit) = desk_with_unit().await;
    for (start, end) in [
        ("1900-01-01", "1900-03-01"),
        ("9999-01-01", "9999-03-01"),
        ("+10000-01-01", "+10000-03-01"),
    ] {
        let r = register(&app, &desk, unit, start, end).await;
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
