//! A gate process: its config (simulated relay, a pty scanner), start, and its `/status`.

use crate::process::Launch;
use crate::programs::Program;
use crate::server::{expect_ok, http_client};
use crate::{HarnessError, Result, wait_for};
use gatehouse_credential::{PublicKeyInfo, Zone};
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

/// Where a gate keeps its files, what it guards and how it is set up.
#[derive(Clone, Debug)]
pub struct GateSetup {
    /// Its directory: config, journal, log.
    pub dir: PathBuf,
    /// The door it guards.
    pub zone: Zone,
    /// Its scanner.
    pub scanner: ScannerSource,
    /// Relay unlock time per admit, ms.
    pub pulse_ms: u64,
    /// The same text again within this time is ignored, ms (0 in tests that rescan a pass).
    pub debounce_ms: u64,
    /// Public keys to trust before the first sync.
    pub keys: Vec<PublicKeyInfo>,
    /// The server's URL; `None` runs the gate offline on `keys` alone.
    pub server: Option<String>,
    /// The one-time enrolment token, until the gate holds its device key.
    pub enrolment_token: Option<String>,
    /// Shifts the gate's wall clock (the gate's test-only `GATEHOUSE_SIM_CLOCK_OFFSET_SECS`).
    pub clock_offset_secs: Option<i64>,
    /// More `[door]` lines (anti-passback, direction, area), empty by default.
    pub door_extra: String,
    /// `[clock]` lines (NTP source, sim offset file). By default `ntp = "none"`: the test
    /// machine's own NTP state must not decide whether a simulated gate trusts its clock.
    pub clock_extra: String,
}

impl GateSetup {
    /// A gate in `dir` guarding `zone` with its scanner on `scanner`: 500 ms pulses, no
    /// debounce, no sync and no keys yet.
    pub fn new(dir: &Path, zone: Zone, scanner: ScannerSource) -> Self {
        GateSetup {
            dir: dir.to_path_buf(),
            zone,
            scanner,
            pulse_ms: 500,
            debounce_ms: 0,
            keys: Vec::new(),
            server: None,
            enrolment_token: None,
            clock_offset_secs: None,
            door_extra: String::new(),
            clock_extra: "ntp = \"none\"\n".into(),
        }
    }
    /// The config file.
    pub fn config(&self) -> PathBuf {
        self.dir.join("gate.toml")
    }
    /// The log.
    pub fn log(&self) -> PathBuf {
        self.dir.join("gate.log")
    }
    /// Whether the gate enrolled before (it holds a device key).
    pub fn is_enrolled(&self) -> bool {
        self.dir.join("data").join("device.json").is_file()
    }
    /// The path a person writes a pass to.
    pub fn scanner_path(&self) -> &Path {
        match &self.scanner {
            ScannerSource::Port(p) | ScannerSource::SimLink(p) => p,
        }
    }

    /// The gate's TOML (gate-controller/src/config.rs), with simulated pins.
    pub fn config_toml(&self, status_listen: &str) -> String {
        let q = |p: &Path| format!("{:?}", p.display().to_string());
        let mut t = format!(
            "data_dir = {}\nstatus_listen = {status_listen:?}\n\n[door]\nbuilding = {}\nclass = \"{}\"\npulse_ms = {}\n",
            q(&self.dir.join("data")),
            self.zone.building,
            self.zone.class.name(),
            self.pulse_ms,
        );
        if let Some(floor) = self.zone.floor {
            t += &format!("floor = {floor}\n");
        }
        t += &self.door_extra;
        t += &format!("\n[scanner]\ndebounce_ms = {}\n", self.debounce_ms);
        t += &match &self.scanner {
            ScannerSource::Port(p) => format!("port = {}\n", q(p)),
            ScannerSource::SimLink(p) => format!("sim_link = {}\n", q(p)),
        };
        t += "\n[pins]\nbackend = \"sim\"\n";
        if let Some(server) = &self.server {
            // A short back-off so a restarted server is found again within a second.
            // Short long-polls, so the status page notices a server coming and going within
            // two seconds (it marks the server reachable when a poll returns).
            t += &format!("\n[sync]\nserver = {server:?}\nmax_backoff_secs = 1\nwait_ms = 2000\n");
            if let Some(token) = &self.enrolment_token {
                t += &format!("enrolment_token = {token:?}\n");
            }
        }
        if !self.clock_extra.is_empty() {
            t += &format!("\n[clock]\n{}\n", self.clock_extra);
        }
        for k in &self.keys {
            t += &format!(
                "\n[[keys]]\nkey_id = {}\npublic_key = {:?}\n",
                k.key_id.get(),
                k.public_key
            );
        }
        t
    }
}

/// Writes the config; how to start the gate (with
/// [`Running::start`](crate::process::Running::start)) with its status endpoint
/// on `status_listen`.
pub fn launch(setup: &GateSetup, status_listen: &str) -> Result<Launch> {
    std::fs::create_dir_all(&setup.dir).map_err(HarnessError::io("creating the gate dir"))?;
    let config = setup.config();
    std::fs::write(&config, setup.config_toml(status_listen))
        .map_err(HarnessError::io("writing the gate config"))?;
    let mut launch =
        Launch::new(Program::Gate, setup.log()).args(["--config".as_ref(), config.as_os_str()]);
    if let Some(offset) = setup.clock_offset_secs {
        launch = launch.env("GATEHOUSE_SIM_CLOCK_OFFSET_SECS", offset.to_string());
    }
    Ok(launch)
}

/// The device key a gate stored at enrolment: `(device_id, api_key)`.
pub fn device_key(setup: &GateSetup) -> Result<(String, String)> {
    let path = setup.dir.join("data").join("device.json");
    let text = std::fs::read_to_string(&path)
        .map_err(HarnessError::io(format!("reading {}", path.display())))?;
    let key: Value = serde_json::from_str(&text).map_err(|e| HarnessError::Io {
        what: format!("parsing {}", path.display()),
        source: std::io::Error::other(e),
    })?;
    match (key["device_id"].as_str(), key["api_key"].as_str()) {
        (Some(id), Some(api_key)) => Ok((id.to_owned(), api_key.to_owned())),
        _ => Err(HarnessError::Io {
            what: format!("reading {}", path.display()),
            source: std::io::Error::other("no device_id and api_key"),
        }),
    }
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

    /// The relay's level now: `locked` or `unlocked`.
    pub fn relay(&self) -> Option<String> {
        self.0["door"]["relay"].as_str().map(str::to_owned)
    }

    /// The recent relay transitions, oldest first.
    pub fn relay_transitions(&self) -> Vec<RelayTransition> {
        self.0["door"]["relay_transitions"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|t| RelayTransition {
                        at: text(&t["at"]),
                        state: text(&t["level"]),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether the gate trusts its wall clock (`None` before its first look).
    pub fn clock_trusted(&self) -> Option<bool> {
        self.0["clock"]["trusted"].as_bool()
    }

    /// Why the gate trusts its clock or not (e.g. `server_agrees`, `behind_last_trusted`).
    pub fn clock_reason(&self) -> Option<String> {
        self.0["clock"]["reason"]["kind"]
            .as_str()
            .map(str::to_owned)
    }

    /// The recent alarms' kinds (e.g. `untrusted_clock`), oldest first.
    pub fn alarms(&self) -> Vec<String> {
        self.0["alarms"]
            .as_array()
            .map(|list| list.iter().map(|a| text(&a["alarm"])).collect())
            .unwrap_or_default()
    }

    /// The recent decisions, oldest first.
    pub fn decisions(&self) -> Vec<Decision> {
        self.0["decisions"]
            .as_array()
            .map(|list| list.iter().map(Decision::from_json).collect())
            .unwrap_or_default()
    }

    /// The sync cursor.
    pub fn cursor(&self) -> Option<u64> {
        self.0["sync"]["cursor"].as_u64()
    }

    /// Whether the last sync attempt reached the server.
    pub fn server_reachable(&self) -> Option<bool> {
        self.0["sync"]["server_reachable"].as_bool()
    }

    /// The device id the gate enrolled as.
    pub fn device_id(&self) -> Option<String> {
        self.0["sync"]["device_id"].as_str().map(str::to_owned)
    }

    /// Journal entries not yet acknowledged by the server.
    pub fn pending_uploads(&self) -> Option<u64> {
        self.0["journal"]["pending_uploads"].as_u64()
    }

    /// Scanner lines passed on to the decision core since start.
    pub fn scanned_lines(&self) -> u64 {
        self.0["scanner"]["lines"].as_u64().unwrap_or(0)
    }
}

/// One decision as `/status` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// When (RFC 3339 text).
    pub at: String,
    /// The card, when the credential verified.
    pub card_id: Option<u64>,
    /// Whether the door opened.
    pub admitted: bool,
    /// Why not, e.g. `bad_signature`.
    pub reason: Option<String>,
}

impl Decision {
    fn from_json(v: &Value) -> Decision {
        Decision {
            at: text(&v["at"]),
            card_id: v["card_id"].as_u64(),
            admitted: v["admitted"].as_bool().unwrap_or(false),
            reason: v["reason"].as_str().map(str::to_owned),
        }
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Waits for the gate's next decision after `previous` (the newest one seen before the scan).
pub fn next_decision(
    url: &str,
    previous: Option<&Decision>,
    timeout: Duration,
) -> Result<Decision> {
    wait_for("the gate's next decision", timeout, || {
        let newest = GateStatus::fetch(url).ok()?.decisions().pop()?;
        (Some(&newest) != previous).then_some(newest)
    })
}

/// The gate's newest decision, if any.
pub fn last_decision(url: &str) -> Result<Option<Decision>> {
    Ok(GateStatus::fetch(url)?.decisions().pop())
}

/// Waits until the relay has made `count` more transitions than `before` and returns the new ones.
pub fn wait_relay_transitions(
    url: &str,
    before: &[RelayTransition],
    count: usize,
    timeout: Duration,
) -> Result<Vec<RelayTransition>> {
    wait_for("relay transitions", timeout, || {
        let now = GateStatus::fetch(url).ok()?.relay_transitions();
        let new: Vec<_> = now.into_iter().filter(|t| !before.contains(t)).collect();
        (new.len() >= count).then_some(new)
    })
}
