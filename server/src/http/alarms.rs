//! Device alarms: kiosks and gates raise and clear them, the front desk sees and acknowledges
//! them (see [`crate::domain::alarms`]).

use super::Endpoint;
use super::act::Act;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::openapi::{self, Io, RowId, one, params};
use super::paging::{self, Dated, Listed};
use crate::auth::Allow;
use crate::domain::alarms::{self, Alarm, AlarmQuery};
use crate::domain::desk_error::DeskError;
use crate::domain::history::{DateRange, Period};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::routing::{get, post};
use chrono::NaiveDate;
use chrono_tz::Tz;
use gatehouse_credential::api::device::{AlarmReport, DeviceAlarmKind};
use serde::{Deserialize, Serialize};

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::POST, "/api/v1/device/alarms", post(report))
            .allow(Allow::KIOSK.or(Allow::GATE))
            .doc("alarms", "Raise or clear an alarm of the calling device")
            .io(Io::NO_CONTENT.body(one::<AlarmReport>)),
        Endpoint::new(Method::GET, "/api/v1/alarms", get(list))
            .allow(Allow::ANY_STAFF)
            .doc(
                "alarms",
                "Alarms the desk has not yet seen or whose cause lasts, newest first",
            )
            .io(Io::ok(openapi::list::<Alarm>)),
        Endpoint::new(
            Method::POST,
            "/api/v1/alarms/{id}/acknowledge",
            post(acknowledge),
        )
        .allow(Allow::ANY_STAFF)
        .doc("alarms", "A staff member has seen the alarm")
        .io(Io::ok(one::<Alarm>).params(&[params::<RowId>])),
        Endpoint::new(Method::GET, "/api/v1/alarms/history", get(history))
            .allow(Allow::ANY_STAFF)
            .doc(
                "alarms",
                "Alarms raised in a period, seen and cleared ones included, by kind and device",
            )
            .io(Io::ok(openapi::list::<Alarm>).params(&[params::<AlarmFilter>, params::<DateRange>])),
        Endpoint::new(
            Method::POST,
            "/api/v1/alarms/acknowledge-all",
            post(acknowledge_all),
        )
        .allow(Allow::ANY_STAFF)
        .doc(
            "alarms",
            "A staff member has seen every alarm not yet seen (fire alarms stay with the emergency bar)",
        )
        .io(Io::ok(one::<Acknowledged>)),
    ]
}

/// `?kind=&device=&from=&to=&limit=&before=` for the alarm history (local dates, both
/// included).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlarmFilter {
    /// Its local dates: `from` and `to`, the parameters [`DateRange`] declares.
    #[serde(flatten)]
    #[param(ignore)]
    pub range: DateRange,
    /// Only this kind, e.g. `door_forced`; blank means every kind.
    #[serde(default, deserialize_with = "crate::domain::history::blank_as_none")]
    #[param(schema_with = kind_or_blank)]
    pub kind: Option<DeviceAlarmKind>,
    /// Only this device id.
    pub device: Option<String>,
    /// How many (1 to 500, default 100), newest first.
    #[param(format = Int64, minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The page after the one whose `Link: <…>; rel="next"` header gave this cursor.
    pub before: Option<String>,
}

/// The `kind` parameter's schema: an alarm kind, or blank (a desk form's "every kind").
fn kind_or_blank() -> utoipa::openapi::Object {
    let kinds = std::iter::once(serde_json::Value::from("")).chain(
        crate::domain::alarms::KINDS
            .iter()
            .filter_map(|k| serde_json::to_value(k).ok()),
    );
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(kinds))
        .build()
}

impl AlarmFilter {
    /// The period and the domain query for the estate's time zone `tz` and `today`.
    pub fn query(&self, tz: Tz, today: NaiveDate) -> Result<(Period, AlarmQuery), DeskError> {
        let period = self.range.period(tz, today)?;
        let query = AlarmQuery {
            kind: self.kind,
            device: self.device.clone().filter(|d| !d.is_empty()),
            since: Some(period.start),
            until: Some(period.end),
        };
        Ok((period, query))
    }
}

/// How many alarms one "acknowledge all" marked seen.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Acknowledged {
    /// The number of alarms.
    pub acknowledged: usize,
}

async fn report(act: Act, ApiJson(body): ApiJson<AlarmReport>) -> Result<StatusCode, DeskError> {
    act.write(move |tx, actor, now| alarms::report(tx, actor, &body, now))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list(State(state): State<AppState>) -> Result<Json<Vec<Alarm>>, DeskError> {
    Ok(Json(state.db.call(|c| alarms::open(c)).await?))
}

/// One page of the alarm history `filter` asks for, and the period it covers.
pub async fn history_page(
    state: &AppState,
    filter: AlarmFilter,
) -> Result<Dated<Alarm>, DeskError> {
    let (limit, before) = (filter.limit, filter.before.clone());
    paging::dated_page(
        state,
        alarms::HISTORY_PAGE,
        limit,
        before.as_deref(),
        move |tz, today| filter.query(tz, today),
        |c, _, q, before, limit| alarms::history(c, q, before, limit),
        |a| (a.raised_at, a.id),
    )
    .await
}

async fn history(
    State(state): State<AppState>,
    uri: Uri,
    ApiQuery(filter): ApiQuery<AlarmFilter>,
) -> Result<Listed<Alarm>, DeskError> {
    let (_, page) = history_page(&state, filter).await??;
    Ok(page.answer(&uri, "before"))
}

async fn acknowledge_all(act: Act) -> Result<Json<Acknowledged>, DeskError> {
    let acknowledged = act
        .write(move |tx, actor, now| alarms::acknowledge_all(tx, actor, now))
        .await?;
    Ok(Json(Acknowledged { acknowledged }))
}

async fn acknowledge(act: Act, ApiPath(id): ApiPath<i64>) -> Result<Json<Alarm>, DeskError> {
    Ok(Json(
        act.write(move |tx, actor, now| alarms::acknowledge(tx, actor, id, now))
            .await?,
    ))
}
