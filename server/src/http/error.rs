//! The one error type every handler returns, and the one place where every domain error gets
//! its HTTP status and stable code. 4xx variants carry a message a person can act on;
//! everything else is an opaque 500 whose cause chain goes to the log.
//!
//! Every error body is an [`ErrorBody`]: `error` (the stable code), `message` (in words) and
//! `details`, an object holding the case's values — a card number, a worker, a time in RFC
//! 3339, the field that was refused and its bounds — so a client (the desk pages) can write its
//! own sentence from the code and the details. `details` is empty when the error names nothing.

use crate::domain::desk_error::DeskError;
use crate::domain::devices::DeviceError;
use crate::domain::estate::EstateError;
use crate::domain::staff::StaffError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The values an error names, by name (`card_id`, `field`, `since`, …).
pub type Details = serde_json::Map<String, serde_json::Value>;

/// Every stable code an error body can carry, with the `details` keys it may name. The pages'
/// words (`pages/errors.rs`) are checked against this list, and a debug build refuses to send
/// a code or a details key it does not hold, so a new code cannot reach the desk unworded.
pub const CODES: &[(&str, &[&str])] = &[
    ("bad_request", &[]),
    ("unauthorized", &[]),
    ("forbidden", &[]),
    ("not_found", &[]),
    ("internal", &[]),
    ("too_many_requests", &[]),
    ("conflict", &[]),
    ("cross_site_request", &[]),
    ("uri_too_long", &[]),
    ("headers_too_large", &[]),
    ("http_version_not_supported", &[]),
    ("alarm_kind_not_allowed", &[]),
    ("already_approved", &[]),
    ("already_collected", &[]),
    ("already_exists", &[]),
    ("already_redeemed", &[]),
    ("already_refunded", &[]),
    ("already_registered", &[]),
    ("already_released", &[]),
    ("already_reversed", &[]),
    ("already_stopped", &[]),
    ("awaiting_approval", &[]),
    ("card_active", &[]),
    ("card_is_visitor_pass", &[]),
    ("card_not_expected", &[]),
    ("card_not_lost", &[]),
    ("card_numbers_exhausted", &[]),
    ("card_of_other_renovation", &[]),
    ("card_required", &[]),
    ("cards_overdue", &[]),
    ("collection_code_required", &[]),
    ("collection_locked", &[]),
    ("correction_needs_manager", &[]),
    ("date_in_future", &[]),
    ("deny_list_phone_needed", &[]),
    ("deny_listed", &[]),
    ("deposit_recorded", &[]),
    ("device_revoked", &[]),
    ("extension_not_later", &[]),
    ("extension_too_long", &[]),
    ("fire_alarm_active", &[]),
    ("host_approval_pending", &[]),
    ("in_use", &[]),
    ("inspection_before_start", &[]),
    ("invalid_detail", &[]),
    ("invalid_items", &[]),
    ("invalid_period", &[]),
    ("invalid_phone", &[]),
    ("invalid_plate", &[]),
    ("invalid_range", &[]),
    ("range_too_large", &[]),
    ("invalid_return_time", &[]),
    ("item_state", &[]),
    ("key_count_differs", &[]),
    ("last_manager", &[]),
    ("manager_required", &[]),
    ("not_a_deduction", &[]),
    ("not_a_gate", &[]),
    ("not_a_kiosk", &[]),
    ("not_a_permit", &[]),
    ("not_a_visitor_pass", &[]),
    ("not_pending", &[]),
    ("not_today", &[]),
    ("not_unit_keys", &[]),
    ("note_required", &[]),
    ("occupancy_before_inspection", &[]),
    ("occupancy_without_inspection", &[]),
    ("own_account", &[]),
    ("owner_consent_required", &[]),
    ("period_over", &[]),
    ("period_reversed", &[]),
    ("period_too_long", &[]),
    ("permit_not_approved", &[]),
    ("permit_refused", &[]),
    ("qr_failed", &[]),
    ("reason_required", &[]),
    ("receipt_required", &[]),
    ("refund_rules_unmet", &[]),
    ("renovation_closed", &[]),
    ("renovation_finished", &[]),
    ("same_clerk", &[]),
    ("see_front_desk", &[]),
    ("signoff_before_inspection", &[]),
    ("unit_key", &[]),
    ("unit_required", &[]),
    ("unknown_device", &[]),
    ("unknown_kiosk", &[]),
    ("unknown_scan", &[]),
    ("unknown_unit", &[]),
    ("unreadable_card", &[]),
    ("unreadable_permit", &[]),
    ("weak_password", &[]),
    ("invalid", &["entry", "field", "max_chars"]),
    ("already_returned", &["card_id", "state", "since", "by"]),
    ("card_not_active", &["card_id", "state", "since", "by"]),
    ("wrong_card_kind", &["card_id", "state", "since", "by"]),
    ("unknown_card", &["card_id", "q"]),
    ("fee_already_charged", &["card_id"]),
    (
        "date_out_of_range",
        &["field", "value", "min", "max", "entry"],
    ),
    ("unknown_building", &["building", "field"]),
    ("issued_at_desk", &["issued_at"]),
    (
        "building_in_use",
        &["building", "units", "renovations", "zones", "gates"],
    ),
    ("floors_in_use", &["building", "lowest", "highest"]),
];

/// Whether `code` is one of [`CODES`] and `details` names only keys listed for it there.
pub fn is_listed(code: &str, details: &Details) -> bool {
    CODES
        .iter()
        .find(|(c, _)| *c == code)
        .is_some_and(|(_, keys)| details.keys().all(|k| keys.contains(&k.as_str())))
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable snake_case code, e.g. `not_found`, `refund_rules_unmet`.
    pub error: String,
    /// What is wrong, in words.
    pub message: String,
    /// The values of the case the error names (e.g. `card_id`, `field`, `min`, `max`, a time
    /// in RFC 3339); empty when it names none.
    #[schema(value_type = Object)]
    pub details: Details,
}

/// An error answer of the API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed (bad JSON, missing query parameter).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no or invalid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 403 with a stable code: refused for a reason of the case, not of the caller's role
    /// (a deny-listed visitor, a cross-site request).
    #[error("{message}")]
    Refused {
        /// e.g. `see_front_desk`, `cross_site`.
        code: &'static str,
        /// What to do, in words.
        message: String,
    },
    /// 404: no such thing.
    #[error("{0}")]
    NotFound(String),
    /// 409: the request conflicts with the current state; `code` is stable for clients.
    #[error("{message}")]
    Conflict {
        /// e.g. `already_exists`, `refund_rules_unmet`.
        code: &'static str,
        /// What is wrong, in words.
        message: String,
    },
    /// 422: well-formed but invalid values; `code` is stable for clients.
    #[error("{message}")]
    Unprocessable {
        /// e.g. `invalid`, `period_too_long`.
        code: &'static str,
        /// What is wrong, in words.
        message: String,
    },
    /// 429: too many attempts; retry after the given seconds.
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    TooManyRequests {
        /// Seconds until the next attempt may succeed.
        retry_after_secs: u64,
    },
    /// 500: anything unexpected. The cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Any of the above with the values of the case in the body's `details`.
    #[error("{0}")]
    Detailed(Box<ApiError>, Details),
}

impl ApiError {
    /// A 422 with code `invalid`.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::Unprocessable {
            code: "invalid",
            message: message.into(),
        }
    }

    /// A 409 with code `conflict`.
    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::Conflict {
            code: "conflict",
            message: message.into(),
        }
    }

    /// An opaque 500 wrapping `cause`.
    pub fn internal(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError::Internal(Box::new(cause))
    }

    /// This error with `details` (a JSON object) added to its body's `details`.
    pub fn with_details(self, details: serde_json::Value) -> Self {
        let serde_json::Value::Object(more) = details else {
            return self;
        };
        match self {
            ApiError::Detailed(inner, mut have) => {
                have.extend(more);
                ApiError::Detailed(inner, have)
            }
            other => ApiError::Detailed(Box::new(other), more),
        }
    }

    /// The status and stable code of this error.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Detailed(inner, _) => inner.status_and_code(),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Refused { code, .. } => (StatusCode::FORBIDDEN, code),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            ApiError::Unprocessable { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, code),
            ApiError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
            }
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

/// Every chained cause of `e`, joined for the log.
pub fn cause_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}

/// The cause of a JSON body rejection, stated once: axum's error wraps serde's (with the
/// field's path), which wraps serde_json's, and each layer repeats the text below it.
fn json_cause(e: &(dyn std::error::Error + 'static)) -> String {
    e.source()
        .map(|s| s.to_string())
        .unwrap_or_else(|| e.to_string())
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let (error, details) = match self {
            ApiError::Detailed(inner, details) => (*inner, details),
            other => (other, Details::new()),
        };
        let (message, details) = match &error {
            ApiError::Internal(cause) => {
                tracing::error!(cause = %cause_chain(cause.as_ref()), "request failed");
                // An opaque 500 names nothing of its cause.
                (
                    "something went wrong on the server; it has been logged".to_owned(),
                    Details::new(),
                )
            }
            other => (other.to_string(), details),
        };
        debug_assert!(
            is_listed(code, &details),
            "error code {code} with details {details:?} is not in error::CODES"
        );
        let mut response = (
            status,
            Json(ErrorBody {
                error: code.to_owned(),
                message,
                details,
            }),
        )
            .into_response();
        if let ApiError::TooManyRequests { retry_after_secs } = error {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        ApiError::internal(e)
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        ApiError::internal(e)
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection as J;
        match r {
            J::JsonDataError(e) => {
                ApiError::invalid(format!("the JSON body does not fit: {}", json_cause(&e)))
            }
            J::JsonSyntaxError(e) => {
                ApiError::BadRequest(format!("the body is not valid JSON: {}", json_cause(&e)))
            }
            J::MissingJsonContentType(_) => ApiError::BadRequest(
                "send the body as JSON with `Content-Type: application/json`".into(),
            ),
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::BadRequest(format!("bad query string: {}", r.body_text()))
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(r: axum::extract::rejection::PathRejection) -> Self {
        ApiError::NotFound(format!("no such resource: {}", r.body_text()))
    }
}

impl From<StaffError> for ApiError {
    fn from(e: StaffError) -> Self {
        match e {
            StaffError::Taken(_) => ApiError::Conflict {
                code: "already_exists",
                message: e.to_string(),
            },
            StaffError::BadName => ApiError::invalid(e.to_string()),
            StaffError::NotFound(_) => ApiError::NotFound(e.to_string()),
            StaffError::OwnAccount => ApiError::Conflict {
                code: "own_account",
                message: e.to_string(),
            },
            StaffError::LastManager(_) => ApiError::Conflict {
                code: "last_manager",
                message: e.to_string(),
            },
            StaffError::Db(e) => ApiError::internal(e),
        }
    }
}

impl From<EstateError> for ApiError {
    fn from(e: EstateError) -> Self {
        match e {
            EstateError::Invalid(m) => ApiError::invalid(m),
            EstateError::NotFound(m) => ApiError::NotFound(m),
            EstateError::Exists(m) => ApiError::Conflict {
                code: "already_exists",
                message: m,
            },
            EstateError::OutOfRange(e) => ApiError::from(e),
            e @ EstateError::UnknownBuilding(n) => ApiError::Unprocessable {
                code: "unknown_building",
                message: e.to_string(),
            }
            .with_details(serde_json::json!({"building": n})),
            EstateError::InUse(m) => ApiError::Conflict {
                code: "in_use",
                message: m,
            },
            e @ EstateError::BuildingInUse { number, uses } => ApiError::Conflict {
                code: "building_in_use",
                message: e.to_string(),
            }
            .with_details(serde_json::json!({
                "building": number,
                "units": uses.units,
                "renovations": uses.renovations,
                "zones": uses.zones,
                "gates": uses.gates,
            })),
            e @ EstateError::FloorsInUse {
                number,
                lowest,
                highest,
            } => ApiError::Conflict {
                code: "floors_in_use",
                message: e.to_string(),
            }
            .with_details(serde_json::json!({
                "building": number, "lowest": lowest, "highest": highest,
            })),
            EstateError::Db(e) => ApiError::internal(e),
        }
    }
}

impl From<DeviceError> for ApiError {
    fn from(e: DeviceError) -> Self {
        match e {
            DeviceError::BadToken => ApiError::Unauthorized(e.to_string()),
            DeviceError::NotFound(_) => ApiError::NotFound(e.to_string()),
            DeviceError::Invalid(m) => ApiError::invalid(m),
            e @ DeviceError::UnknownBuilding(n) => ApiError::Unprocessable {
                code: "unknown_building",
                message: e.to_string(),
            }
            .with_details(serde_json::json!({"building": n, "field": "zone.building"})),
            DeviceError::Db(e) => ApiError::internal(e),
        }
    }
}

impl IntoResponse for DeskError {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}

impl From<DeskError> for ApiError {
    fn from(e: DeskError) -> Self {
        match e {
            DeskError::Detailed(inner, details) => {
                ApiError::from(*inner).with_details(serde_json::Value::Object(details))
            }
            DeskError::NotFound(m) => ApiError::NotFound(m),
            DeskError::Invalid { code, message } => ApiError::Unprocessable { code, message },
            DeskError::Conflict { code, message } => ApiError::Conflict { code, message },
            e @ DeskError::RefundRefused(_) => ApiError::Conflict {
                code: "refund_rules_unmet",
                message: e.to_string(),
            },
            e @ DeskError::SeeFrontDesk => ApiError::Refused {
                code: "see_front_desk",
                message: e.to_string(),
            },
            DeskError::Throttled { retry_after_secs } => {
                ApiError::TooManyRequests { retry_after_secs }
            }
            // The kiosk words the time in the estate's time zone, so it gets it as a value.
            e @ DeskError::IssuedAtDesk { issued_at } => ApiError::Conflict {
                code: "issued_at_desk",
                message: e.to_string(),
            }
            .with_details(serde_json::json!({ "issued_at": issued_at })),
            DeskError::Issue(e) => ApiError::internal(e),
            DeskError::Keys(e) => ApiError::internal(e),
            DeskError::Db(e) => ApiError::internal(e),
            DeskError::DbThread(e) => ApiError::internal(e),
            DeskError::OutOfRange(e) => ApiError::from(e),
        }
    }
}

impl From<crate::domain::bounds::OutOfRange> for ApiError {
    fn from(e: crate::domain::bounds::OutOfRange) -> Self {
        let details = e.details();
        ApiError::Unprocessable {
            code: "date_out_of_range",
            message: e.to_string(),
        }
        .with_details(details)
    }
}

impl From<ApiError> for DeskError {
    fn from(e: ApiError) -> Self {
        if let ApiError::Detailed(inner, details) = e {
            return DeskError::from(*inner).with_details(serde_json::Value::Object(details));
        }
        let (status, code) = e.status_and_code();
        match status {
            StatusCode::NOT_FOUND => DeskError::NotFound(e.to_string()),
            StatusCode::CONFLICT => DeskError::conflict(code, e.to_string()),
            _ => DeskError::invalid(code, e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stable codes written as literals in the server's source: the first argument of
    /// `invalid(`/`conflict(`, a `code:` field, or the first of a `=> (code, message)` pair.
    fn codes_in_source() -> std::collections::BTreeSet<String> {
        fn walk(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let path = e.unwrap().path();
                if path.is_dir() {
                    walk(&path, files);
                } else if path.extension().is_some_and(|x| x == "rs") {
                    files.push(path);
                }
            }
        }
        let mut files = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut found = std::collections::BTreeSet::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for before in ["invalid(", "conflict(", "code:", "=> ("] {
                for (at, _) in text.match_indices(before) {
                    let rest = text[at + before.len()..].trim_start();
                    let Some(rest) = rest.strip_prefix('"') else {
                        continue;
                    };
                    let Some((word, after)) = rest.split_once('"') else {
                        continue;
                    };
                    let is_code = !word.is_empty()
                        && word.chars().all(|c| c.is_ascii_lowercase() || c == '_');
                    if is_code && after.trim_start().starts_with(',') {
                        found.insert(word.to_owned());
                    }
                }
            }
        }
        found
    }

    #[test]
    fn every_code_the_server_sends_is_listed_once() {
        let listed: Vec<&str> = CODES.iter().map(|(c, _)| *c).collect();
        let unique: std::collections::BTreeSet<&str> = listed.iter().copied().collect();
        assert_eq!(unique.len(), listed.len(), "a code is listed twice");
        let mut sent = codes_in_source();
        use crate::domain::custody::Refusal;
        for why in [
            Refusal::AlreadyBack,
            Refusal::AlreadyDead,
            Refusal::WrongKind,
        ] {
            sent.insert(why.code().to_owned());
        }
        sent.insert(crate::http::browser_safety::CROSS_SITE.to_owned());
        for e in [
            ApiError::BadRequest(String::new()),
            ApiError::Unauthorized(String::new()),
            ApiError::Forbidden(String::new()),
            ApiError::NotFound(String::new()),
            ApiError::conflict(""),
            ApiError::invalid(""),
            ApiError::TooManyRequests {
                retry_after_secs: 1,
            },
            ApiError::internal(std::io::Error::other("x")),
        ] {
            sent.insert(e.status_and_code().1.to_owned());
        }
        assert!(sent.len() > 60, "the source scan found codes: {sent:?}");
        let missing: Vec<&String> = sent
            .iter()
            .filter(|c| !unique.contains(c.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "codes sent but not in CODES: {missing:?}"
        );
    }

    #[test]
    fn a_card_refusal_names_only_the_details_listed_for_its_code() {
        let mut details = Details::new();
        for key in ["card_id", "state", "since", "by"] {
            details.insert(key.into(), serde_json::Value::Null);
        }
        assert!(is_listed("already_returned", &details));
        details.insert("holder".into(), serde_json::Value::Null);
        assert!(!is_listed("already_returned", &details));
        assert!(!is_listed("no_such_code", &Details::new()));
    }

    #[tokio::test]
    async fn internal_errors_are_opaque() {
        let e = ApiError::internal(std::io::Error::other("disk on fire at /secret/path"));
        let r = e.into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(r.into_body(), 64 * 1024)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "internal", "{body}");
        let text = body.to_string();
        assert!(
            !text.contains("disk on fire") && !text.contains("/secret/path"),
            "the cause leaked to the caller: {text}"
        );
    }

    #[test]
    fn a_json_body_error_states_its_cause_once() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Body {
            credential: String,
            inner: Option<Inner>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Inner {
            n: u32,
        }
        let cases: [(&[u8], &str); 3] = [
            (b"{}", "missing field `credential`"),
            (br#"{"credential": "x", "inner": {"n": -1}}"#, "inner.n"),
            (b"{\"credential\": ", "EOF while parsing"),
        ];
        for (body, cause) in cases {
            let rejection = axum::Json::<Body>::from_bytes(body).unwrap_err();
            let message = ApiError::from(rejection).to_string();
            assert_eq!(message.matches(cause).count(), 1, "{message}");
        }
    }

    #[test]
    fn statuses_match_variants() {
        assert_eq!(
            ApiError::invalid("x").status_and_code(),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
        );
        assert_eq!(
            ApiError::conflict("x").status_and_code().0,
            StatusCode::CONFLICT
        );
        assert_eq!(
            ApiError::NotFound("x".into()).status_and_code().1,
            "not_found"
        );
    }

    async fn status_and_body(r: Response) -> (u16, serde_json::Value) {
        let status = r.status().as_u16();
        let body = axum::body::to_bytes(r.into_body(), 64 * 1024)
            .await
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn domain_errors_get_their_status_and_stable_code_here() {
        let cases = [
            (
                DeskError::SeeFrontDesk.into_response(),
                403,
                "see_front_desk",
            ),
            (
                DeskError::conflict("card_not_active", "card 1 is returned").into_response(),
                409,
                "card_not_active",
            ),
            (
                DeskError::invalid("period_too_long", "too long").into_response(),
                422,
                "period_too_long",
            ),
            (
                DeskError::RefundRefused(String::new()).into_response(),
                409,
                "refund_rules_unmet",
            ),
            (
                ApiError::from(StaffError::BadName).into_response(),
                422,
                "invalid",
            ),
            (
                ApiError::from(DeviceError::BadToken).into_response(),
                401,
                "unauthorized",
            ),
        ];
        for (response, status, code) in cases {
            let (got, body) = status_and_body(response).await;
            assert_eq!(
                (got, body["error"].as_str()),
                (status, Some(code)),
                "{body}"
            );
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
    }
}
