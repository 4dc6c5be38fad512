//! The served OpenAPI document against the real server: real answers fit their schemas, and
//! every route that reads a JSON body says so in the document.

use crate::app::{TestApp, spawn_app};
use crate::authz::{concrete, tokens};
use crate::desk::{card, renovation, seed_unit, worker};
use reqwest::Method;
use serde_json::{Value, json};

async fn served(app: &TestApp) -> Value {
    let r = app.get("/api/openapi.json", None).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// The schema the document gives `method path` for `status`, checked to be there.
fn response_schema(doc: &Value, method: &str, path: &str, status: u16) -> Value {
    let schema = &doc["paths"][path][method]["responses"][status.to_string()]["content"]["application/json"]
        ["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} documents no {status} schema"
    );
    schema.clone()
}

/// Checks `body` against `schema`, resolving `$ref`s in the document's components.
fn assert_fits(doc: &Value, schema: &Value, body: &Value, what: &str) {
    let mut root = schema.clone();
    if let Value::Object(map) = &mut root {
        map.insert("components".into(), doc["components"].clone());
    } else {
        panic!("{what}: schema is not an object");
    }
    let validator = jsonschema::validator_for(&root).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:?}\nbody: {body}");
}

/// Sends the request, checks the status, and checks the body against the served schema.
async fn call_and_fit(
    app: &TestApp,
    doc: &Value,
    (method, template, concrete): (Method, &str, &str),
    token: &str,
    body: Option<Value>,
    status: u16,
) -> Value {
    let r = app.send(method.clone(), concrete, Some(token), body).await;
    assert_eq!(r.status(), status, "{method} {concrete}");
    let got: Value = r.json().await.unwrap();
    let m = method.as_str().to_lowercase();
    let schema = response_schema(doc, &m, template, status);
    assert_fits(doc, &schema, &got, &format!("{method} {template} {status}"));
    got
}

#[tokio::test]
async fn real_answers_fit_the_served_schemas() {
    let app = spawn_app().await;
    let doc = served(&app).await;
    let admin = app.admin().await;

    // A visitor pass, registered at the desk.
    let unit = seed_unit(&app).await;
    let body = json!({"name": "赵六一", "unit_id": unit, "purpose": "delivery", "party_size": 2});
    let pass = call_and_fit(
        &app,
        &doc,
        (Method::POST, "/api/v1/visitors", "/api/v1/visitors"),
        &admin,
        Some(body),
        201,
    )
    .await;
    // A schema that accepted anything would also accept this: it must not.
    let schema = response_schema(&doc, "post", "/api/v1/visitors", 201);
    let mut broken = pass.clone();
    broken["issued"]["card"]["card_id"] = json!("not a number");
    let root = {
        let mut r = schema.clone();
        r["components"] = doc["components"].clone();
        r
    };
    assert!(!jsonschema::is_valid(&root, &broken), "schema too loose");

    // A renovation with a worker card, and its detail page data.
    let reno = renovation(&app, &admin).await;
    let w = worker(&app, &admin, reno, "110101199001011234").await;
    card(&app, &admin, w).await;
    let path = format!("/api/v1/renovations/{reno}");
    for (route, uri) in [
        ("/api/v1/renovations/{id}", path.as_str()),
        ("/api/v1/cards/outstanding", "/api/v1/cards/outstanding"),
        ("/api/v1/estate", "/api/v1/estate"),
    ] {
        call_and_fit(&app, &doc, (Method::GET, route, uri), &admin, None, 200).await;
    }

    // A change for gates: lockdown on.
    call_and_fit(
        &app,
        &doc,
        (Method::PUT, "/api/v1/lockdown", "/api/v1/lockdown"),
        &admin,
        Some(json!({"active": true})),
        200,
    )
    .await;

    // The gate's snapshot and change batch.
    let gate = crate::platform::enrol_device(&app, &admin, "gate").await.1;
    call_and_fit(
        &app,
        &doc,
        (
            Method::GET,
            "/api/v1/gate/snapshot",
            "/api/v1/gate/snapshot",
        ),
        &gate,
        None,
        200,
    )
    .await;
    let batch = call_and_fit(
        &app,
        &doc,
        (
            Method::GET,
            "/api/v1/gate/changes",
            "/api/v1/gate/changes?since=0&wait_ms=0",
        ),
        &gate,
        None,
        200,
    )
    .await;
    assert!(!batch["changes"].as_array().unwrap().is_empty());

    // Error bodies: a missing renovation and an invalid value.
    call_and_fit(
        &app,
        &doc,
        (
            Method::GET,
            "/api/v1/renovations/{id}",
            "/api/v1/renovations/999999",
        ),
        &admin,
        None,
        404,
    )
    .await;
    call_and_fit(
        &app,
        &doc,
        (Method::POST, "/api/v1/visitors", "/api/v1/visitors"),
        &admin,
        Some(json!({"name": "x", "unit_id": unit, "purpose": "p", "party_size": 0})),
        422,
    )
    .await;
}

#[tokio::test]
async fn every_route_that_reads_a_json_body_declares_it() {
    let app = spawn_app().await;
    let doc = served(&app).await;
    let tokens = tokens(&app).await;
    let mut with_body = 0;
    // Logging out ends the session used for the rest; it reads no body and is checked last.
    let routes = gatehouse_server::http::routes().unwrap();
    let (last, rest): (Vec<_>, Vec<_>) = routes
        .iter()
        .filter(|r| r.path.starts_with("/api/v1/") && r.method != Method::GET)
        .partition(|r| r.path == "/api/v1/auth/logout");
    for rule in rest.into_iter().chain(last) {
        let token = tokens
            .iter()
            .find(|(k, _)| rule.allow.admits(*k))
            .and_then(|(_, t)| t.clone());
        let method = Method::from_bytes(rule.method.as_str().as_bytes()).unwrap();
        // No body and no content type: a handler that reads JSON refuses that by name.
        let r = app
            .send(method, &concrete(rule.path), token.as_deref(), None)
            .await;
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        let reads_json = status == 400 && text.contains("Content-Type: application/json");
        let declared = doc["paths"][rule.path][rule.method.as_str().to_lowercase()]["requestBody"]
            ["content"]["application/json"]["schema"]
            .is_object();
        assert_eq!(
            declared, reads_json,
            "{} {}: answered {status} {text}",
            rule.method, rule.path
        );
        with_body += usize::from(reads_json);
    }
    assert!(with_body > 20, "only {with_body} routes read a body");
}
