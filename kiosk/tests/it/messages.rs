//! Refusals that say what happened, in both languages, on a 7" panel: a walk-in whose estate
//! makes visitors wait for the host gets a waiting screen, and a worker whose card the desk
//! already handed out is told so, with the time in the estate's zone.

use crate::browser::{Browser, ONE_BROWSER, kiosk_with_stub, sized};
use crate::kiosk::Options;
use gatehouse_test_support::stub;
use serde_json::json;

/// Whether `css` is whole inside the viewport and the element at its centre is itself.
async fn on_screen(b: &Browser, css: &str) -> bool {
    b.js(&format!(
        "const el = document.querySelector({css:?}); const r = el.getBoundingClientRect();
         const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
         return r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth
           && hit !== null && (hit === el || el.contains(hit));"
    ))
    .await
        == json!(true)
}

async fn messages_in(b: &Browser, english: bool) {
    let (kiosk, stub) = kiosk_with_stub(Options::default()).await;
    stub.kiosk().host_approval = true;
    b.open(&kiosk).await;
    if english {
        b.click("#lang-toggle").await;
    }

    // A walk-in under host approval: recorded, waiting, told so; not "see the front desk".
    b.fill_visitor(&["王"], "").await;
    b.click("#visitor-confirm").await;
    b.until_screen("screen-pending").await;
    let (title, text) = if english {
        ("Waiting for your host's approval", "your host must agree")
    } else {
        ("等待被访人同意", "须经被访人同意")
    };
    assert_eq!(b.text("#pending-title").await, title);
    assert!(b.text("#pending-text").await.contains(text));
    assert_eq!(b.text("#pending-unit").await, "2-1203");
    assert!(on_screen(b, "#pending-ok").await, "Done is on screen");
    assert!(kiosk.printed().is_empty(), "no pass was printed");
    b.click("#pending-ok").await;
    b.until_screen("screen-welcome").await;
    assert_eq!(
        b.value("name").await,
        "",
        "the form is cleared for the next person"
    );

    // A worker whose card the desk printed: the words say so, with the local time.
    if english {
        b.click("#lang-toggle").await;
    }
    b.click("#btn-worker").await;
    b.type_in("#renovation-code", stub::RENOVATION).await;
    b.type_in("#id-last4", stub::DESK_ISSUED_ID_LAST4).await;
    b.type_in("#collection-code", stub::COLLECTION_CODE).await;
    b.click("#worker-confirm").await;
    b.until_screen("screen-message").await;
    let (title, when) = if english {
        (
            "Your card was issued at the front desk",
            "The front desk issued this worker card on 2026-12-03 09:15",
        )
    } else {
        (
            "您的工作卡已由前台发放",
            "前台已于 2026-12-03 09:15 发放此工作卡",
        )
    };
    assert_eq!(b.text("#message-title").await, title);
    let words = b.text("#message-text").await;
    assert!(words.contains(when), "{words}");
    assert!(!words.contains("已领取") && !words.contains("already collected"));
    // Retyping cannot help: the only way on is back to the start.
    assert_eq!(
        b.js("return document.getElementById('message-retry').hidden")
            .await,
        json!(true)
    );
    assert!(on_screen(b, "#message-ok").await, "Start over is on screen");
    // The words follow a language switch, time included.
    b.click("#lang-toggle").await;
    let other = b.text("#message-text").await;
    assert!(
        other.contains("2026-12-03 09:15") && other != words,
        "{other}"
    );
    b.click("#message-ok").await;
    b.until_screen("screen-welcome").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn browser_host_approval_and_desk_issued_card_say_what_happened_in_both_languages() {
    let _one = ONE_BROWSER.lock().await;
    let b = sized("messages", 800, 480).await;
    messages_in(&b, false).await;
    messages_in(&b, true).await;
    b.client.clone().close().await.unwrap();
}
