//! Who may call what: every route of the reviewed table `docs/ROUTES.md`, called as every kind
//! of caller, and the table kept equal to the route declarations.

use crate::app::{TestApp, spawn_app};
use gatehouse_server::auth::ActorKind;
use gatehouse_server::http::route::{TableRow, parse_table, table};
use reqwest::Method;

/// The checked-in route table.
const ROUTES_MD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ROUTES.md");

/// The rows of the checked-in table: the reviewed statement of who may call what.
fn reviewed_table() -> Vec<TableRow> {
    let text = std::fs::read_to_string(ROUTES_MD).expect("docs/ROUTES.md is checked in");
    parse_table(&text).unwrap_or_else(|line| panic!("docs/ROUTES.md: cannot read {line}"))
}

#[test]
fn routes_table_matches_the_route_declarations() {
    let generated = table(&gatehouse_server::http::routes().unwrap());
    if std::env::var_os("UPDATE_ROUTES").is_some() {
        std::fs::write(ROUTES_MD, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(ROUTES_MD).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/ROUTES.md is stale: run `UPDATE_ROUTES=1 cargo test -p gatehouse-server --test it \
         routes_table` and review the diff\n--- generated ---\n{generated}"
    );
}

/// A token for each kind of caller (None for anonymous).
pub async fn tokens(app: &TestApp) -> Vec<(ActorKind, Option<String>)> {
    let admin = app.admin().await;
    let desk = app.desk(&admin).await;
    let kiosk = crate::platform::enrol_device(app, &admin, "kiosk").await.1;
    let gate = crate::platform::enrol_device(app, &admin, "gate").await.1;
    let guard = crate::goods::guard(app, &admin).await;
    vec![
        (ActorKind::Anonymous, None),
        (ActorKind::Kiosk, Some(kiosk)),
        (ActorKind::Gate, Some(gate)),
        (ActorKind::Desk, Some(desk)),
        (ActorKind::Manager, Some(admin)),
        (ActorKind::Guard, Some(guard)),
    ]
}

/// Fills path parameters with a placeholder.
pub fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push('1');
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

#[tokio::test]
async fn every_route_admits_exactly_the_callers_of_the_reviewed_table() {
    let app = spawn_app().await;
    let tokens = tokens(&app).await;
    let rows = reviewed_table();
    // The table is the reviewed statement; the declarations must serve every row of it.
    assert_eq!(rows.len(), gatehouse_server::http::routes().unwrap().len());
    let mut checked = 0;
    for rule in &rows {
        // Logging out would end the session the rest of the test uses; it is checked last.
        if rule.path == "/api/v1/auth/logout" {
            continue;
        }
        let method = Method::from_bytes(rule.method.as_bytes()).unwrap();
        let path = concrete(&rule.path);
        // Long polls must not hold the test: ask for an immediate answer.
        let path = if path.contains("/gate/changes") {
            format!("{path}?since=0&wait_ms=0")
        } else {
            path
        };
        for (kind, token) in &tokens {
            // An empty JSON object: allowed callers get past authorization and fail validation
            // (or succeed); refused callers never reach the handler.
            let body = (method != Method::GET).then(|| serde_json::json!({}));
            let r = app
                .send(method.clone(), &path, token.as_deref(), body)
                .await;
            let status = r.status().as_u16();
            if rule.callers.contains(kind) {
                assert!(
                    status != 401 && status != 403,
                    "{} {} as {:?} should be allowed, got {status}",
                    rule.method,
                    path,
                    kind
                );
            } else if *kind == ActorKind::Anonymous && !path.starts_with("/api/") {
                // A page sends a browser to the log-in page instead (the client follows).
                assert_eq!(
                    r.url().path(),
                    "/login",
                    "{} {} as anonymous",
                    rule.method,
                    path
                );
            } else {
                let expected = if *kind == ActorKind::Anonymous {
                    401
                } else {
                    403
                };
                assert_eq!(
                    status, expected,
                    "{} {} as {:?} should be refused",
                    rule.method, path, kind
                );
                let body: serde_json::Value = r.json().await.unwrap();
                assert!(
                    body["error"].is_string() && body["message"].is_string(),
                    "{body}"
                );
            }
            checked += 1;
        }
    }
    // Logout as each kind last.
    let logout = rows
        .iter()
        .find(|r| r.method == "POST" && r.path == "/api/v1/auth/logout")
        .expect("the table lists logging out");
    for (kind, token) in &tokens {
        let r = app
            .send(Method::POST, "/api/v1/auth/logout", token.as_deref(), None)
            .await;
        let expected_ok = logout.callers.contains(kind);
        assert_eq!(
            r.status().is_success(),
            expected_ok,
            "logout as {kind:?}: {}",
            r.status()
        );
        checked += 1;
    }
    assert_eq!(checked, rows.len() * ActorKind::ALL.len());
}

#[tokio::test]
async fn unknown_token_is_anonymous_and_logout_ends_the_session() {
    let app = spawn_app().await;
    let r = app.get("/api/v1/auth/me", Some("0123456789abcdef")).await;
    assert_eq!(r.status(), 401);
    let token = app.admin().await;
    assert_eq!(app.get("/api/v1/auth/me", Some(&token)).await.status(), 200);
    let r = app
        .send(Method::POST, "/api/v1/auth/logout", Some(&token), None)
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(app.get("/api/v1/auth/me", Some(&token)).await.status(), 401);
}
