//! The front-desk pages in headless Chromium through chromedriver: log in, register a
//! renovation, return a card by typing its scan, see the refund checklist change.
//!
//! Skipped with a notice when Chromium or chromedriver is missing, unless
//! `GATEHOUSE_REQUIRE_BROWSER=1`. Screenshots go to `<target>/tmp/desk-screens/`.

use crate::app::spawn_app;
use crate::desk::{seed_unit, today};
use fantoccini::Locator;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

struct Browser(gatehouse_test_browser::Browser);

impl std::ops::Deref for Browser {
    type Target = gatehouse_test_browser::Browser;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// A headless Chromium the size of a front-desk screen (1280×1400).
async fn browser(test: &str) -> Option<Browser> {
    gatehouse_test_browser::headless(test, 1280, 1400)
        .await
        .map(Browser)
}

impl Browser {
    async fn type_in(&self, css: &str, text: &str) {
        let el = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        el.click().await.unwrap();
        el.send_keys(text).await.unwrap();
    }

    async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("waiting for {css}: {e}"))
    }

    async fn shot(&self, name: &str) -> PathBuf {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("desk-screens");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, self.client.screenshot().await.unwrap()).unwrap();
        path
    }

    /// Logs in as desk1 on the log-in page shown, with a screenshot named `shot`.
    async fn log_in(&self, shot: &str) {
        self.type_in("#username", "desk1").await;
        self.type_in("#password", "desk-password-1").await;
        self.shot(shot).await;
        self.client
            .find(Locator::Css("#login-button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    async fn rule_cell(&self, rule: &str) -> String {
        let css = format!("#refund-check tr[data-rule='{rule}'] td:nth-child(2)");
        self.wait_for(&css).await.text().await.unwrap()
    }
}

#[tokio::test]
async fn desk_logs_in_registers_a_renovation_returns_a_card_by_scan_and_sees_the_checklist_change()
{
    let Some(b) = browser("desk pages").await else {
        return;
    };
    let app = spawn_app().await;
    let admin = app.admin().await;
    let desk = app.desk(&admin).await;
    seed_unit(&app).await;
    let base = format!("http://{}", app.addr);

    // Log in: an anonymous visit to a page lands on the log-in page.
    b.client
        .goto(&format!("{base}/desk/renovations"))
        .await
        .unwrap();
    assert!(
        b.client
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/login")
    );
    b.log_in("1-login").await;
    b.wait_for("#register").await;

    // Register a renovation through the form.
    b.type_in("#register [name=owner_name]", "王小明").await;
    b.type_in("#register [name=contractor]", "Acme Decoration")
        .await;
    b.type_in("#register [name=supervisor_name]", "李四").await;
    b.type_in("#register [name=supervisor_phone]", "13812345678")
        .await;
    let (start, end) = (today(), today() + chrono::Months::new(2));
    b.client
        .execute(
            "document.querySelector('#register [name=start_date]').value = arguments[0];
             document.querySelector('#register [name=end_date]').value = arguments[1];",
            vec![json!(start.to_string()), json!(end.to_string())],
        )
        .await
        .unwrap();
    b.client
        .find(Locator::Css("#register button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for("#refund-check").await;
    let url = b.client.current_url().await.unwrap();
    let id: i64 = url.path().rsplit('/').next().unwrap().parse().unwrap();
    let page_text = b
        .client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page_text.contains("王*明"), "the owner's name is masked");
    assert!(!page_text.contains("王小明"));

    // A worker and a card (through the API), then the checklist shows the card out.
    let r = app
        .post(
            &format!("/api/v1/renovations/{id}/workers"),
            Some(&desk),
            json!({"name": "张三明", "phone": "13912345678", "id_number": "110105194912310021"}),
        )
        .await;
    let worker = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let issued: Value = app
        .post(
            &format!("/api/v1/workers/{worker}/card"),
            Some(&desk),
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let credential = issued["credential"].as_str().unwrap().to_owned();
    b.client.refresh().await.unwrap();
    assert!(b.rule_cell("CardsAccountedFor").await.contains("unmet"));
    let reason = b
        .wait_for("#refund-check tr[data-rule='CardsAccountedFor'] td:nth-child(3)")
        .await
        .text()
        .await
        .unwrap();
    assert!(reason.contains("not returned"), "{reason}");
    b.shot("2-renovation-card-out").await;

    // The desk scanner types the card's text and Enter into the return field.
    b.client.goto(&format!("{base}/desk/return")).await.unwrap();
    b.type_in("#scan", &format!("{credential}\u{E007}")).await;
    let result = b.wait_for("#scan-result.ok").await.text().await.unwrap();
    assert!(
        result.contains("returned") && result.contains(&issued["card"]["card_id"].to_string()),
        "{result}"
    );
    // A second scan of the same card is a loud error, and the field is ready again.
    b.type_in("#scan", &format!("{credential}\u{E007}")).await;
    let result = b.wait_for("#scan-result.err").await.text().await.unwrap();
    assert!(result.contains("already returned"), "{result}");
    b.shot("3-return-scan").await;

    // Back on the renovation: the card rule now holds.
    b.client
        .goto(&format!("{base}/desk/renovations/{id}"))
        .await
        .unwrap();
    assert!(b.rule_cell("CardsAccountedFor").await.contains("met"));
    assert!(!b.rule_cell("CardsAccountedFor").await.contains("unmet"));
    b.shot("4-renovation-card-returned").await;

    // The kiosk runs out of paper: every desk page shows it until someone acknowledges it.
    let (_, kiosk) = crate::platform::enrol_device(&app, &admin, "kiosk").await;
    let r = app
        .post(
            "/api/v1/device/alarms",
            Some(&kiosk),
            json!({"kind": "paper_out", "active": true}),
        )
        .await;
    assert_eq!(r.status(), 204);
    b.client.refresh().await.unwrap();
    let banner = b.wait_for("#alarms .alarm").await.text().await.unwrap();
    assert!(
        banner.contains("打印机缺纸") && banner.contains("out of paper"),
        "{banner}"
    );
    b.shot("5-alarm-banner").await;
    b.client
        .find(Locator::Css("#alarms .alarm button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
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

#[tokio::test]
async fn desk_returns_a_revoked_card_by_scan_and_a_damaged_card_by_its_typed_code() {
    let Some(b) = browser("desk return by number").await else {
        return;
    };
    let app = spawn_app().await;
    let admin = app.admin().await;
    let desk = app.desk(&admin).await;
    let id = crate::desk::renovation(&app, &desk).await;
    let (revoked, revoked_text) = crate::desk::card(
        &app,
        &desk,
        crate::desk::worker(&app, &desk, id, "110105194912310021").await,
    )
    .await;
    let (damaged, _) = crate::desk::card(
        &app,
        &desk,
        crate::desk::worker(&app, &desk, id, "110105194912310039").await,
    )
    .await;
    let r = app
        .post(
            &format!("/api/v1/cards/{revoked}/revoke"),
            Some(&desk),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let code = crate::desk::short_id(&app, &desk, id, damaged).await;
    let detail = crate::desk::detail(&app, &desk, id).await;
    let renovation_code = detail["renovation"]["code"].as_str().unwrap().to_owned();

    let base = format!("http://{}", app.addr);
    b.client.goto(&format!("{base}/desk/return")).await.unwrap();
    b.log_in("return-login").await;
    b.wait_for("#register").await;
    b.client.goto(&format!("{base}/desk/return")).await.unwrap();
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
        .wait_for("#confirm:not([hidden]) #confirm-card")
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
    b.client
        .find(Locator::Css("#confirm-return"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let result = b.wait_for("#scan-result.ok").await.text().await.unwrap();
    assert!(
        result.contains(&format!("#{damaged}")) && result.contains("returned"),
        "{result}"
    );
    b.shot("return-typed-done").await;

    // Both are back: the renovation's card rule holds.
    let rules: Value = app
        .get(
            &format!("/api/v1/renovations/{id}/refund-check"),
            Some(&desk),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rules[2]["met"], true, "{}", rules[2]);
    let _ = b.client.clone().close().await;
}
