//! A device's identity on the server: enrol once with the manager's one-time token, keep the
//! answer (it holds the API key) in a private file, and use the file from then on.

use crate::private_file;
use crate::secret::Secret;
use gatehouse_credential::api::ErrorBody;
use gatehouse_credential::api::device::{DeviceKind, EnrolRequest, EnrolResponse};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why a device has no usable identity.
#[derive(Debug, Error)]
pub enum EnrolmentError {
    /// Neither a credential file nor an enrolment token.
    #[error(
        "not enrolled: no device credential at {} and no enrolment token; ask a manager for an enrolment token",
        path.display()
    )]
    NotEnrolled {
        /// Where the credential would be.
        path: PathBuf,
    },
    /// The credential file exists but cannot be read, parsed or written.
    #[error("device credential file {}: {message}", path.display())]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The server could not be reached (or a gateway said so): worth retrying.
    #[error("enrolment: server unreachable: {0}")]
    Unreachable(String),
    /// The server refused the token.
    #[error("enrolment refused ({status}): {} — {}", body.error, body.message)]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The server's code and message.
        body: ErrorBody,
    },
    /// The credential is for another kind of device.
    #[error("the device credential is for a {got:?}, not a {expected:?}")]
    WrongKind {
        /// What this program is.
        expected: DeviceKind,
        /// What the credential says.
        got: DeviceKind,
    },
}

impl EnrolmentError {
    /// Whether retrying cannot help: the cause is on this device (no token, a bad file) or
    /// the server enrolled it as another kind. An unreachable or refusing server may change.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            EnrolmentError::NotEnrolled { .. }
                | EnrolmentError::BadFile { .. }
                | EnrolmentError::WrongKind { .. }
        )
    }
}

/// What a device keeps of its enrolment.
#[derive(Clone, Debug, Deserialize)]
pub struct DeviceCredential {
    /// The device's id on the server.
    pub device_id: String,
    /// The bearer token for every call; never logged.
    pub api_key: Secret,
    /// The kind the server enrolled it as (absent in files written before it was kept).
    #[serde(default)]
    pub kind: Option<DeviceKind>,
}

/// Reads the credential file, or `None` if the device has not enrolled yet.
pub fn load(path: &Path) -> Result<Option<DeviceCredential>, EnrolmentError> {
    let bad = |message: String| EnrolmentError::BadFile {
        path: path.to_owned(),
        message,
    };
    let Some(bytes) = private_file::read(path).map_err(|e| bad(e.to_string()))? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| bad(format!("not a device credential: {e}")))
}

/// Writes the server's enrolment answer to the credential file (mode 0600, durably).
pub fn save(path: &Path, enrolled: &EnrolResponse) -> Result<(), EnrolmentError> {
    let bad = |message: String| EnrolmentError::BadFile {
        path: path.to_owned(),
        message,
    };
    let text = serde_json::to_vec_pretty(enrolled).map_err(|e| bad(e.to_string()))?;
    private_file::write(path, &text).map_err(|e| bad(e.to_string()))
}

/// `POST /api/v1/devices/enrol` with the one-time token.
pub async fn enrol(
    http: &reqwest::Client,
    server: &reqwest::Url,
    token: &str,
) -> Result<EnrolResponse, EnrolmentError> {
    let mut url = server.clone();
    url.set_path("/api/v1/devices/enrol");
    let unreachable = |e: reqwest::Error| EnrolmentError::Unreachable(e.without_url().to_string());
    let body = EnrolRequest {
        token: token.to_owned(),
    };
    let resp = http
        .post(url)
        .json(&body)
        .send()
        .await
        .map_err(unreachable)?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(unreachable)?;
    if status.is_success() {
        return serde_json::from_slice(&bytes)
            .map_err(|e| EnrolmentError::Unreachable(format!("answer not understood: {e}")));
    }
    if matches!(status.as_u16(), 502..=504) {
        return Err(EnrolmentError::Unreachable(format!("HTTP {status}")));
    }
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| ErrorBody {
        error: "http_error".into(),
        message: format!("HTTP {status} without an error body"),
    });
    Err(EnrolmentError::Refused {
        status: status.as_u16(),
        body,
    })
}

/// The credential in `path`; if there is none, enrols with `token` and stores the answer.
/// Either way the credential must be for a `kind` device.
pub async fn load_or_enrol(
    http: &reqwest::Client,
    server: &reqwest::Url,
    path: &Path,
    token: Option<&str>,
    kind: DeviceKind,
) -> Result<DeviceCredential, EnrolmentError> {
    let credential = match load(path)? {
        Some(credential) => credential,
        None => {
            let token = token.ok_or_else(|| EnrolmentError::NotEnrolled {
                path: path.to_owned(),
            })?;
            let enrolled = enrol(http, server, token).await?;
            if enrolled.kind != kind {
                return Err(EnrolmentError::WrongKind {
                    expected: kind,
                    got: enrolled.kind,
                });
            }
            save(path, &enrolled)?;
            tracing::info!(device_id = %enrolled.device_id, ?kind, "enrolled with the server");
            DeviceCredential {
                device_id: enrolled.device_id,
                api_key: Secret::new(enrolled.api_key),
                kind: Some(enrolled.kind),
            }
        }
    };
    match credential.kind {
        Some(got) if got != kind => Err(EnrolmentError::WrongKind {
            expected: kind,
            got,
        }),
        _ => Ok(credential),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Json;
    use axum::http::StatusCode;
    use std::os::unix::fs::PermissionsExt;

    /// A server whose enrolment endpoint takes `good-token` and answers `kind`.
    async fn server(kind: DeviceKind) -> reqwest::Url {
        let app = axum::Router::new().route(
            "/api/v1/devices/enrol",
            axum::routing::post(move |Json(req): Json<EnrolRequest>| async move {
                if req.token != "good-token" {
                    let body = ErrorBody {
                        error: "bad_token".into(),
                        message: "unknown or used enrolment token".into(),
                    };
                    return Err((StatusCode::FORBIDDEN, Json(body)));
                }
                Ok(Json(EnrolResponse {
                    device_id: "dev-1".into(),
                    kind,
                    name: "lobby".into(),
                    api_key: "secret-key-123".into(),
                }))
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}").parse().unwrap()
    }

    #[tokio::test]
    async fn enrols_once_keeps_the_key_private_and_uses_the_file_afterwards() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.json");
        let http = reqwest::Client::new();
        let url = server(DeviceKind::Kiosk).await;

        let e = load_or_enrol(&http, &url, &path, None, DeviceKind::Kiosk)
            .await
            .unwrap_err();
        assert!(matches!(e, EnrolmentError::NotEnrolled { .. }), "{e}");
        assert!(e.is_final());
        let e = load_or_enrol(&http, &url, &path, Some("used"), DeviceKind::Kiosk)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, EnrolmentError::Refused { status: 403, body } if body.error == "bad_token"),
            "{e}"
        );
        assert!(!e.is_final(), "a refusal may be lifted on the server");

        let c = load_or_enrol(&http, &url, &path, Some("good-token"), DeviceKind::Kiosk)
            .await
            .unwrap();
        assert_eq!(
            (c.device_id.as_str(), c.api_key.expose()),
            ("dev-1", "secret-key-123")
        );
        assert!(!format!("{c:?}").contains("secret"), "{c:?}");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);

        // The token is spent; the file alone identifies the device now.
        let again = load_or_enrol(&http, &url, &path, Some("used"), DeviceKind::Kiosk)
            .await
            .unwrap();
        assert_eq!(again.api_key.expose(), "secret-key-123");
        let e = load_or_enrol(&http, &url, &path, None, DeviceKind::Gate)
            .await
            .unwrap_err();
        assert!(matches!(e, EnrolmentError::WrongKind { .. }), "{e}");
    }

    #[tokio::test]
    async fn a_token_for_another_kind_of_device_is_refused_and_nothing_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.json");
        let url = server(DeviceKind::Gate).await;
        let e = load_or_enrol(
            &reqwest::Client::new(),
            &url,
            &path,
            Some("good-token"),
            DeviceKind::Kiosk,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, EnrolmentError::WrongKind { .. }), "{e}");
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn an_unreachable_server_is_worth_retrying() {
        let dir = tempfile::tempdir().unwrap();
        let url = "http://127.0.0.1:1".parse().unwrap();
        let e = load_or_enrol(
            &reqwest::Client::new(),
            &url,
            &dir.path().join("device.json"),
            Some("good-token"),
            DeviceKind::Gate,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(e, EnrolmentError::Unreachable(_)) && !e.is_final(),
            "{e}"
        );
    }

    #[test]
    fn a_file_written_before_the_kind_was_kept_still_loads_and_garbage_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.json");
        std::fs::write(&path, r#"{"device_id":"gate-1","api_key":"k"}"#).unwrap();
        let c = load(&path).unwrap().unwrap();
        assert_eq!((c.device_id.as_str(), c.kind), ("gate-1", None));
        std::fs::write(&path, "nope").unwrap();
        let e = load(&path).unwrap_err().to_string();
        assert!(
            e.contains("device.json") && e.contains("not a device credential"),
            "{e}"
        );
    }
}
