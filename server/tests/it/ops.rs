//! Health, metrics, OpenAPI, errors, startup and shutdown.

use crate::app::{error_code, spawn_app, spawn_managed};
use serde_json::Value;

#[tokio::test]
async fn healthz_reports_version_and_database() {
    let app = spawn_app().await;
    let r = app.get("/healthz", None).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["database"], "ok");
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn metrics_count_requests_in_prometheus_text() {
    let app = spawn_app().await;
    app.get("/healthz", None).await;
    let r = app.get("/metrics", None).await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("route=\"/healthz\""), "{text}");
}

#[tokio::test]
async fn openapi_describes_every_declared_api_route() {
    let app = spawn_app().await;
    let v = app.get_json("/api/openapi.json", None).await;
    assert!(v["openapi"].as_str().unwrap().starts_with("3."));
    let routes = gatehouse_server::http::routes().unwrap();
    for rule in routes.iter().filter(|r| r.path.starts_with("/api/v1/")) {
        let op = &v["paths"][rule.path][rule.method.as_str().to_lowercase()];
        assert!(
            op.is_object(),
            "{} {} missing from OpenAPI",
            rule.method,
            rule.path
        );
        assert_eq!(op["summary"], rule.summary);
    }
}

#[tokio::test]
async fn errors_are_json_with_code_and_message() {
    let app = spawn_app().await;
    let r = app.get("/no/such/route", None).await;
    assert_eq!(r.status(), 404);
    assert_eq!(error_code(r).await, "not_found");
    let r = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(error_code(r).await, "bad_request");
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            serde_json::json!({"username": 5}),
        )
        .await;
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn restart_keeps_data_and_key_and_does_not_recreate_admin() {
    let (app, admin) = spawn_managed().await;
    let key_before = app.key_file(0).public_info();
    app.add_staff(&admin, "kept", "desk", "kept-password").await;
    let dir = app.stop().await;
    let config = gatehouse_server::Config::for_tests(dir.path());
    let app = crate::app::spawn_with(config, dir).await;
    assert_eq!(
        app.published_keys(),
        vec![key_before],
        "same key after restart"
    );
    app.login("kept", "kept-password").await;
    app.login("admin", crate::app::ADMIN_PASSWORD).await;
}

#[tokio::test]
async fn first_start_without_password_generates_one_that_works() {
    let dir = tempfile::tempdir().unwrap();
    let config = gatehouse_server::Config::for_tests(dir.path());
    let app = gatehouse_server::Application::build(config).await.unwrap();
    let password = app
        .initial_admin_password
        .clone()
        .expect("generated password");
    assert!(password.len() >= 16);
    let addr = app.local_addr().unwrap();
    tokio::spawn(app.run_until(std::future::pending()));
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn an_occupied_port_and_an_unwritable_data_dir_are_clear_errors() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = gatehouse_server::Config::for_tests(dir.path());
    config.listen = app.addr;
    let err = gatehouse_server::Application::build(config)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("cannot listen on") && err.contains(&app.addr.to_string()),
        "{err}"
    );
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let config = gatehouse_server::Config::for_tests(&file.join("data"));
    let err = gatehouse_server::Application::build(config)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("data directory"), "{err}");
}
