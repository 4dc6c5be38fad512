//! The touch UI in headless Chromium through chromedriver: what a visitor sees and taps.
//!
//! Ignored unless run with `--include-ignored`; then they fail without Chromium and
//! chromedriver. `GATEHOUSE_KIOSK_DOCS=1` also copies the main screens'
//! screenshots into `kiosk/docs/`.

use crate::escpos_reader::read;
use crate::kiosk::{Options, TestKiosk, spawn};
use fantoccini::Locator;
use gatehouse_credential::api::device::DeviceKind;
use gatehouse_test_support::stub;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// One browser at a time: two cores are shared by everything.
pub(crate) static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub(crate) struct Browser {
    headless: gatehouse_test_browser::Browser,
    shots: PathBuf,
}

impl std::ops::Deref for Browser {
    type Target = gatehouse_test_browser::Browser;
    fn deref(&self) -> &Self::Target {
        &self.headless
    }
}

/// A headless Chromium for a kiosk screen (1280×1000), screenshots to a temporary folder.
async fn browser(test: &str) -> Browser {
    sized(test, 1280, 1000).await
}

/// A headless Chromium whose page is `width`×`height` CSS pixels, like a kiosk panel.
pub(crate) async fn sized(test: &str, width: u32, height: u32) -> Browser {
    let headless = gatehouse_test_browser::headless(test, width, height).await;
    // Headless Chromium takes room for its window frame from --window-size: grow the window
    // until the page itself has the panel's size.
    for _ in 0..3 {
        let inner = headless
            .client
            .execute("return [innerWidth, innerHeight]", vec![])
            .await
            .unwrap();
        let (w, h) = (inner[0].as_u64().unwrap(), inner[1].as_u64().unwrap());
        if (w, h) == (u64::from(width), u64::from(height)) {
            break;
        }
        let rect = headless.client.get_window_rect().await.unwrap();
        let grow = |outer: u64, want: u32, got: u64| (outer + u64::from(want)).saturating_sub(got);
        headless
            .client
            .set_window_size(
                u32::try_from(grow(rect.2, width, w)).unwrap(),
                u32::try_from(grow(rect.3, height, h)).unwrap(),
            )
            .await
            .unwrap();
    }
    let shots = std::env::temp_dir().join("gatehouse-kiosk-screens");
    std::fs::create_dir_all(&shots).unwrap();
    Browser { headless, shots }
}

impl Browser {
    pub(crate) async fn click(&self, css: &str) {
        // As a person would: put the on-screen keyboard away before tapping under it.
        let on_keyboard = css.starts_with("#keys")
            || css.starts_with("#surnames")
            || css.starts_with("#candidates");
        if !on_keyboard
            && self
                .js("return !document.getElementById('keyboard').hidden")
                .await
                == json!(true)
        {
            self.headless.click("#keys button[data-key='#hide']").await;
        }
        self.headless.click(css).await;
    }

    /// Types `text` as keystrokes into `css`, which already has the focus.
    async fn keystrokes(&self, css: &str, text: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .send_keys(text)
            .await
            .unwrap();
    }

    /// Taps `keys` on the on-screen keyboard, one key a character (letters in capitals, as
    /// the keys are named).
    pub(crate) async fn tap_keys(&self, keys: &str) {
        for k in keys.chars() {
            self.click(&format!(
                "#keys button[data-key='{}']",
                k.to_ascii_uppercase()
            ))
            .await;
        }
    }

    /// Taps into the field `id` and `keys` on the on-screen keyboard; returns what the field
    /// then holds.
    pub(crate) async fn key_in(&self, id: &str, keys: &str) -> serde_json::Value {
        self.click(&format!("#{id}")).await;
        self.tap_keys(keys).await;
        self.value(id).await
    }

    /// The value of the field `id`.
    pub(crate) async fn value(&self, id: &str) -> serde_json::Value {
        self.js(&format!("return document.getElementById('{id}').value"))
            .await
    }

    /// Waits until the screen `id` is the one shown.
    pub(crate) async fn until_screen(&self, id: &str) {
        self.until(
            id,
            &format!("return document.querySelector('.screen.active').id === '{id}'"),
        )
        .await;
    }

    /// Waits until a pass's QR code is on screen.
    pub(crate) async fn until_pass(&self) {
        self.until(
            "the QR on screen",
            "return !!document.querySelector('#pass-qr svg')",
        )
        .await;
    }

    /// Waits until the pass screen shows the print result `result` (`printed`,
    /// `not_printed`).
    pub(crate) async fn until_printed(&self, result: &str) {
        self.until(
            "the print result",
            &format!("return document.getElementById('print-state').dataset.result === '{result}'"),
        )
        .await;
    }

    /// Taps into `css`, the keyboard put away first as in [`Browser::click`], and types `text`
    /// as keystrokes.
    pub(crate) async fn type_in(&self, css: &str, text: &str) {
        self.click(css).await;
        self.keystrokes(css, text).await;
    }

    pub(crate) async fn active_screen(&self) -> String {
        self.js("return document.querySelector('.screen.active').id")
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Saves a screenshot; with `GATEHOUSE_KIOSK_DOCS=1` also into kiosk/docs.
    pub(crate) async fn shot(&self, name: &str) -> Vec<u8> {
        let png = self.screenshot(&self.shots, name).await;
        if std::env::var("GATEHOUSE_KIOSK_DOCS").as_deref() == Ok("1") {
            let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
            std::fs::create_dir_all(&docs).unwrap();
            // Half size keeps the repository small and the words still readable.
            let img = image::load_from_memory(&png).unwrap();
            let small = img.resize(
                img.width() / 2,
                img.height() / 2,
                image::imageops::FilterType::Triangle,
            );
            small.save(docs.join(format!("{name}.png"))).unwrap();
        }
        png
    }

    pub(crate) async fn open(&self, kiosk: &TestKiosk) {
        self.client.goto(&kiosk.url("/")).await.unwrap();
        self.until(
            "the page to load its settings",
            "return document.getElementById('estate-name').textContent.length > 0",
        )
        .await;
    }

    /// Picks a unit as a visitor does: building, floor, then the unit.
    pub(crate) async fn pick_unit(&self, building: u8, floor: i8, unit_id: i64) {
        self.click("#unit-btn").await;
        self.click(&format!(
            ".unit-step[data-level='building'][data-value='{building}']"
        ))
        .await;
        self.click(&format!(
            ".unit-step[data-level='floor'][data-value='{floor}']"
        ))
        .await;
        self.click(&format!(".unit-option[data-unit-id='{unit_id}']"))
            .await;
    }

    /// Fills the visitor form up to the confirm button: unit 2-1203, first purpose, two people.
    /// `name_keys` are on-screen keys; a non-ASCII character is tapped in the surname strip,
    /// `pick:字` in the pinyin candidate bar.
    pub(crate) async fn fill_visitor(&self, name_keys: &[&str], typed: &str) {
        self.click("#btn-visitor").await;
        self.click("#name").await;
        for key in name_keys {
            if let Some(hanzi) = key.strip_prefix("pick:") {
                // A character from the pinyin candidate bar.
                self.click(&format!("#candidates button[data-key='{hanzi}']"))
                    .await;
            } else if key.chars().count() == 1 && !key.is_ascii() {
                self.click("#keys button[data-key='#surnames']").await;
                self.click(&format!("#surnames button[data-surname='{key}']"))
                    .await;
            } else {
                self.click(&format!("#keys button[data-key='{key}']")).await;
            }
        }
        if !typed.is_empty() {
            self.keystrokes("#name", typed).await;
        }
        self.pick_unit(2, 12, 1).await;
        self.click(".chip[data-purpose='visit']").await;
        self.click("#party-plus").await;
        self.type_in("#phone", "13800138000").await;
    }
}

/// Finds and decodes the QR code in a screenshot.
pub(crate) fn decode_screen_qr(png: &[u8]) -> String {
    let img = image::load_from_memory(png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        img.width() as usize,
        img.height() as usize,
        |x, y| img.get_pixel(x as u32, y as u32)[0],
    );
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on screen");
    grids[0].decode().expect("the on-screen QR decodes").1
}

pub(crate) async fn kiosk_with_stub(opts: Options) -> (TestKiosk, stub::Stub) {
    let (addr, stub) = stub::spawn(DeviceKind::Kiosk).await;
    (spawn(&format!("http://{addr}"), opts).await, stub)
}

fn p95(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    let idx = ((samples.len() as f64) * 0.95).ceil() as usize - 1;
    samples[idx.min(samples.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn browser_visitor_in_chinese_gets_a_scannable_pass_and_the_same_credential_on_paper() {
    let _one = ONE_BROWSER.lock().await;
    let b = browser("visitor_in_chinese").await;
    let (kiosk, stub) = kiosk_with_stub(Options::default()).await;
    b.open(&kiosk).await;
    assert_eq!(b.js("return document.documentElement.lang").await, "zh-CN");
    assert_eq!(b.text("#btn-visitor").await, "访客登记");
    b.shot("welcome-zh").await;
    // 张 from the surname strip, then the given name in pinyin on the on-screen keys, each
    // character picked from the candidate bar: x-i-a-o → 小, m-i-n-g → 明.
    b.fill_visitor(
        &[
            "张", "X", "I", "A", "O", "pick:小", "M", "I", "N", "G", "pick:明",
        ],
        "",
    )
    .await;
    assert_eq!(b.value("name").await, "张小明");
    // The bar offers what the letters before the caret spell, and nothing once they are gone.
    assert_eq!(b.key_in("name", "wang").await, "张小明wang");
    let offered = b
        .js("return document.getElementById('candidates').textContent")
        .await;
    assert!(
        offered.as_str().is_some_and(|o| o.contains('王')),
        "{offered}"
    );
    b.shot("keyboard-pinyin-zh").await;
    for _ in 0..4 {
        b.click("#keys button[data-key='#back']").await;
    }
    assert_eq!(
        b.js("return document.getElementById('candidates').hidden")
            .await,
        json!(true)
    );
    assert_eq!(b.value("name").await, "张小明");
    b.click("#name").await;
    b.click("#keys button[data-key='#surnames']").await;
    b.shot("keyboard-surnames-zh").await;
    b.click("#keys button[data-key='#hide']").await;
    b.js("window.scrollTo(0, 0); return true").await;
    b.shot("visitor-form-zh").await;
    b.click("#visitor-confirm").await;
    b.until_pass().await;
    b.until_printed("printed").await;
    assert_eq!(b.text("#pass-name").await, "张*明");
    assert_eq!(b.text("#print-state").await, "已打印，请取走凭条。");
    let png = b.shot("pass-zh").await;
    let on_screen = decode_screen_qr(&png);
    let verified = stub
        .ring()
        .verify(&on_screen)
        .expect("the on-screen QR verifies");
    assert_eq!(verified.claims.kind, gatehouse_credential::Kind::Visitor);
    let printout = read(&kiosk.printed()).unwrap();
    assert_eq!(
        printout.printed_qr()[0].payload,
        on_screen.as_bytes(),
        "paper QR == screen QR"
    );
    assert!(printout.ends_with_cut());
    b.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn browser_visitor_in_english_on_the_on_screen_keyboard_and_tap_to_qr_p95() {
    let _one = ONE_BROWSER.lock().await;
    let b = browser("visitor_in_english").await;
    let (kiosk, stub) = kiosk_with_stub(Options::default()).await;
    b.open(&kiosk).await;
    b.click("#lang-toggle").await;
    assert_eq!(b.text("#btn-visitor").await, "Visitor registration");
    b.shot("welcome-en").await;
    b.fill_visitor(
        &["L", "I", "#space", "L", "E", "I"].map(|k| if k == "#space" { " " } else { k }),
        "",
    )
    .await;
    assert_eq!(b.value("name").await, "Li Lei");
    // Building, then floor, then unit, each in the order a person counts.
    b.click("#unit-btn").await;
    b.until_screen("screen-units").await;
    let buttons =
        "return Array.from(document.querySelectorAll('#unit-list button')).map(u => u.textContent)";
    assert_eq!(
        b.js(buttons).await,
        json!(["Building 2", "Building 5", "Building 10"])
    );
    b.click(".unit-step[data-value='2']").await;
    assert_eq!(
        b.js(buttons).await,
        json!(["Floor 1", "Floor 9", "Floor 10", "Floor 12", "Floor 15"])
    );
    b.click(".unit-step[data-value='1']").await;
    b.shot("unit-picker").await;
    assert_eq!(b.js(buttons).await, json!(["2-101", "2-102"]));
    // Back goes up a level, not out of the picker.
    b.click("#units-back").await;
    b.click(".unit-step[data-value='15']").await;
    assert_eq!(b.js(buttons).await, json!(["2-1504"]));
    b.click(".unit-option[data-unit-id='2']").await;
    b.click("#visitor-confirm").await;
    b.until_pass().await;
    assert_eq!(b.text("#pass-name").await, "L****i");
    assert!(b.text("#pass-valid").await.starts_with("Valid until"));
    b.until_printed("printed").await;
    assert_eq!(
        b.text("#print-state").await,
        "Printed — please take your slip."
    );
    let png = b.shot("pass-en").await;
    stub.ring()
        .verify(&decode_screen_qr(&png))
        .expect("the on-screen QR verifies");

    // Tap "confirm" → QR on screen, measured by the page (performance.now at the tap to the
    // frame after the QR is in the DOM) and from outside over WebDriver.
    let mut outside = Vec::new();
    for i in 0..20 {
        b.click("#pass-done").await;
        b.click("#btn-visitor").await;
        b.type_in("#name", &format!("Guest {i}")).await;
        b.pick_unit(2, 15, 2).await;
        b.click(".chip[data-purpose='delivery']").await;
        let confirm = b
            .client
            .find(Locator::Css("#visitor-confirm"))
            .await
            .unwrap();
        let tapped = Instant::now();
        confirm.click().await.unwrap();
        b.until_pass().await;
        outside.push(tapped.elapsed().as_secs_f64() * 1000.0);
    }
    let inside: Vec<f64> =
        serde_json::from_value(b.js("return window.__gatehouseTimings").await).unwrap();
    let (p95_in, p95_out) = (p95(inside[1..].to_vec()), p95(outside));
    println!(
        "tap-confirm → QR on screen p95: {p95_in:.1} ms in the page, {p95_out:.1} ms over WebDriver (20 taps)"
    );
    assert!(p95_in <= 300.0, "p95 {p95_in} ms exceeds 300 ms");
    b.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn browser_idle_reset_wipes_every_field_and_returns_to_welcome() {
    let _one = ONE_BROWSER.lock().await;
    let b = browser("idle_reset").await;
    let (kiosk, _stub) = kiosk_with_stub(Options {
        idle_timeout: Duration::from_secs(3),
        ..Options::default()
    })
    .await;
    b.open(&kiosk).await;
    b.click("#lang-toggle").await;
    b.fill_visitor(&["W", "A", "N", "G"], "").await;
    assert_eq!(b.active_screen().await, "screen-visitor");
    assert_eq!(b.value("phone").await, "13800138000");
    b.until_screen("screen-welcome").await;
    let leftovers = b
        .js("return Array.from(document.querySelectorAll('input')).filter(i => i.value !== '').map(i => i.id)")
        .await;
    assert_eq!(leftovers, json!([]), "fields still filled after idle reset");
    assert_eq!(
        b.js("return document.getElementById('party').textContent")
            .await,
        "1"
    );
    assert_eq!(
        b.js("return document.querySelectorAll('.chip.chosen').length")
            .await,
        0
    );
    assert_eq!(
        b.js("return document.documentElement.lang").await,
        "zh-CN",
        "back to the default language"
    );

    // A pass on screen goes too.
    b.fill_visitor(&["W", "A", "N", "G"], "").await;
    b.click("#visitor-confirm").await;
    b.until_pass().await;
    b.until_screen("screen-welcome").await;
    assert_eq!(
        b.js("return document.querySelector('#pass-qr').innerHTML")
            .await,
        ""
    );
    assert_eq!(
        b.js("return document.getElementById('pass-name').textContent")
            .await,
        ""
    );

    // A reset adds no event listener: a kiosk up for a day resets hundreds of times.
    let added = b
        .js("let added = 0; const add = EventTarget.prototype.addEventListener; \
             EventTarget.prototype.addEventListener = function (...a) { added += 1; return add.apply(this, a); }; \
             for (let i = 0; i < 20; i++) { resetAll(); } \
             EventTarget.prototype.addEventListener = add; return added;")
        .await;
    assert_eq!(added, json!(0), "listeners added by 20 resets");
    b.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn browser_server_down_paper_out_and_invalid_code_show_their_messages() {
    let _one = ONE_BROWSER.lock().await;
    let b = browser("failures").await;

    // Server unreachable from the start: the welcome screen says so, and no flow starts
    // only to fail at the end.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let down = spawn(&format!("http://{dead}"), Options::default()).await;
    b.open(&down).await;
    b.until(
        "the out-of-service banner",
        "return !document.getElementById('offline-banner').hidden",
    )
    .await;
    assert!(b.text("#offline-banner").await.contains("暂停服务"));
    assert_eq!(
        b.js("return ['btn-visitor', 'btn-invite', 'btn-signout', 'btn-worker'].map(id => document.getElementById(id).disabled)")
            .await,
        json!([true, true, true, true])
    );

    // The server goes away in the middle of a flow: no pass, and "try again" goes back to the
    // form with what was typed, in the person's language.
    let (addr, _live, stopper) = stub::spawn_stoppable(DeviceKind::Kiosk);
    let flaky = spawn(&format!("http://{addr}"), Options::default()).await;
    b.open(&flaky).await;
    b.click("#lang-toggle").await;
    b.click("#btn-invite").await;
    b.type_in("#invite-code", "INV2026A").await;
    stopper.stop();
    b.click("#invite-confirm").await;
    b.until_screen("screen-message").await;
    assert_eq!(b.text("#message-title").await, "Cannot reach the server");
    assert_eq!(
        b.js("return document.querySelector('#pass-qr').innerHTML")
            .await,
        ""
    );
    b.click("#message-retry").await;
    assert_eq!(b.active_screen().await, "screen-invite");
    assert_eq!(
        b.js(
            "return [document.getElementById('invite-code').value, document.documentElement.lang]"
        )
        .await,
        json!(["INV2026A", "en"])
    );
    b.click("#lang-toggle").await;
    b.click("#invite-confirm").await;
    b.until_screen("screen-message").await;
    assert_eq!(b.text("#message-title").await, "暂时无法连接服务器");
    assert!(b.text("#message-text").await.contains("未生成任何通行证"));
    b.shot("server-unreachable-zh").await;
    b.click("#message-ok").await;
    assert_eq!(b.active_screen().await, "screen-welcome");

    // Paper out: warned when the flow starts, the pass still on screen, the problem said.
    let (kiosk, stub) = kiosk_with_stub(Options::default()).await;
    kiosk.set_paper("out");
    b.open(&kiosk).await;
    b.fill_visitor(&["张"], "伟").await;
    b.until(
        "the paper warning",
        "return !document.getElementById('visitor-paper').hidden",
    )
    .await;
    b.click("#visitor-confirm").await;
    b.until_printed("not_printed").await;
    assert!(b.text("#print-state").await.contains("打印机缺纸或离线"));
    let png = b.shot("paper-out-zh").await;
    stub.ring()
        .verify(&decode_screen_qr(&png))
        .expect("the QR stays usable on screen");
    assert!(kiosk.printed().is_empty());

    // Invalid code, and a worker card.
    kiosk.set_paper("ok");
    b.click("#pass-done").await;
    b.click("#btn-invite").await;
    b.type_in("#invite-code", "WRONG123").await;
    b.click("#invite-confirm").await;
    b.until_screen("screen-message").await;
    assert_eq!(b.text("#message-title").await, "号码无效");
    b.shot("invalid-code-zh").await;
    b.click("#message-ok").await;
    b.click("#btn-worker").await;
    b.type_in("#renovation-code", stub::RENOVATION).await;
    assert_eq!(b.key_in("id-last4", "123x").await, "123X");
    // The one-time collection code, on the digit keypad.
    assert_eq!(
        b.key_in("collection-code", stub::COLLECTION_CODE).await,
        stub::COLLECTION_CODE
    );
    b.shot("worker-form-zh").await;
    b.click("#worker-confirm").await;
    b.until_pass().await;
    assert_eq!(b.text("#pass-title").await, "人员临时出入卡");

    // Sign-out by the short id shown on the pass.
    let short = b.text("#pass-short").await;
    b.click("#pass-done").await;
    b.click("#btn-signout").await;
    b.type_in("#signout-pass", &short).await;
    b.click("#signout-confirm").await;
    b.until(
        "the goodbye",
        "return document.getElementById('message-title').dataset.code === 'signed_out'",
    )
    .await;
    assert!(b.text("#message-text").await.contains("李*国"));
    b.shot("signed-out-zh").await;
    assert!(stub.is_signed_out(&short));
    b.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn browser_scanning_a_pass_at_the_welcome_screen_signs_it_out() {
    use serialport::SerialPort;
    use std::io::Write;
    let _one = ONE_BROWSER.lock().await;
    let b = browser("scan_to_sign_out").await;
    let (mut scanner, slave) = serialport::TTYPort::pair().unwrap();
    let port = slave.name().unwrap();
    drop(slave); // the kiosk opens it exclusively
    let (kiosk, stub) = kiosk_with_stub(Options {
        scanner_port: Some(port),
        ..Options::default()
    })
    .await;
    let pass = kiosk.register_visitor().await;
    let credential = pass["credential"].as_str().unwrap();
    b.open(&kiosk).await;
    let started = Instant::now();
    // The scanner thread may still be opening its end: scan until the page reacts.
    while b
        .js("return document.getElementById('message-title').dataset.code === 'signed_out'")
        .await
        != json!(true)
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the scan never signed the pass out"
        );
        let _ = scanner.write_all(format!("{credential}\r").as_bytes());
        // Longer than a sign-out takes, so one scan is answered before the next is sent.
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
    assert!(b.text("#message-text").await.contains("张*明"));
    assert!(stub.is_signed_out(pass["short_id"].as_str().unwrap()));
    b.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn browser_a_right_click_or_a_long_press_opens_no_menu_and_selects_nothing() {
    use fantoccini::actions::{
        InputSource, MOUSE_BUTTON_LEFT, MOUSE_BUTTON_RIGHT, MouseActions, PointerAction,
        TouchActions,
    };
    let _one = ONE_BROWSER.lock().await;
    let b = browser("no-menu").await;
    let (kiosk, _stub) = kiosk_with_stub(Options::default()).await;
    b.open(&kiosk).await;
    // Record, after the page's own handlers, whether each context menu was cancelled: an
    // uncancelled contextmenu event is what opens Chromium's menu (copy, print, inspect…).
    b.js("window.menus = []; window.addEventListener('contextmenu', e => menus.push(e.defaultPrevented)); return true")
        .await;
    let title = b.client.find(Locator::Css("h1")).await.unwrap();
    let right_click = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element: title.clone(),
            duration: None,
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_RIGHT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_RIGHT,
        });
    b.client.perform_actions(right_click).await.unwrap();
    let long_press = TouchActions::new("finger".into())
        .then(PointerAction::MoveToElement {
            element: title,
            duration: None,
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .pause(Duration::from_millis(1500))
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    b.client.perform_actions(long_press).await.unwrap();
    let menus = b.js("return menus").await;
    let menus = menus.as_array().unwrap();
    assert!(!menus.is_empty(), "the right click reached the page");
    assert!(
        menus.iter().all(|prevented| prevented == &json!(true)),
        "every context menu cancelled: {menus:?}"
    );
    assert_eq!(
        b.js("return window.getSelection().toString()").await,
        json!(""),
        "a long press selects no text"
    );
    assert_eq!(b.active_screen().await, "screen-welcome");
    b.client.clone().close().await.unwrap();
}
