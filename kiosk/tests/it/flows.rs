//! Each kiosk flow end to end: kiosk HTTP → stub server → screen answer and printed bytes.

use crate::escpos_reader::{Event, read};
use crate::kiosk::{Options, TestKiosk, spawn};
use gatehouse_credential::api::device::{DeviceAlarmKind, DeviceKind};
use gatehouse_credential::{Kind, Qr};
use gatehouse_test_support::stub;
use serde_json::{Value, json};

async fn kiosk_and_stub() -> (TestKiosk, stub::Stub) {
    let (addr, stub) = stub::spawn(DeviceKind::Kiosk).await;
    (
        spawn(&format!("http://{addr}"), Options::default()).await,
        stub,
    )
}

fn visitor(name: &str) -> Value {
    json!({"name": name, "unit_id": 1, "purpose": "探亲访友", "party_size": 2, "phone": "13800138000"})
}

/// Whether the on-screen SVG is exactly the QR code of `credential` (the browser test decodes
/// it from a real screenshot).
fn svg_matches(svg: &str, credential: &str) -> bool {
    let expected = Qr::new(credential).unwrap().to_svg(8);
    svg == expected
}

#[tokio::test]
async fn visitor_pass_verifies_and_the_slip_carries_the_same_credential_and_is_cut() {
    let (kiosk, stub) = kiosk_and_stub().await;
    let (status, pass) = kiosk.post("/api/visitors", visitor("张小明")).await;
    assert_eq!(status, 200, "{pass}");
    let credential = pass["credential"].as_str().unwrap();
    let verified = stub.ring().verify(credential).expect("the pass verifies");
    assert_eq!(verified.claims.kind, Kind::Visitor);
    assert_eq!(
        u64::from(verified.claims.card_id.0),
        pass["card_id"].as_u64().unwrap()
    );
    assert!(svg_matches(pass["qr_svg"].as_str().unwrap(), credential));
    assert_eq!(pass["holder_masked"], "张*明");

    let outcome = kiosk.print_outcome(pass["card_id"].as_u64().unwrap()).await;
    assert_eq!(
        outcome["outcome"],
        json!({"result": "printed", "paper": "ok"})
    );
    assert_eq!(outcome["desk_needed"], false);

    let bytes = kiosk.printed();
    let printout = read(&bytes).expect("the byte stream is valid ESC/POS");
    let qrs = printout.printed_qr();
    assert_eq!(qrs.len(), 1);
    assert_eq!(
        qrs[0].payload,
        credential.as_bytes(),
        "printed QR == on-screen credential"
    );
    assert_eq!(qrs[0].model, Some(2));
    assert_eq!(qrs[0].error_correction, Some(b'M'));
    assert!(printout.ends_with_cut());
    let text = printout.text();
    for needle in [
        "翠湖花园",
        "访客通行证",
        "张*明",
        "2-1203",
        "有效期至",
        "Valid until",
        &*pass["short_id"].as_str().unwrap().to_string(),
    ] {
        assert!(text.contains(needle), "{needle:?} not printed in:\n{text}");
    }
    // Chinese is sent as GB18030 (张 = D5 C5) while the printer is in Chinese mode.
    assert!(bytes.windows(2).any(|w| w == [0xD5, 0xC5]));
    for e in &printout.events {
        if let Event::Text { text, chinese_mode } = e {
            assert!(
                text.is_ascii() || *chinese_mode,
                "{text} outside Chinese mode"
            );
        }
    }
}

#[tokio::test]
async fn a_bad_form_names_the_field_and_nothing_is_issued_or_printed() {
    let (kiosk, _stub) = kiosk_and_stub().await;
    let mut form = visitor("Li Lei");
    form["phone"] = json!("12ab");
    let (status, body) = kiosk.post("/api/visitors", form).await;
    assert_eq!(
        (status, body["error"].as_str(), body["field"].as_str()),
        (400, Some("invalid_input"), Some("phone"))
    );
    let mut form = visitor("Li Lei");
    form["unit_id"] = Value::Null;
    let (_, body) = kiosk.post("/api/visitors", form).await;
    assert_eq!(body["field"], "unit_id");
    assert!(kiosk.printed().is_empty());
}

#[tokio::test]
async fn a_deny_listed_visitor_gets_the_neutral_see_the_desk_answer() {
    let (kiosk, _stub) = kiosk_and_stub().await;
    kiosk
        .post_refused(
            "/api/visitors",
            visitor(stub::DENIED_NAME),
            403,
            "see_front_desk",
        )
        .await;
    assert!(kiosk.printed().is_empty());
}

#[tokio::test]
async fn a_walk_in_waiting_for_the_host_is_told_so_and_nothing_prints() {
    let (kiosk, stub) = kiosk_and_stub().await;
    stub.kiosk().host_approval = true;
    kiosk
        .post_refused(
            "/api/visitors",
            visitor("王芳"),
            409,
            "host_approval_pending",
        )
        .await;
    assert!(kiosk.printed().is_empty());
}

#[tokio::test]
async fn a_worker_whose_card_the_desk_issued_hears_when_not_already_collected() {
    let (kiosk, _stub) = kiosk_and_stub().await;
    let form = json!({"renovation_code": stub::RENOVATION, "id_last4": stub::DESK_ISSUED_ID_LAST4,
                      "collection_code": stub::COLLECTION_CODE});
    let body = kiosk
        .post_refused("/api/worker-cards", form, 409, "issued_at_desk")
        .await;
    let at: chrono::DateTime<chrono::Utc> = body["issued_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        at,
        stub::DESK_ISSUED_AT
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    assert!(kiosk.printed().is_empty());
}

#[tokio::test]
async fn the_unit_list_comes_from_the_server() {
    let (kiosk, _stub) = kiosk_and_stub().await;
    let (status, units) = kiosk.get("/api/units").await;
    assert_eq!(status, 200);
    let labels: Vec<&str> = units
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "2-1203", "2-1504", "5-0801", "2-1004", "2-102", "2-101", "2-901", "10-0101"
        ]
    );
}

#[tokio::test]
async fn an_invite_code_gives_a_pass_and_a_wrong_one_is_invalid() {
    let (kiosk, stub) = kiosk_and_stub().await;
    let (status, pass) = kiosk
        .post("/api/invites", json!({"code": " inv2026a "}))
        .await;
    assert_eq!(status, 200, "{pass}");
    stub.ring()
        .verify(pass["credential"].as_str().unwrap())
        .unwrap();
    assert_eq!(pass["unit_label"], "5-0801");
    kiosk.print_outcome(pass["card_id"].as_u64().unwrap()).await;
    let printout = read(&kiosk.printed()).unwrap();
    assert_eq!(
        printout.printed_qr()[0].payload,
        pass["credential"].as_str().unwrap().as_bytes()
    );

    kiosk
        .post_refused(
            "/api/invites",
            json!({"code": "NOPE1234"}),
            404,
            "invalid_code",
        )
        .await;
    kiosk
        .post_refused(
            "/api/invites",
            json!({"code": "INV2026A"}),
            409,
            "already_redeemed",
        )
        .await;
}

#[tokio::test]
async fn sign_out_by_short_id_or_scanned_pass_and_not_twice() {
    let (kiosk, stub) = kiosk_and_stub().await;
    let (_, a) = kiosk.post("/api/visitors", visitor("张小明")).await;
    let (_, b) = kiosk.post("/api/visitors", visitor("Li Lei")).await;
    let short = a["short_id"].as_str().unwrap();
    let (status, done) = kiosk
        .post("/api/sign-out", json!({"pass": short.to_lowercase()}))
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["holder_masked"], "张*明");
    assert!(stub.is_signed_out(short));
    // A scanner line: the credential and its CR.
    let scanned = format!("{}\r", b["credential"].as_str().unwrap());
    let (status, done) = kiosk.post("/api/sign-out", json!({"pass": scanned})).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["card_id"], b["card_id"]);
    kiosk
        .post_refused(
            "/api/sign-out",
            json!({"pass": short}),
            409,
            "already_signed_out",
        )
        .await;
    kiosk
        .post_refused(
            "/api/sign-out",
            json!({"pass": "ZZZZ9"}),
            404,
            "invalid_code",
        )
        .await;
}

#[tokio::test]
async fn a_worker_card_prints_once_with_its_extension_and_a_second_try_needs_the_desk() {
    let (kiosk, stub) = kiosk_and_stub().await;
    let form = json!({"renovation_code": "r-2026-001", "id_last4": "123x", "collection_code": "2468 1357"});
    let (status, card) = kiosk.post("/api/worker-cards", form.clone()).await;
    assert_eq!(status, 200, "{card}");
    let verified = stub
        .ring()
        .verify(card["credential"].as_str().unwrap())
        .unwrap();
    assert_eq!(verified.claims.kind, Kind::Worker);
    assert!(verified.claims.schedule.is_some());
    kiosk.print_outcome(card["card_id"].as_u64().unwrap()).await;
    let printout = read(&kiosk.printed()).unwrap();
    let text = printout.text();
    for needle in [
        "人员临时出入卡",
        "李*国",
        "2-1504",
        "延期至 2027-03-31 / extended to 2027-03-31",
        "限施工时段",
    ] {
        assert!(text.contains(needle), "{needle:?} not printed in:\n{text}");
    }
    assert_eq!(
        printout.printed_qr()[0].payload,
        card["credential"].as_str().unwrap().as_bytes()
    );
    assert!(printout.ends_with_cut());

    kiosk
        .post_refused("/api/worker-cards", form, 409, "already_collected")
        .await;
    let (status, body) = kiosk
        .post(
            "/api/worker-cards",
            json!({"renovation_code": "R-1", "id_last4": "12", "collection_code": "24681357"}),
        )
        .await;
    assert_eq!((status, body["field"].as_str()), (400, Some("id_last4")));
    let (status, body) = kiosk
        .post(
            "/api/worker-cards",
            json!({"renovation_code": "R-1", "id_last4": "123X"}),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("collection_code"))
    );
}

/// Sends `request` as raw bytes (so `Host` and `Origin` are exactly what a hostile page or a
/// rebinding DNS name would send) and returns the status, content type and body.
async fn raw(kiosk: &TestKiosk, request: String) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(kiosk.addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_owned)
        })
        .unwrap_or_default();
    (status, content_type, body.to_owned())
}

fn post_form(host: &str, origin: Option<&str>, body: &str) -> String {
    let origin = origin
        .map(|o| format!("Origin: {o}\r\n"))
        .unwrap_or_default();
    format!(
        "POST /api/visitors HTTP/1.1\r\nHost: {host}\r\n{origin}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn only_the_kiosks_own_page_may_call_it_and_bad_json_is_answered_in_json() {
    let (kiosk, _stub) = kiosk_and_stub().await;
    let own = kiosk.addr.to_string();
    let form = visitor("张小明").to_string();
    // A page on another site, or a DNS name rebound to 127.0.0.1, is refused before any pass.
    for (host, origin) in [
        (own.as_str(), Some("https://evil.example")),
        (own.as_str(), Some("null")),
        ("evil.example", None),
        ("evil.example", Some("http://evil.example")),
    ] {
        let (status, kind, body) = raw(&kiosk, post_form(host, origin, &form)).await;
        assert_eq!(status, 403, "{host} {origin:?}: {body}");
        assert!(kind.starts_with("application/json"), "{kind}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"], "foreign_origin");
    }
    assert!(
        kiosk.printed().is_empty(),
        "nothing was printed for a foreign caller"
    );
    // The page itself still works.
    let own_origin = format!("http://{own}");
    let (status, _, body) = raw(&kiosk, post_form(&own, Some(&own_origin), &form)).await;
    assert_eq!(status, 200, "{body}");
    // Malformed JSON gets a JSON error, as the README promises.
    for bad in ["{\"name\": ", "[1, 2]", "not json"] {
        let (status, kind, body) = raw(&kiosk, post_form(&own, None, bad)).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(kind.starts_with("application/json"), "{bad}: {kind}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"], "bad_request", "{bad}");
    }
}

#[tokio::test]
async fn server_down_issues_nothing_and_prints_nothing() {
    // A port that was just free: nothing listens there.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let kiosk = spawn(&format!("http://{dead}"), Options::default()).await;
    let body = kiosk
        .post_refused(
            "/api/visitors",
            visitor("张小明"),
            503,
            "server_unreachable",
        )
        .await;
    assert!(body.get("credential").is_none());
    kiosk
        .post_refused(
            "/api/invites",
            json!({"code": "INV2026A"}),
            503,
            "server_unreachable",
        )
        .await;
    let (status, _) = kiosk.get("/api/units").await;
    assert_eq!(status, 503);
    assert!(kiosk.printed().is_empty());
}

#[tokio::test]
async fn paper_out_still_gives_the_pass_on_screen_prints_nothing_and_raises_the_alarm() {
    let (kiosk, stub) = kiosk_and_stub().await;
    kiosk.set_paper("out");
    let (status, paper) = kiosk.get("/api/status").await;
    assert_eq!(status, 200);
    assert_eq!(paper, json!({"paper": "out", "can_print": false}));
    let (status, pass) = kiosk.post("/api/visitors", visitor("Li Lei")).await;
    assert_eq!(status, 200, "{pass}");
    stub.ring()
        .verify(pass["credential"].as_str().unwrap())
        .unwrap();
    assert!(pass["qr_svg"].as_str().unwrap().starts_with("<?xml"));
    let outcome = kiosk.print_outcome(pass["card_id"].as_u64().unwrap()).await;
    assert_eq!(
        outcome["outcome"],
        json!({"result": "not_printed", "paper": "out"})
    );
    assert_eq!(outcome["desk_needed"], true);
    assert!(kiosk.printed().is_empty());
    let (_, health) = kiosk.get("/health").await;
    assert_eq!(health["last_printer_alarm"]["paper"], "out");

    // The desk is told through the server: the kiosk raised paper_out there.
    let raised = wait_for_alarm(&stub, 0, DeviceAlarmKind::PaperOut, true).await;
    assert!(
        raised,
        "the server never heard of the empty roll: {:?}",
        stub.alarms()
    );

    let since = stub.alarms().len();
    kiosk.set_paper("offline");
    let (_, pass) = kiosk.post("/api/visitors", visitor("Li Lei")).await;
    let outcome = kiosk.print_outcome(pass["card_id"].as_u64().unwrap()).await;
    assert_eq!(outcome["outcome"]["paper"], "offline");
    assert!(kiosk.printed().is_empty());
    assert!(wait_for_alarm(&stub, since, DeviceAlarmKind::PrinterOffline, true).await);
    assert!(wait_for_alarm(&stub, since, DeviceAlarmKind::PaperOut, false).await);

    // Paper back: the next check clears the desk's alarm, once.
    let since = stub.alarms().len();
    kiosk.set_paper("ok");
    let (status, _) = kiosk.get("/api/status").await;
    assert_eq!(status, 200);
    assert!(wait_for_alarm(&stub, since, DeviceAlarmKind::PrinterOffline, false).await);
    let before = stub.alarms().len();
    kiosk.get("/api/status").await;
    // The desk is told one check at a time, in order: once the next change (the roll running
    // out again) has reached the server, the check before it has sent all it was going to.
    kiosk.set_paper("out");
    kiosk.get("/api/status").await;
    assert!(wait_for_alarm(&stub, before, DeviceAlarmKind::PaperOut, true).await);
    let sent: Vec<_> = stub.alarms()[before..]
        .iter()
        .map(|r| (r.kind, r.active))
        .collect();
    assert_eq!(
        sent,
        vec![(DeviceAlarmKind::PaperOut, true)],
        "nothing new to say, nothing sent"
    );
}

/// Waits up to 3 s for the stub server to receive, after its first `since` reports, `kind`
/// raised (`active`) or cleared.
async fn wait_for_alarm(
    stub: &stub::Stub,
    since: usize,
    kind: DeviceAlarmKind,
    active: bool,
) -> bool {
    for _ in 0..60 {
        if stub
            .alarms()
            .iter()
            .skip(since)
            .any(|r| r.kind == kind && r.active == active)
        {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn a_kiosk_with_a_token_enrols_once_and_keeps_its_key_private() {
    let (addr, _stub) = stub::spawn(DeviceKind::Kiosk).await;
    let kiosk = spawn(
        &format!("http://{addr}"),
        Options {
            pre_enrolled: false,
            ..Options::default()
        },
    )
    .await;
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(kiosk.credential_path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let (status, _) = kiosk.get("/api/units").await;
    assert_eq!(status, 200, "the enrolled key is accepted");
}

#[tokio::test]
async fn the_page_and_its_assets_are_served_from_the_binary() {
    let (kiosk, _stub) = kiosk_and_stub().await;
    let page = kiosk
        .http
        .get(kiosk.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("/assets/app.js"));
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "no CDN or outside link"
    );
    let js = kiosk
        .http
        .get(kiosk.url("/assets/app.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let (_, settings) = kiosk.get("/api/settings").await;
    assert_eq!(settings["languages"], json!(["zh-CN", "en"]));
    assert_eq!(settings["idle_timeout_secs"], 60);
    assert_eq!(settings["idle_timeout_ms"], 60_000);
}

#[tokio::test]
async fn the_estate_logo_is_read_once_and_served() {
    let (addr, _stub) = stub::spawn(DeviceKind::Kiosk).await;
    let svg = "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>";
    let kiosk = spawn(
        &format!("http://{addr}"),
        Options {
            logo_svg: Some(svg),
            ..Options::default()
        },
    )
    .await;
    let (_, settings) = kiosk.get("/api/settings").await;
    assert_eq!(settings["has_logo"], true);
    std::fs::remove_file(kiosk.dir.path().join("logo.svg")).unwrap();
    let resp = kiosk
        .http
        .get(kiosk.url("/assets/logo"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "image/svg+xml");
    assert_eq!(resp.text().await.unwrap(), svg);
}
