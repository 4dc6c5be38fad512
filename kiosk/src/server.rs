//! The kiosk's calls to the Gatehouse server, authenticated with the enrolled device key.

use chrono::{DateTime, Utc};
use gatehouse_credential::api::ErrorBody;
use gatehouse_credential::api::device::{AlarmReport, DeviceKind};
use gatehouse_credential::api::kiosk::{
    InviteRedeem, IssuedPass, SignOutRequest, SignOutResponse, UnitChoice, VisitorRequest,
    WorkerCardRequest,
};
use gatehouse_credential::api::muster::MusterList;
use gatehouse_credential::api::print::{PermitSlip, PrintResult};
use gatehouse_shell::secret::Secret;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;
use thiserror::Error;

/// Why a server call did not give the expected answer.
#[derive(Debug, Error)]
pub enum ServerError {
    /// No answer in time, or no connection at all.
    #[error("server unreachable: {0}")]
    Unreachable(String),
    /// The server answered with an error body.
    #[error("server refused ({status}): {} — {}", body.error, body.message)]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The server's code and message.
        body: ErrorBody,
        /// What the body's `details` says that the kiosk shows.
        details: RefusalDetails,
    },
    /// The answer did not have the contract's shape.
    #[error("server answer not understood: {0}")]
    BadAnswer(String),
}

/// The parts of an error body's `details` object the kiosk puts on screen; anything else in
/// it, or a `details` of another shape, is ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct RefusalDetails {
    /// When the front desk issued the worker's card (`issued_at_desk`).
    #[serde(default)]
    pub issued_at: Option<DateTime<Utc>>,
}

/// An error body's `details`, read apart from its code and message.
#[derive(Deserialize)]
struct WithDetails {
    #[serde(default)]
    details: Option<RefusalDetails>,
}

/// Why the device credential could not be loaded or obtained.
#[derive(Debug, Error)]
pub enum DeviceKeyError {
    /// No credential file and no usable token, a bad file, or a refused enrolment.
    #[error(transparent)]
    Enrolment(#[from] gatehouse_shell::enrolment::EnrolmentError),
    /// The HTTP client could not be set up (TLS backend).
    #[error("cannot set up the HTTP client: {0}")]
    Http(String),
}

/// A client for the server's kiosk endpoints.
#[derive(Clone)]
pub struct ServerClient {
    http: reqwest::Client,
    base: reqwest::Url,
    api_key: Secret,
}

impl std::fmt::Debug for ServerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The API key is a secret: never print it.
        f.debug_struct("ServerClient")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

fn http_client(timeout: Duration) -> Result<reqwest::Client, DeviceKeyError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(2)))
        .build()
        .map_err(|e| DeviceKeyError::Http(e.to_string()))
}

impl ServerClient {
    /// A client with a known API key.
    pub fn new(
        base: reqwest::Url,
        api_key: Secret,
        timeout: Duration,
    ) -> Result<Self, DeviceKeyError> {
        Ok(ServerClient {
            http: http_client(timeout)?,
            base,
            api_key,
        })
    }

    /// Reads the device credential file, or enrols with the token and writes the file.
    pub async fn connect(
        base: reqwest::Url,
        credential_path: &Path,
        enrolment_token: Option<&str>,
        timeout: Duration,
    ) -> Result<Self, DeviceKeyError> {
        let credential = gatehouse_shell::enrolment::load_or_enrol(
            &http_client(timeout)?,
            &base,
            credential_path,
            enrolment_token,
            DeviceKind::Kiosk,
        )
        .await?;
        Self::new(base, credential.api_key, timeout)
    }

    /// `GET /api/v1/kiosk/units`.
    pub async fn units(&self) -> Result<Vec<UnitChoice>, ServerError> {
        let req = self.http.get(self.url("/api/v1/kiosk/units"));
        self.send(req).await
    }

    /// `POST /api/v1/kiosk/visitors`.
    pub async fn register_visitor(&self, body: &VisitorRequest) -> Result<IssuedPass, ServerError> {
        self.post("/api/v1/kiosk/visitors", body).await
    }

    /// `POST /api/v1/kiosk/invites/redeem`.
    pub async fn redeem_invite(&self, body: &InviteRedeem) -> Result<IssuedPass, ServerError> {
        self.post("/api/v1/kiosk/invites/redeem", body).await
    }

    /// `POST /api/v1/kiosk/sign-out`.
    pub async fn sign_out(&self, body: &SignOutRequest) -> Result<SignOutResponse, ServerError> {
        self.post("/api/v1/kiosk/sign-out", body).await
    }

    /// `POST /api/v1/kiosk/worker-cards`.
    pub async fn collect_worker_card(
        &self,
        body: &WorkerCardRequest,
    ) -> Result<IssuedPass, ServerError> {
        self.post("/api/v1/kiosk/worker-cards", body).await
    }

    /// `GET /api/v1/muster`: the list, and the `Gatehouse-Emergency` header's value if any.
    pub async fn muster(&self) -> Result<(MusterList, Option<String>), ServerError> {
        let sent = self
            .http
            .get(self.url("/api/v1/muster"))
            .bearer_auth(self.api_key.expose())
            .send()
            .await;
        let emergency = sent.as_ref().ok().and_then(|resp| {
            resp.headers()
                .get(crate::muster::EMERGENCY_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
        Ok((read_answer(sent).await?, emergency))
    }

    /// `POST /api/v1/device/alarms`: raise or clear one of this kiosk's alarms.
    pub async fn report_alarm(&self, report: &AlarmReport) -> Result<(), ServerError> {
        self.post_no_content("/api/v1/device/alarms", report).await
    }

    /// Posts `body` to `path`; any success answer is enough (its body is not read).
    async fn post_no_content<B: Serialize>(&self, path: &str, body: &B) -> Result<(), ServerError> {
        let req = self.http.post(self.url(path)).json(body);
        let resp = req
            .bearer_auth(self.api_key.expose())
            .send()
            .await
            .map_err(|e| ServerError::Unreachable(e.without_url().to_string()))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ServerError::Unreachable(e.without_url().to_string()))?;
        Err(refusal(status, &bytes))
    }

    /// `GET /api/v1/kiosk/print-jobs`: the slips the desk sent, waiting up to `wait` for one.
    pub async fn print_jobs(&self, wait: Duration) -> Result<Vec<PermitSlip>, ServerError> {
        let mut url = self.url("/api/v1/kiosk/print-jobs");
        url.set_query(Some(&format!("wait_ms={}", wait.as_millis())));
        // The long poll outlasts the usual request timeout.
        let req = self.http.get(url).timeout(wait + Duration::from_secs(10));
        self.send(req).await
    }

    /// `POST /api/v1/kiosk/print-jobs/{job}/result`.
    pub async fn print_result(&self, job: i64, result: &PrintResult) -> Result<(), ServerError> {
        self.post_no_content(&format!("/api/v1/kiosk/print-jobs/{job}/result"), result)
            .await
    }

    fn url(&self, path: &str) -> reqwest::Url {
        let mut url = self.base.clone();
        url.set_path(path);
        url
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ServerError> {
        let req = self.http.post(self.url(path)).json(body);
        self.send(req).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<T, ServerError> {
        read_answer(req.bearer_auth(self.api_key.expose()).send().await).await
    }
}

async fn read_answer<T: DeserializeOwned>(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<T, ServerError> {
    let resp = sent.map_err(|e| ServerError::Unreachable(e.without_url().to_string()))?;
    let status = resp.status();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| ServerError::Unreachable(e.without_url().to_string()))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(|e| ServerError::BadAnswer(e.to_string()));
    }
    Err(refusal(status, &bytes))
}

/// The error a non-success answer stands for; a body that is not an [`ErrorBody`] (a proxy's
/// HTML page, say) still gives a code derived from the status.
fn refusal(status: StatusCode, bytes: &[u8]) -> ServerError {
    let body = serde_json::from_slice::<ErrorBody>(bytes).unwrap_or_else(|_| ErrorBody {
        error: if status.is_server_error() {
            "server_error".into()
        } else {
            "http_error".into()
        },
        message: format!("HTTP {status} without an error body"),
    });
    if matches!(
        status,
        StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT
    ) {
        return ServerError::Unreachable(format!("HTTP {status}"));
    }
    let details = serde_json::from_slice::<WithDetails>(bytes)
        .ok()
        .and_then(|w| w.details)
        .unwrap_or_default();
    ServerError::Refused {
        status: status.as_u16(),
        body,
        details,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_body_is_kept_and_a_gateway_error_means_unreachable() {
        let body = br#"{"error":"see_front_desk","message":"Please see the front desk."}"#;
        match refusal(StatusCode::FORBIDDEN, body) {
            ServerError::Refused {
                status,
                body,
                details,
            } => {
                assert_eq!(status, 403);
                assert_eq!(body.error, "see_front_desk");
                assert_eq!(details, RefusalDetails::default());
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            refusal(StatusCode::BAD_GATEWAY, b"<html>"),
            ServerError::Unreachable(_)
        ));
        match refusal(StatusCode::INTERNAL_SERVER_ERROR, b"<html>") {
            ServerError::Refused { body, .. } => assert_eq!(body.error, "server_error"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_desk_issue_time_is_read_from_details_and_other_details_are_ignored() {
        let body = br#"{"error":"issued_at_desk","message":"m","details":{"issued_at":"2026-12-03T01:15:00.000000Z","other":1}}"#;
        match refusal(StatusCode::CONFLICT, body) {
            ServerError::Refused { body, details, .. } => {
                assert_eq!(body.error, "issued_at_desk");
                let t: DateTime<Utc> = "2026-12-03T01:15:00Z".parse().unwrap();
                assert_eq!(details.issued_at, Some(t));
            }
            other => panic!("{other:?}"),
        }
        let odd = br#"{"error":"conflict","message":"m","details":["not", "an object"]}"#;
        match refusal(StatusCode::CONFLICT, odd) {
            ServerError::Refused { body, details, .. } => {
                assert_eq!(body.error, "conflict");
                assert_eq!(details, RefusalDetails::default());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_debug_form_hides_the_api_key() {
        let c = ServerClient::new(
            "http://127.0.0.1:1".parse().unwrap(),
            Secret::new("secret-key-123"),
            Duration::from_secs(1),
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("secret-key-123"));
    }
}
