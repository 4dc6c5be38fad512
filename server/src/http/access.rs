//! The layer in front of every route: resolves the caller and applies the route's [`Allow`].

use super::act;
use super::error::ApiError;
use crate::auth::{Actor, Allow, session};
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// Where a browser is sent when a page needs a login (the page itself belongs to the desk UI).
pub const LOGIN_PAGE: &str = "/login";

/// Admits the caller if the route's `allow` names its kind; otherwise 401, 403, or (for a page
/// and no credentials) a redirect to the log-in page.
pub async fn authorize(
    State((state, allow)): State<(AppState, Allow)>,
    mut request: Request,
    next: Next,
) -> Response {
    let actor = match resolve(&state, request.headers()).await {
        Ok(actor) => actor,
        Err(e) => return e.into_response(),
    };
    if !allow.admits(actor.kind()) {
        let is_page = !request.uri().path().starts_with("/api/");
        return match actor {
            Actor::Anonymous if is_page => Redirect::to(LOGIN_PAGE).into_response(),
            Actor::Anonymous => {
                ApiError::Unauthorized("log in or send `Authorization: Bearer <token>`".into())
                    .into_response()
            }
            other => ApiError::Forbidden(format!(
                "a {} may not do this (allowed: {})",
                other.kind().name(),
                allow
                    .kinds()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .into_response(),
        };
    }
    request.extensions_mut().insert(actor);
    next.run(request).await
}

/// The caller of a request: from the bearer token or session cookie, else anonymous.
pub async fn resolve(state: &AppState, headers: &axum::http::HeaderMap) -> Result<Actor, ApiError> {
    let Some(token) = session::token_from_headers(headers) else {
        return Ok(Actor::Anonymous);
    };
    let now = state.now();
    act::call(state, move |conn| session::resolve(conn, &token, now)).await
}

/// Handlers take `actor: Actor` to learn who called; [`authorize`] put it there.
impl FromRequestParts<AppState> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Actor>().cloned().ok_or_else(|| {
            ApiError::internal(std::io::Error::other(
                "route registered without the authorization layer",
            ))
        })
    }
}
