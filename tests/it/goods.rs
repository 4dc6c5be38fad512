//! Goods release across the real programs and two browsers: the desk writes a permit, a manager
//! approves it, the QR code on its printed page is read (by a decoder of our own choosing)
//! and scanned at a goods-check gate, the guard's phone page shows the permit, the guard
//! releases the goods, and a second scan is refused with the time, the gate and the guard.

use fantoccini::Locator;
use gatehouse_credential::{Zone, ZoneClass};
use gatehouse_e2e::estate::BUILDING;
use gatehouse_e2e::system::System;
use gatehouse_test_browser::Browser;
use serde_json::json;
use std::time::{Duration, Instant};

const GUARD: (&str, &str) = ("王小明", "guard-password-1");
const DESK: (&str, &str) = ("desk1", "desk-password-1");

async fn log_in(b: &Browser, base: &str, (user, password): (&str, &str)) {
    b.client.goto(&format!("{base}/login")).await.unwrap();
    b.type_in("#username", user).await;
    b.type_in("#password", password).await;
    b.click("#login-button").await;
    // The log-in page has no navigation; every page after it has one (or is the guard's).
    b.client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("nav, #guard"))
        .await
        .unwrap();
}

/// The text of `css` once `pred` holds for it (10 s at most).
async fn text_when(b: &Browser, css: &str, pred: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        if let Ok(el) = b.client.find(Locator::Css(css)).await {
            let text = el.text().await.unwrap_or_default();
            if pred(&text) {
                return text;
            }
            if start.elapsed() > Duration::from_secs(10) {
                panic!("{css} still reads {text:?}");
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium chromium-driver)"]
fn a_permit_goes_from_the_desk_through_a_goods_gate_to_the_guard_once() {
    let mut system = System::launch(&[], false).unwrap();
    let entrance = Zone {
        building: BUILDING,
        class: ZoneClass::Entrance,
        floor: None,
    };
    let gate = system.add_gate(&entrance, "goods_check = true\n").unwrap();
    system.wait_gates_synced().unwrap();
    let gate_name = system.estate.door(&entrance).unwrap().name;
    for ((username, password), role) in [(DESK, "desk"), (GUARD, "guard")] {
        system
            .api
            .post(
                "/api/v1/staff",
                &json!({"username": username, "password": password, "role": role}),
            )
            .unwrap();
    }
    let base = system.api.base().to_owned();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (desk, guard) = rt.block_on(async {
        let desk = gatehouse_test_browser::headless("goods: desk", 1280, 1000).await;
        let guard = gatehouse_test_browser::headless("goods: guard", 412, 915).await;
        (desk, guard)
    });
    let (d, g) = (&desk, &guard);

    // The desk writes the permit; the manager approves it and lands on its printed page.
    let (permit_id, unit, qr) = rt.block_on(async {
        log_in(d, &base, DESK).await;
        d.client.goto(&format!("{base}/desk/goods")).await.unwrap();
        let unit = d.text("#goods-new select[name=unit_id] option").await;
        for (css, text) in [
            ("#goods-new [name=applicant_name]", "张三明"),
            ("#goods-new [name=items]", "沙发 sofa × 1\n纸箱 boxes × 6"),
            ("#goods-new [name=plate]", "沪A12345"),
        ] {
            d.type_in(css, text).await;
        }
        d.click("#goods-new button[type=submit]").await;
        d.client
            .wait()
            .for_element(Locator::Css("tr[data-state=requested]"))
            .await
            .unwrap();
        log_in(d, &base, ("admin", gatehouse_e2e::server::ADMIN_PASSWORD)).await;
        d.client.goto(&format!("{base}/desk/goods")).await.unwrap();
        d.click("tr[data-state=requested] button.approve").await;
        let qr = d
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#permit-slip img.permit-qr"))
            .await
            .unwrap();
        // The image must have loaded before it is photographed.
        text_when(d, "#permit-slip", |t| t.contains("沙发 sofa")).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let png = qr.screenshot().await.unwrap();
        let url = d.client.current_url().await.unwrap();
        let id: u32 = url.path().rsplit('/').next().unwrap().parse().unwrap();
        (id, unit, png)
    });
    let img = image::load_from_memory(&qr).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the permit");
    let (_, text) = grids[0].decode().unwrap();

    // The guard's phone page waits; the gate reads the permit and does not open.
    rt.block_on(async {
        log_in(g, &base, GUARD).await;
        assert_eq!(g.client.current_url().await.unwrap().path(), "/guard");
        // The page notes the moment it shows the permit, so the bound below measures the
        // system (gate, server, page), not how often this test asks the browser.
        g.js(&format!(
            "const no=document.getElementById('guard-no');
             new MutationObserver(()=>{{if(!window.shownAt&&no.textContent==='{permit_id}')window.shownAt=Date.now();}})
               .observe(no,{{childList:true,characterData:true,subtree:true}});"
        ))
        .await;
    });
    let scanned = std::time::SystemTime::now();
    let decision = system.gates[gate].scan(&text).unwrap();
    assert!(!decision.admitted, "{decision:?}");
    assert_eq!(decision.reason.as_deref(), Some("goods_permit"));
    rt.block_on(async {
        text_when(g, "#guard-no", |t| t == permit_id.to_string()).await;
        let shown_at = g
            .js("return window.shownAt;")
            .await
            .as_f64()
            .expect("the page changed #guard-no to the permit after the scan");
        let shown = (std::time::UNIX_EPOCH + Duration::from_secs_f64(shown_at / 1000.0))
            .duration_since(scanned)
            .unwrap_or_default();
        eprintln!("permit shown on the guard page {shown:?} after the scan");
        assert!(
            shown < Duration::from_secs(1),
            "shown {shown:?} after the scan"
        );
        assert_eq!(text_when(g, "#guard-unit", |_| true).await, unit);
        assert_eq!(text_when(g, "#guard-plate", |_| true).await, "沪A12345");
        assert_eq!(
            text_when(g, "#guard-applicant", |_| true).await,
            "业主 张*明"
        );
        let items = text_when(g, "#guard-items", |_| true).await;
        assert!(
            items.contains("沙发 sofa × 1") && items.contains("纸箱 boxes × 6"),
            "{items}"
        );
        assert!(
            text_when(g, "#guard-gate", |_| true)
                .await
                .contains(gate_name)
        );
        text_when(g, "#guard-verdict", |t| t.starts_with('✔')).await;
        g.click("#guard-release").await;
        text_when(g, "#guard-verdict", |t| t.contains("已放行")).await;
    });

    // Scanned again: refused, with when, where and by whom (in the guard's language).
    let decision = system.gates[gate].scan(&text).unwrap();
    assert!(!decision.admitted);
    rt.block_on(async {
        let verdict = text_when(g, "#guard-verdict", |t| t.contains("已于")).await;
        assert!(
            verdict.contains(&format!("在 {gate_name} 由 guard 王*明 放行")),
            "{verdict}"
        );
        let hhmm = regex_free_time(&verdict);
        assert!(hhmm.is_some(), "a time in {verdict}");
        assert!(
            g.client
                .find(Locator::Css("#guard-actions"))
                .await
                .unwrap()
                .is_displayed()
                .await
                .map(|shown| !shown)
                .unwrap(),
            "no Release button for a used permit"
        );
    });
    drop((desk, guard));
}

/// The `HH:MM` of "已于 2026年12月3日 14:02 在 …".
fn regex_free_time(text: &str) -> Option<&str> {
    let when = text.split("已于 ").nth(1)?.split(" 在 ").next()?;
    let time = when.get(when.len().checked_sub(5)?..)?;
    let ok = time.as_bytes()[2] == b':' && time.bytes().filter(u8::is_ascii_digit).count() == 4;
    ok.then_some(time)
}
