//! Worker cards not yet back, overdue ones marked, and their CSV export.

use super::Viewer;
use crate::domain::card::{self, Outstanding};
use crate::domain::desk_error::DeskError;
use crate::http::extract::ApiQuery;
use crate::http::renovations::{self, OutstandingQuery, read};
use crate::state::AppState;
use axum::extract::State;
use axum::http::Uri;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

pub(super) async fn outstanding_page(
    State(state): State<AppState>,
    v: Viewer,
    uri: Uri,
    ApiQuery(q): ApiQuery<OutstandingQuery>,
) -> Result<Markup, DeskError> {
    let first = q.after.is_none();
    let page = renovations::outstanding_page(&state, q).await?;
    let more = page.next_href(&uri, "after");
    let list = page.rows;
    Ok(v.page(
        v.t("未还卡", "Outstanding cards"),
        html! {
            p { a href="/desk/cards/outstanding.csv" { (v.t("导出 CSV", "Export CSV")) } }
            table #outstanding {
                tr { th { (v.t("卡", "Card")) } th { (v.t("装修", "Renovation")) } th { (v.t("房号", "Unit")) } th { (v.t("持卡人", "Holder")) }
                     th { (v.t("状态", "State")) } th { (v.t("完工", "Ends")) } th { (v.t("逾期", "Overdue")) } th { (v.t("施工单位电话", "Contractor phone")) } }
                @for o in &list {
                    tr data-card=(o.card.card_id) {
                        td { "#" (o.card.card_id) } td { a href={ "/desk/renovations/" (o.out.renovation_id) } { (o.out.renovation_code) } }
                        td { (o.out.unit_label) } td { (o.out.holder_masked) } td { (super::renovations::card_state(&v, o.card.state)) }
                        td { (v.date(o.out.renovation_end)) }
                        @if o.overdue { td.unmet { (v.t("逾期", "overdue")) } } @else { td { "—" } }
                        td { (o.out.contractor.clone().unwrap_or_default()) " " (o.out.contact_phone.clone().unwrap_or_default()) }
                    }
                }
            }
            (super::renovations::more_links(&v, more.as_deref(), first, "/desk/cards/outstanding"))
        },
    ))
}

/// The outstanding cards as CSV (masked names).
pub fn outstanding_to_csv(list: &[Outstanding]) -> String {
    let mut out =
        String::from("card_id,renovation_code,unit,holder,state,not_after_utc,overdue\r\n");
    for o in list {
        let row = [
            o.card.card_id.to_string(),
            o.out.renovation_code.clone(),
            o.out.unit_label.clone(),
            o.out.holder_masked.clone(),
            o.card.state.as_str().to_owned(),
            o.card.not_after.to_rfc3339(),
            o.overdue.to_string(),
        ];
        out.push_str(
            &row.iter()
                .map(|f| crate::csv::field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    out
}

pub(super) async fn outstanding_csv(State(state): State<AppState>) -> Result<Response, DeskError> {
    let now = state.now();
    let list = read(&state, move |c| card::outstanding(c, now)).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"outstanding-cards.csv\"",
            ),
        ],
        outstanding_to_csv(&list),
    )
        .into_response())
}
