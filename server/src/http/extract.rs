//! Extractors whose rejections are [`ApiError`]s, so a bad body, query or path parameter gets
//! the same JSON error shape as everything else.

use super::error::ApiError;
use axum::extract::FromRequest;
use axum::extract::FromRequestParts;

/// A JSON body; a bad one is a 400 (syntax) or 422 (shape) with the reason.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// A query string; a bad one is a 400 naming the field.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// Path parameters; a malformed one is a 404.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);
