//! Bad input to the running server, as an attacker or a careless client sends it: every
//! refusal is a JSON error body with a stable code, a message and the case's values.

use gatehouse_e2e::server::{self, Api};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::time::Duration;

/// Sends `request` on a raw TCP connection and reads until the server closes it.
fn raw(base: &str, request: &[u8]) -> (u16, String, Value) {
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").expect("a complete answer");
    let status = head[9..12].parse().unwrap();
    (
        status,
        head.to_ascii_lowercase(),
        serde_json::from_str(body).unwrap_or(Value::String(body.to_owned())),
    )
}

/// Asserts an error answer: status, code, and the details holding `key`.
fn refused(answer: (u16, Value), status: u16, code: &str, key: &str) -> Value {
    let (got, body) = answer;
    assert_eq!(got, status, "{body}");
    assert_eq!(body["error"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(body["details"].is_object(), "{body}");
    assert!(
        key.is_empty() || !body["details"][key].is_null(),
        "no {key}: {body}"
    );
    body
}

#[test]
fn bad_input_gets_a_json_refusal_naming_the_case() {
    let dir = tempfile::tempdir().unwrap();
    let server = server::start(dir.path()).unwrap();
    let api = Api::admin(server.url()).unwrap();

    // A 100 kB query string: hyper answers before any handler runs, and it is still JSON.
    let request = format!(
        "GET /api/v1/cards?q={} HTTP/1.1\r\nHost: gatehouse\r\n\r\n",
        "a".repeat(100_000)
    );
    let (status, head, body) = raw(server.url(), request.as_bytes());
    assert_eq!(status, 414, "{body}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_eq!(body["error"], "uri_too_long", "{body}");

    // Dates a century off, in both directions.
    for date in ["1900-01-01", "9999-12-31"] {
        let body = refused(
            api.post_raw("/api/v1/blackout-dates", &json!({ "date": date }))
                .unwrap(),
            422,
            "date_out_of_range",
            "max",
        );
        assert_eq!(body["details"]["field"], "date", "{body}");
        assert_eq!(body["details"]["value"], date, "{body}");
    }

    // A zone in a building the estate does not have.
    api.post(
        "/api/v1/buildings",
        &json!({"number": 1, "name": "一号楼", "floor_lo": 1, "floor_hi": 20}),
    )
    .unwrap();
    let body = refused(
        api.post_raw(
            "/api/v1/zones",
            &json!({"name": "nowhere", "building": 7, "class": "entrance"}),
        )
        .unwrap(),
        422,
        "unknown_building",
        "building",
    );
    assert_eq!(body["details"]["building"], 7);
    // A gate placed in it, likewise; a device name with NUL is refused.
    refused(
        api.post_raw(
            "/api/v1/devices",
            &json!({"kind": "gate", "name": "B7", "zone": {"building": 7, "class": "entrance"}}),
        )
        .unwrap(),
        422,
        "unknown_building",
        "building",
    );
    refused(
        api.post_raw(
            "/api/v1/devices",
            &json!({"kind": "gate", "name": "door\u{0}one"}),
        )
        .unwrap(),
        422,
        "invalid",
        "",
    );
    let estate = api.get("/api/v1/estate").unwrap();
    assert!(!estate.to_string().contains("nowhere"), "{estate}");
}
