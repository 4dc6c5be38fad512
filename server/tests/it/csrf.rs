//! Cross-site requests riding the session cookie, and the headers that protect the pages.

use crate::app::{
    ADMIN_PASSWORD, TestApp, assert_content_type, error_code, spawn_app, spawn_managed, texts,
};
use reqwest::header::HeaderMap;
use serde_json::json;

/// Logs in and returns the `name=value` part of the session cookie.
async fn cookie(app: &TestApp) -> String {
    let r = app.try_login("admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status(), 200);
    r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

async fn create_staff(app: &TestApp, name: &str, extra: &[(&str, String)]) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/api/v1/staff"))
        .json(&json!({"username": name, "role": "manager", "password": "planted-manager-pw"}));
    for (k, v) in extra {
        req = req.header(*k, v);
    }
    req.send().await.unwrap()
}

async fn staff_names(app: &TestApp) -> Vec<String> {
    let admin = app.admin().await;
    texts(
        &app.get_json("/api/v1/staff", Some(&admin)).await,
        "username",
    )
}

#[tokio::test]
async fn a_cookie_write_from_another_site_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let cookie = cookie(&app).await;
    let ours = format!("http://{}", app.addr);

    let from_evil =
        |header: &'static str, value: &str| [("cookie", cookie.clone()), (header, value.into())];
    let r = create_staff(
        &app,
        "mallory",
        &from_evil("origin", "https://evil.example"),
    )
    .await;
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "cross_site_request");

    let referer = from_evil("referer", "https://evil.example/page");
    let r = create_staff(&app, "mallory2", &referer).await;
    assert_eq!(r.status(), 403);

    // No Origin and no Referer: a cookie write cannot show where it came from.
    let r = create_staff(&app, "mallory3", &[("cookie", cookie.clone())]).await;
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "cross_site_request");

    let names = staff_names(&app).await;
    assert!(!names.iter().any(|n| n.starts_with("mallory")), "{names:?}");

    // The same request from our own pages goes through.
    let r = create_staff(
        &app,
        "carol",
        &[("cookie", cookie.clone()), ("origin", ours.clone())],
    )
    .await;
    assert_eq!(r.status(), 201);
    let r = create_staff(
        &app,
        "dave",
        &[
            ("cookie", cookie),
            ("referer", format!("{ours}/desk/renovations")),
        ],
    )
    .await;
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn bearer_requests_are_not_cookie_requests() {
    let (app, admin) = spawn_managed().await;
    let r = create_staff(
        &app,
        "erin",
        &[
            ("authorization", format!("Bearer {admin}")),
            ("origin", "https://tools.example".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), 201);
}

fn assert_protective(h: &HeaderMap, what: &str) {
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("script-src 'self'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["cache-control"], "no-store", "{what}");
}

#[tokio::test]
async fn pages_carry_security_headers_and_no_inline_script_or_style() {
    let app = spawn_app().await;
    let cookie = cookie(&app).await;
    for path in [
        "/login",
        "/desk/renovations",
        "/desk/return",
        "/desk/visitors",
        "/desk/cards/outstanding",
        "/desk/password",
        "/desk/muster",
    ] {
        let r = app
            .client
            .get(app.url(path))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_protective(r.headers(), path);
        let html = r.text().await.unwrap();
        let scripts = html.matches("<script").count();
        let external = html.matches("<script src=\"/static/").count();
        assert_eq!(scripts, external, "{path} has an inline script");
        assert!(!html.contains("<style"), "{path} has an inline style sheet");
        for handler in [" onclick=", " onload=", " onsubmit=", " style="] {
            assert!(!html.contains(handler), "{path} has {handler}");
        }
    }
    let r = app.get("/api/v1/auth/me", None).await;
    assert_protective(r.headers(), "an API error");
    let r = app.get("/static/desk.js", None).await;
    assert_eq!(r.status(), 200);
    assert_content_type(&r, "text/javascript");
}
