//! Login, logout, the current staff member, staff accounts.

use super::Endpoint;
use super::act::{self, Act};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::openapi::{Io, RowId, list, one, params};
use crate::auth::Allow;
use crate::auth::{Actor, Role, password, session};
use crate::domain::staff::{self, StaffAccount};
use crate::state::AppState;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::POST, "/api/v1/auth/login", post(login))
            .allow(Allow::ANYONE)
            .doc(
                "auth",
                "Log in; returns a bearer token and sets the page cookie",
            )
            .io(Io::ok(one::<LoginResponse>).body(one::<LoginRequest>)),
        Endpoint::new(Method::POST, "/api/v1/auth/logout", post(logout))
            .allow(Allow::ANY_STAFF)
            .doc("auth", "End the current session")
            .io(Io::NO_CONTENT),
        Endpoint::new(Method::GET, "/api/v1/auth/me", get(me))
            .allow(Allow::ANY_STAFF)
            .doc("auth", "The logged-in staff member")
            .io(Io::ok(one::<Me>)),
        Endpoint::new(Method::GET, "/api/v1/staff", get(list_staff))
            .allow(Allow::MANAGER)
            .doc("auth", "List staff accounts")
            .io(Io::ok(list::<staff::StaffAccount>)),
        Endpoint::new(Method::POST, "/api/v1/staff", post(create_staff))
            .allow(Allow::MANAGER)
            .doc("auth", "Create a staff account")
            .io(Io::created(one::<staff::StaffAccount>).body(one::<NewStaff>)),
        Endpoint::new(Method::POST, "/api/v1/auth/password", post(change_password))
            .allow(Allow::ANY_STAFF)
            .doc(
                "auth",
                "Change one's own password; every session of the account ends and a new one starts",
            )
            .io(Io::ok(one::<LoginResponse>).body(one::<ChangePassword>)),
        Endpoint::new(
            Method::POST,
            "/api/v1/staff/{id}/password",
            post(reset_password),
        )
        .allow(Allow::MANAGER)
        .doc("auth", "Set another account's password; its sessions end")
        .io(Io::NO_CONTENT
            .body(one::<ResetPassword>)
            .params(&[params::<RowId>])),
        Endpoint::new(
            Method::PUT,
            "/api/v1/staff/{id}/disabled",
            put(set_disabled),
        )
        .allow(Allow::MANAGER)
        .doc(
            "auth",
            "Disable (its sessions end) or enable a staff account",
        )
        .io(Io::ok(one::<staff::StaffAccount>)
            .body(one::<SetDisabled>)
            .params(&[params::<RowId>])),
        Endpoint::new(Method::PUT, "/api/v1/staff/{id}/role", put(set_role))
            .allow(Allow::MANAGER)
            .doc(
                "auth",
                "Change a staff account's role (its sessions end); never the last active manager's",
            )
            .io(Io::ok(one::<staff::StaffAccount>)
                .body(one::<SetRole>)
                .params(&[params::<RowId>])),
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

/// Logs a staff member in. Attempts are limited per (account, client address) pair and
/// counted before the password is checked.
async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let client = state.config.client_address.of(peer.ip(), &headers);
    let attempt = Attempt::begin(&state, &body.username, client)?;
    let username = body.username.clone();
    let account = act::call(&state, move |c| staff::for_login(c, &username)).await?;
    // Hash even for unknown names so the answer time does not reveal which names exist.
    let hash = account
        .as_ref()
        .map_or_else(|| password::decoy_hash().to_owned(), |(_, h)| h.clone());
    let matches = verify(body.password, hash).await?;
    let staff = match account {
        Some((staff, _)) if matches => staff,
        _ => {
            metrics::counter!("login_failures_total").increment(1);
            return Err(ApiError::Unauthorized("wrong username or password".into()));
        }
    };
    attempt.succeed(&state);
    let now = state.now();
    let (staff_id, role) = (staff.id, staff.role);
    let token = act::call(&state, move |c| session::create(c, staff_id, now)).await?;
    Ok(signed_in(token, role))
}

/// A login attempt counted against its (account, client address) pair.
struct Attempt {
    account: String,
    client: String,
}

impl Attempt {
    /// Counts the attempt, or refuses it with 429 if the pair must wait.
    fn begin(state: &AppState, username: &str, client: IpAddr) -> Result<Attempt, ApiError> {
        let attempt = Attempt {
            account: staff::fold(username),
            client: client.to_string(),
        };
        let mut throttle = state
            .throttle
            .lock()
            .map_err(|_| ApiError::internal(std::io::Error::other("login throttle poisoned")))?;
        throttle
            .begin(&attempt.account, &attempt.client, Instant::now())
            .map_err(|wait| {
                metrics::counter!("login_throttled_total").increment(1);
                ApiError::TooManyRequests {
                    retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
                }
            })?;
        Ok(attempt)
    }

    /// Forgives the pair's attempts.
    fn succeed(self, state: &AppState) {
        if let Ok(mut t) = state.throttle.lock() {
            t.succeed(&self.account, &self.client);
        }
    }
}

/// Runs `f` in a transaction and commits it if it succeeds.
async fn write<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&rusqlite::Connection) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    act::write(state, move |tx| f(tx)).await
}

/// Checks `given` against `hash` off the async threads (argon2 is slow on purpose).
async fn verify(given: String, hash: String) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || password::verify(&given, &hash))
        .await
        .map_err(ApiError::internal)
}

/// Hashes a new password off the async threads; a weak one is a 422 with code `weak_password`.
async fn hash_new(given: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || password::hash(&given))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| match e {
            password::PasswordError::Hash(_) => ApiError::internal(e),
            weak => ApiError::Unprocessable {
                code: "weak_password",
                message: weak.to_string(),
            },
        })
}

/// The answer to a successful login: the token in the body and in the page cookie.
fn signed_in(token: String, role: Role) -> impl IntoResponse {
    (
        [(header::SET_COOKIE, session::cookie(&token))],
        Json(LoginResponse { token, role }),
    )
}

async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    if let Some(token) = session::token_from_headers(&headers) {
        act::call(&state, move |c| session::end(c, &token)).await?;
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
    Ok(Json(act::call(&state, staff::list).await?))
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
    let hash = hash_new(body.password).await?;
    let now = state.now();
    let (username, role) = (body.username, body.role);
    let account = write(&state, move |tx| {
        let id = staff::create(tx, &actor, &username, role, &hash, now)?;
        Ok(StaffAccount {
            id,
            username,
            role,
            created_at: now,
            disabled_at: None,
        })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(account)))
}

/// `POST /api/v1/auth/password` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ChangePassword {
    /// The password used now.
    pub current_password: String,
    /// The new one: at least 10 characters, not one of the commonest.
    pub new_password: String,
}

/// `POST /api/v1/staff/{id}/password` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ResetPassword {
    /// The new password: at least 10 characters, not one of the commonest.
    pub new_password: String,
}

/// `PUT /api/v1/staff/{id}/disabled` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SetDisabled {
    /// `true` disables the account (its sessions end), `false` enables it again.
    pub disabled: bool,
}

/// `PUT /api/v1/staff/{id}/role` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SetRole {
    /// `desk`, `manager` or `guard`.
    pub role: Role,
}

/// Changes the caller's own password. Every session of the account ends; the answer carries a
/// fresh one (token and cookie). A wrong current password counts as a failed login.
async fn change_password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    actor: Actor,
    ApiJson(body): ApiJson<ChangePassword>,
) -> Result<impl IntoResponse, ApiError> {
    let me = actor
        .staff()
        .cloned()
        .ok_or_else(|| ApiError::Forbidden("staff only".into()))?;
    let client = state.config.client_address.of(peer.ip(), &headers);
    let attempt = Attempt::begin(&state, &me.username, client)?;
    let id = me.id;
    let current = act::call(&state, move |c| staff::password_hash(c, id))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no staff account {id}")))?;
    if !verify(body.current_password, current).await? {
        metrics::counter!("login_failures_total").increment(1);
        return Err(ApiError::Unauthorized(
            "the current password is wrong".into(),
        ));
    }
    attempt.succeed(&state);
    let hash = hash_new(body.new_password).await?;
    let now = state.now();
    let token = write(&state, move |tx| {
        staff::set_password(tx, &actor, id, &hash, "staff.password_change", now)?;
        Ok(session::create(tx, id, now)?)
    })
    .await?;
    Ok(signed_in(token, me.role))
}

/// A manager sets another account's password; its sessions end.
async fn reset_password(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ResetPassword>,
) -> Result<StatusCode, ApiError> {
    let hash = hash_new(body.new_password).await?;
    let now = state.now();
    write(&state, move |tx| {
        Ok(staff::set_password(
            tx,
            &actor,
            id,
            &hash,
            "staff.password_reset",
            now,
        )?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A manager disables or re-enables an account (not their own).
async fn set_disabled(
    act: Act,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<SetDisabled>,
) -> Result<Json<StaffAccount>, ApiError> {
    Ok(Json(
        act.write(move |tx, actor, now| {
            staff::set_disabled(tx, actor, id, body.disabled, now).map_err(ApiError::from)
        })
        .await?,
    ))
}

/// A manager changes an account's role; the account's sessions end.
async fn set_role(
    act: Act,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<SetRole>,
) -> Result<Json<StaffAccount>, ApiError> {
    Ok(Json(
        act.write(move |tx, actor, now| {
            staff::set_role(tx, actor, id, body.role, now).map_err(ApiError::from)
        })
        .await?,
    ))
}
