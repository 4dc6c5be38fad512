//! The front-desk pages in headless Chromium through chromedriver: log in, register a
//! renovation, return a card by typing its scan, see the refund checklist change.
//!
//! Ignored unless run with `--include-ignored`; then they fail without Chromium and
//! chromedriver. Screenshots go to `<target>/tmp/desk-screens/`.

use crate::app::{TestApp, spawn_staffed};
use crate::desk::{card_action, refund_check, seed_unit, today, worker};
use crate::monitor::post_journal;
use fantoccini::Locator;
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

/// A role's account: username, password.
pub(crate) const MANAGER: (&str, &str) = ("admin", crate::app::ADMIN_PASSWORD);
pub(crate) const DESK: (&str, &str) = ("desk1", "desk-password-1");
pub(crate) const GUARD: (&str, &str) = ("guard1", "guard-password-1");

pub(crate) struct Browser(gatehouse_test_browser::Browser);

impl std::ops::Deref for Browser {
    type Target = gatehouse_test_browser::Browser;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// A headless Chromium the size of a front-desk screen (1280×1400).
async fn browser(test: &str) -> Browser {
    Browser(gatehouse_test_browser::headless(test, 1280, 1400).await)
}

/// A headless Chromium with a window of `width`×`height` (a desk PC is 1366×768).
pub(crate) async fn sized(test: &str, width: u32, height: u32) -> Browser {
    Browser(gatehouse_test_browser::headless(test, width, height).await)
}

/// Chooses the language `token`'s staff member reads the pages in.
pub(crate) async fn choose_language(app: &crate::app::TestApp, token: &str, language: &str) {
    let r = app
        .put(
            "/api/v1/auth/language",
            Some(token),
            json!({ "language": language }),
        )
        .await;
    assert_eq!(r.status(), 204);
}

impl Browser {
    /// The path of the page the browser is on.
    pub(crate) async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    pub(crate) async fn shot(&self, name: &str) -> PathBuf {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("desk-screens");
        self.screenshot(&dir, name).await;
        dir.join(format!("{name}.png"))
    }

    /// Opens `path` of `app`.
    pub(crate) async fn go(&self, app: &TestApp, path: &str) {
        self.client.goto(&app.url(path)).await.unwrap();
    }

    /// Logs in as `who` (username, password) from `app`'s log-in page and waits for `landed`,
    /// an element of the first page.
    pub(crate) async fn log_in_as(&self, app: &TestApp, who: (&str, &str), landed: &str) {
        self.go(app, "/login").await;
        self.log_in(who.0, who.1, None).await;
        self.wait_for(landed).await;
    }

    /// Fills in and sends the log-in form the browser is on (screenshot first if named).
    pub(crate) async fn log_in(&self, username: &str, password: &str, shot: Option<&str>) {
        self.type_in("#username", username).await;
        self.type_in("#password", password).await;
        if let Some(name) = shot {
            self.shot(name).await;
        }
        self.click("#login-button").await;
    }

    /// Fills in the renovation registration form: owner 王小明, `contractor`, from today for
    /// `months`.
    async fn fill_registration(&self, contractor: &str, months: chrono::Months) {
        self.type_in("#register [name=owner_name]", "王小明").await;
        self.type_in("#register [name=contractor]", contractor)
            .await;
        self.type_in("#register [name=supervisor_name]", "李四")
            .await;
        self.type_in("#register [name=supervisor_phone]", "13812345678")
            .await;
        let (start, end) = (today(), today() + months);
        self.client
            .execute(
                "document.querySelector('#register [name=start_date]').value = arguments[0];
                 document.querySelector('#register [name=end_date]').value = arguments[1];",
                vec![json!(start.to_string()), json!(end.to_string())],
            )
            .await
            .unwrap();
    }

    async fn rule_cell(&self, rule: &str) -> String {
        let css = format!("#refund-check tr[data-rule='{rule}'] td:nth-child(2)");
        self.wait_for(&css).await.text().await.unwrap()
    }
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn desk_logs_in_registers_a_renovation_returns_a_card_by_scan_and_sees_the_checklist_change()
{
    let b = browser("desk pages").await;
    let (app, admin, desk) = spawn_staffed().await;
    seed_unit(&app).await;
    let base = format!("http://{}", app.addr);

    // Log in: an anonymous visit to a page lands on the log-in page.
    b.go(&app, "/desk/renovations").await;
    assert!(b.path().await.ends_with("/login"));
    b.log_in("desk1", "desk-password-1", Some("1-login")).await;
    b.wait_for("#register").await;

    // Register a renovation through the form.
    b.fill_registration("Acme Decoration", chrono::Months::new(2))
        .await;
    b.click("#register button").await;
    b.wait_for("#refund-check").await;
    let url = b.client.current_url().await.unwrap();
    let id: i64 = url.path().rsplit('/').next().unwrap().parse().unwrap();
    let page_text = b.text("main").await;
    assert!(page_text.contains("王*明"), "the owner's name is masked");
    assert!(!page_text.contains("王小明"));

    // A worker and a card (through the API), then the checklist shows the card out.
    let worker = worker(&app, &desk, id, "110105194912310021").await;
    let path = format!("/api/v1/workers/{worker}/card");
    let issued = app.created(&path, &desk, json!({})).await;
    let credential = issued["credential"].as_str().unwrap().to_owned();
    b.client.refresh().await.unwrap();
    assert!(b.rule_cell("CardsAccountedFor").await.contains("未满足"));
    let reason = b
        .wait_for("#refund-check tr[data-rule='CardsAccountedFor'] td:nth-child(3)")
        .await
        .text()
        .await
        .unwrap();
    // The reason in the clerk's language alone.
    assert!(
        reason.contains("1 张卡未交回") && !reason.contains("not returned"),
        "{reason}"
    );
    b.shot("2-renovation-card-out").await;

    // The desk scanner types the card's text and Enter into the return field.
    b.go(&app, "/desk/return").await;
    b.type_in("#scan", &format!("{credential}\u{E007}")).await;
    let result = b.wait_for("#scan-result.ok").await.text().await.unwrap();
    assert!(
        result.contains("已交回") && result.contains(&issued["card"]["card_id"].to_string()),
        "{result}"
    );
    // A second scan of the same card is a loud error naming the card and when it came back
    // (from the error's details), and the field is ready again.
    b.type_in("#scan", &format!("{credential}\u{E007}")).await;
    let result = b.wait_for("#scan-result.err").await.text().await.unwrap();
    assert!(
        result.contains("已于")
            && result.contains("交回，无需操作")
            && result.contains(&format!("#{}", issued["card"]["card_id"])),
        "{result}"
    );
    b.shot("3-return-scan").await;

    // Back on the renovation: the card rule now holds.
    b.client
        .goto(&format!("{base}/desk/renovations/{id}"))
        .await
        .unwrap();
    assert!(b.rule_cell("CardsAccountedFor").await.contains("满足"));
    assert!(!b.rule_cell("CardsAccountedFor").await.contains("未满足"));
    b.shot("4-renovation-card-returned").await;

    // The kiosk runs out of paper: every desk page shows it until someone acknowledges it.
    let (_, kiosk) = crate::platform::enrol_device(&app, &admin, "kiosk").await;
    crate::emergency::report_alarm(&app, &kiosk, "paper_out", true).await;
    b.client.refresh().await.unwrap();
    let banner = b.wait_text("#alarms summary", "打印机缺纸").await;
    assert!(!banner.contains("out of paper"), "one language: {banner}");
    b.shot("5-alarm-banner").await;
    b.click("#alarms #ack-all").await;
    b.wait_for("#alarms details:not(.open-alarms)").await;
    b.click("#alarms summary").await;
    let seen = b
        .wait_for("#alarms .alarm.seen")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        seen.contains("desk1"),
        "acknowledged by the one logged in: {seen}"
    );
    let _ = b.client.clone().close().await;
}

/// The top of an element on the page, in CSS pixels.
async fn top_of(b: &Browser, css: &str) -> f64 {
    b.client
        .execute(
            "return document.querySelector(arguments[0]).getBoundingClientRect().top;",
            vec![json!(css)],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap()
}

#[tokio::test]
#[ignore = "needs chromium, chromedriver and pdftotext (Debian packages chromium, chromium-driver, poppler-utils)"]
async fn a_fire_alarm_tops_every_desk_page_the_desk_evacuates_ticks_the_roll_call_and_prints_it_on_a4()
 {
    let b = browser("emergency pages").await;
    let (app, admin, desk) = spawn_staffed().await;
    let (_, kiosk) = crate::platform::enrol_device(&app, &admin, "kiosk").await;
    let (_, gate) = crate::muster::entrance_gate(&app, &admin).await;
    let reno = crate::desk::renovation(&app, &desk).await;
    let worker = crate::desk::worker(&app, &desk, reno, "110105194912310021").await;
    let (card, _) = crate::desk::card(&app, &desk, worker).await;
    let pass = crate::muster::visitor(&app, &desk).await;
    let entries = vec![
        crate::muster::passage(card, gatehouse_credential::Kind::Worker, 20, None),
        crate::muster::passage(pass, gatehouse_credential::Kind::Visitor, 10, None),
    ];
    let r = post_journal(&app, &gate, json!({ "entries": entries })).await;
    assert_eq!(r.status(), 200);

    crate::browser::choose_language(&app, &desk, "en").await;
    b.log_in_as(&app, DESK, "#register").await;
    b.go(&app, "/desk/visitors").await;
    b.wait_for("#on-site").await;

    // A printer alarm first, then the fire panel at a gate: the fire shows within the page's
    // 2 s refresh, red, above the printer alarm, and not in the ordinary alarm list.
    crate::emergency::report_alarm(&app, &kiosk, "paper_out", true).await;
    b.wait_text("#alarms", "out of paper").await;
    crate::emergency::report_alarm(&app, &gate, "fire_alarm", true).await;
    let fire = b.wait_text("#emergency .fire", "FIRE ALARM").await;
    assert!(
        !fire.contains("火警") && fire.contains("B2 lobby turnstile"),
        "{fire}"
    );
    assert!(top_of(&b, "#emergency .fire").await < top_of(&b, "#alarms details").await);
    assert!(!b.text("#alarms").await.contains("FIRE"));
    let red: String = b
        .client
        .execute(
            "return getComputedStyle(document.querySelector('#emergency .fire')).backgroundColor;",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(red, "rgb(197, 34, 31)");
    b.shot("6-fire-alarm").await;

    // Evacuate, with a confirmation; a desk clerk sees the state but cannot end it.
    b.click("#evacuate").await;
    b.shot("7-evacuate-confirm").await;
    b.click("#confirm-yes").await;
    let banner = b
        .wait_text("#emergency .evacuation", "EVACUATION IN PROGRESS")
        .await;
    assert!(banner.contains("desk:desk1"), "{banner}");
    assert!(!b.wait_for("#evacuate").await.is_displayed().await.unwrap());
    assert!(
        b.client
            .find(Locator::Css("#end-evacuation"))
            .await
            .is_err()
    );
    let snapshot = app.get_json("/api/v1/gate/snapshot", Some(&gate)).await;
    assert_eq!(snapshot["evacuation"], true);

    // The roll call: both people listed; tick the worker off.
    b.go(&app, "/desk/muster").await;
    // One language: the clerk reads English, so no Chinese label stands beside it.
    let summary = b.wait_text("#muster-summary", "2 people").await;
    assert!(!summary.contains('人'), "{summary}");
    b.wait_text("#emergency .evacuation", "EVACUATION").await;
    let row = format!("#muster tr[data-kind=worker][data-card='{card}']");
    b.click(&format!("{row} button")).await;
    let ticked = b.wait_text(&format!("{row}.found"), "desk1").await;
    assert!(ticked.contains('✔'), "{ticked}");
    b.shot("8-roll-call").await;

    // On A4 paper: the list and its ticks, none of the screen's controls.
    let pdf = b
        .client
        .print(
            fantoccini::wd::PrintConfiguration::builder()
                .size(fantoccini::wd::PrintSize::A4)
                .shrink_to_fit(false)
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("desk-screens");
    let pdf_path = dir.join("roll-call.pdf");
    std::fs::write(&pdf_path, pdf).unwrap();
    let tool = |name: &str| {
        gatehouse_test_browser::find_tool(&[name]).unwrap_or_else(|| {
            panic!("the roll call's print check needs {name} (Debian package poppler-utils)")
        })
    };
    let (pdftotext, pdfinfo) = (tool("pdftotext"), tool("pdfinfo"));
    let run = |tool: &PathBuf, args: &[&str]| {
        let out = std::process::Command::new(tool)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let path = pdf_path.to_str().unwrap();
    let info = run(&pdfinfo, &[path]);
    assert!(info.contains("(A4)"), "A4: {info}");
    assert!(
        info.lines()
            .any(|l| l.starts_with("Pages:") && l.ends_with(" 1")),
        "{info}"
    );
    let text = run(&pdftotext, &["-layout", path, "-"]);
    for wanted in [
        "Roll call",
        "赵*六",
        "张*明",
        "desk1",
        "Tower 2",
        "Last door",
        "lobby",
    ] {
        assert!(text.contains(wanted), "the print has {wanted}: {text}");
    }
    for unwanted in [
        "Evacuate",
        "Acknowledge",
        "Renovations",
        "Print",
        "FIRE ALARM",
        "最后门禁",
    ] {
        assert!(
            !text.contains(unwanted),
            "the print leaves out {unwanted}: {text}"
        );
    }

    // A manager ends the evacuation, after a confirmation.
    b.log_in_as(&app, MANAGER, "#register").await;
    b.click("#end-evacuation").await;
    b.click("#confirm-yes").await;
    let start = std::time::Instant::now();
    while !b.wait_for("#evacuate").await.is_displayed().await.unwrap() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the evacuate control comes back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let snapshot = app.get_json("/api/v1/gate/snapshot", Some(&gate)).await;
    assert_eq!(snapshot["evacuation"], false);
    let _ = b.client.clone().close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn desk_returns_a_revoked_card_by_scan_and_a_damaged_card_by_its_typed_code() {
    let b = browser("desk return by number").await;
    let (app, _, desk) = spawn_staffed().await;
    let id = crate::desk::renovation(&app, &desk).await;
    let (revoked, revoked_text) =
        crate::desk::worker_card(&app, &desk, id, "110105194912310021").await;
    let (damaged, _) = crate::desk::worker_card(&app, &desk, id, "110105194912310039").await;
    let r = card_action(&app, &desk, revoked, "revoke", json!({})).await;
    assert_eq!(r.status(), 200);
    let code = crate::desk::short_id(&app, &desk, id, damaged).await;
    let renovation_code = crate::desk::renovation_code(&app, &desk, id).await;

    choose_language(&app, &desk, "en").await;
    b.go(&app, "/desk/return").await;
    b.log_in("desk1", "desk-password-1", Some("return-login"))
        .await;
    b.wait_for("#register").await;
    b.go(&app, "/desk/return").await;
    b.wait_for("#scan").await;

    // The revoked card, scanned: returned, and the page says it had been revoked.
    b.type_in("#scan", &format!("{revoked_text}\u{E007}")).await;
    let result = b.wait_for("#scan-result.ok").await.text().await.unwrap();
    assert!(
        result.contains(&format!("#{revoked}")) && result.contains("was revoked"),
        "{result}"
    );

    // The damaged card: its printed code typed by hand shows the holder first.
    b.type_in("#scan", &format!("{}\u{E007}", code.to_lowercase()))
        .await;
    let who = b
        .wait_for("#return-confirm:not([hidden]) #return-card")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        who.contains(&format!("#{damaged}"))
            && who.contains("张*明")
            && who.contains(&renovation_code),
        "{who}"
    );
    assert!(!who.contains("张三明"), "the name is masked: {who}");
    b.shot("return-typed-confirm").await;
    b.click("#return-yes").await;
    let result = b.wait_for("#scan-result.ok").await.text().await.unwrap();
    assert!(
        result.contains(&format!("#{damaged}")) && result.contains("returned"),
        "{result}"
    );
    b.shot("return-typed-done").await;

    // Both are back: the renovation's card rule holds.
    let rules = refund_check(&app, &desk, id).await;
    assert_eq!(rules[2]["met"], true, "{}", rules[2]);
    let _ = b.client.clone().close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn the_desk_resets_fire_released_doors_from_the_emergency_bar_once_every_alarm_has_cleared() {
    let b = browser("fire reset").await;
    let (app, admin, desk) = spawn_staffed().await;
    let (_, gate) = crate::muster::entrance_gate(&app, &admin).await;
    crate::browser::choose_language(&app, &desk, "en").await;
    b.log_in_as(&app, DESK, "#register").await;

    // While the panel is in alarm there is nothing to reset: the bar offers no reset.
    crate::emergency::report_alarm(&app, &gate, "fire_alarm", true).await;
    b.wait_text("#emergency .fire", "FIRE ALARM").await;
    let offered = b
        .client
        .execute("return !!document.getElementById('fire-reset');", vec![])
        .await
        .unwrap();
    assert_eq!(offered, serde_json::Value::Bool(false));

    // Once it clears, the reset is offered, asks first, and is sent to the gates and audited.
    crate::emergency::report_alarm(&app, &gate, "fire_alarm", false).await;
    b.wait_for("#fire-reset").await;
    b.click("#fire-reset").await;
    let ask = b.text("dialog#confirm[open] #confirm-text").await;
    assert!(ask.contains("lock again"), "{ask}");
    b.click("#confirm-yes").await;
    b.wait_text("#flash", "The gates are told to reset").await;
    let audit = crate::emergency::audit_actions(&app, &admin).await;
    assert!(
        audit
            .iter()
            .any(|(action, actor)| action == "estate.fire_release.reset" && actor.contains("desk1")),
        "{audit:?}"
    );
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn a_chinese_desk_reads_a_card_already_returned_in_chinese_alone_with_its_number_and_local_time()
 {
    let b = sized("errors in one language", 1366, 768).await;
    let (app, _, desk) = spawn_staffed().await;
    let renovation = crate::desk::renovation(&app, &desk).await;
    let (card, credential) =
        crate::desk::worker_card(&app, &desk, renovation, "110105194912310021").await;
    let r = crate::desk::give_back(&app, &desk, json!({ "card_id": card })).await;
    assert_eq!(r.status(), 200);
    let detail = crate::desk::detail(&app, &desk, renovation).await;
    let ended: chrono::DateTime<chrono::Utc> = detail["cards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["card_id"] == card)
        .and_then(|c| c["ended_at"].as_str())
        .unwrap()
        .parse()
        .unwrap();
    let local = ended
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y年%-m月%-d日 %H:%M")
        .to_string();

    b.log_in_as(&app, DESK, "#register").await;
    b.go(&app, "/desk/return").await;
    b.type_in("#scan", &format!("{credential}\u{E007}")).await;
    let said = b.wait_for("#scan-result.err").await.text().await.unwrap();
    assert!(
        said.contains(&format!("#{card}")) && said.contains(&local),
        "the card and its local time to the minute ({local}): {said}"
    );
    assert!(
        !said.chars().any(|c| c.is_ascii_alphabetic()),
        "Chinese alone: {said}"
    );
    b.shot("errors-already-returned-zh").await;

    // A refusal without details (a period over three months) is said in Chinese alone too,
    // without the server's English message under it.
    b.go(&app, "/desk/renovations").await;
    b.fill_registration("装饰公司", chrono::Months::new(4))
        .await;
    b.click("#register button").await;
    let said = b.wait_text(".result.err", "3 个月").await;
    assert!(
        !said.chars().any(|c| c.is_ascii_alphabetic()),
        "Chinese alone: {said}"
    );
    let _ = b.client.clone().close().await;
}
