//! HTTP: one module per resource, each declaring its [`Endpoint`]s — handler, who may call it,
//! and what it takes and answers; [`router`] joins them behind the access layer.

pub mod access;
pub mod act;
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
pub mod monitor;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod renovations;
pub mod route;
pub mod switch;
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
// CSV exports over a range of dates
pub mod exports;
// a page at a time for lists that grow
pub mod paging;

use crate::state::AppState;
use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use error::ApiError;
pub use route::{Endpoint, Route, RouteError};
use std::sync::Arc;

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
        pages::goods::endpoints(),
        guard::endpoints(),
        pages::guard::endpoints(),
        custody_items::endpoints(),
        exports::endpoints(),
        pages::keys::endpoints(),
        pages::handover::endpoints(),
        monitor::endpoints(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every route's declaration, checked to be complete and declared once.
pub fn routes() -> Result<Vec<Route>, RouteError> {
    route::routes_of(&endpoints())
}

/// The application's router: every endpoint behind the access layer with its declared callers.
pub fn router(state: AppState) -> Result<Router, RouteError> {
    let endpoints = endpoints();
    let routes = route::routes_of(&endpoints)?;
    let openapi = Arc::new(openapi::document(&routes));
    let mut router = Router::new();
    for (endpoint, route) in endpoints.into_iter().zip(&routes) {
        let guarded = endpoint.handler.route_layer(middleware::from_fn_with_state(
            (state.clone(), route.allow),
            access::authorize,
        ));
        router = router.route(route.path, guarded);
    }
    Ok(router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(Extension(openapi))
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
    fn every_route_is_declared_whole_and_once() {
        let routes = routes().unwrap();
        assert_eq!(routes.len(), endpoints().len());
    }
}
