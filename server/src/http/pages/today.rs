//! The desk's home page: today's numbers, each a link to its list.

use super::Viewer;
use super::doors::{gates, heard};
use crate::domain::desk_error::DeskError;
use crate::domain::renovation;
use crate::domain::{alarms, card, visitor};
use crate::http::renovations::read;
use crate::state::AppState;
use axum::extract::State;
use maud::html;

/// The tiles: id, words, the list it opens, and whether a count above zero is a warning.
const TILES: [(&str, &str, &str, &str, bool); 7] = [
    (
        "visitors",
        "在场访客",
        "Visitors on site",
        "/desk/visitors",
        false,
    ),
    (
        "cards-out",
        "未还卡",
        "Cards out",
        "/desk/cards/outstanding",
        false,
    ),
    (
        "cards-overdue",
        "逾期未还卡",
        "Cards overdue",
        "/desk/cards/outstanding",
        true,
    ),
    (
        "awaiting-refund",
        "待退保证金",
        "Deposits awaiting refund",
        "/desk/renovations",
        false,
    ),
    (
        "doors-online",
        "门禁在线",
        "Doors online",
        "/desk/doors",
        false,
    ),
    (
        "doors-offline",
        "门禁离线",
        "Doors offline",
        "/desk/doors",
        true,
    ),
    (
        "open-alarms",
        "未确认告警",
        "Open alarms",
        "/desk/alarms",
        true,
    ),
];

/// What the home page counts, in the order of [`TILES`].
struct Today {
    visitors: usize,
    cards_out: usize,
    cards_overdue: usize,
    awaiting_refund: usize,
    doors_online: usize,
    doors_offline: usize,
    open_alarms: usize,
}

pub(super) async fn today_page(
    State(state): State<AppState>,
    v: Viewer,
) -> Result<axum::response::Response, DeskError> {
    use axum::response::IntoResponse;
    // A guard's home is the guard page: nothing else of the desk is theirs.
    if v.kind == crate::auth::ActorKind::Guard {
        return Ok(axum::response::Redirect::to("/guard").into_response());
    }
    let now = state.now();
    let t = read(&state, move |c| {
        let (cards_out, cards_overdue) = card::outstanding_counts(c, now)?;
        let doors = gates(c)?;
        let online = doors.iter().filter(|d| heard(d, now).1).count();
        Ok(Today {
            visitors: visitor::on_site_count(c, now)?,
            cards_out,
            cards_overdue,
            awaiting_refund: renovation::awaiting_refund(c)?,
            doors_online: online,
            doors_offline: doors.len() - online,
            open_alarms: alarms::unseen_counts(c)?.0,
        })
    })
    .await?;
    let counts = [
        t.visitors,
        t.cards_out,
        t.cards_overdue,
        t.awaiting_refund,
        t.doors_online,
        t.doors_offline,
        t.open_alarms,
    ];
    Ok(v.page(
        v.t("今日", "Today"),
        html! {
            div #today {
                @for ((id, zh, en, href, warn), n) in TILES.iter().zip(counts) {
                    a.tile.warn[*warn && n > 0] id=(id) href=(href) { strong { (n) } span { (v.t(zh, en)) } }
                }
            }
        },
    )
    .into_response())
}

/// The tiles' look.
pub const CSS: &str = r#"
#today{display:grid;grid-template-columns:repeat(auto-fill,minmax(13em,1fr));gap:1em}
#today .tile{display:flex;flex-direction:column;background:#fff;border:1px solid #d0d4da;border-radius:6px;padding:1em;color:#1f3a5f;text-decoration:none}
#today .tile strong{font-size:2.4em}#today .tile.warn{border-color:#b3261e;color:#b3261e}
"#;
