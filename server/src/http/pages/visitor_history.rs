//! Visitor history: who came in a range of dates, searched by name, unit, host or purpose,
//! names masked; a link to the CSV of the same dates.

use super::Viewer;
use crate::domain::desk_error::DeskError;
use crate::domain::history::VisitorSearch;
use crate::http::extract::ApiQuery;
use crate::http::visitors::visits_page;
use crate::state::AppState;
use axum::extract::State;
use axum::http::Uri;
use maud::{Markup, html};

/// The `from`/`to` date inputs of a look-up form, filled with the period shown.
pub(super) fn date_fields(v: &Viewer, from: &str, to: &str) -> Markup {
    html! {
        label { (v.t("从", "From")) input name="from" type="date" value=(from); }
        label { (v.t("到", "To")) input name="to" type="date" value=(to); }
    }
}

pub(super) async fn history_page(
    State(state): State<AppState>,
    v: Viewer,
    uri: Uri,
    ApiQuery(q): ApiQuery<VisitorSearch>,
) -> Result<Markup, DeskError> {
    let asked = q.clone();
    let first = q.before.is_none();
    let found = visits_page(&state, q).await?;
    let (from, to) = match &found {
        Ok((p, _)) => (p.from.to_string(), p.to.to_string()),
        Err(_) => (
            asked.range.from.map(|d| d.to_string()).unwrap_or_default(),
            asked.range.to.map(|d| d.to_string()).unwrap_or_default(),
        ),
    };
    Ok(v.page(
        v.t("访客记录", "Visitor history"),
        html! {
            form.inline #history-search method="get" action="/desk/visitors/history" {
                label { (v.t("姓名、房号、被访人或事由", "Name, unit, host or purpose"))
                    input name="q" type="search" value=(asked.q.clone().unwrap_or_default()) autofocus autocomplete="off"; }
                (date_fields(&v, &from, &to))
                button type="submit" { (v.t("查询", "Search")) }
                a.csv href={ "/api/v1/visitors.csv?from=" (from) "&to=" (to) } { (v.t("导出 CSV", "Download CSV")) }
            }
            @match &found {
                Err(e) => (v.refusal(e)),
                Ok((_, page)) => {
                    @let visits = &page.rows;
                    p #visit-count { (visits.len()) " " (v.t("条记录", "visit(s)"))
                        @if page.next.is_some() { " · " (v.t("还有更早的，见下方“更多”", "older ones follow: see “More” below")) } }
                    table #visit-history {
                        tr { th { (v.t("登记", "Registered")) } th { (v.t("访客", "Visitor")) } th { (v.t("房号", "Unit")) } th { (v.t("被访人", "Host")) }
                             th { (v.t("事由", "Purpose")) } th { (v.t("人数", "Party")) } th { (v.t("通行证", "Pass")) } th { (v.t("签离", "Signed out")) } }
                        @for x in visits {
                            tr data-visitor=(x.visitor_id) {
                                td { (v.time(x.visit.registered_at)) } td { (x.visit.name_masked) } td { (x.visit.unit_label) }
                                td { (x.visit.host_masked.clone().unwrap_or_default()) } td { (x.visit.purpose) } td { (x.visit.party_size) }
                                td { @if let Some(c) = x.card_id { "#" (c) } }
                                td { @match x.signed_out_at { Some(t) => (v.time(t)), None => span.unmet { (v.t("未签离", "not signed out")) } } }
                            }
                        }
                    }
                    (super::renovations::more_links(&v, page.next_href(&uri, "before").as_deref(), first, "/desk/visitors/history"))
                }
            }
        },
    ))
}
