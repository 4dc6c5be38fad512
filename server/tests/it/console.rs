//! The desk console in headless Chromium at the sizes of a desk PC (1366×768) and a wide
//! screen (1920×1080): one language at a time and the switch remembered, local times, the
//! navigation by role, results beside the form that caused them, confirmations that name the
//! person, card and amount, strict money, and the scanner-proof return station.

use crate::app::spawn_staffed;
use crate::browser::{Browser, DESK, MANAGER, choose_language, sized};
use fantoccini::Locator;
use gatehouse_server::domain::language::Lang;
use gatehouse_server::http::pages::time_in;
use serde_json::{Value, json};
use std::time::Duration;

impl Browser {
    async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    async fn lang(&self) -> String {
        self.js("return document.documentElement.lang;")
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Whether the element is wholly inside the window (what the clerk sees without scrolling).
    pub(crate) async fn in_view(&self, css: &str) -> bool {
        self.client
            .execute(
                "const b=document.querySelector(arguments[0]).getBoundingClientRect();
                 return b.height>0&&b.top>=0&&b.bottom<=innerHeight;",
                vec![json!(css)],
            )
            .await
            .unwrap()
            .as_bool()
            .unwrap()
    }

    /// Waits until the page is in `lang` (after a switch reloads it).
    async fn wait_lang(&self, lang: &str) {
        let start = std::time::Instant::now();
        while self.lang().await != lang {
            assert!(start.elapsed() < Duration::from_secs(10), "never in {lang}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn pages_speak_one_language_remember_the_switch_show_local_times_and_links_by_role() {
    let b = sized("console language", 1366, 768).await;
    let (app, _, desk) = spawn_staffed().await;
    crate::muster::visitor(&app, &desk).await;
    let on_site: Value = app.get_json("/api/v1/visitors/on-site", Some(&desk)).await;
    let registered: chrono::DateTime<chrono::Utc> = on_site[0]["registered_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    // Chinese by default, from the log-in page on.
    b.go(&app, "/login").await;
    assert_eq!(b.lang().await, "zh-CN");
    assert!(b.text("main h1").await.contains("物业前台登录"));
    b.log_in_as(&app, DESK, "#register").await;
    assert_eq!(b.text("nav a.current").await, "装修备案");
    let user = b.text("#user").await;
    assert!(user.contains("desk1") && user.contains("前台"), "{user}");
    let nav = b.text("nav").await;
    assert!(!nav.contains("Renovations"), "one language: {nav}");
    assert!(
        !nav.contains("员工账号"),
        "a clerk has no staff link: {nav}"
    );

    // Times are the estate's (Asia/Shanghai), to the minute, in the language's format.
    b.go(&app, "/desk/visitors").await;
    assert_eq!(b.text("nav a.current").await, "在场访客");
    let zh_time = time_in(Lang::Zh, chrono_tz::Asia::Shanghai, registered);
    b.wait_text("#on-site", &zh_time).await;
    b.shot("console-visitors-zh-1366").await;

    // The switch: English at once, and still English after logging out and in again.
    b.click("#lang-switch").await;
    b.wait_lang("en").await;
    assert_eq!(b.text("nav a.current").await, "Visitors on site");
    let en_time = time_in(Lang::En, chrono_tz::Asia::Shanghai, registered);
    let table = b.wait_text("#on-site", &en_time).await;
    assert!(!table.contains(&zh_time), "{table}");
    b.click("#logout").await;
    b.wait_for("#login-button").await;
    assert!(b.path().await.ends_with("/login"));
    b.log_in_as(&app, DESK, "#register").await;
    assert_eq!(b.lang().await, "en");
    assert!(b.text("#user").await.contains("Front desk"));

    // A refusal is said in the clerk's language, from its code.
    b.go(&app, "/desk/return").await;
    b.type_in("#scan", "ZZZZ\u{E007}").await;
    let en_error = b.wait_for("#scan-result.err").await.text().await.unwrap();
    assert!(en_error.contains("Not a card number"), "{en_error}");
    b.click("#lang-switch").await;
    b.wait_lang("zh-CN").await;
    b.type_in("#scan", "ZZZZ\u{E007}").await;
    let zh_error = b.wait_for("#scan-result.err").await.text().await.unwrap();
    assert!(zh_error.contains("无法识别"), "{zh_error}");

    // A manager sees the staff page's link and uses it; a clerk is refused the page itself.
    b.log_in_as(&app, MANAGER, "#register").await;
    b.click("nav a[href='/desk/staff']").await;
    b.wait_for("#staff").await;
    assert_eq!(b.text("nav a.current").await, "员工账号");
    assert!(b.text("#staff tr[data-staff=desk1]").await.contains("前台"));
    assert_eq!(app.get("/desk/staff", Some(&desk)).await.status(), 403);
    let _ = b.client.clone().close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn a_clerk_at_1366x768_sees_each_result_beside_its_form_and_confirms_what_cannot_be_undone() {
    let b = sized("console clerk", 1366, 768).await;
    let (app, _, desk) = spawn_staffed().await;
    let id = crate::desk::renovation(&app, &desk).await;
    let worker = crate::desk::worker(&app, &desk, id, "110105194912310021").await;
    b.log_in_as(&app, DESK, "#register").await;
    b.client
        .goto(&format!("http://{}/desk/renovations/{id}", app.addr))
        .await
        .unwrap();
    let row = format!("#workers tr[data-worker='{worker}']");

    // Issuing a card: the result beside the row's form, in view; the row shows the card.
    b.click(&format!("{row} .issue button")).await;
    let done = b.wait_text(".result.ok", "已发卡").await;
    assert!(b.in_view(".result.ok").await, "{done}");
    let card = b
        .wait_for(&format!("{row} .card[data-state=active]"))
        .await
        .attr("data-card")
        .await
        .unwrap()
        .unwrap();

    // ... and a printable card: masked name, QR code of this card, the renovation's end.
    b.wait_for("#print-card:not([hidden]) .card-face").await;
    assert_eq!(b.text("#print-card .holder").await, "张*明");
    assert!(
        b.text("#print-card .number")
            .await
            .contains(&format!("#{card}"))
    );
    let start = std::time::Instant::now();
    while b
        .js("return document.querySelector('#print-card .qr').naturalWidth;")
        .await
        .as_u64()
        .unwrap_or(0)
        == 0
    {
        assert!(start.elapsed() < Duration::from_secs(10), "QR never loaded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(b.in_view("#print-card .qr").await);
    let png = b
        .wait_for("#print-card .qr")
        .await
        .screenshot()
        .await
        .unwrap();
    let mut prepared =
        rqrr::PreparedImage::prepare(image::load_from_memory(&png).unwrap().to_luma8());
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the card");
    let (_, text) = grids[0].decode().unwrap();
    let escaped: String = text
        .bytes()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                (c as char).to_string()
            } else {
                format!("%{c:02X}")
            }
        })
        .collect();
    let found = app
        .get_json(&format!("/api/v1/cards/lookup?q={escaped}"), Some(&desk))
        .await;
    assert_eq!(found["card_id"].to_string(), card, "{found}");
    b.shot("console-card-issued-zh-1366").await;

    // A new kiosk collection code, asked first, is shown once on the page for the contractor.
    b.click(&format!("{row} .new-code button")).await;
    let ask = b.text("dialog#confirm[open] #confirm-text").await;
    assert!(ask.contains("张*明"), "{ask}");
    b.click("#confirm-yes").await;
    let shown = b
        .wait_text("#collection-code:not([hidden])", "自助取卡码")
        .await;
    let code: String = shown.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 8, "an 8-digit code: {shown}");

    // Declaring it lost asks first, naming the worker, the card and the fee.
    b.click(&format!("{row} .lost button")).await;
    let ask = b.text("dialog#confirm[open] #confirm-text").await;
    assert!(
        ask.contains("张*明") && ask.contains(&format!("#{card}")) && ask.contains("¥50.00"),
        "{ask}"
    );
    b.shot("console-lost-confirm-zh-1366").await;
    b.click("#confirm-yes").await;
    b.wait_for(&format!("{row} .card[data-card='{card}'][data-state=lost]"))
        .await;
    let lost = b.wait_text(".result.ok", "已挂失").await;
    assert!(b.in_view(".result.ok").await, "{lost}");

    // Money in yuan, strictly: "5,00" is refused beside the form and stays typed.
    b.type_in("#ledger-form [name=amount_cents]", "5,00").await;
    b.type_in("#ledger-form [name=receipt_no]", "R-1").await;
    b.click("#ledger-form button[type=submit]").await;
    let refused = b.wait_text(".result.err", "金额格式不对").await;
    assert!(b.in_view(".result.err").await, "{refused}");
    let kept = b
        .wait_for("#ledger-form [name=amount_cents]")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("5,00"));
    assert!(
        b.client
            .find(Locator::Css("dialog#confirm[open]"))
            .await
            .is_err()
    );

    // "5,000" is five thousand yuan, confirmed with the amount before it is recorded.
    b.js("document.querySelector('#ledger-form [name=amount_cents]').value='';")
        .await;
    b.type_in("#ledger-form [name=amount_cents]", "5,000").await;
    b.click("#ledger-form button[type=submit]").await;
    let ask = b.text("dialog#confirm[open] #confirm-text").await;
    assert!(
        ask.contains("¥5,000.00") && ask.contains("装修保证金"),
        "{ask}"
    );
    b.click("#confirm-yes").await;
    b.wait_text("#ledger tr[data-kind=deposit] td.amount", "¥5,000.00")
        .await;
    assert!(b.in_view(".result.ok").await);
    let detail = crate::desk::detail(&app, &desk, id).await;
    assert_eq!(detail["ledger"]["deposit_cents"], 500_000, "{detail}");

    // The refund stays disabled while a rule does not hold.
    assert!(!b.wait_for("#refund").await.is_enabled().await.unwrap());
    b.shot("console-renovation-zh-1366").await;
    let _ = b.client.clone().close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn the_return_station_keeps_its_focus_clears_the_last_result_and_counts_the_cards_back() {
    let b = sized("console return", 1920, 1080).await;
    let (app, _, desk) = spawn_staffed().await;
    let id = crate::desk::renovation(&app, &desk).await;
    let (first, first_text) = crate::desk::worker_card(&app, &desk, id, "110105194912310021").await;
    let (second, second_text) =
        crate::desk::worker_card(&app, &desk, id, "110105194912310039").await;
    choose_language(&app, &desk, "en").await;
    b.log_in_as(&app, DESK, "#register").await;
    b.go(&app, "/desk/return").await;
    b.wait_text("#scan-state.ready", "Ready to scan").await;

    // The first card: holder, renovation, and how many of its cards are back.
    b.type_in("#scan", &format!("{first_text}\u{E007}")).await;
    let result = b
        .wait_text("#scan-result.ok", "1 of 2 cards returned")
        .await;
    assert!(
        result.contains(&format!("Card #{first} returned")) && result.contains("张*明"),
        "{result}"
    );

    // The field loses its focus (a click elsewhere): it takes it back by itself, and a scan
    // typed while the page had the focus still lands in it.
    b.js("document.getElementById('scan').blur();").await;
    let start = std::time::Instant::now();
    while b.js("return document.activeElement.id;").await != json!("scan") {
        assert!(start.elapsed() < Duration::from_secs(5), "focus not back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    b.js("document.getElementById('scan').blur();").await;
    let body = b.wait_for("body").await;
    body.send_keys(&format!("{second_text}\u{E007}"))
        .await
        .unwrap();
    let result = b
        .wait_text("#scan-result.ok", "2 of 2 cards returned")
        .await;
    assert!(
        result.contains(&format!("Card #{second} returned"))
            && !result.contains(&format!("#{first} ")),
        "the last result is gone: {result}"
    );
    b.shot("console-return-en-1920").await;

    // The same card again: the green result is replaced by a red one.
    b.type_in("#scan", &format!("{second_text}\u{E007}")).await;
    b.wait_for("#scan-result.err").await;
    assert!(
        b.client
            .find(Locator::Css("#scan-result.ok"))
            .await
            .is_err()
    );
    let _ = b.client.clone().close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn doors_show_each_gate_a_manager_unlocks_with_a_reason_and_a_lockdown_shows_on_every_page() {
    let b = sized("console doors", 1920, 1080).await;
    let (app, admin, desk) = spawn_staffed().await;
    let (gate_id, _) = crate::muster::entrance_gate(&app, &admin).await;

    // A clerk sees the doors but neither the unlock nor the lockdown control.
    choose_language(&app, &desk, "en").await;
    b.log_in_as(&app, DESK, "#register").await;
    b.click("nav a[href='/desk/doors']").await;
    let row = format!("#doors tr[data-door='{gate_id}']");
    let text = b.text(&row).await;
    assert!(text.contains("B2 lobby turnstile"), "{text}");
    assert!(b.client.find(Locator::Css(".unlock")).await.is_err());
    assert!(b.client.find(Locator::Css("#lockdown")).await.is_err());

    // A manager opens the door for a reason, after naming the door.
    b.log_in_as(&app, MANAGER, "#register").await;
    b.go(&app, "/desk/doors").await;
    assert_eq!(b.text("nav a.current").await, "门禁");
    b.type_in(&format!("{row} .unlock [name=reason]"), "送货 delivery")
        .await;
    b.click(&format!("{row} .unlock button")).await;
    let ask = b.text("dialog#confirm[open] #confirm-text").await;
    assert!(
        ask.contains("B2 lobby turnstile") && ask.contains("送货 delivery"),
        "{ask}"
    );
    b.click("#confirm-yes").await;
    let done = b.wait_text(".result.ok", "已发送开门指令").await;
    assert!(b.in_view(".result.ok").await, "{done}");
    let audit = app.get_text("/api/v1/audit", Some(&admin)).await;
    assert!(
        audit.contains("door.remote_unlock") && audit.contains("送货 delivery"),
        "{audit}"
    );

    // Lockdown, confirmed: every page says so until it ends.
    b.click("#lockdown button").await;
    b.click("#confirm-yes").await;
    b.wait_text("#lockdown-state", "全区封锁中").await;
    b.shot("console-doors-zh-1920").await;
    b.go(&app, "/desk/visitors").await;
    b.wait_text("#lockdown-banner", "全区封锁中").await;
    assert!(b.in_view("#lockdown-banner").await);
    let lockdown: Value = app.get_json("/api/v1/lockdown", Some(&admin)).await;
    assert_eq!(lockdown["active"], true);
    let _ = b.client.clone().close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn a_visitor_is_registered_at_the_desk_with_the_keyboard_alone_and_gets_a_printable_pass() {
    let b = sized("console visitor", 1366, 768).await;
    let (app, _, desk) = spawn_staffed().await;
    crate::desk::seed_unit(&app).await;
    b.log_in_as(&app, DESK, "#register").await;
    b.go(&app, "/desk/visitors").await;
    b.wait_for("#register-visitor").await;

    // The name field has the focus; Tab moves on, Enter sends (unit: the first, party: 1).
    let focused = b.js("return document.activeElement.name;").await;
    assert_eq!(focused, json!("name"));
    let keys = "赵小六\u{E004}\u{E004}王小明\u{E004}送快递\u{E007}";
    b.client
        .active_element()
        .await
        .unwrap()
        .send_keys(keys)
        .await
        .unwrap();
    let done = b.wait_text(".result.ok", "已登记").await;
    assert!(b.in_view(".result.ok").await, "{done}");
    b.wait_for("#print-pass:not([hidden])").await;
    assert_eq!(b.text("#print-pass .holder").await, "赵*六");
    let pass = b.text("#print-pass .number").await;
    let on_site: Value = app.get_json("/api/v1/visitors/on-site", Some(&desk)).await;
    assert_eq!(format!("#{}", on_site[0]["card_id"]), pass, "{on_site}");
    b.wait_text(
        &format!("#on-site tr[data-card='{}']", on_site[0]["card_id"]),
        "赵*六",
    )
    .await;
    // Ready for the next visitor: the name field has the focus again.
    assert_eq!(
        b.js("return document.activeElement.name;").await,
        json!("name")
    );
    b.shot("console-visitor-registered-zh-1366").await;
    let _ = b.client.clone().close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn a_clerk_adds_to_the_deny_list_and_only_a_manager_removes_after_a_confirmation() {
    let b = sized("console deny list", 1920, 1080).await;
    let (app, _, desk) = spawn_staffed().await;
    choose_language(&app, &desk, "en").await;
    b.log_in_as(&app, DESK, "#register").await;
    b.click("nav a[href='/desk/deny-list']").await;
    b.type_in("#deny [name=name]", "钱大宝").await;
    b.type_in("#deny [name=reason]", "theft").await;
    b.click("#deny button").await;
    b.wait_text(".result.ok", "Added to the deny list").await;
    let row = b.wait_text("#denials tr[data-denial]", "钱*宝").await;
    assert!(row.contains("theft") && !row.contains("钱大宝"), "{row}");
    assert!(b.client.find(Locator::Css(".undeny")).await.is_err());

    b.log_in_as(&app, MANAGER, "#register").await;
    b.go(&app, "/desk/deny-list").await;
    b.click("#denials .undeny button").await;
    let ask = b.text("dialog#confirm[open] #confirm-text").await;
    assert!(ask.contains("钱*宝"), "{ask}");
    b.click("#confirm-yes").await;
    b.wait_text(".result.ok, #flash.ok", "已移除").await;
    let list: Value = app.get_json("/api/v1/deny-list", Some(&desk)).await;
    assert_eq!(list, json!([]));
    let _ = b.client.clone().close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn the_today_page_counts_what_the_desk_watches_and_each_number_opens_its_list() {
    let b = sized("console today", 1366, 768).await;
    let (app, admin, desk) = spawn_staffed().await;
    crate::muster::visitor(&app, &desk).await;
    crate::muster::entrance_gate(&app, &admin).await;
    let id = crate::desk::renovation(&app, &desk).await;
    crate::desk::worker_card(&app, &desk, id, "110105194912310021").await;
    b.log_in_as(&app, DESK, "#register").await;
    b.go(&app, "/").await;
    assert_eq!(b.text("nav a.current").await, "今日");
    assert!(b.text("#visitors").await.starts_with('1'));
    assert!(b.text("#cards-out").await.starts_with('1'));
    assert!(b.text("#doors-offline").await.starts_with('1'));
    assert!(b.text("#open-alarms").await.starts_with('0'));
    b.shot("console-today-zh-1366").await;
    b.click("#visitors").await;
    b.wait_for("#on-site").await;
    assert_eq!(b.path().await, "/desk/visitors");
    let _ = b.client.clone().close().await;
}
