//! What protects a logged-in browser: a state-changing request that authenticates with the
//! session cookie must come from our own pages (its `Origin`, or `Referer` when a browser sends
//! no `Origin`, names this server), and every answer carries headers that forbid framing,
//! inline script, MIME sniffing and caching of personal data.
//!
//! Requests with `Authorization: Bearer …` (devices, scripts) do not use the cookie, so a
//! foreign page cannot make a browser send them; they are not checked.

use super::error::ApiError;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The stable error code of a refused cross-site request.
pub const CROSS_SITE: &str = "cross_site_request";

/// The content security policy of every answer: scripts and styles only from this server,
/// never inline; no framing; forms post only here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// Why a request was refused as cross-site.
#[derive(Debug, PartialEq, Eq)]
pub enum CrossSite {
    /// Neither `Origin` nor `Referer` was sent.
    NoOrigin,
    /// `Origin` or `Referer` names another site.
    Foreign(String),
}

/// Whether a request with these `method` and `headers` may proceed: anything that reads, that
/// does not carry the session cookie, or that carries a bearer token may; a cookie write must
/// name this server (the `Host` it was sent to) as its origin.
pub fn check(method: &Method, headers: &HeaderMap) -> Result<(), CrossSite> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    // With an Authorization header the cookie is not used (see `session::token_from_headers`).
    if headers.contains_key(header::AUTHORIZATION) || !has_session_cookie(headers) {
        return Ok(());
    }
    let origin = match headers.get(header::ORIGIN) {
        Some(o) => o.to_str().unwrap_or("").to_owned(),
        None => match headers.get(header::REFERER) {
            Some(r) => r.to_str().unwrap_or("").to_owned(),
            None => return Err(CrossSite::NoOrigin),
        },
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    match authority(&origin) {
        Some(a) if !host.is_empty() && a.eq_ignore_ascii_case(host) => Ok(()),
        _ => Err(CrossSite::Foreign(origin)),
    }
}

fn has_session_cookie(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(name, _)| name == crate::auth::session::COOKIE_NAME)
}

/// `host[:port]` of an origin or URL such as `https://desk.example:8443/path`.
fn authority(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&rest[..end]).filter(|a| !a.is_empty() && !a.contains('@'))
}

/// The layer that refuses cross-site cookie writes with a JSON 403 (code [`CROSS_SITE`]).
pub async fn same_origin(request: Request, next: Next) -> Response {
    match check(request.method(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(why) => {
            let message = match why {
                CrossSite::NoOrigin => "a request made with the session cookie must carry an \
                    Origin or Referer header naming this server"
                    .to_owned(),
                CrossSite::Foreign(o) => format!(
                    "refused: this request was sent from another site ({o}); use the \
                     front-desk pages of this server"
                ),
            };
            metrics::counter!("cross_site_refused_total").increment(1);
            ApiError::Refused {
                code: CROSS_SITE,
                message,
            }
            .into_response()
        }
    }
}

/// The layer that adds the security headers to every answer; `Cache-Control: no-store`
/// unless the handler chose its own caching.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    const COOKIE: (&str, &str) = ("cookie", "gatehouse_session=abc");
    const HOST: (&str, &str) = ("host", "desk.example:8080");

    #[test]
    fn cookie_writes_need_our_origin() {
        let post = Method::POST;
        assert_eq!(
            check(
                &post,
                &headers(&[COOKIE, HOST, ("origin", "http://desk.example:8080")])
            ),
            Ok(())
        );
        assert_eq!(
            check(
                &post,
                &headers(&[
                    COOKIE,
                    HOST,
                    ("referer", "https://desk.example:8080/desk/x")
                ])
            ),
            Ok(())
        );
        assert!(
            check(
                &post,
                &headers(&[COOKIE, HOST, ("origin", "https://evil.example")])
            )
            .is_err()
        );
        assert!(check(&post, &headers(&[COOKIE, HOST, ("origin", "null")])).is_err());
        assert!(
            check(
                &post,
                &headers(&[
                    COOKIE,
                    HOST,
                    ("origin", "http://desk.example:8080.evil.example")
                ])
            )
            .is_err()
        );
        assert_eq!(
            check(&post, &headers(&[COOKIE, HOST])),
            Err(CrossSite::NoOrigin)
        );
    }

    #[test]
    fn reads_bearer_requests_and_cookieless_requests_pass() {
        let evil = ("origin", "https://evil.example");
        assert_eq!(check(&Method::GET, &headers(&[COOKIE, HOST, evil])), Ok(()));
        assert_eq!(
            check(
                &Method::POST,
                &headers(&[COOKIE, HOST, evil, ("authorization", "Bearer k")])
            ),
            Ok(())
        );
        assert_eq!(check(&Method::POST, &headers(&[HOST, evil])), Ok(()));
    }
}
