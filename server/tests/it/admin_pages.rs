//! The desk's pages in headless Chromium: every page as every role, in both languages, at a
//! desk PC's 1366×768 and at 1920×1080 (the link and the page for a role the route admits,
//! neither for one it refuses, labels in the page's language alone, and nothing wider than
//! the window); a guard choosing English for good; then each
//! page's work done as a clerk or manager would: an invite read out and printed, visitor
//! history searched, alarms acknowledged all at once, a role changed, a gate added and
//! enrolled from the QR code the page shows, the audit log verified, the signing keys'
//! fingerprints, a CSV export refused and downloaded.

use crate::app::{TestApp, spawn_managed, spawn_staffed};
use crate::browser::{Browser, DESK, GUARD, MANAGER, choose_language, sized};
use crate::desk::{redeem, seed_unit, today};
use crate::emergency::report_alarm;
use fantoccini::Locator;
use serde_json::{Value, json};

/// Each new page: path, an element only the page itself has, the roles that may open it.
const PAGES: &[(&str, &str, &[&str])] = &[
    ("/desk/invites", "#new-invite", &["admin", "desk1"]),
    (
        "/desk/visitors/history",
        "#history-search",
        &["admin", "desk1"],
    ),
    (
        "/desk/alarms",
        "#alarm-filter",
        &["admin", "desk1", "guard1"],
    ),
    ("/desk/exports", "#export-visitors", &["admin", "desk1"]),
    ("/desk/staff", "#staff .role", &["admin"]),
    ("/desk/devices", "#new-device", &["admin"]),
    ("/desk/audit", "#audit-filter", &["admin"]),
    ("/desk/signing-keys", "#signing-keys", &["admin"]),
];

/// The guard's account, made by the manager.
async fn guard(app: &TestApp, admin: &str) -> String {
    app.add_staff(admin, GUARD.0, "guard", GUARD.1).await;
    app.login(GUARD.0, GUARD.1).await
}

impl Browser {
    /// Logs in through the log-in page as `who` and waits for the first page.
    pub(crate) async fn enter_as(&self, app: &TestApp, who: (&str, &str)) {
        self.go(app, "/login").await;
        self.log_in(who.0, who.1, None).await;
        // A guard lands on the guard page, which has no navigation; staff on the desk's.
        self.until(
            "the first page after logging in",
            "return location.pathname!=='/login'&&!!document.getElementById('flash');",
        )
        .await;
    }

    /// Opens `path` of `app` and waits until the page's scripts ran.
    pub(crate) async fn open_page(&self, app: &TestApp, path: &str) {
        self.go(app, path).await;
        self.wait_for("#flash").await;
    }

    /// Whether the page is wider than the window (a sideways scroll bar).
    pub(crate) async fn overflows_window(&self) -> bool {
        self.js("return document.documentElement.scrollWidth>window.innerWidth;")
            .await
            .as_bool()
            .unwrap()
    }

    /// Whether `css` matches anything now.
    pub(crate) async fn has_element(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// The text of the QR code in the image `css`, read from the screen by a decoder of
    /// its own (rqrr), once the image has loaded.
    async fn qr_text_of(&self, css: &str) -> String {
        self.until(
            "the QR code to load",
            &format!(
                "const i=document.querySelector('{css}');return !!i&&i.complete&&i.naturalWidth>0;"
            ),
        )
        .await;
        let png = self.wait_for(css).await.screenshot().await.unwrap();
        let luma = image::load_from_memory(&png).unwrap().to_luma8();
        let mut prepared = rqrr::PreparedImage::prepare(luma);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code in {css}");
        grids[0].decode().unwrap().1
    }

    /// Answers the confirmation dialog (after checking what it asks) with "yes".
    pub(crate) async fn confirm_naming(&self, must_name: &[&str]) {
        let ask = self.text("dialog#confirm[open] #confirm-text").await;
        for name in must_name {
            assert!(ask.contains(name), "the question names {name}: {ask}");
        }
        self.click("#confirm-yes").await;
    }
}

/// Labels in the other language than the page's (in Chinese a run of lower-case Latin letters,
/// in English a Chinese character): headings, table heads, labels,
/// buttons, links, placeholders; data (names, codes, units) is left out of the check.
const OTHER_LANGUAGE_LABELS: &str = r#"
const zh=document.documentElement.lang!=='en',bad=[];
const own=e=>[...e.childNodes].filter(n=>n.nodeType===3).map(n=>n.textContent).join(' ').trim();
for(const e of document.querySelectorAll('h1,h2,h3,th,label,button,legend,summary,nav a,nav .nav-label,input[placeholder]')){
 if(e.id==='lang-switch')continue;const t=e.tagName==='INPUT'?e.placeholder:own(e);
 if(zh?/[a-z]{3,}/.test(t):/[\u4e00-\u9fff]/.test(t))bad.push(e.tagName+(e.id?'#'+e.id:'')+': '+t);}
return bad;"#;

/// A page of the matrix: its path, an element only it has, the accounts that may open it,
/// and the navigation link that leads to it (none for a page reached from a list).
pub(crate) struct MatrixPage {
    /// The page's path.
    pub path: String,
    /// An element only this page has.
    pub key: &'static str,
    /// The usernames that may open it.
    pub admitted: &'static [&'static str],
    /// The navigation link that leads to it.
    pub link: Option<&'static str>,
}

/// Opens every page as every account, in Chinese and English, at 1366×768 and 1920×1080: the
/// link and the page for an account the route admits, neither for one it refuses (403), the
/// right language alone in the labels, nothing wider than the window. One browser per size,
/// one session per account.
pub(crate) async fn open_each_page(
    app: &TestApp,
    accounts: &[((&str, &str), String)],
    pages: &[MatrixPage],
    test: &str,
) {
    // What fails the page's look, gathered so one run names every case.
    let mut faults = Vec::new();
    for (width, height) in [(1366, 768), (1920, 1080)] {
        let b = sized(test, width, height).await;
        for (account, token) in accounts {
            let account = *account;
            b.enter_as(app, account).await;
            for lang in ["zh", "en"] {
                choose_language(app, token, lang).await;
                for page in pages {
                    let path = page.path.as_str();
                    let may = page.admitted.contains(&account.0);
                    let case = format!("{path} as {} in {lang} at {width}×{height}", account.0);
                    b.open_page(app, "/").await;
                    if let Some(link) = page.link {
                        let link = format!("nav a[href='{link}']");
                        assert_eq!(b.has_element(&link).await, may, "the link to {case}");
                        if may && page.link == Some(path) {
                            b.click(&link).await;
                        }
                    }
                    let r = app.get(path, Some(token)).await;
                    let (status, landed) = (r.status(), r.url().path().to_owned());
                    if !may {
                        // Refused, or sent to the account's own page.
                        assert!(status == 403 || landed != path, "{case} is refused");
                        continue;
                    }
                    assert_eq!((status.as_u16(), landed.as_str()), (200, path), "{case}");
                    if b.path().await != path {
                        b.open_page(app, path).await;
                    }
                    b.wait_for(page.key).await;
                    assert_eq!(b.path().await, path, "{case}");
                    let html_lang = b.js("return document.documentElement.lang;").await;
                    assert_eq!(
                        html_lang,
                        json!(if lang == "zh" { "zh-CN" } else { "en" }),
                        "{case}"
                    );
                    if page.link.is_some_and(|l| l == path) {
                        let current = b.text("nav a.current").await;
                        let chinese = current
                            .chars()
                            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
                        assert_eq!(chinese, lang == "zh", "{case}: {current}");
                    }
                    if b.overflows_window().await {
                        faults.push(format!("{case} is wider than the window"));
                    }
                    let main = b.text("main").await;
                    let other = if lang == "zh" { "Search" } else { "查询" };
                    if main.contains(other) {
                        faults.push(format!("{case} says {other}"));
                    }
                    let mixed = b.js(OTHER_LANGUAGE_LABELS).await;
                    if mixed != json!([]) {
                        faults.push(format!("{case} has labels in the other language: {mixed}"));
                    }
                }
            }
            // Forget the session rather than log out: the next account logs in afresh.
            b.client.delete_all_cookies().await.unwrap();
        }
        let _ = b.client.clone().close().await;
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

/// An app with a visitor on site and an entrance gate, and each role's account with its token.
async fn matrix_app() -> (TestApp, [((&'static str, &'static str), String); 3]) {
    let (app, admin, desk) = spawn_staffed().await;
    let guard = guard(&app, &admin).await;
    crate::muster::visitor(&app, &desk).await;
    crate::muster::entrance_gate(&app, &admin).await;
    (app, [(MANAGER, admin), (DESK, desk), (GUARD, guard)])
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn each_admin_page_opens_for_the_roles_it_admits_in_both_languages_and_both_sizes() {
    let (app, accounts) = matrix_app().await;
    let pages: Vec<MatrixPage> = PAGES
        .iter()
        .map(|(path, key, admitted)| MatrixPage {
            path: (*path).to_owned(),
            key,
            admitted,
            link: Some(path),
        })
        .collect();
    open_each_page(&app, &accounts, &pages, "admin pages matrix").await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn each_desk_page_opens_for_the_roles_it_admits_in_both_languages_and_both_sizes() {
    let (app, accounts) = matrix_app().await;
    let desk = &accounts[1].1;
    let renovation = crate::desk::renovation(&app, desk).await;
    crate::desk::worker_card(&app, desk, renovation, "110105194912310021").await;
    const STAFF: &[&str] = &["admin", "desk1"];
    const ANY: &[&str] = &["admin", "desk1", "guard1"];
    let page = |path: &str, key, admitted, link| MatrixPage {
        path: path.to_owned(),
        key,
        admitted,
        link,
    };
    // A page the navigation links to by its own path.
    let linked = |path: &'static str, key, admitted| page(path, key, admitted, Some(path));
    let pages = [
        linked("/", "#today", STAFF),
        linked("/desk/renovations", "#renovations", STAFF),
        page(
            &format!("/desk/renovations/{renovation}"),
            "#refund-check",
            STAFF,
            Some("/desk/renovations"),
        ),
        linked("/desk/return", "#scan", STAFF),
        linked("/desk/visitors", "#on-site", STAFF),
        linked("/desk/visitors/history", "#history-search", STAFF),
        linked("/desk/invites", "#new-invite", STAFF),
        linked("/desk/deny-list", "#denials", STAFF),
        linked("/desk/cards/outstanding", "#outstanding", STAFF),
        linked("/desk/doors", "#doors", ANY),
        linked("/desk/alarms", "#alarm-filter", ANY),
        linked("/desk/monitor", "#monitor", ANY),
        linked("/desk/exports", "#export-visitors", STAFF),
        linked("/desk/goods", "#permits", STAFF),
        linked("/desk/keys", "#items", STAFF),
        linked("/desk/muster", "#muster", STAFF),
        page("/desk/password", "#change-password", ANY, None),
        linked("/guard", "#guard", ANY),
    ];
    open_each_page(&app, &accounts, &pages, "desk pages matrix").await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn the_navigation_groups_daily_desk_work_apart_from_the_managers_setup() {
    let b = sized("admin nav groups", 1366, 768).await;
    let (app, admin, desk) = spawn_staffed().await;
    let guard = guard(&app, &admin).await;
    let groups = |b: &Browser| {
        let client = b.client.clone();
        async move {
            client.execute(
                "return [...document.querySelectorAll('nav .nav-group')].map(g=>[g.querySelector('.nav-label').textContent,
                  [...g.querySelectorAll('a')].map(a=>a.getAttribute('href'))]);",
                vec![],
            )
            .await
            .unwrap()
        }
    };
    let labels = |seen: &Value| -> Vec<String> {
        let groups = seen.as_array().unwrap().iter();
        groups.map(|g| g[0].as_str().unwrap().to_owned()).collect()
    };
    b.enter_as(&app, MANAGER).await;
    let seen = groups(&b).await;
    assert_eq!(labels(&seen), ["前台", "访客", "安保", "管理"]);
    assert!(
        seen[3][1]
            .as_array()
            .unwrap()
            .contains(&json!("/desk/devices"))
    );
    assert!(
        seen[1][1]
            .as_array()
            .unwrap()
            .contains(&json!("/desk/invites"))
    );
    assert!(!b.overflows_window().await);
    b.shot("admin-nav-manager-zh-1366").await;

    choose_language(&app, &desk, "en").await;
    b.enter_as(&app, DESK).await;
    let seen = groups(&b).await;
    assert_eq!(
        labels(&seen),
        ["Desk", "Visitors", "Security"],
        "no Manage group for a clerk"
    );

    b.enter_as(&app, GUARD).await;
    b.open_page(&app, "/").await;
    for path in ["/desk/audit", "/desk/invites", "/desk/devices"] {
        let link = format!("a[href='{path}']");
        assert!(!b.has_element(&link).await, "a guard has no link to {path}");
    }
    drop(guard);
    let _ = b.client.clone().close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn a_clerk_makes_an_invite_reads_its_code_sees_its_qr_and_finds_the_visitor_in_history() {
    let b = sized("admin invites", 1366, 768).await;
    let (app, admin, desk) = spawn_staffed().await;
    seed_unit(&app).await;
    b.enter_as(&app, DESK).await;
    b.open_page(&app, "/desk/invites").await;
    b.type_in("#new-invite [name=name]", "钱多多").await;
    b.type_in("#new-invite [name=purpose]", "晚饭").await;
    b.click("#new-invite button[type=submit]").await;
    b.wait_text(".result.ok, #flash.ok", "邀请码已生成").await;
    let list: Value = app.get_json("/api/v1/invites", Some(&desk)).await;
    let code = list[0]["code"].as_str().unwrap().to_owned();
    b.wait_for("#print-invite:not([hidden])").await;
    assert_eq!(b.text("#print-invite .code").await, code);
    assert_eq!(b.text("#print-invite .holder").await, "钱*多");
    assert_eq!(
        b.qr_text_of("#print-invite .qr").await,
        code,
        "the QR holds the code"
    );
    assert!(b.has_element("#print-invite-button").await);
    let row = b
        .wait_text(&format!("#invites tr[data-invite='{code}']"), "待使用")
        .await;
    assert!(row.contains("钱*多") && !row.contains("钱多多"), "{row}");
    b.shot("admin-invite-zh-1366").await;

    // The kiosk redeems it; the history finds the visitor, masked.
    let (_, kiosk) = crate::platform::enrol_device(&app, &admin, "kiosk").await;
    let r = redeem(&app, &kiosk, &code).await;
    assert_eq!(r.status(), 200);
    b.open_page(&app, "/desk/invites").await;
    b.wait_text(&format!("#invites tr[data-invite='{code}']"), "已使用")
        .await;
    b.open_page(&app, "/desk/visitors/history").await;
    b.type_in("#history-search [name=q]", "钱多\u{E007}").await;
    let row = b
        .wait_text("#visit-history tr[data-visitor]", "钱*多")
        .await;
    assert!(row.contains("晚饭") && row.contains("2-1203"), "{row}");
    assert!(b.text("#visit-count").await.starts_with('1'));

    // A range that ends before it starts is said beside the form, in the clerk's language.
    let t = today();
    b.open_page(
        &app,
        &format!(
            "/desk/visitors/history?from={t}&to={}",
            t - chrono::Days::new(1)
        ),
    )
    .await;
    b.wait_text(".result.err", "日期范围有误").await;
    let _ = b.client.clone().close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn the_desk_acknowledges_every_alarm_at_once_after_a_confirmation_and_filters_the_history() {
    let b = sized("admin alarms", 1366, 768).await;
    let (app, admin, desk) = spawn_staffed().await;
    let (_, kiosk) = crate::platform::enrol_device(&app, &admin, "kiosk").await;
    let (_, gate) = crate::platform::enrol_device(&app, &admin, "gate").await;
    for (device, kind) in [
        (&kiosk, "paper_out"),
        (&gate, "door_held_open"),
        (&gate, "door_forced"),
    ] {
        report_alarm(&app, device, kind, true).await;
    }
    choose_language(&app, &desk, "en").await;
    b.enter_as(&app, DESK).await;
    b.open_page(&app, "/desk/alarms").await;
    b.wait_text("#unseen-alarms", "Door forced open").await;
    assert_eq!(
        b.js("return document.querySelectorAll('#unseen-alarms tr[data-alarm]').length;")
            .await,
        json!(3)
    );
    b.shot("admin-alarms-en-1366").await;
    b.click("#acknowledge-all button").await;
    b.confirm_naming(&["3"]).await;
    b.wait_text(".result.ok, #flash.ok", "All acknowledged")
        .await;
    b.until(
        "the unseen list to empty",
        "return document.querySelectorAll('#unseen-alarms tr[data-alarm]').length===0;",
    )
    .await;
    let open: Value = app.get_json("/api/v1/alarms", Some(&desk)).await;
    assert!(
        open.as_array()
            .unwrap()
            .iter()
            .all(|a| a["acknowledged_by"] == "desk1"),
        "{open}"
    );
    // Still there, now as seen with the cause lasting; the history filters by kind.
    b.wait_text("#lasting-alarms", "Printer out of paper").await;
    b.js("const s=document.querySelector('#alarm-filter [name=kind]');s.value='door_forced';")
        .await;
    b.click("#alarm-filter button[type=submit]").await;
    b.until(
        "the history to show one kind",
        "return location.search.includes('kind=door_forced')&&document.querySelectorAll('#alarm-history tr[data-alarm]').length===1;",
    )
    .await;
    assert!(b.text("#alarm-history").await.contains("Door forced open"));
    let _ = b.client.clone().close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn a_manager_adds_a_gate_enrols_it_from_the_qr_renames_it_retires_it_and_changes_a_role() {
    let b = sized("admin devices", 1920, 1080).await;
    let (app, admin, desk) = spawn_staffed().await;
    b.enter_as(&app, MANAGER).await;
    b.open_page(&app, "/desk/devices").await;
    b.type_in("#new-device [name=name]", "2号楼大堂闸机").await;
    b.type_in("#new-device [name=zone_building]", "2").await;
    b.js("document.querySelector('#new-device [name=zone_class]').value='entrance';")
        .await;
    b.click("#new-device button[type=submit]").await;
    let token = b.wait_for("#enrolment:not([hidden]) .token").await;
    let token = token.text().await.unwrap();
    assert!(token.len() >= 20, "{token}");
    let scanned = b.qr_text_of("#enrolment .qr").await;
    assert_eq!(scanned, token, "the QR code holds the token shown");
    b.shot("admin-device-enrolment-zh-1920").await;
    let list: Value = app.get_json("/api/v1/devices", Some(&admin)).await;
    assert_eq!(
        list[0]["zone"],
        json!({"building": 2, "class": "entrance", "floor": null})
    );
    // The gate enrols with what the installer read off the screen.
    let r = app
        .post("/api/v1/devices/enrol", None, json!({"token": scanned}))
        .await;
    assert_eq!(r.status(), 200);
    let id = list[0]["device_id"].as_str().unwrap().to_owned();
    let row = format!("#devices tr[data-device='{id}']");
    b.open_page(&app, "/desk/devices").await;
    b.wait_text(&row, "已接入").await;

    b.js(&format!(
        "document.querySelector(\"{row} .rename [name=name]\").value='';"
    ))
    .await;
    b.type_in(&format!("{row} .rename [name=name]"), "2号楼南门闸机")
        .await;
    b.click(&format!("{row} .rename button")).await;
    b.wait_text(&format!("{row} td.name"), "2号楼南门闸机")
        .await;
    b.click(&format!("{row} .retire button")).await;
    b.confirm_naming(&["2号楼南门闸机"]).await;
    b.wait_text(&row, "已停用").await;
    assert!(!b.has_element(&format!("{row} .retire")).await);
    let list: Value = app.get_json("/api/v1/devices", Some(&admin)).await;
    assert_eq!(list[0]["state"], "revoked");

    // A role change asks first, says the sessions end, and takes the clerk's session.
    b.open_page(&app, "/desk/staff").await;
    let row = "#staff tr[data-staff=desk1]";
    b.js(&format!(
        "document.querySelector('{row} .role select').value='manager';"
    ))
    .await;
    b.click(&format!("{row} .role button")).await;
    b.confirm_naming(&["desk1", "经理"]).await;
    b.wait_text(".result.ok, #flash.ok", "角色已更改").await;
    assert_eq!(app.get("/api/v1/auth/me", Some(&desk)).await.status(), 401);
    let promoted = app.login(DESK.0, DESK.1).await;
    assert_eq!(
        app.get("/desk/devices", Some(&promoted)).await.status(),
        200
    );
    let _ = b.client.clone().close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn a_manager_reads_the_audit_log_verified_the_key_fingerprints_and_downloads_an_export() {
    let b = sized("admin audit", 1366, 768).await;
    let (app, admin) = spawn_managed().await;
    let _desk = app.desk(&admin).await;
    crate::muster::entrance_gate(&app, &admin).await;
    b.enter_as(&app, MANAGER).await;
    b.open_page(&app, "/desk/audit").await;
    let verdict = b.wait_text("#audit-verify[data-state]", "完整").await;
    let entries: Value = app.get_json("/api/v1/audit/verify", Some(&admin)).await;
    assert!(
        verdict.contains(&entries["entries"].to_string()),
        "{verdict} / {entries}"
    );
    assert!(b.text("#audit").await.contains("添加设备"));
    b.js("document.querySelector('#audit-filter [name=action]').value='staff.';")
        .await;
    b.click("#audit-filter button[type=submit]").await;
    b.until(
        "the staff entries alone",
        "return location.search.includes('action=staff.')&&[...document.querySelectorAll('#audit tr[data-seq] code')].length>0;",
    )
    .await;
    let table = b.text("#audit").await;
    assert!(
        table.contains("新建账号") && !table.contains("添加设备"),
        "{table}"
    );

    b.open_page(&app, "/desk/signing-keys").await;
    let key = &app.published_keys()[0];
    let fingerprint = gatehouse_server::keys::fingerprint(&key.public_key);
    let row = b
        .wait_text("#signing-keys tr[data-state=active]", &fingerprint)
        .await;
    assert!(row.contains("使用中"), "{row}");
    assert!(b.text("#rotation-steps").await.contains("keys activate ID"));
    b.shot("admin-signing-keys-zh-1366").await;

    b.open_page(&app, "/desk/exports").await;
    let t = today();
    b.js(&format!(
        "const f=document.getElementById('export-visitors');f.elements.from.value='{t}';f.elements.to.value='{}';",
        t - chrono::Days::new(1)
    ))
    .await;
    b.click("#export-visitors button").await;
    b.wait_text(".result.err", "日期范围有误").await;
    b.js(&format!(
        "document.getElementById('export-visitors').elements.to.value='{t}';"
    ))
    .await;
    b.click("#export-visitors button").await;
    b.wait_text(".result.ok", &format!("visitors-{t}-{t}.csv"))
        .await;
    let _ = b.client.clone().close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn a_guard_switches_the_pages_to_english_and_finds_them_so_at_the_next_login() {
    let b = sized("guard language", 1366, 768).await;
    let (app, admin) = spawn_managed().await;
    guard(&app, &admin).await;
    b.enter_as(&app, GUARD).await;
    assert_eq!(b.path().await, "/guard");
    b.wait_text("main h1", "物品放行").await;
    assert_eq!(b.text("#lang-switch").await, "English");
    b.click("#lang-switch").await;
    b.wait_text("main h1", "Goods release").await;
    assert_eq!(
        b.js("return document.documentElement.lang;").await,
        json!("en")
    );
    assert!(
        b.text("#guard-waiting").await.starts_with("Waiting"),
        "the page speaks English"
    );
    b.click("#logout").await;
    b.until("the log-in page", "return location.pathname==='/login';")
        .await;
    b.enter_as(&app, GUARD).await;
    b.wait_text("main h1", "Goods release").await;
    assert_eq!(b.text("#lang-switch").await, "中文");
    let _ = b.client.clone().close().await;
}
