//! The server process and a staff API client.

use crate::estate::Estate;
use crate::process::{Launch, Running};
use crate::programs::Program;
use crate::{HarnessError, Result};
use gatehouse_credential::Zone;
use gatehouse_credential::api::device::DeviceKind;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde::Serialize;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

/// The admin password the harness gives a fresh server.
pub const ADMIN_PASSWORD: &str = "gatehouse-e2e-admin";

/// How to start a server on a data dir.
pub fn launch(data_dir: &Path, listen: &str, admin_password: &str) -> Launch {
    Launch::new(Program::Server, data_dir.join("server.log"))
        .args(["--listen", listen, "--data-dir"])
        .args([data_dir.as_os_str()])
        .env("GATEHOUSE_ADMIN_PASSWORD", admin_password)
}

/// Starts a server on port 0 with `data_dir` (created if missing).
pub fn start(data_dir: &Path) -> Result<Running> {
    std::fs::create_dir_all(data_dir).map_err(HarnessError::io("creating the server data dir"))?;
    Running::start(launch(data_dir, "127.0.0.1:0", ADMIN_PASSWORD))
}

/// A device the manager created, before it enrolled.
#[derive(Clone, Debug)]
pub struct NewDevice {
    /// Its id on the server.
    pub device_id: String,
    /// The one-time token the device enrols with.
    pub enrolment_token: String,
}

/// A logged-in staff member's API client.
#[derive(Clone, Debug)]
pub struct Api {
    base: String,
    token: String,
    http: Client,
}

/// A client with short timeouts for loopback calls.
pub fn http_client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(40))
        .build()
        .unwrap_or_else(|_| Client::new())
}

impl Api {
    /// Logs in with a username and password.
    pub fn login(base: &str, username: &str, password: &str) -> Result<Api> {
        let http = http_client();
        let call = "POST /api/v1/auth/login";
        let body = json!({"username": username, "password": password});
        let answer = expect_ok(
            call,
            http.post(format!("{base}/api/v1/auth/login")).json(&body),
        )?;
        let token = answer["token"]
            .as_str()
            .ok_or_else(|| HarnessError::Http {
                call: call.into(),
                message: format!("no token in {answer}"),
            })?
            .to_owned();
        Ok(Api {
            base: base.trim_end_matches('/').to_owned(),
            token,
            http,
        })
    }

    /// Logs in as `admin` with [`ADMIN_PASSWORD`].
    pub fn admin(base: &str) -> Result<Api> {
        Api::login(base, "admin", ADMIN_PASSWORD)
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The session token (a bearer token) of the logged-in staff member.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A request to `path` with the session token, and how a failure names it ("GET /x").
    fn request(&self, method: reqwest::Method, path: &str) -> (String, RequestBuilder) {
        let call = format!("{method} {path}");
        let req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        (call, req)
    }

    /// A GET that must succeed; the body as JSON.
    pub fn get(&self, path: &str) -> Result<Value> {
        let (call, req) = self.request(reqwest::Method::GET, path);
        expect_ok(&call, req)
    }

    /// A POST that must succeed; the body as JSON.
    pub fn post(&self, path: &str, body: &impl Serialize) -> Result<Value> {
        let (call, req) = self.request(reqwest::Method::POST, path);
        expect_ok(&call, req.json(body))
    }

    /// A POST whose status and JSON body are returned whatever they are.
    pub fn post_raw(&self, path: &str, body: &impl Serialize) -> Result<(u16, Value)> {
        let (call, req) = self.request(reqwest::Method::POST, path);
        send(&call, req.json(body))
    }

    /// A DELETE that must succeed; the body as JSON.
    pub fn delete(&self, path: &str) -> Result<Value> {
        let (call, req) = self.request(reqwest::Method::DELETE, path);
        expect_ok(&call, req)
    }

    /// A PUT that must succeed; the body as JSON.
    pub fn put(&self, path: &str, body: &impl Serialize) -> Result<Value> {
        let (call, req) = self.request(reqwest::Method::PUT, path);
        expect_ok(&call, req.json(body))
    }

    /// Registers a renovation of the unit `unit_id` from `start` to `end`, for the example's
    /// owner, contractor and supervisor, with no waterproofing; the answer (`id`, `code`).
    pub fn register_renovation(
        &self,
        unit_id: i64,
        start: chrono::NaiveDate,
        end: chrono::NaiveDate,
    ) -> Result<Value> {
        self.post(
            "/api/v1/renovations",
            &json!({
                "unit_id": unit_id, "owner_name": "王小明", "contractor": "Acme Decoration Co.",
                "supervisor_name": "李四", "supervisor_phone": "13812345678",
                "start_date": start, "end_date": end, "waterproofing": false,
            }),
        )
    }

    /// Creates a device (manager only) and returns its one-time enrolment token.
    pub fn create_device(
        &self,
        kind: DeviceKind,
        name: &str,
        zone: Option<&Zone>,
    ) -> Result<NewDevice> {
        let mut body = json!({"kind": kind, "name": name});
        if let Some(zone) = zone {
            body["zone"] = serde_json::to_value(zone).unwrap_or(Value::Null);
        }
        let answer = self.post("/api/v1/devices", &body)?;
        let field = |k: &str| {
            answer[k]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| HarnessError::Http {
                    call: "POST /api/v1/devices".into(),
                    message: format!("no {k} in {answer}"),
                })
        };
        Ok(NewDevice {
            device_id: field("device_id")?,
            enrolment_token: field("enrolment_token")?,
        })
    }

    /// Records the example estate: buildings, units and doors (zones). Idempotent: what exists
    /// already (a second demo run) is left as it is.
    pub fn create_estate(&self, estate: &Estate) -> Result<()> {
        for b in &estate.buildings {
            let body = json!({"number": b.number, "name": b.name, "floor_lo": b.floor_lo, "floor_hi": b.floor_hi});
            self.post_unless_exists("/api/v1/buildings", &body)?;
        }
        for u in &estate.units {
            let body = json!({"label": u.label, "building": u.building, "floor": u.floor});
            self.post_unless_exists("/api/v1/units", &body)?;
        }
        // Zones have no natural key on the server: skip the doors it already has.
        let known = self.get("/api/v1/estate")?;
        let has = |zone: &Zone| {
            known["zones"].as_array().is_some_and(|zones| {
                zones.iter().any(|z| {
                    z["building"] == zone.building
                        && z["class"] == zone.class.name()
                        && z["floor"].as_i64() == zone.floor.map(i64::from)
                })
            })
        };
        for d in estate.doors.iter().filter(|d| !has(&d.zone)) {
            let body = json!({"name": d.name, "building": d.zone.building, "class": d.zone.class, "floor": d.zone.floor});
            self.post_unless_exists("/api/v1/zones", &body)?;
        }
        Ok(())
    }

    fn post_unless_exists(&self, path: &str, body: &Value) -> Result<()> {
        match self.post_raw(path, body)? {
            (200..=299, _) | (409, _) => Ok(()),
            (status, answer) => Err(HarnessError::Http {
                call: format!("POST {path}"),
                message: format!("{status}: {answer}"),
            }),
        }
    }
}

/// Sends a request and returns its status and JSON body (`null` when there is none).
pub fn send(call: &str, req: RequestBuilder) -> Result<(u16, Value)> {
    let resp: Response = req.send().map_err(|e| HarnessError::Http {
        call: call.into(),
        message: e.to_string(),
    })?;
    let status = resp.status().as_u16();
    let text = resp.text().map_err(|e| HarnessError::Http {
        call: call.into(),
        message: e.to_string(),
    })?;
    let body = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Ok((status, body))
}

/// Sends a request that must answer 2xx.
pub fn expect_ok(call: &str, req: RequestBuilder) -> Result<Value> {
    match send(call, req)? {
        (200..=299, body) => Ok(body),
        (status, body) => Err(HarnessError::Http {
            call: call.into(),
            message: format!("{status}: {body}"),
        }),
    }
}
