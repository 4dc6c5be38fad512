//! Login, logout, the current staff member, staff accounts.

use super::Endpoint;
use super::error::ApiError;
use super::extract::ApiJson;
use crate::auth::{Actor, Role, password, session};
use crate::domain::staff::{self, StaffAccount, StaffError};
use crate::state::AppState;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Instant;

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::POST, "/api/v1/auth/login", post(login)),
        Endpoint::new(Method::POST, "/api/v1/auth/logout", post(logout)),
        Endpoint::new(Method::GET, "/api/v1/auth/me", get(me)),
        Endpoint::new(Method::GET, "/api/v1/staff", get(list_staff)),
        Endpoint::new(Method::POST, "/api/v1/staff", post(create_staff)),
    ]
}

/// `POST /api/v1/auth/login` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// A successful login.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// The account's role.
    pub role: Role,
}

impl From<StaffError> for ApiError {
    fn from(e: StaffError) -> Self {
        match e {
            StaffError::Taken(_) => ApiError::Conflict {
                code: "already_exists",
                message: e.to_string(),
            },
            StaffError::BadName => ApiError::invalid(e.to_string()),
            StaffError::Db(e) => ApiError::internal(e),
        }
    }
}

/// Logs a staff member in. Failed attempts are limited per username and per client address.
async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let user_key = format!("user:{}", body.username.to_lowercase());
    let ip_key = format!("ip:{}", peer.ip());
    let keys = [user_key.as_str(), ip_key.as_str()];
    let blocked = state
        .throttle
        .lock()
        .map(|mut t| t.blocked(&keys, Instant::now()))
        .unwrap_or(None);
    if let Some(wait) = blocked {
        return Err(ApiError::TooManyRequests {
            retry_after_secs: wait.as_secs().max(1),
        });
    }
    let username = body.username.clone();
    let account = state
        .db
        .call(move |c| staff::for_login(c, &username).map_err(ApiError::from))
        .await?;
    // Hash even for unknown names so the answer time does not reveal which names exist.
    let hash = account
        .as_ref()
        .map_or_else(|| password::decoy_hash().to_owned(), |(_, h)| h.clone());
    let given = body.password;
    let matches = tokio::task::spawn_blocking(move || password::verify(&given, &hash))
        .await
        .map_err(ApiError::internal)?;
    let staff = match account {
        Some((staff, _)) if matches => staff,
        _ => {
            if let Ok(mut t) = state.throttle.lock() {
                t.fail(&keys, Instant::now());
            }
            metrics::counter!("login_failures_total").increment(1);
            return Err(ApiError::Unauthorized("wrong username or password".into()));
        }
    };
    if let Ok(mut t) = state.throttle.lock() {
        t.succeed(&user_key);
    }
    let now = state.now();
    let (staff_id, role) = (staff.id, staff.role);
    let token = state
        .db
        .call(move |c| session::create(c, staff_id, now).map_err(ApiError::from))
        .await?;
    Ok((
        [(header::SET_COOKIE, session::cookie(&token))],
        Json(LoginResponse { token, role }),
    ))
}

async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    if let Some(token) = session::token_from_headers(&headers) {
        state
            .db
            .call(move |c| session::end(c, &token).map_err(ApiError::from))
            .await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session::clear_cookie())],
    ))
}

/// The logged-in staff member.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
}

async fn me(actor: Actor) -> Result<Json<Me>, ApiError> {
    let staff = actor
        .staff()
        .ok_or_else(|| ApiError::Forbidden("staff only".into()))?;
    Ok(Json(Me {
        username: staff.username.clone(),
        role: staff.role,
    }))
}

async fn list_staff(State(state): State<AppState>) -> Result<Json<Vec<StaffAccount>>, ApiError> {
    Ok(Json(
        state
            .db
            .call(|c| staff::list(c).map_err(ApiError::from))
            .await?,
    ))
}

/// `POST /api/v1/staff` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewStaff {
    /// Login name.
    pub username: String,
    /// `desk` or `manager`.
    pub role: Role,
    /// At least 10 characters.
    pub password: String,
}

async fn create_staff(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<NewStaff>,
) -> Result<(StatusCode, Json<StaffAccount>), ApiError> {
    let given = body.password;
    let hash = tokio::task::spawn_blocking(move || password::hash(&given))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| match e {
            password::PasswordError::TooShort => ApiError::invalid(e.to_string()),
            other => ApiError::internal(other),
        })?;
    let now = state.now();
    let (username, role) = (body.username, body.role);
    let account = state
        .db
        .call(move |c| {
            let tx = c.savepoint()?;
            let id = staff::create(&tx, &actor, &username, role, &hash, now)?;
            tx.commit()?;
            Ok::<_, ApiError>(StaffAccount {
                id,
                username,
                role,
                created_at: crate::db::ts(now),
            })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(account)))
}
