//! The touch UI at the panel sizes lobbies buy (7" 800×480, 10" 1024×600, 1280×800 and a
//! portrait 1080×1920), in both languages, checked as a visitor would: the field being typed
//! in stays visible above the keyboard, every button of a screen is on screen and not covered
//! (the element at its centre is itself), nothing scrolls sideways, multi-syllable pinyin
//! gives the right characters in the order names use them, and every problem with a form is
//! shown beside its field at once.

use crate::browser::{Browser, ONE_BROWSER, decode_screen_qr, kiosk_with_stub, sized};
use crate::kiosk::Options;
use gatehouse_credential::api::device::DeviceKind;
use serde_json::{Value, json};

/// Geometry as the visitor sees it, evaluated in the page.
const GEOMETRY: &str = r#"
const covered = (el) => {
  const r = el.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return !(hit && (hit === el || el.contains(hit)));
};
const inView = (el) => {
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && r.top >= -0.5 && r.left >= -0.5
    && r.bottom <= innerHeight + 0.5 && r.right <= innerWidth + 0.5;
};
const name = (el) => el.id || el.dataset.key || el.dataset.go || el.textContent.trim().slice(0, 20);
const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
// Every button and field of the active screen that is off screen or under something.
const screenProblems = () => Array.from(document.querySelectorAll(
    ".screen.active button, .screen.active input:not([type=hidden]), #topbar button"))
  .filter(shown)
  .filter((el) => !inView(el) || covered(el))
  .map(name);
const overflow = () => ({ sideways: document.documentElement.scrollWidth > innerWidth,
  scrolls: document.documentElement.scrollHeight > innerHeight });
"#;

async fn geometry(b: &Browser, expr: &str) -> Value {
    b.js(&format!("{GEOMETRY}\nreturn {expr};")).await
}

/// The active screen fits the panel: all its buttons whole and uncovered, no scrolling.
async fn assert_screen_fits(b: &Browser, at: &str) {
    let screen = b.active_screen().await;
    assert_eq!(
        geometry(b, "screenProblems()").await,
        json!([]),
        "{at} {screen}: buttons off screen or covered"
    );
    assert_eq!(
        geometry(b, "overflow()").await,
        json!({"sideways": false, "scrolls": false}),
        "{at} {screen}: the page scrolls"
    );
}

/// What the echo above the keys shows, and whether it is whole, uncovered and right above
/// the keyboard: `null` when it is not shown.
const ECHO: &str = "(() => { const e = document.getElementById('kb-echo'), k = document.getElementById('keyboard');
  if (!shown(e)) { return null; }
  const er = e.getBoundingClientRect(), kr = k.getBoundingClientRect();
  const text = document.getElementById('kb-echo-text');
  return { label: document.getElementById('kb-echo-label').textContent, text: text.textContent,
           composing: Array.from(text.querySelectorAll('.compose')).map(c => c.textContent).join(''),
           caretAfter: (() => { const c = text.querySelector('.caret'); let s = ''; for (let n = text.firstChild; n && n !== c; n = n.nextSibling) { s += n.textContent; } return s; })(),
           inView: inView(e), covered: covered(e), onKeys: Math.abs(er.bottom - kr.top) <= 1 }; })()";

/// The focused field is visible above the keyboard, which fits the screen; on a panel 640 px
/// high or less the echo above the keys shows the field's text too.
async fn assert_typing_visible(b: &Browser, at: &str) {
    let echo = geometry(b, ECHO).await;
    let small = b.js("return innerHeight <= 640").await == json!(true);
    if small {
        let field = b.js("return document.activeElement.value").await;
        assert_eq!(
            (
                &echo["text"],
                &echo["inView"],
                &echo["covered"],
                &echo["onKeys"]
            ),
            (&field, &json!(true), &json!(false), &json!(true)),
            "{at}: the echo of the field's text above the keys: {echo}"
        );
    } else {
        assert_eq!(echo, Value::Null, "{at}: no echo on a large panel");
    }
    let report = geometry(
        b,
        "(() => { const f = document.activeElement, k = document.getElementById('keyboard');
          const fr = f.getBoundingClientRect(), kr = k.getBoundingClientRect();
          return { field: f.id, keyboard: !k.hidden, fieldInView: inView(f), fieldCovered: covered(f),
                   aboveKeys: fr.bottom <= kr.top + 0.5, kbFits: kr.top >= 0 && kr.height <= innerHeight * 0.6 + 1,
                   keysCovered: Array.from(k.querySelectorAll('button')).filter(shown).filter(x => !inView(x) || covered(x)).map(name),
                   sideways: document.documentElement.scrollWidth > innerWidth }; })()",
    )
    .await;
    let field = report["field"].clone();
    assert_eq!(
        report,
        json!({"field": field, "keyboard": true, "fieldInView": true, "fieldCovered": false,
               "aboveKeys": true, "kbFits": true, "keysCovered": [], "sideways": false}),
        "{at}: typing in {field}"
    );
}

async fn candidates(b: &Browser) -> Vec<String> {
    serde_json::from_value(
        b.js("return Array.from(document.querySelectorAll('#cand-list button')).map(x => x.textContent)")
            .await,
    )
    .unwrap()
}

/// Every screen and flow a visitor meets, at one panel size, in one language.
async fn visit(b: &Browser, width: u32, height: u32, english: bool) {
    let at = format!("{width}×{height} {}", if english { "en" } else { "zh" });
    let (kiosk, stub) = kiosk_with_stub(Options::default()).await;
    b.open(&kiosk).await;
    assert_eq!(
        b.js("return [innerWidth, innerHeight]").await,
        json!([width, height]),
        "the page is the panel's size"
    );
    if english {
        b.click("#lang-toggle").await;
    }
    assert_screen_fits(b, &at).await;

    // The whole form is checked at once; every problem beside its field, all in view.
    b.click("#btn-visitor").await;
    assert_screen_fits(b, &at).await;
    b.click("#visitor-confirm").await;
    let errors = geometry(
        b,
        "Array.from(document.querySelectorAll('#screen-visitor .field-error'))
           .filter(e => e.textContent).map(e => [e.dataset.errorFor, inView(e),
             e.closest('label, .field').contains(document.getElementById(e.dataset.errorFor === 'unit_id' ? 'unit-btn' : e.dataset.errorFor))])",
    )
    .await;
    assert_eq!(
        errors,
        json!([
            ["name", true, true],
            ["unit_id", true, true],
            ["purpose", true, true]
        ]),
        "{at}"
    );
    assert_screen_fits(b, &at).await;
    b.shot(&format!(
        "form-errors-{width}x{height}-{}",
        if english { "en" } else { "zh" }
    ))
    .await;

    // Multi-syllable pinyin on the on-screen keys: zhangwei → 张 then 伟, the most common
    // name characters first; the bar pages with ◀ ▶.
    b.click("#name").await;
    assert_typing_visible(b, &at).await;
    b.tap_keys("zhangwei").await;
    assert_eq!(b.text("#cand-spell").await, "zhang'wei", "{at}");
    let lang = if english { "en" } else { "zh" };
    b.shot(&format!("pinyin-{width}x{height}-{lang}")).await;
    let first_page = candidates(b).await;
    assert_eq!(first_page[..3], ["张", "长", "章"], "{at}");
    assert_typing_visible(b, &at).await;
    b.click("#candidates #cand-next").await;
    let second_page = candidates(b).await;
    assert!(
        !second_page.is_empty() && second_page.iter().all(|c| !first_page.contains(c)),
        "{at}: page 2 {second_page:?} after {first_page:?}"
    );
    b.click("#candidates #cand-prev").await;
    assert_eq!(candidates(b).await, first_page, "{at}");
    b.click("#candidates button[data-key='张']").await;
    assert_eq!(b.value("name").await, "张wei");
    assert_eq!(candidates(b).await[..3], ["伟", "卫", "维"], "{at}");
    b.click("#candidates button[data-key='伟']").await;
    assert_eq!(b.value("name").await, "张伟");
    assert_eq!(
        b.js("return document.getElementById('candidates').hidden")
            .await,
        json!(true)
    );
    // The name's error goes as soon as the name is there.
    assert_eq!(
        b.js("return document.querySelector(\"[data-error-for='name']\").textContent")
            .await,
        ""
    );
    // The surname strip stays inside the keyboard: its first and last surnames are reachable.
    b.click("#keys button[data-key='#surnames']").await;
    assert_eq!(
        geometry(
            b,
            "(() => { const s = document.querySelectorAll('#surnames button');
               return [inView(s[0]) && !covered(s[0]), document.getElementById('keyboard').getBoundingClientRect().height <= innerHeight * 0.6 + 1]; })()"
        )
        .await,
        json!([true, true]),
        "{at}: the surname strip"
    );
    b.click("#keys button[data-key='#surnames']").await;
    assert_typing_visible(b, &at).await;

    // Every field of the form, typed in: never under the keyboard.
    for field in ["#host_name", "#phone", "#purpose"] {
        b.click(field).await;
        assert_typing_visible(b, &at).await;
    }
    b.tap_keys("x").await;
    b.click("#keys button[data-key='#back']").await;
    b.click("#keys button[data-key='#hide']").await;
    assert_screen_fits(b, &at).await;

    // Units: building → floor → unit, in numeric order, Back always on screen.
    b.click("#unit-btn").await;
    assert_screen_fits(b, &at).await;
    b.click(".unit-step[data-value='2']").await;
    let floors = b
        .js("return Array.from(document.querySelectorAll('#unit-list button')).map(u => Number(u.dataset.value))")
        .await;
    assert_eq!(floors, json!([1, 9, 10, 12, 15]), "{at}");
    assert_screen_fits(b, &at).await;
    b.click(".unit-step[data-value='1']").await;
    assert_screen_fits(b, &at).await;
    b.click(".unit-option[data-unit-id='6']").await;
    assert_eq!(b.text("#unit-btn").await, "2-101");

    // A purpose chip follows a language switch, so the desk reads one language.
    b.click(".chip[data-purpose='delivery']").await;
    b.click("#lang-toggle").await;
    let purpose = b.value("purpose").await;
    assert_eq!(
        purpose,
        json!(if english { "快递外卖" } else { "Delivery" }),
        "{at}"
    );
    b.click("#lang-toggle").await;
    assert_eq!(
        b.js("return document.querySelectorAll('#screen-visitor .field-error:not(:empty)').length")
            .await,
        json!(0),
        "{at}: every error cleared once fixed"
    );
    assert_screen_fits(b, &at).await;

    // The pass: QR, print result, countdown and Done all on screen, and the QR scans.
    b.click("#visitor-confirm").await;
    b.until_printed("printed").await;
    assert_screen_fits(b, &at).await;
    assert!(
        b.text("#pass-countdown")
            .await
            .chars()
            .any(|c| c.is_ascii_digit()),
        "{at}: a visible countdown"
    );
    let png = b.shot(&format!("pass-{width}x{height}")).await;
    stub.ring()
        .verify(&decode_screen_qr(&png))
        .expect("the on-screen QR verifies");
    b.click("#pass-done").await;
    if english {
        b.click("#lang-toggle").await;
    }

    // The worker screen: hint on screen, both fields visible while typed in.
    b.click("#btn-worker").await;
    assert_screen_fits(b, &at).await;
    b.click("#renovation-code").await;
    assert_typing_visible(b, &at).await;
    b.click("#keys button[data-key='#next-field']").await;
    assert_eq!(
        b.js("return document.activeElement.id").await,
        "id-last4",
        "{at}: Next goes to the next field"
    );
    assert_typing_visible(b, &at).await;
    b.click("#keys button[data-key='#hide']").await;
    assert_screen_fits(b, &at).await;

    // A refusal is no dead end: both ways out on screen, and "try again" keeps the code.
    b.click(".screen.active [data-go='welcome']").await;
    if english {
        b.click("#lang-toggle").await;
    }
    b.click("#btn-invite").await;
    b.click("#invite-code").await;
    assert_typing_visible(b, &at).await;
    b.tap_keys("wrong123").await;
    b.click("#invite-confirm").await;
    b.until_screen("screen-message").await;
    assert_screen_fits(b, &at).await;
    b.click("#message-retry").await;
    assert_eq!(b.value("invite-code").await, "WRONG123", "{at}");
    assert_eq!(
        b.js("return document.documentElement.lang").await,
        json!(if english { "en" } else { "zh-CN" })
    );
    b.click(".screen.active [data-go='welcome']").await;
    if english {
        b.click("#lang-toggle").await;
    }

    // Sign-out and the staff screen fit too.
    b.click("#btn-signout").await;
    assert_screen_fits(b, &at).await;
    b.click("#signout-pass").await;
    assert_typing_visible(b, &at).await;
    b.click(".screen.active [data-go='welcome']").await;
    b.click("#btn-staff").await;
    assert_screen_fits(b, &at).await;
}

/// Typing on a 7" panel, in one language: the echo above the keys names the field, shows its
/// text as it is typed, the pinyin being composed and where the caret is.
async fn echo_in(b: &Browser, english: bool) {
    let at = format!("800×480 {}", if english { "en" } else { "zh" });
    let (kiosk, _stub) = kiosk_with_stub(Options::default()).await;
    b.open(&kiosk).await;
    if english {
        b.click("#lang-toggle").await;
    }
    b.click("#btn-visitor").await;
    b.click("#name").await;
    let name = if english { "Name" } else { "姓名" };
    assert_eq!(
        geometry(b, ECHO).await,
        json!({"label": name, "text": "", "composing": "", "caretAfter": "", "inView": true,
               "covered": false, "onKeys": true}),
        "{at}: the empty name field"
    );
    b.tap_keys("zhangwei").await;
    assert_eq!(
        geometry(b, ECHO).await,
        json!({"label": name, "text": "Zhangwei", "composing": "Zhangwei", "caretAfter": "Zhangwei",
               "inView": true, "covered": false, "onKeys": true}),
        "{at}: pinyin being composed"
    );
    b.shot(&format!(
        "echo-pinyin-800x480-{}",
        if english { "en" } else { "zh" }
    ))
    .await;
    b.click("#candidates button[data-key='张']").await;
    b.click("#candidates button[data-key='伟']").await;
    let echo = geometry(b, ECHO).await;
    assert_eq!(
        (&echo["text"], &echo["composing"], &echo["caretAfter"]),
        (&json!("张伟"), &json!(""), &json!("张伟")),
        "{at}: {echo}"
    );
    assert_typing_visible(b, &at).await;
    // The caret moved into the middle: the echo's caret follows.
    b.js("const n = document.getElementById('name'); n.setSelectionRange(1, 1); return null")
        .await;
    b.until(
        "the echo's caret to follow",
        "return document.querySelector('#kb-echo-text .caret').previousSibling.textContent === '张'",
    )
    .await;
    // Another field: its own label and text.
    b.click("#phone").await;
    b.tap_keys("138").await;
    let phone = if english {
        "Mobile (optional)"
    } else {
        "手机号（选填）"
    };
    let echo = geometry(b, ECHO).await;
    assert_eq!(
        (
            &echo["label"],
            &echo["text"],
            &echo["inView"],
            &echo["covered"]
        ),
        (&json!(phone), &json!("138"), &json!(true), &json!(false)),
        "{at}: {echo}"
    );
    assert_typing_visible(b, &at).await;
    b.click("#keys button[data-key='#hide']").await;
    assert_eq!(
        geometry(b, ECHO).await,
        Value::Null,
        "{at}: the echo goes with the keys"
    );
}

async fn at_size(test: &str, width: u32, height: u32) {
    let _one = ONE_BROWSER.lock().await;
    let b = sized(test, width, height).await;
    visit(&b, width, height, false).await;
    visit(&b, width, height, true).await;
    b.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn touch_at_800x480_every_screen_fits_and_the_keyboard_never_hides_the_field() {
    at_size("touch_800x480", 800, 480).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn touch_at_800x480_the_typed_text_is_echoed_large_right_above_the_keys() {
    let _one = ONE_BROWSER.lock().await;
    let b = sized("echo", 800, 480).await;
    echo_in(&b, false).await;
    echo_in(&b, true).await;
    b.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn touch_at_1024x600_every_screen_fits_and_the_keyboard_never_hides_the_field() {
    at_size("touch_1024x600", 1024, 600).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn touch_at_1280x800_every_screen_fits_and_the_keyboard_never_hides_the_field() {
    at_size("touch_1280x800", 1280, 800).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn touch_at_portrait_1080x1920_every_screen_fits_and_the_keyboard_never_hides_the_field() {
    at_size("touch_1080x1920", 1080, 1920).await;
}

/// A live pass closes by itself after a visible countdown, and a person idle on a form is
/// warned before the reset.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn touch_a_pass_left_on_screen_closes_after_its_countdown_and_idle_is_warned() {
    let _one = ONE_BROWSER.lock().await;
    let b = sized("pass_countdown", 800, 480).await;
    let (kiosk, _stub) = kiosk_with_stub(Options {
        idle_timeout: std::time::Duration::from_secs(22),
        ..Options::default()
    })
    .await;
    b.open(&kiosk).await;
    b.fill_visitor(&["L", "I"], "").await;
    b.click("#visitor-confirm").await;
    b.until_pass().await;
    let shown = std::time::Instant::now();
    let first = b.text("#pass-countdown").await;
    assert!(first.contains("15") || first.contains("14"), "{first}");
    b.until(
        "the countdown to move",
        "return !/1[45]/.test(document.getElementById('pass-countdown').textContent)",
    )
    .await;
    // `until` gives up after 10 s; the pass needs 15.
    let started = std::time::Instant::now();
    while b.active_screen().await != "screen-welcome" {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(25),
            "the pass never closed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let after = shown.elapsed();
    assert!(
        after >= std::time::Duration::from_secs(13),
        "closed after {after:?}"
    );
    assert_eq!(
        b.js("return document.querySelector('#pass-qr').innerHTML")
            .await,
        ""
    );

    // Idle on a form: a warning with a countdown first, and a tap keeps the form.
    b.click("#btn-visitor").await;
    b.type_in("#name", "Li").await;
    b.click("#keys button[data-key='#hide']").await;
    let started = std::time::Instant::now();
    while b
        .js("return document.getElementById('idle-warning').hidden")
        .await
        == json!(true)
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "no idle warning"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        b.text("#idle-text").await.contains("秒后返回首页"),
        "the warning says when"
    );
    assert_eq!(
        geometry(
            &b,
            "(() => { const k = document.getElementById('idle-stay'); return inView(k) && !covered(k); })()"
        )
        .await,
        json!(true),
        "the warning's button is on screen"
    );
    b.click("#idle-stay").await;
    assert_eq!(b.active_screen().await, "screen-visitor");
    assert_eq!(b.value("name").await, "Li");
    b.client.clone().close().await.unwrap();
}

/// Staff at the kiosk: the PIN pad prints the muster list (a wrong PIN says so), and a staff
/// card under the scanner brings up the staff screen while the list prints.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn touch_staff_print_the_muster_list_with_the_pin_pad_or_their_card() {
    use std::io::Write;
    let _one = ONE_BROWSER.lock().await;
    let b = sized("staff", 800, 480).await;
    let (addr, stub) = gatehouse_test_support::stub::spawn(DeviceKind::Kiosk).await;
    let (kiosk, mut scanner) = crate::muster::kiosk_with_scanner_and_staff_cards(addr, &stub).await;
    kiosk.register_visitor().await;
    b.open(&kiosk).await;
    b.until(
        "a muster copy",
        "return fetch('/api/muster').then(r => r.json()).then(m => m.people === 2)",
    )
    .await;
    b.click("#btn-staff").await;
    assert_screen_fits(&b, "staff").await;
    for digit in "1357".chars() {
        b.click(&format!("#pinpad button[data-pin='{digit}']"))
            .await;
    }
    assert_eq!(b.text("#pin-echo").await, "••••");
    b.click("#pin-ok").await;
    b.until(
        "the wrong PIN",
        "return document.getElementById('pin-error').textContent === '密码错误'",
    )
    .await;
    for digit in "2468".chars() {
        b.click(&format!("#pinpad button[data-pin='{digit}']"))
            .await;
    }
    b.click("#pin-ok").await;
    b.until(
        "the list printed",
        "return document.getElementById('staff-result').dataset.result === 'printed'",
    )
    .await;
    assert!(b.text("#staff-result").await.contains("名单已打印"));
    let printed = || {
        crate::escpos_reader::read(&kiosk.printed())
            .unwrap()
            .text()
            .matches("MUSTER LIST")
            .count()
    };
    assert_eq!(printed(), 1);

    // A staff card at the welcome screen: no sign-out attempt, the staff screen and a list.
    b.click(".screen.active [data-go='welcome']").await;
    let card = stub.staff_card(9001);
    let started = std::time::Instant::now();
    while b.active_screen().await != "screen-staff" {
        assert!(
            // Generous: the bound only decides how long a broken kiosk takes to fail.
            started.elapsed() < std::time::Duration::from_secs(30),
            "the staff card never reached the page"
        );
        let _ = scanner.write_all(format!("{card}\r").as_bytes());
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert!(b.text("#staff-result").await.contains("工作人员卡"));
    let started = std::time::Instant::now();
    while printed() < 2 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "no list for the staff card"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    b.client.clone().close().await.unwrap();
}
