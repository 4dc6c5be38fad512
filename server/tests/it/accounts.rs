//! Attacks on accounts and sessions: parallel guessing, locking the owner out, account
//! management (password change and reset, disabling), weak passwords, usernames that differ
//! only in case.

use crate::app::{
    ADMIN_PASSWORD, TestApp, assert_contains_all, audit_action_names, error_code, spawn_app,
    spawn_managed, spawn_staffed, spawn_with,
};
use gatehouse_server::Config;
use gatehouse_server::config::{ClientAddress, Secret};
use serde_json::{Value, json};

async fn login_as(app: &TestApp, user: &str, password: &str, from: Option<&str>) -> u16 {
    let mut req = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": user, "password": password}));
    if let Some(ip) = from {
        req = req.header("x-forwarded-for", ip);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn guesses_sent_at_the_same_moment_are_counted_before_the_password_is_checked() {
    let app = spawn_app().await;
    let guesses = (0..30).map(|i| {
        let app = &app;
        async move { login_as(app, "admin", &format!("guess-number-{i}"), None).await }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(checked + refused, 30, "{statuses:?}");
    assert!(
        checked <= gatehouse_server::auth::throttle::FREE_ATTEMPTS as usize,
        "{checked} of 30 simultaneous guesses were checked: {statuses:?}"
    );
}

async fn behind_proxy() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    config.admin_password = Some(Secret::new(ADMIN_PASSWORD));
    config.client_address = ClientAddress {
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        header: Some("x-forwarded-for".parse().unwrap()),
    };
    spawn_with(config, dir).await
}

#[tokio::test]
async fn a_guesser_slows_down_but_does_not_lock_the_owner_out() {
    let app = behind_proxy().await;
    let attacker = Some("203.0.113.5");
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(login_as(&app, "admin", "guess-guess-guess", attacker).await);
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    // Even the right password waits from the guesser's address…
    assert_eq!(login_as(&app, "ADMIN", ADMIN_PASSWORD, attacker).await, 429);
    // …while the owner, from their own address, logs in at once.
    assert_eq!(
        login_as(&app, "admin", ADMIN_PASSWORD, Some("198.51.100.7")).await,
        200
    );
}

#[tokio::test]
async fn the_client_address_header_is_ignored_unless_a_trusted_proxy_is_configured() {
    let app = spawn_app().await;
    let mut statuses = Vec::new();
    // An attacker who invents a new address for each guess gains nothing.
    for i in 0..8 {
        let fake = format!("198.51.100.{i}");
        statuses.push(login_as(&app, "admin", "guess-guess-guess", Some(&fake)).await);
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
}

#[tokio::test]
async fn a_successful_login_forgives_the_earlier_failures() {
    let app = spawn_app().await;
    for round in 0..3 {
        for _ in 0..4 {
            assert_eq!(
                login_as(&app, "admin", "guess-guess-guess", None).await,
                401,
                "round {round}"
            );
        }
        assert_eq!(login_as(&app, "admin", ADMIN_PASSWORD, None).await, 200);
    }
}

async fn status_of_me(app: &TestApp, token: &str) -> u16 {
    app.get("/api/v1/auth/me", Some(token))
        .await
        .status()
        .as_u16()
}

/// Asks for a new staff account; returns the answer.
async fn new_staff(app: &TestApp, admin: &str, name: &str, password: &str) -> reqwest::Response {
    app.post(
        "/api/v1/staff",
        Some(admin),
        json!({"username": name, "role": "manager", "password": password}),
    )
    .await
}

/// `token` sets the password of staff account `id`.
async fn reset_password(app: &TestApp, token: &str, id: i64, password: &str) -> reqwest::Response {
    let body = json!({"new_password": password});
    app.post(&format!("/api/v1/staff/{id}/password"), Some(token), body)
        .await
}

/// `token` disables (`on`) or enables staff account `id`.
async fn set_disabled(app: &TestApp, token: &str, id: i64, on: bool) -> reqwest::Response {
    let body = json!({ "disabled": on });
    app.put(&format!("/api/v1/staff/{id}/disabled"), Some(token), body)
        .await
}

#[tokio::test]
async fn changing_a_password_ends_every_session_of_the_account() {
    let (app, admin) = spawn_managed().await;
    let first = app.desk(&admin).await;
    let second = app.login("desk1", "desk-password-1").await;
    let change = |current: &str, new: &str| {
        let body = json!({"current_password": current, "new_password": new});
        app.post("/api/v1/auth/password", Some(&first), body)
    };
    let r = change("not-my-password", "a-brand-new-secret").await;
    assert_eq!(r.status(), 401);
    let r = change("desk-password-1", "password123").await;
    assert_eq!(r.status(), 422);
    assert_eq!(error_code(r).await, "weak_password");
    let r = change("desk-password-1", "a-brand-new-secret").await;
    assert_eq!(r.status(), 200);
    let fresh = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(status_of_me(&app, &first).await, 401);
    assert_eq!(status_of_me(&app, &second).await, 401);
    assert_eq!(status_of_me(&app, &fresh).await, 200);
    assert_eq!(login_as(&app, "desk1", "desk-password-1", None).await, 401);
    assert_eq!(
        login_as(&app, "desk1", "a-brand-new-secret", None).await,
        200
    );
    assert!(
        audit_action_names(&app, &admin)
            .await
            .contains(&"staff.password_change".to_owned())
    );
}

#[tokio::test]
async fn a_manager_resets_and_disables_an_account_and_its_sessions_end() {
    let (app, admin, desk) = spawn_staffed().await;
    let staff = app.get_json("/api/v1/staff", Some(&admin)).await;
    let id_of = |name: &str| {
        let account = staff
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["username"] == name);
        account.unwrap()["id"].as_i64().unwrap()
    };
    let (id, admin_id) = (id_of("desk1"), id_of("admin"));

    // Desk staff cannot reset anyone.
    let r = reset_password(&app, &desk, admin_id, "taken-over-admin").await;
    assert_eq!(r.status(), 403);

    let r = reset_password(&app, &admin, id, "reset-by-manager").await;
    assert_eq!(r.status(), 204);
    assert_eq!(status_of_me(&app, &desk).await, 401);
    let desk = app.login("desk1", "reset-by-manager").await;

    let r = set_disabled(&app, &admin, id, true).await;
    assert_eq!(r.status(), 200);
    assert!(r.json::<Value>().await.unwrap()["disabled_at"].is_string());
    assert_eq!(status_of_me(&app, &desk).await, 401);
    assert_eq!(login_as(&app, "desk1", "reset-by-manager", None).await, 401);

    let r = set_disabled(&app, &admin, admin_id, true).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "own_account");

    let r = set_disabled(&app, &admin, id, false).await;
    assert_eq!(r.status(), 200);
    assert_eq!(login_as(&app, "desk1", "reset-by-manager", None).await, 200);
    let actions = audit_action_names(&app, &admin).await;
    let wanted = ["staff.password_reset", "staff.disable", "staff.enable"];
    assert_contains_all(&actions, &wanted);
}

#[tokio::test]
async fn usernames_differing_only_in_case_are_one_account() {
    let (app, admin) = spawn_managed().await;
    let r = new_staff(&app, &admin, "ADMIN", "second-admin-pass").await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "already_exists");
    assert_eq!(login_as(&app, "Admin", ADMIN_PASSWORD, None).await, 200);
}

#[tokio::test]
async fn common_and_one_character_passwords_are_refused() {
    let (app, admin) = spawn_managed().await;
    for (name, weak) in [
        ("amy", "Password123"),
        ("bob", "zzzzzzzzzzzz"),
        ("cat", "qwertyuiop"),
    ] {
        let r = new_staff(&app, &admin, name, weak).await;
        assert_eq!(r.status(), 422, "{weak}");
        assert_eq!(error_code(r).await, "weak_password");
    }
}
