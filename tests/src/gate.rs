//! A gate process: its config (simulated relay, a pty scanner), start, and its `/status`.

use crate::process::{Launch, Running};
use crate::programs::Program;
use crate::server::{expect_ok, http_client};
use crate::{HarnessError, Result, wait_for};
use gatehouse_credential::Zone;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the gate's scanner lines come from.
#[derive(Clone, Debug)]
pub enum ScannerSource {
    /// The gate opens this serial device (a harness pty's slave side).
    Port(PathBuf),
    /// The gate opens a pty itself and links its slave side here.
    SimLink(PathBuf),
}

/// Where a gate keeps its files and what it guards.
#[derive(Clone, Debug)]
pub struct GateSetup {
    /// Its directory: config, journal, log.
    pub dir: PathBuf,
    /// The door it guards.
    pub zone: Zone,
    /// Its scanner.
    pub scanner: ScannerSource,
}

impl GateSetup {
    /// The config file.
    pub fn config(&self) -> PathBuf {
        self.dir.join("gate.toml")
    }
    /// The log.
    pub fn log(&self) -> PathBuf {
        self.dir.join("gate.log")
    }
    /// The path a person writes a pass to.
    pub fn scanner_path(&self) -> &Path {
        match &self.scanner {
            ScannerSource::Port(p) | ScannerSource::SimLink(p) => p,
        }
    }
}

/// The gate's TOML.
pub fn config_toml(
    setup: &GateSetup,
    server_url: &str,
    status_listen: &str,
    token: &str,
) -> String {
    let scanner = match &setup.scanner {
        ScannerSource::Port(p) => format!("port = {:?}\nbaud = 9600", p.display().to_string()),
        ScannerSource::SimLink(p) => format!("sim_link = {:?}", p.display().to_string()),
    };
    let floor = setup
        .zone
        .floor
        .map(|f| format!("floor = {f}\n"))
        .unwrap_or_default();
    format!(
        r#"server_url = {server_url:?}
data_dir = {dir:?}
status_listen = {status_listen:?}
enrolment_token = {token:?}

[door]
building = {building}
class = "{class}"
{floor}
[scanner]
{scanner}

[relay]
backend = "sim"
"#,
        dir = setup.dir.display().to_string(),
        building = setup.zone.building,
        class = setup.zone.class.name(),
    )
}

/// Writes the config and starts the gate.
pub fn start(
    setup: &GateSetup,
    server_url: &str,
    status_listen: &str,
    token: &str,
) -> Result<Running> {
    std::fs::create_dir_all(&setup.dir).map_err(HarnessError::io("creating the gate dir"))?;
    let config = setup.config();
    std::fs::write(
        &config,
        config_toml(setup, server_url, status_listen, token),
    )
    .map_err(HarnessError::io("writing the gate config"))?;
    Running::start(
        Launch::new(Program::Gate, setup.log())
            .args(["--config".as_ref(), config.as_os_str()])
            .args(["--status-listen", status_listen]),
    )
}

/// The gate's `/status` document.
#[derive(Clone, Debug)]
pub struct GateStatus(pub Value);

/// One relay transition the gate reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayTransition {
    /// When, as the gate wrote it.
    pub at: String,
    /// The new state, e.g. `unlocked` / `locked`.
    pub state: String,
}

impl GateStatus {
    /// Fetches `GET {url}/status`.
    pub fn fetch(url: &str) -> Result<GateStatus> {
        expect_ok("GET /status", http_client().get(format!("{url}/status"))).map(GateStatus)
    }

    /// The relay transitions, oldest first.
    pub fn relay_transitions(&self) -> Vec<RelayTransition> {
        let list = self.0["relay_transitions"]
            .as_array()
            .or_else(|| self.0["relay"]["transitions"].as_array())
            .cloned()
            .unwrap_or_default();
        list.iter()
            .map(|t| RelayTransition {
                at: text(&t["at"]),
                state: text(if t["state"].is_null() {
                    &t["to"]
                } else {
                    &t["state"]
                }),
            })
            .collect()
    }

    /// The recent decisions, oldest first, as JSON objects.
    pub fn decisions(&self) -> Vec<Value> {
        self.0["decisions"]
            .as_array()
            .or_else(|| self.0["recent_decisions"].as_array())
            .cloned()
            .unwrap_or_default()
    }

    /// The sync cursor.
    pub fn cursor(&self) -> Option<u64> {
        self.0["sync"]["cursor"].as_u64()
    }

    /// Journal entries not yet acknowledged by the server.
    pub fn pending_uploads(&self) -> Option<u64> {
        self.0["pending_uploads"]
            .as_u64()
            .or_else(|| self.0["sync"]["pending_uploads"].as_u64())
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Waits until the gate has made more than `before` decisions and returns the newest.
pub fn wait_decision(url: &str, before: usize, timeout: Duration) -> Result<Value> {
    wait_for("the gate's next decision", timeout, || {
        let status = GateStatus::fetch(url).ok()?;
        let d = status.decisions();
        if d.len() > before {
            d.last().cloned()
        } else {
            None
        }
    })
}

/// How many decisions the gate reports now.
pub fn decision_count(url: &str) -> Result<usize> {
    Ok(GateStatus::fetch(url)?.decisions().len())
}
