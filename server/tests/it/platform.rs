//! Login and its rate limit, the audit chain, device enrolment.

use crate::app::{TestApp, assert_slowed_down, assert_unprocessable, spawn_app, spawn_managed};
use serde_json::{Value, json};

/// A device of `kind` with a working API key: returns (device id, api key).
pub async fn enrol_device(app: &TestApp, admin: &str, kind: &str) -> (String, String) {
    let body = json!({"kind": kind, "name": format!("test {kind}")});
    let (created, r) = create_and_enrol(app, admin, body).await;
    assert_eq!(r.status(), 200);
    let enrolled: gatehouse_credential::api::device::EnrolResponse = r.json().await.unwrap();
    assert_eq!(enrolled.device_id, created["device_id"].as_str().unwrap());
    (enrolled.device_id, enrolled.api_key)
}

/// The manager creates a device from `body` (201) and it enrols with its one-time token:
/// (the creation's answer, the enrolment's answer whatever it is).
async fn create_and_enrol(app: &TestApp, admin: &str, body: Value) -> (Value, reqwest::Response) {
    let r = app.post("/api/v1/devices", Some(admin), body).await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let token = created["enrolment_token"].as_str().unwrap();
    let r = app
        .post("/api/v1/devices/enrol", None, json!({"token": token}))
        .await;
    (created, r)
}

#[tokio::test]
async fn enrolment_token_works_once_and_a_revoked_device_is_locked_out() {
    let (app, admin) = spawn_managed().await;
    let body =
        json!({"kind": "gate", "name": "B2 lobby", "zone": {"building": 2, "class": "entrance"}});
    let (created, r) = create_and_enrol(&app, &admin, body).await;
    assert_eq!(r.status(), 200);
    let token = created["enrolment_token"].as_str().unwrap();
    let key = r.json::<Value>().await.unwrap()["api_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .post("/api/v1/devices/enrol", None, json!({"token": token}))
        .await;
    assert_eq!(r.status(), 401, "a token is single-use");
    let devices = || async {
        app.get("/api/v1/devices", Some(&admin))
            .await
            .json::<Value>()
            .await
            .unwrap()
    };
    let list = devices().await;
    assert!(
        list[0]["last_seen_at"].is_null(),
        "not seen before it calls"
    );
    // The gate is a gate: it may not list devices, staff may.
    assert_eq!(app.get("/api/v1/devices", Some(&key)).await.status(), 403);
    let list = devices().await;
    assert_eq!(list[0]["state"], "enrolled");
    let seen = list[0]["last_seen_at"]
        .as_str()
        .expect("seen once it called");
    assert!(seen.starts_with(&chrono::Utc::now().format("%Y-%m-%d").to_string()));
    assert_eq!(list[0]["zone"]["building"], 2);
    assert!(!list.to_string().contains(&key), "the key is never listed");
    // Revoked: the key no longer authenticates.
    let id = created["device_id"].as_str().unwrap();
    let r = app
        .delete(&format!("/api/v1/devices/{id}"), Some(&admin))
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(app.get("/api/v1/devices", Some(&key)).await.status(), 401);
    // A floor door without a floor is refused with a reason.
    let r = app
        .post(
            "/api/v1/devices",
            Some(&admin),
            json!({"kind": "gate", "name": "x", "zone": {"building": 2, "class": "floor"}}),
        )
        .await;
    assert_unprocessable(r, "invalid", "floor").await;
}

#[tokio::test]
async fn login_gives_a_token_and_cookie_and_wrong_password_is_401() {
    let app = spawn_app().await;
    let r = app.try_login("admin", crate::app::ADMIN_PASSWORD).await;
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("Secure")
            && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["role"], "manager");
    let token = v["token"].as_str().unwrap();
    let me = app.get_json("/api/v1/auth/me", Some(token)).await;
    assert_eq!(me["username"], "admin");
    // The cookie alone also authenticates (the pages use it).
    let pair = cookie.split(';').next().unwrap();
    let r = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .header("cookie", pair)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app.try_login("admin", "wrong-password").await;
    assert_eq!(r.status(), 401);
    let r = app.try_login("nobody", "wrong-password").await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn login_is_rate_limited_after_five_failures_even_with_the_right_password() {
    let app = spawn_app().await;
    for _ in 0..5 {
        let r = app.try_login("admin", "guess-guess").await;
        assert_eq!(r.status(), 401);
    }
    let r = app.try_login("admin", crate::app::ADMIN_PASSWORD).await;
    assert_slowed_down(r).await;
}

#[tokio::test]
async fn staff_creation_is_validated_and_audited() {
    let (app, admin) = spawn_managed().await;
    let amy = |role: &str, password: &str| {
        app.post(
            "/api/v1/staff",
            Some(&admin),
            json!({"username": "amy", "role": role, "password": password}),
        )
    };
    assert_unprocessable(amy("desk", "short").await, "weak_password", "password").await;
    assert_unprocessable(amy("boss", "long-enough-pw").await, "invalid", "role").await;
    assert_eq!(amy("desk", "long-enough-pw").await.status(), 201);
    assert_eq!(amy("desk", "long-enough-pw").await.status(), 409);
    let log = app.get_json("/api/v1/audit", Some(&admin)).await;
    let newest = &log[0];
    assert_eq!(newest["action"], "staff.create");
    assert_eq!(newest["actor"], "manager:admin");
    // The first manager was made by the server's first start, and the log says so.
    let first_admin = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["action"] == "staff.create"
                && e["details"]
                    .as_str()
                    .is_some_and(|d| d.contains(r#""username":"admin""#))
        })
        .unwrap_or_else(|| panic!("no entry for the first manager: {log}"));
    assert_eq!(first_admin["actor"], "system:first-start");
    assert!(
        !newest["details"]
            .as_str()
            .unwrap()
            .contains("long-enough-pw")
    );
}

#[tokio::test]
async fn audit_chain_verifies_and_reports_the_first_tampered_entry() {
    let (app, admin) = spawn_managed().await;
    for name in ["amy", "bob", "cal"] {
        app.add_staff(&admin, name, "desk", "long-enough-pw").await;
    }
    let v = app.get_json("/api/v1/audit/verify", Some(&admin)).await;
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["entries"], 4, "admin bootstrap + 3 accounts");
    // Someone with the database file edits entry 3 behind the server's back.
    let db = rusqlite::Connection::open(app.dir.path().join("gatehouse.db")).unwrap();
    db.execute_batch(
        "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET details = '{\"username\":\"mallory\"}' WHERE seq = 3;",
    )
    .unwrap();
    let v = app.get_json("/api/v1/audit/verify", Some(&admin)).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["first_bad_seq"], 3);
}
