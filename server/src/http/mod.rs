//! HTTP: one module per resource, each listing its [`Endpoint`]s; [`router`] joins them under
//! the authorization matrix.

pub mod alarms;
pub mod audit;
pub mod auth;
pub mod browser_safety;
pub mod control;
pub mod devices;
pub mod error;
pub mod estate;
pub mod events;
pub mod extract;
pub mod gate;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod renovations;
pub mod visitors;
// emergencies: evacuation, muster list
pub mod emergency;
pub mod muster;
pub mod overstays;
// goods-release permits and the guard page
pub mod goods;
pub mod guard;
// keys and radios
pub mod custody_items;

use crate::auth::matrix;
use crate::state::AppState;
use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use error::ApiError;

/// A handler at a method and path. Its access comes from [`matrix::MATRIX`].
pub struct Endpoint {
    /// HTTP method.
    pub method: Method,
    /// Route path, e.g. `/api/v1/devices/{id}`.
    pub path: &'static str,
    /// The handler (built with `axum::routing::get(...)` etc.).
    pub handler: MethodRouter<AppState>,
}

impl Endpoint {
    /// A handler for `method` at `path`.
    pub fn new(method: Method, path: &'static str, handler: MethodRouter<AppState>) -> Self {
        Endpoint {
            method,
            path,
            handler,
        }
    }
}

/// Every endpoint of the server. Add your module's `endpoints()` here.
pub fn endpoints() -> Vec<Endpoint> {
    [
        ops::endpoints(),
        auth::endpoints(),
        audit::endpoints(),
        alarms::endpoints(),
        devices::endpoints(),
        estate::endpoints(),
        gate::endpoints(),
        events::endpoints(),
        control::endpoints(),
        renovations::endpoints(),
        visitors::endpoints(),
        pages::endpoints(),
        emergency::endpoints(),
        muster::endpoints(),
        overstays::endpoints(),
        goods::endpoints(),
        guard::endpoints(),
        custody_items::endpoints(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// An endpoint without a row in the matrix, or a row without an endpoint.
#[derive(Debug, thiserror::Error)]
pub enum RouterError {
    /// A handler was registered that the matrix does not list.
    #[error("route {0} {1} has no row in the authorization matrix")]
    NotInMatrix(Method, &'static str),
    /// The matrix lists a route no module serves.
    #[error("the authorization matrix lists {0} {1}, but no handler serves it")]
    NoHandler(Method, &'static str),
}

/// The application's router: every endpoint behind the authorization layer of its row.
pub fn router(state: AppState) -> Result<Router, RouterError> {
    let endpoints = endpoints();
    for rule in matrix::MATRIX {
        if !endpoints
            .iter()
            .any(|e| e.method == rule.method && e.path == rule.path)
        {
            return Err(RouterError::NoHandler(rule.method.clone(), rule.path));
        }
    }
    let mut router = Router::new();
    for endpoint in endpoints {
        let rule = matrix::find(&endpoint.method, endpoint.path)
            .ok_or_else(|| RouterError::NotInMatrix(endpoint.method.clone(), endpoint.path))?;
        let guarded = endpoint.handler.route_layer(middleware::from_fn_with_state(
            (state.clone(), rule.allow),
            matrix::authorize,
        ));
        router = router.route(endpoint.path, guarded);
    }
    Ok(router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(browser_safety::same_origin))
        .layer(middleware::from_fn(browser_safety::security_headers))
        .layer(middleware::from_fn(count_requests))
        // A client that sends a request head and then stalls its body is cut off.
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            REQUEST_BODY_TIMEOUT,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state))
}

/// How long a request body may take to arrive.
pub const REQUEST_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}

async fn method_not_allowed() -> Response {
    let (_, body) = ApiError::BadRequest("this route does not accept that method".into())
        .into_response()
        .into_parts();
    (axum::http::StatusCode::METHOD_NOT_ALLOWED, body).into_response()
}

fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal(std::io::Error::other("a request handler panicked")).into_response()
}

async fn count_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_has_a_matrix_row_and_every_row_an_endpoint() {
        let endpoints = endpoints();
        for e in &endpoints {
            assert!(
                matrix::find(&e.method, e.path).is_some(),
                "{} {} not in matrix",
                e.method,
                e.path
            );
        }
        for r in matrix::MATRIX {
            assert!(
                endpoints
                    .iter()
                    .any(|e| e.method == r.method && e.path == r.path),
                "{} {} has no handler",
                r.method,
                r.path
            );
        }
    }
}
