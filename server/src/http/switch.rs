//! Settings that are one value each: any staff member reads it, a manager sets it, both with a
//! JSON body of that one value at `/api/v1/settings/…`.

use super::Endpoint;
use super::extract::ApiJson;
use super::goods::ApprovalSetting;
use super::openapi::{Io, one};
use super::renovations::RefundApproval;
use super::renovations::{read, write};
use super::visitors::WalkInSetting;
use crate::auth::{Actor, Allow};
use crate::domain::deposit;
use crate::domain::desk_error::DeskError;
use crate::domain::goods;
use crate::domain::visitor;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use axum::routing::{get, put};
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A one-value setting: its body, where it lives and how the domain reads and sets it.
pub trait Switch: Serialize + DeserializeOwned + utoipa::ToSchema + Send + 'static {
    /// Its path, `/api/v1/settings/…`.
    const PATH: &'static str;
    /// Its OpenAPI tag, what reading it answers and what setting it does.
    const DOC: (&'static str, &'static str, &'static str);
    /// The value in force.
    fn read(conn: &Connection) -> Result<Self, DeskError>;
    /// Sets the value, audited; returns the value now in force.
    fn write(self, tx: &Connection, actor: &Actor, now: DateTime<Utc>) -> Result<Self, DeskError>;
}

/// Makes each body a [`Switch`]: `Body { its one field } at path, (tag, reads, sets), the
/// domain's read, the domain's audited set;`.
macro_rules! switches {
    ($($body:ty { $field:ident } at $path:literal, $doc:expr, $read:path, $set:path;)*) => {$(
        impl Switch for $body {
            const PATH: &'static str = $path;
            const DOC: (&'static str, &'static str, &'static str) = $doc;
            fn read(conn: &Connection) -> Result<Self, DeskError> {
                Ok(Self { $field: $read(conn)? })
            }
            fn write(self, tx: &Connection, actor: &Actor, now: DateTime<Utc>) -> Result<Self, DeskError> {
                Ok(Self { $field: $set(tx, actor, self.$field, now)? })
            }
        }
    )*};
}

switches! {
    RefundApproval { refund_approval } at "/api/v1/settings/refund-approval",
        ("deposits", "Who must approve a refund a desk clerk pays", "Set who must approve a refund a desk clerk pays"),
        deposit::approval, deposit::set_approval;
    WalkInSetting { walk_in_approval } at "/api/v1/settings/walk-in-approval",
        ("visitors", "Whether walk-in visitors at a kiosk wait for the host's approval",
            "Set whether walk-in visitors at a kiosk wait for the host's approval"),
        visitor::walk_in_approval, visitor::set_walk_in_approval;
    ApprovalSetting { desk_approves } at "/api/v1/settings/goods-approval",
        ("goods", "Whether the desk may approve goods-release permits",
            "Let the desk approve goods-release permits, or managers only"),
        goods::desk_approves, goods::set_desk_approves;
}

/// The GET (staff) and the PUT (managers) of setting `S`.
pub fn endpoints<S: Switch>() -> [Endpoint; 2] {
    let (tag, reads, sets) = S::DOC;
    [
        Endpoint::new(Method::GET, S::PATH, get(show::<S>))
            .allow(Allow::STAFF)
            .doc(tag, reads)
            .io(Io::ok(one::<S>)),
        Endpoint::new(Method::PUT, S::PATH, put(set::<S>))
            .allow(Allow::MANAGER)
            .doc(tag, sets)
            .io(Io::ok(one::<S>).body(one::<S>)),
    ]
}

async fn show<S: Switch>(State(state): State<AppState>) -> Result<Json<S>, DeskError> {
    Ok(Json(read(&state, S::read).await?))
}

async fn set<S: Switch>(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<S>,
) -> Result<Json<S>, DeskError> {
    let now = state.now();
    Ok(Json(
        write(&state, move |tx| body.write(tx, &actor, now)).await?,
    ))
}
