//! Spawning the server for a test.

use gatehouse_server::config::Secret;
use gatehouse_server::db::DbError;
use gatehouse_server::{Application, Config};
use reqwest::{Client, Method, Response};
use serde_json::{Value, json};
use std::net::SocketAddr;

/// The admin password every test server starts with.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// A running server and a client for it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: Client,
    pub dir: tempfile::TempDir,
    pub state: gatehouse_server::state::AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Starts a server with a fresh data directory.
pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    config.admin_password = Some(Secret::new(ADMIN_PASSWORD));
    spawn_with(config, dir).await
}

/// A fresh server with its manager (`admin`) logged in: (app, manager token).
pub async fn spawn_managed() -> (TestApp, String) {
    let app = spawn_app().await;
    let admin = app.admin().await;
    (app, admin)
}

/// A fresh server with a manager and a desk clerk logged in: (app, manager token, desk token).
pub async fn spawn_staffed() -> (TestApp, String, String) {
    let (app, admin) = spawn_managed().await;
    let desk = app.desk(&admin).await;
    (app, admin, desk)
}

/// Starts a server with `config` over `dir`.
pub async fn spawn_with(config: Config, dir: tempfile::TempDir) -> TestApp {
    gatehouse_test_support::test_log();
    let app = Application::build(config).await.expect("server builds");
    let addr = app.local_addr().unwrap();
    let state = app.state().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        client: Client::new(),
        dir,
        state,
        stop: Some(stop),
        task: Some(task),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Sends `method path` with an optional bearer token and JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request sent")
    }

    /// Sends each `(method, path, body, status)` in turn as `token` and checks the answer's
    /// status, naming the call that got another.
    pub async fn expect_statuses(
        &self,
        token: &str,
        calls: Vec<(Method, &str, Option<Value>, u16)>,
    ) {
        for (method, path, body, status) in calls {
            let what = format!("{method} {path} {body:?}");
            let r = self.send(method, path, Some(token), body).await;
            assert_eq!(r.status(), status, "{what}");
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.send(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.send(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.send(Method::PUT, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.send(Method::DELETE, path, token, None).await
    }

    /// Runs `f` on the server's own database connection (to seed rows or read them back);
    /// returns what it returns.
    pub async fn db<T, F>(&self, f: F) -> T
    where
        F: FnOnce(&mut rusqlite::Connection) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        self.state.db.call(f).await.expect("database call")
    }

    /// `GET path`, checked to be a 200, as JSON read into a `T`.
    pub async fn get_ok<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
    ) -> T {
        let r = self.get(path, token).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }

    /// `GET path` as JSON.
    pub async fn get_json(&self, path: &str, token: Option<&str>) -> Value {
        self.get(path, token).await.json().await.unwrap()
    }

    /// `GET path` as text.
    pub async fn get_text(&self, path: &str, token: Option<&str>) -> String {
        self.get(path, token).await.text().await.unwrap()
    }

    /// Logs in and returns the bearer token.
    /// POSTs `body` to `path` as `token`, checks it was created (201) and returns the answer.
    pub async fn created(&self, path: &str, token: &str, body: Value) -> Value {
        let r = self.post(path, Some(token), body).await;
        assert_eq!(r.status(), 201, "POST {path}");
        r.json().await.unwrap()
    }

    /// Asks to log in as `username`; the answer, whatever it is.
    pub async fn try_login(&self, username: &str, password: &str) -> Response {
        self.post(
            "/api/v1/auth/login",
            None,
            json!({"username": username, "password": password}),
        )
        .await
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let r = self.try_login(username, password).await;
        assert_eq!(r.status(), 200, "login as {username}");
        r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn admin(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// The manager `admin` creates the staff account `username` with `role` (201).
    pub async fn add_staff(&self, admin: &str, username: &str, role: &str, password: &str) {
        let body = json!({"username": username, "role": role, "password": password});
        let r = self.post("/api/v1/staff", Some(admin), body).await;
        assert_eq!(r.status(), 201, "staff account {username}");
    }

    /// Creates a desk account and returns its token.
    pub async fn desk(&self, admin: &str) -> String {
        self.add_staff(admin, "desk1", "desk", "desk-password-1")
            .await;
        self.login("desk1", "desk-password-1").await
    }

    /// The public keys the database publishes to gates (read through a second connection).
    pub fn published_keys(&self) -> Vec<gatehouse_credential::PublicKeyInfo> {
        let db = self.dir.path().join(gatehouse_server::db::DB_FILE);
        let conn = rusqlite::Connection::open(db).unwrap();
        gatehouse_server::keys::published(&conn).unwrap()
    }

    /// The signing key stored in the data directory under `id`.
    pub fn key_file(&self, id: u8) -> gatehouse_credential::Signer {
        let id = gatehouse_credential::KeyId::new(id).unwrap();
        gatehouse_credential::Signer::load(&gatehouse_server::keys::file::path(self.dir.path(), id))
            .unwrap()
    }

    /// Waits until the server's `gate_long_polls_waiting` gauge says a gate's long poll is
    /// parked, so what a test does next happens while the poll waits.
    pub async fn long_poll_parked(&self) {
        self.parked_on("gate_long_polls_waiting").await;
    }

    /// Waits until the server's `gauge` of parked long polls is at least one. (The metrics
    /// recorder is process-wide: a poll parked by a test running alongside also counts.)
    pub async fn parked_on(&self, gauge: &str) {
        let started = std::time::Instant::now();
        loop {
            let metrics = self.get_text("/metrics", None).await;
            let parked = metrics.lines().any(|l| {
                l.strip_prefix(gauge)
                    .and_then(|v| v.strip_prefix(' '))
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .is_some_and(|v| v >= 1.0)
            });
            if parked {
                return;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "no long poll parked within 10 s:\n{metrics}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
        self.dir
    }
}

/// The text of `field` in each element of the JSON array `list`.
pub fn texts(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e[field].as_str().unwrap().to_owned())
        .collect()
}

/// The action of each of the newest 500 audit entries, newest first.
pub async fn audit_action_names(app: &TestApp, admin: &str) -> Vec<String> {
    let log = app.get_json("/api/v1/audit?limit=500", Some(admin)).await;
    texts(&log, "action")
}

/// Asserts `r` is a 422 with error `code` whose message names `field`.
pub async fn assert_unprocessable(r: Response, code: &str, field: &str) {
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.expect("JSON error body");
    assert_eq!(v["error"], code, "{v}");
    let message = v["message"].as_str().unwrap_or_default();
    assert!(message.contains(field), "the message names {field:?}: {v}");
}

/// Asserts `r` is a `status` with error `code`; returns the error body for more checks.
pub async fn assert_error(r: Response, status: u16, code: &str) -> Value {
    assert_eq!(r.status(), status, "{code}");
    let v: Value = r.json().await.expect("JSON error body");
    assert_eq!(v["error"], code, "{v}");
    v
}

/// Asserts `r` is a 429 `too_many_requests` whose `Retry-After` is one second to 15 minutes.
pub async fn assert_slowed_down(r: Response) {
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=15 * 60).contains(&wait), "Retry-After: {wait}");
    assert_eq!(error_code(r).await, "too_many_requests");
}

/// Asserts `r`'s `Content-Type` starts with `prefix` (`text/csv`, …).
pub fn assert_content_type(r: &Response, prefix: &str) {
    let got = r.headers()["content-type"].to_str().unwrap();
    assert!(got.starts_with(prefix), "{got}, not {prefix}");
}

/// Asserts each of `wanted` is in `found`.
pub fn assert_contains_all(found: &[String], wanted: &[&str]) {
    for w in wanted {
        assert!(found.iter().any(|f| f == w), "{w} in {found:?}");
    }
}

/// The `error` code of an error body.
pub async fn error_code(r: Response) -> String {
    let v: Value = r.json().await.expect("JSON error body");
    assert!(
        v["message"].as_str().is_some_and(|m| !m.is_empty()),
        "error has a message: {v}"
    );
    v["error"].as_str().unwrap().to_owned()
}
