//! What the server's benchmarks share: a server on a fresh data directory with a known
//! manager password, running in the background, and the manager logged in over HTTP.

use gatehouse_server::config::Secret;
use gatehouse_server::state::AppState;
use gatehouse_server::{Application, Config};
use serde_json::{Value, json};
use std::time::Duration;

/// A running server and a manager's session on it.
pub struct BenchServer {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The server's state, to seed its database directly.
    pub state: AppState,
    /// The manager's bearer token.
    pub token: String,
    /// Removed when the bench ends.
    _dir: tempfile::TempDir,
}

/// Starts a server and logs the manager in through `client`.
pub async fn start(client: &reqwest::Client) -> BenchServer {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_tests(dir.path());
    config.admin_password = Some(Secret::new("bench-admin-password"));
    let app = Application::build(config).await.expect("server builds");
    let addr = app.local_addr().expect("bound");
    let state = app.state().clone();
    tokio::spawn(app.run_until(std::future::pending()));
    let base = format!("http://{addr}");
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": "bench-admin-password"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login body");
    let token = login["token"].as_str().expect("token").to_owned();
    BenchServer {
        base,
        state,
        token,
        _dir: dir,
    }
}

/// The `p` quantile (0 to 1) of durations sorted ascending.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}
