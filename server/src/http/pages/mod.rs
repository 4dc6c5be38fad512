//! The front-desk web pages: server-rendered with maud (escaped by default), in one language
//! at a time (Chinese unless the staff member chose English, see [`Viewer`]), every time in
//! the estate's time zone. CSS and script are in the binary (no CDN), served as
//! `/static/desk.css` and `/static/desk.js` because the pages' content security policy allows
//! no inline style or script. Forms post JSON to the `/api/v1` endpoints with the session
//! cookie, so the pages add no second way to change state. Names, IDs and phones are masked.
//!
//! One file per page; this one holds the shell every page shares (navigation, the emergency
//! bar, alarms, the result toast) and the script that runs the forms.

mod alarms;
mod audit_log;
mod card_print;
mod deny_list;
mod devices;
mod doors;
mod errors;
mod estate_setup;
mod exports;
pub mod goods;
pub mod guard;
pub mod handover;
mod invites;
pub mod keys;
mod login;
mod monitor;
mod outstanding;
mod password;
mod renovations;
mod return_cards;
mod signing_keys;
mod staff;
mod today;
mod visitor_history;
mod visitors;

pub use card_print::QrQuery;
pub use outstanding::outstanding_to_csv;

use super::Endpoint;
use super::act;
use super::error::ApiError;
use super::extract::ApiJson;
use super::openapi::{Io, one};
use crate::auth::{Actor, ActorKind, Allow, Role};
use crate::domain::estate;
use crate::domain::language::{self, Lang};
use crate::state::AppState;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/login", get(login::login))
            .allow(Allow::ANYONE)
            .doc("pages", "Front-desk log-in page"),
        Endpoint::new(Method::GET, "/", get(today::today_page))
            .allow(Allow::ANY_STAFF)
            .doc("pages", "Page: today's numbers, each a link to its list"),
        Endpoint::new(
            Method::GET,
            "/desk/renovations",
            get(renovations::renovations),
        )
        .allow(Allow::STAFF)
        .doc("pages", "Page: renovations and registration"),
        Endpoint::new(
            Method::GET,
            "/desk/renovations/{id}",
            get(renovations::renovation_page),
        )
        .allow(Allow::STAFF)
        .doc(
            "pages",
            "Page: one renovation with workers, cards, ledger and refund checklist",
        ),
        Endpoint::new(Method::GET, "/desk/return", get(return_cards::return_page))
            .allow(Allow::STAFF)
            .doc("pages", "Page: scan-to-return field for the desk scanner"),
        Endpoint::new(Method::GET, "/desk/visitors", get(visitors::visitors_page))
            .allow(Allow::STAFF)
            .doc("pages", "Page: visitors on site"),
        Endpoint::new(
            Method::GET,
            "/desk/cards/outstanding",
            get(outstanding::outstanding_page),
        )
        .allow(Allow::STAFF)
        .doc("pages", "Page: outstanding and overdue worker cards"),
        Endpoint::new(
            Method::GET,
            "/desk/cards/outstanding.csv",
            get(outstanding::outstanding_csv),
        )
        .allow(Allow::STAFF)
        .doc("pages", "CSV export of outstanding worker cards"),
        Endpoint::new(Method::GET, "/static/desk.css", get(desk_css))
            .allow(Allow::ANYONE)
            .doc("pages", "The front-desk pages' style sheet"),
        Endpoint::new(Method::GET, "/static/desk.js", get(desk_js))
            .allow(Allow::ANYONE)
            .doc("pages", "The front-desk pages' script"),
        Endpoint::new(Method::GET, "/desk/password", get(password::password_page))
            .allow(Allow::ANY_STAFF)
            .doc("pages", "Page: change one's own password"),
        Endpoint::new(Method::PUT, "/api/v1/auth/language", put(set_language))
            .allow(Allow::ANY_STAFF)
            .doc(
                "auth",
                "Remember the language the logged-in staff member reads the pages in",
            )
            .io(Io::NO_CONTENT.body(one::<LanguageChoice>)),
        Endpoint::new(Method::GET, "/desk/staff", get(staff::staff_page))
            .allow(Allow::MANAGER)
            .doc(
                "pages",
                "Page: staff accounts (create, reset a password, disable)",
            ),
        Endpoint::new(Method::GET, "/desk/qr.svg", get(card_print::qr_svg))
            .allow(Allow::STAFF)
            .doc(
                "pages",
                "The QR code of a card's text as SVG, for the card the desk prints",
            ),
        Endpoint::new(Method::GET, "/desk/doors", get(doors::doors_page))
            .allow(Allow::ANY_STAFF)
            .doc(
                "pages",
                "Page: every gate, online or not, its sync lag, relay, door, fire input and alarms; unlock, lockdown and evacuation",
            ),
        Endpoint::new(
            Method::GET,
            "/desk/deny-list",
            get(deny_list::deny_list_page),
        )
        .allow(Allow::STAFF)
        .doc(
            "pages",
            "Page: the visitor deny list (add; a manager removes)",
        ),
        Endpoint::new(Method::GET, "/desk/invites", get(invites::invites_page))
            .allow(Allow::STAFF)
            .doc(
                "pages",
                "Page: visitor invites (make one, read out or print its code and QR)",
            ),
        Endpoint::new(
            Method::GET,
            "/desk/visitors/history",
            get(visitor_history::history_page),
        )
        .allow(Allow::STAFF)
        .doc(
            "pages",
            "Page: visitor history, searched by name, unit, host or purpose over dates",
        ),
        Endpoint::new(Method::GET, "/desk/alarms", get(alarms::alarms_page))
            .allow(Allow::ANY_STAFF)
            .doc(
                "pages",
                "Page: alarms not yet seen, seen but lasting, and their history",
            ),
        Endpoint::new(Method::GET, "/desk/devices", get(devices::devices_page))
            .allow(Allow::MANAGER)
            .doc(
                "pages",
                "Page: gates and kiosks (add with an enrolment QR, rename, retire)",
            ),
        Endpoint::new(
            Method::POST,
            "/desk/qr.svg",
            post(card_print::qr_svg_of_body),
        )
        .allow(Allow::MANAGER)
        .doc(
            "pages",
            "The QR code of a secret sent in the body (an enrolment token) as SVG",
        ),
        Endpoint::new(Method::GET, "/desk/audit", get(audit_log::audit_page))
            .allow(Allow::MANAGER)
            .doc(
                "pages",
                "Page: the audit log with filters and its chain verification",
            ),
        Endpoint::new(
            Method::GET,
            "/desk/signing-keys",
            get(signing_keys::signing_keys_page),
        )
        .allow(Allow::MANAGER)
        .doc(
            "pages",
            "Page: credential signing keys, their state and fingerprints",
        ),
        Endpoint::new(Method::GET, "/desk/exports", get(exports::exports_page))
            .allow(Allow::STAFF)
            .doc(
                "pages",
                "Page: CSV exports of events, visitors, cards and deposits over dates",
            ),
        Endpoint::new(Method::GET, "/desk/estate", get(estate_setup::estate_page))
            .allow(Allow::MANAGER)
            .doc(
                "pages",
                "Page: estate setup (time zone, buildings, units, zones, schedules, blackout dates)",
            ),
        Endpoint::new(Method::GET, "/desk/monitor", get(monitor::monitor_page))
            .allow(Allow::ANY_STAFF)
            .doc("pages", "Page: live gate decisions and alarms, by door"),
    ]
}

/// The pages' style sheet.
async fn desk_css() -> impl IntoResponse {
    static SHEET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sheet = SHEET.get_or_init(|| {
        [
            CSS,
            card_print::CSS,
            today::CSS,
            doors::CSS,
            super::emergency::CSS,
            super::muster::PRINT_CSS,
            goods::CSS,
            guard::CSS,
            keys::CSS,
            invites::CSS,
            devices::CSS,
            audit_log::CSS,
            monitor::CSS,
            estate_setup::CSS,
        ]
        .concat()
    });
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        sheet.as_str(),
    )
}

/// The pages' script: the language, time and error words and the form code every page uses,
/// then each page's own part, which acts only when its page's elements are present.
async fn desk_js() -> impl IntoResponse {
    static JS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let js = JS.get_or_init(|| {
        [
            &errors::script(),
            SCRIPT,
            ALARMS_SCRIPT,
            login::SCRIPT,
            return_cards::SCRIPT,
            card_print::SCRIPT,
            MUSTER_SCRIPT,
            goods::SCRIPT,
            guard::SCRIPT,
            keys::SCRIPT,
            estate_setup::SCRIPT,
            invites::SCRIPT,
            devices::SCRIPT,
            audit_log::SCRIPT,
            exports::SCRIPT,
            monitor::SCRIPT,
            // Last: it wires the emergency bar, on the pages that have one.
            super::emergency::SCRIPT,
        ]
        .concat()
    });
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        js.as_str(),
    )
}

/// `PUT /api/v1/auth/language` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LanguageChoice {
    /// `zh` (the default) or `en`.
    pub language: Lang,
}

/// Remembers the language the logged-in staff member reads the pages in.
async fn set_language(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<LanguageChoice>,
) -> Result<StatusCode, ApiError> {
    let Some(staff) = actor.staff().cloned() else {
        return Err(ApiError::Forbidden("only staff choose a language".into()));
    };
    act::call(&state, move |c| {
        language::set_for_staff(c, staff.id, body.language)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who is looking at a page, in which language and time zone, and at which path.
pub struct Viewer {
    /// The caller (anonymous on the log-in page).
    pub actor: Actor,
    /// Which links and actions the page offers (the caller's kind).
    pub kind: ActorKind,
    /// The language the page is written in.
    pub lang: Lang,
    /// The estate's time zone.
    pub tz: Tz,
    /// The page's path, for highlighting its navigation link.
    path: String,
    /// Whether the estate is in lockdown (every page says so while it lasts).
    lockdown: bool,
}

/// `?lang=` on a page seen before log-in.
#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let actor = parts
            .extensions
            .get::<Actor>()
            .cloned()
            .unwrap_or(Actor::Anonymous);
        let asked = axum::extract::Query::<LangQuery>::try_from_uri(&parts.uri)
            .ok()
            .and_then(|q| q.0.lang.as_deref().and_then(Lang::parse));
        let staff_id = actor.staff().map(|s| s.id);
        let (stored, tz, lockdown) = state
            .db
            .call(move |c| {
                let lang = match staff_id {
                    Some(id) => Some(language::of_staff(c, id)?),
                    None => None,
                };
                Ok::<_, ApiError>((lang, estate::time_zone(c)?, estate::lockdown(c)?))
            })
            .await?;
        Ok(Viewer {
            kind: actor.kind(),
            actor,
            lang: stored.or(asked).unwrap_or_default(),
            tz,
            path: parts.uri.path().to_owned(),
            lockdown,
        })
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A date in the language's format: `2026年3月5日` or `5 Mar 2026`.
pub fn date_in(lang: Lang, d: NaiveDate) -> String {
    match lang {
        Lang::Zh => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
        Lang::En => format!("{} {} {}", d.day(), MONTHS[d.month0() as usize], d.year()),
    }
}

/// A moment in `tz`, to the minute, in the language's format.
pub fn time_in(lang: Lang, tz: Tz, t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&tz);
    format!(
        "{} {}",
        date_in(lang, local.date_naive()),
        local.format("%H:%M")
    )
}

/// A sum of money in yuan with thousands separators: `¥5,000.00`.
pub fn yuan(cents: i64) -> String {
    let sign = if cents < 0 { "−" } else { "" };
    let abs = cents.unsigned_abs();
    let whole = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}¥{grouped}.{:02}", abs % 100)
}

/// A link of the navigation: path, Chinese and English words. Append a page here; its group
/// comes from [`NAV_GROUPS`], or, when no group names it, from who may open it.
const NAV: &[(&str, &str, &str)] = &[
    ("/", "今日", "Today"),
    ("/desk/renovations", "装修备案", "Renovations"),
    ("/desk/return", "扫码交卡", "Return cards"),
    ("/desk/visitors", "在场访客", "Visitors on site"),
    ("/desk/cards/outstanding", "未还卡", "Outstanding cards"),
    ("/desk/deny-list", "禁止名单", "Deny list"),
    ("/desk/doors", "门禁", "Doors"),
    ("/desk/muster", "点名", "Roll call"),
    ("/desk/goods", "物品放行", "Goods permits"),
    ("/desk/keys", "钥匙对讲机", "Keys and radios"),
    ("/guard", "门岗放行", "Guard"),
    ("/desk/staff", "员工账号", "Staff"),
    ("/desk/invites", "访客邀请", "Invites"),
    ("/desk/visitors/history", "访客记录", "Visitor history"),
    ("/desk/alarms", "告警", "Alarms"),
    ("/desk/exports", "导出", "Exports"),
    ("/desk/devices", "设备", "Devices"),
    ("/desk/audit", "审计日志", "Audit log"),
    ("/desk/signing-keys", "签名密钥", "Signing keys"),
    ("/desk/estate", "园区设置", "Estate setup"),
    ("/desk/monitor", "实时监控", "Live monitor"),
];

/// A group of the navigation: Chinese and English name, and the paths it holds in order.
type NavGroup = (&'static str, &'static str, &'static [&'static str]);

/// The navigation's groups: the desk's daily work first, then visitors, then doors and
/// security, then the manager's setup. A page of [`NAV`] no group names joins the first
/// group if the front desk may open it, else the last.
const NAV_GROUPS: &[NavGroup] = &[
    (
        "前台",
        "Desk",
        &[
            "/",
            "/desk/renovations",
            "/desk/return",
            "/desk/cards/outstanding",
            "/desk/goods",
            "/desk/keys",
            "/desk/exports",
        ],
    ),
    (
        "访客",
        "Visitors",
        &[
            "/desk/visitors",
            "/desk/invites",
            "/desk/visitors/history",
            "/desk/deny-list",
        ],
    ),
    (
        "安保",
        "Security",
        &[
            "/desk/doors",
            "/desk/monitor",
            "/desk/alarms",
            "/desk/muster",
            "/guard",
        ],
    ),
    (
        "管理",
        "Manage",
        &[
            "/desk/staff",
            "/desk/devices",
            "/desk/audit",
            "/desk/signing-keys",
        ],
    ),
];

/// The index in [`NAV_GROUPS`] of the group `href` belongs to.
fn nav_group_of(href: &str) -> usize {
    NAV_GROUPS
        .iter()
        .position(|(.., paths)| paths.contains(&href))
        .unwrap_or_else(|| {
            let desk = allow_of(&Method::GET, href).is_some_and(|a| a.admits(ActorKind::Desk));
            if desk { 0 } else { NAV_GROUPS.len() - 1 }
        })
}

/// Who may call `method path`, from the routes' declarations (read once).
fn allow_of(method: &Method, path: &str) -> Option<Allow> {
    static TABLE: std::sync::OnceLock<Vec<(Method, &'static str, Allow)>> =
        std::sync::OnceLock::new();
    TABLE
        .get_or_init(|| {
            super::routes()
                .map(|routes| {
                    routes
                        .into_iter()
                        .map(|r| (r.method, r.path, r.allow))
                        .collect()
                })
                .unwrap_or_default()
        })
        .iter()
        .find(|(m, p, _)| m == method && *p == path)
        .map(|(.., a)| *a)
}

impl Viewer {
    /// The text for the page's language out of a pair.
    pub fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(zh, en)
    }

    /// A moment, local and to the minute.
    pub fn time(&self, t: DateTime<Utc>) -> String {
        time_in(self.lang, self.tz, t)
    }

    /// A date in the language's format.
    pub fn date(&self, d: NaiveDate) -> String {
        date_in(self.lang, d)
    }

    /// Whether the viewer may call `method path` (the route's declared callers decide).
    pub fn may(&self, method: &Method, path: &str) -> bool {
        allow_of(method, path).is_some_and(|a| a.admits(self.kind))
    }

    /// The role in words.
    pub fn role_words(&self, role: Role) -> &'static str {
        match role {
            Role::Manager => self.t("经理", "Manager"),
            Role::Desk => self.t("前台", "Front desk"),
            Role::Guard => self.t("门岗", "Guard"),
        }
    }

    /// A refused look-up (a bad date range, say) in words, for beside the form that asked.
    pub fn refusal(&self, e: &crate::domain::desk_error::DeskError) -> Markup {
        use crate::domain::desk_error::DeskError;
        let code = match e {
            DeskError::Invalid { code, .. } | DeskError::Conflict { code, .. } => Some(*code),
            _ => None,
        };
        let words = code.and_then(|c| errors::words(self.lang, c));
        html! {
            div.result.err role="status" {
                @match words {
                    Some(words) => (words),
                    None => {
                        (self.t("无法查询", "The search failed"))
                        // The error's own words are English: only for an English reader.
                        @let why = e.to_string();
                        @if self.lang == Lang::En && !why.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) {
                            small { (why) }
                        }
                    }
                }
            }
        }
    }

    /// A page: navigation with the logged-in user, the emergency bar, alarms, then `body`.
    pub fn page(&self, title: &str, body: Markup) -> Markup {
        html! {
            (DOCTYPE)
            html lang=(self.lang.html_tag()) data-tz=(self.tz.name()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " — Gatehouse " (self.t("物业前台", "front desk")) }
                    link rel="stylesheet" href="/static/desk.css";
                }
                body {
                    (self.nav())
                    @if self.may(&Method::GET, "/api/v1/emergency") {
                        (super::emergency::desk_bar(self.lang))
                    }
                    @if self.lockdown {
                        a #lockdown-banner href="/desk/doors" { "⚠ " (self.t("全区封锁中", "Estate lockdown is on")) }
                    }
                    div #alarms {}
                    main {
                        h1 { (title) }
                        (body)
                    }
                    div #flash role="status" aria-live="polite" {}
                    script src="/static/desk.js" {}
                }
            }
        }
    }

    fn nav(&self) -> Markup {
        let current = NAV
            .iter()
            .filter(|(href, ..)| self.path == *href || self.path.starts_with(&format!("{href}/")))
            .map(|(href, ..)| href.len())
            .max();
        let mut groups: Vec<Vec<&(&str, &str, &str)>> = vec![Vec::new(); NAV_GROUPS.len()];
        // A guard's home is the guard page (the today page sends them there): no link to it.
        let home_elsewhere = |href: &str| href == "/" && self.kind == ActorKind::Guard;
        for link in NAV
            .iter()
            .filter(|(href, ..)| self.may(&Method::GET, href) && !home_elsewhere(href))
        {
            groups[nav_group_of(link.0)].push(link);
        }
        // Within a group, the order the group names; pages it does not name come after.
        for (links, (.., order)) in groups.iter_mut().zip(NAV_GROUPS) {
            links.sort_by_key(|(href, ..)| {
                order.iter().position(|p| p == href).unwrap_or(usize::MAX)
            });
        }
        html! {
            nav {
                @for ((zh, en, _), links) in NAV_GROUPS.iter().zip(&groups) {
                    @if !links.is_empty() {
                        div.nav-group role="group" aria-label=(self.t(zh, en)) {
                            span.nav-label aria-hidden="true" { (self.t(zh, en)) }
                            @for (href, zh, en) in links {
                                @if current == Some(href.len()) && self.path.starts_with(href) {
                                    a.current href=(href) aria-current="page" { (self.t(zh, en)) }
                                } @else {
                                    a href=(href) { (self.t(zh, en)) }
                                }
                            }
                        }
                    }
                }
                span #who {
                    @if let Some(staff) = self.actor.staff() {
                        span #user { (staff.username) " · " (self.role_words(staff.role)) }
                        button #lang-switch type="button" data-lang=(self.lang.other().as_str()) {
                            (self.lang.other().pick("中文", "English"))
                        }
                        a href="/desk/password" { (self.t("修改密码", "Password")) }
                        button #logout type="button" { (self.t("退出", "Log out")) }
                    }
                }
            }
        }
    }
}

/// The roll call page's print and refresh buttons.
const MUSTER_SCRIPT: &str = r#"
{const p=document.getElementById('print-muster'),r=document.getElementById('reload-muster');
if(p)p.addEventListener('click',()=>window.print());if(r)r.addEventListener('click',()=>location.reload());}
"#;

const CSS: &str = r#"
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;background:#f4f5f7;color:#1d1d1f}
nav{background:#1f3a5f;padding:.4em 1em;display:flex;flex-wrap:wrap;align-items:center;gap:.3em 1em}
nav a{color:#fff;text-decoration:none;font-weight:600;padding:.2em .4em;border-radius:4px}
nav .nav-group{display:flex;flex-wrap:wrap;align-items:center;gap:.1em .3em;padding-right:.8em;border-right:1px solid #ffffff40}
nav .nav-label{color:#9fb6d3;font-size:.75em;font-weight:700;margin-right:.2em}
nav a.current{background:#fff;color:#1f3a5f}
#who{margin-left:auto;color:#dfe7f1;display:flex;gap:.8em;align-items:center}#who button{background:#fff;color:#1f3a5f;padding:.2em .7em}
main{padding:1em 1.5em;max-width:1100px}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;background:#fff;width:100%}td,th{border:1px solid #d0d4da;padding:.35em .6em;text-align:left}
th{background:#e8ebef}.met{color:#0a7d32;font-weight:700}.unmet{color:#b3261e;font-weight:700}
form.inline{display:flex;flex-wrap:wrap;gap:.5em;align-items:end;background:#fff;padding:.6em;border:1px solid #d0d4da}
td form.inline{border:0;padding:0;background:none;display:inline-flex}
label{display:flex;flex-direction:column;font-size:.85em}input,select,button{font-size:1em;padding:.3em}
button{background:#1f3a5f;color:#fff;border:0;border-radius:4px;padding:.45em 1em;cursor:pointer}
button:disabled{background:#9aa3ad;cursor:not-allowed}button.danger{background:#b3261e}
.result{padding:.5em .8em;margin:.3em 0;font-weight:700}.result.ok{background:#d9f5e1;color:#0a5d26}.result.err{background:#fde2e0;color:#8c1d18}
.result small{display:block;font-weight:400}
#flash{position:fixed;right:1em;bottom:1em;max-width:32em;padding:.8em 1em;display:none;font-weight:700;z-index:20;box-shadow:0 2px 8px #0004}
#flash.ok{display:block;background:#d9f5e1;color:#0a5d26}#flash.err{display:block;background:#fde2e0;color:#8c1d18}
#scan{font-size:2em;width:100%;padding:.4em;border:4px solid #9aa3ad}#scan.ready{border-color:#0a7d32;background:#f0fff4}
#scan-state{font-weight:800;font-size:1.2em;margin:.3em 0}#scan-state.ready{color:#0a7d32}#scan-state.lost{color:#b3261e}
#scan-result{font-size:2em;padding:.6em;margin-top:.6em;text-align:center;font-weight:800}
#scan-result.ok{background:#0a7d32;color:#fff}#scan-result.err{background:#b3261e;color:#fff}#scan-result small{display:block;font-size:.6em}
.cred{font-family:monospace;word-break:break-all;background:#fff8d6;padding:.5em}
#lockdown-banner{display:block;background:#3b0a45;color:#fff;font-weight:800;padding:.5em 1em;text-decoration:none}
#alarms details{background:#8a5a00;color:#fff;padding:.35em 1em;font-weight:700}#alarms details.open-alarms{background:#b3261e}
#alarms summary{cursor:pointer;display:flex;gap:1em;align-items:center}#alarms summary span{flex:1}
#alarms .alarm{display:flex;gap:1em;align-items:center;padding:.25em 0;border-top:1px solid #fff4}
#alarms .alarm.seen{opacity:.85}#alarms button{background:#fff;color:#1d1d1f;margin-left:auto;padding:.2em .8em}
"#;

/// Shows the device alarms and overdue worker cards the desk has not yet seen (or whose cause
/// lasts) as one collapsed line at the top of every page, refreshed every 5 s because the
/// desk screen stays open all day: the newest in words and how many more, "acknowledge all",
/// and the list one click away. Device text is put in with `textContent`, never as HTML. Fire
/// alarms are left to the emergency bar above it.
const ALARMS_SCRIPT: &str = r#"
const ALARM_WORDS={paper_out:['打印机缺纸','printer out of paper'],paper_near_end:['打印纸即将用完','paper nearly used up'],
 printer_offline:['打印机离线','printer offline'],door_held_open:['门长时间未关','door held open'],door_forced:['门被强行打开','door forced open'],
 untrusted_clock:['门禁时钟不可信','gate clock not trusted'],scanner_lost:['扫码器断开','scanner disconnected'],
 worker_card_guessing:['自助取卡多次输错已锁定','kiosk worker-card collection locked after wrong attempts'],
 deny_list_check:['访客姓名与黑名单相符，请核实','visitor name matches the deny list: check who it is'],
 printer_cover_open:['打印机盖未关','printer cover open'],scanner_misconfigured:['扫码器设置丢失','scanner settings lost'],
 clock_corrected:['门禁时钟已校正','gate clock corrected'],fire_alarm:['火警','fire alarm']};
function alarmWords(k){const w=ALARM_WORDS[k];return w?T(w[0],w[1]):k;}
let alarmsOpen=false;
async function loadAlarms(){const box=document.getElementById('alarms');if(!box)return;
 let a,o;try{[a,o]=await Promise.all([fetch('/api/v1/alarms'),fetch('/api/v1/cards/overdue-alarms')]);}catch(e){return;}
 const items=[];
 if(a.ok)for(const x of await a.json()){if(x.kind==='fire_alarm')continue;
  items.push({cls:'alarm'+(x.acknowledged_at?' seen':'')+(x.cleared_at?' cleared':''),kind:x.kind,open:!x.acknowledged_at,ack:'/api/v1/alarms/'+x.id+'/acknowledge',
   text:'⚠ '+alarmWords(x.kind)+' — '+x.device_name+' · '+fmtTime(x.raised_at)+(x.repeats>1?' ×'+x.repeats:'')+(x.detail?' · '+x.detail:'')+
    (x.cleared_at?' ('+T('已恢复','resolved')+')':'')+(x.acknowledged_by?' ('+T('已知','seen')+': '+x.acknowledged_by+')':'')});}
 if(o.ok)for(const x of await o.json())items.push({cls:'alarm overdue',kind:'card_overdue',open:true,ack:'/api/v1/cards/'+x.card_id+'/overdue/acknowledge',card:x.card_id,
   text:'⚠ '+T('逾期未还卡','card overdue')+' — #'+x.card_id+' '+x.holder_masked+' · '+x.renovation_code+' '+x.unit_label+' · '+T('完工','ended')+' '+fmtDate(x.renovation_end)+
    ' · '+(x.contractor||'')+' '+(x.contact_phone||'')});
 box.replaceChildren();if(!items.length)return;
 const d=document.createElement('details');d.open=alarmsOpen;d.addEventListener('toggle',()=>{alarmsOpen=d.open;});
 const unseen=items.filter(i=>i.open);d.className=unseen.length?'open-alarms':'';
 const s=document.createElement('summary'),t=document.createElement('span');
 t.textContent=items[0].text+(items.length>1?' · '+T('另有 '+(items.length-1)+' 条','and '+(items.length-1)+' more'):'');s.append(t);
 if(unseen.length){const b=document.createElement('button');b.id='ack-all';b.type='button';
  b.textContent=unseen.length>1?T('全部知道了','Acknowledge all')+' ('+unseen.length+')':T('知道了','Acknowledge');
  b.onclick=async ev=>{ev.preventDefault();await Promise.all(unseen.map(i=>fetch(i.ack,{method:'POST'})));loadAlarms();};s.append(b);}
 d.append(s);
 for(const i of items){const row=document.createElement('div');row.className=i.cls;row.dataset.kind=i.kind;if(i.card)row.dataset.card=i.card;
  const x=document.createElement('span');x.textContent=i.text;row.append(x);
  if(i.open){const b=document.createElement('button');b.type='button';b.textContent=T('知道了','Acknowledge');
   b.onclick=async()=>{await fetch(i.ack,{method:'POST'});loadAlarms();};row.append(b);}d.append(row);}
 box.append(d);}
loadAlarms();setInterval(loadAlarms,5000);
"#;

/// The words, times and money every page uses, and the forms: each posts its fields as JSON
/// to its `data-api` with its `data-method` (fields typed by `data-type`: `int`, `yuan`
/// parsed strictly into cents, `opt` left out when empty); asks first when it has
/// `data-confirm` (`{field}` filled in, amounts in yuan); shows the answer beside the form;
/// on success the page's content is fetched again in place, so the changed row shows, and
/// on an error what was typed stays.
const SCRIPT: &str = r#"
const LANG=document.documentElement.lang==='en'?'en':'zh',TZ=document.documentElement.dataset.tz||'Asia/Shanghai';
function T(zh,en){return LANG==='en'?en:zh;}
const MON=['Jan','Feb','Mar','Apr','May','Jun','Jul','Aug','Sep','Oct','Nov','Dec'];
function fmtDate(s){const m=/^(\d{4})-(\d{2})-(\d{2})$/.exec(s||'');if(!m)return s||'';return LANG==='en'?(+m[3])+' '+MON[m[2]-1]+' '+m[1]:m[1]+'年'+(+m[2])+'月'+(+m[3])+'日';}
function fmtTime(iso){if(!iso)return '';const d=new Date(iso);if(isNaN(d))return String(iso);const p={};
 for(const x of new Intl.DateTimeFormat('en-GB',{timeZone:TZ,year:'numeric',month:'2-digit',day:'2-digit',hour:'2-digit',minute:'2-digit',hourCycle:'h23'}).formatToParts(d))p[x.type]=x.value;
 return fmtDate(p.year+'-'+p.month+'-'+p.day)+' '+p.hour+':'+p.minute;}
function fmtYuan(c){const s=String(Math.abs(c/100|0)).replace(/\B(?=(\d{3})+(?!\d))/g,',');return (c<0?'−':'')+'¥'+s+'.'+String(Math.abs(c)%100).padStart(2,'0');}
function parseYuan(text){const s=String(text).trim().replace(/^[¥￥]/,'').trim();
 const m=/^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$/.exec(s);if(!m)return null;
 const c=parseInt(m[1].replace(/,/g,''),10)*100+parseInt((m[2]||'0').padEnd(2,'0'),10);return Number.isSafeInteger(c)?c:null;}
function detailText(k,x){if(k==='state'&&CARD_STATES[x])return T(CARD_STATES[x][0],CARD_STATES[x][1]);
 if(/(_at|since|until)$/.test(k)||/^\d{4}-\d{2}-\d{2}T/.test(x))return fmtTime(x);if(/cents$/.test(k))return fmtYuan(x);
 return /^\d{4}-\d{2}-\d{2}$/.test(x)?fmtDate(x):String(x);}
function errText(r){const v=r.v||{},code=v.code||v.error,d=v.details||{},e=ERRORS[code];
 if(!e)return r.status===0&&v.message?v.message:T('操作未完成（错误 '+r.status+'）','It did not go through (error '+r.status+')');
 const fill=tpl=>{let ok=true;const s=tpl.replace(/\{(\w+)\}/g,(m,k)=>{if(d[k]===undefined||d[k]===null){ok=false;return m;}
  return detailText(k,d[k]);});return ok?s:null;};
 const full=e.detail&&fill(T(e.detail[0],e.detail[1]));if(full)return full;
 // The server's own words are English: shown only to an English reader, and only when English alone.
 const general=T(e.text[0],e.text[1]),m=v.message;
 return LANG==='en'&&m&&m!==general&&!/[\u4e00-\u9fff]/.test(m)?[general,m]:general;}
function say(el,ok,msg){el.className=(el.id==='flash'?'':'result ')+(ok?'ok':'err');el.replaceChildren();
 const parts=Array.isArray(msg)?msg:[msg];el.append(parts[0]);if(parts[1]){const s=document.createElement('small');s.textContent=parts[1];el.append(s);}}
function flash(ok,msg){const f=document.getElementById('flash');if(!f)return;say(f,ok,msg);clearTimeout(flash.t);if(ok)flash.t=setTimeout(()=>{f.className='';},6000);}
async function api(method,url,body){let r;try{r=await fetch(url,{method,headers:{'content-type':'application/json'},body:body===undefined?undefined:JSON.stringify(body)});}
 catch(e){return {ok:false,status:0,v:{message:T('无法连接服务器','the server cannot be reached')}};}
 let v=null;try{v=await r.json();}catch(e){}return {ok:r.ok,status:r.status,v};}
function formKey(f){return f.id||((f.dataset.method||'POST')+' '+f.dataset.api);}
function resultBeside(f,key){let el=[...document.querySelectorAll('.result')].find(x=>x.dataset.for===key);
 if(!el){el=document.createElement('div');el.dataset.for=key;el.setAttribute('role','status');if(f.tagName==='FORM')f.after(el);else f.append(el);}return el;}
function showBeside(f,ok,msg,key){const el=resultBeside(f,key||formKey(f));say(el,ok,msg);const b=el.getBoundingClientRect();
 if(b.top<0||b.bottom>innerHeight)el.scrollIntoView({block:'center'});}
function rowOf(f){const tr=f.closest('tr');if(tr)for(const a of ['data-worker','data-card','data-staff'])if(tr.hasAttribute(a))return 'tr['+a+'="'+tr.getAttribute(a)+'"]';return null;}
async function refreshMain(){const r=await fetch(location.href);if(!r.ok)return;const doc=new DOMParser().parseFromString(await r.text(),'text/html');
 const fresh=doc.querySelector('main'),main=document.querySelector('main');if(fresh&&main)main.replaceChildren(...fresh.childNodes);document.dispatchEvent(new Event('desk:refreshed'));}
function readForm(f){const body={};
 for(const el of f.elements){if(!el.name)continue;let v=el.type==='checkbox'?el.checked:el.value;
  if(el.dataset.type==='int')v=v===''?null:parseInt(v,10);if(el.dataset.type==='bool')v=v==='true';
  if(el.dataset.type==='yuan'){if(v===''){v=null;}else{const c=parseYuan(v);if(c===null)throw [T('金额格式不对','The amount is not a sum of money')+': “'+v+'”',
   T('请写成 5000、5,000 或 5000.50（元）','write it as 5000, 5,000 or 5000.50 (yuan)')];v=c;}}
  if(el.dataset.type==='opt'&&v==='')continue;body[el.name]=v;}return body;}
function confirmText(f,body){return f.dataset.confirm.replace(/\{(\w+)\}/g,(m,k)=>{const el=f.elements[k];
 if(el&&el.tagName==='SELECT')return el.options[el.selectedIndex].text;if(body[k]===undefined||body[k]===null)return '—';
 return /cents$/.test(k)?fmtYuan(body[k]):String(body[k]);});}
async function send(f,body){const r=await api(f.dataset.method||'POST',f.dataset.api,body);
 if(!r.ok){showBeside(f,false,errText(r));return;}
 if(f.dataset.go&&r.v&&r.v.id!==undefined){location=f.dataset.go+r.v.id;return;}
 const done=f.dataset.done||T('已完成','Done');const key=formKey(f),row=rowOf(f);await refreshMain();
 const again=[...document.querySelectorAll('form')].find(x=>formKey(x)===key),cell=row&&document.querySelector(row+'>td:last-child');
 if(again)showBeside(again,true,done);else if(cell)showBeside(cell,true,done,key);else flash(true,done);
 if(f.dataset.show&&r.v)document.dispatchEvent(new CustomEvent('desk:'+f.dataset.show,{detail:r.v}));
 const first=again&&again.querySelector('[autofocus]');if(first)first.focus();}
document.addEventListener('submit',ev=>{const f=ev.target;if(!f.dataset.api)return;ev.preventDefault();let body;
 try{body=readForm(f);}catch(msg){showBeside(f,false,msg);return;}
 if(f.dataset.confirm)confirmThen(confirmText(f,body),f.dataset.yes||T('确认','Confirm'),()=>send(f,body));else send(f,body);});
document.addEventListener('input',ev=>{const i=ev.target;if(!i.dataset||!i.dataset.filter)return;const q=i.value.trim().toLowerCase();
 const t=document.querySelector(i.dataset.filter);if(!t)return;for(const tr of t.querySelectorAll('tr')){if(tr.querySelector('th'))continue;
  tr.hidden=q!==''&&!tr.textContent.toLowerCase().includes(q);}});
{const ls=document.getElementById('lang-switch');if(ls)ls.addEventListener('click',async()=>{
 const r=await api('PUT','/api/v1/auth/language',{language:ls.dataset.lang});if(r.ok)location.reload();else flash(false,errText(r));});
 const lo=document.getElementById('logout');if(lo)lo.addEventListener('click',async()=>{await api('POST','/api/v1/auth/logout');location='/login';});}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_local_to_the_minute_in_each_language() {
        let t: DateTime<Utc> = "2026-11-27T05:31:29.930670Z".parse().unwrap();
        let tz = chrono_tz::Asia::Shanghai;
        assert_eq!(time_in(Lang::Zh, tz, t), "2026年11月27日 13:31");
        assert_eq!(time_in(Lang::En, tz, t), "27 Nov 2026 13:31");
        assert_eq!(
            time_in(Lang::En, chrono_tz::Europe::London, t),
            "27 Nov 2026 05:31"
        );
    }

    #[test]
    fn money_is_shown_in_yuan_with_separators() {
        assert_eq!(yuan(500_000), "¥5,000.00");
        assert_eq!(yuan(5), "¥0.05");
        assert_eq!(yuan(123_456_789), "¥1,234,567.89");
        assert_eq!(yuan(-5_000), "−¥50.00");
    }
}
