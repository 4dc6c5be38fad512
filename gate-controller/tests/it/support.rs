//! Starting the real gate binary with a temp dir, a pty scanner and a stub server.

use gatehouse_credential::Kind;
use gatehouse_credential::api::device::DeviceKind;
use gatehouse_credential::api::gate::JournalEntry;
pub use gatehouse_e2e::process::{Signal, signal};
use serde_json::Value;
use serialport::{SerialPort, TTYPort};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use gatehouse_test_support::{current_claims, signer, stub};

pub fn pass(card: u32) -> String {
    signer()
        .issue(&current_claims(card, Kind::Visitor, None))
        .unwrap()
}

/// How the gate gets its scans.
pub enum Scanner {
    /// The gate opens its own pty and links it here.
    Sim(PathBuf),
    /// The test holds the master of a pty pair; the gate opens the slave as a serial port.
    Port { master: TTYPort, slave_path: String },
}

pub struct GateOptions {
    pub server: Option<String>,
    pub extra_door: String,
    pub debounce_ms: u64,
    pub pulse_ms: u64,
    pub clock_offset_secs: Option<i64>,
    pub use_port: bool,
    /// The long-poll wait the gate asks the server for.
    pub wait_ms: u64,
    /// A second, exit reader: the gate opens a pty for it at `DIR/exit-scanner`.
    pub exit_scanner: bool,
    /// More environment for the gate process.
    pub env: Vec<(&'static str, String)>,
}

impl Default for GateOptions {
    fn default() -> Self {
        GateOptions {
            server: None,
            extra_door: String::new(),
            debounce_ms: 3000,
            pulse_ms: 1000,
            clock_offset_secs: None,
            use_port: false,
            wait_ms: 2000,
            exit_scanner: false,
            env: Vec::new(),
        }
    }
}

pub struct GateProc {
    pub child: Child,
    pub base: String,
    pub dir: PathBuf,
    pub scanner: Scanner,
}

impl Drop for GateProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn write_config(dir: &Path, o: &GateOptions, scanner: &Scanner) -> PathBuf {
    let scanner_line = match scanner {
        Scanner::Sim(link) => format!("sim_link = {:?}", link.display().to_string()),
        Scanner::Port { slave_path, .. } => format!("port = {slave_path:?}\nreopen_ms = 50"),
    };
    let sync = o
        .server
        .as_ref()
        .map(|s| {
            format!(
                "[sync]\nserver = {s:?}\nenrolment_token = {:?}\nwait_ms = {}\nmax_backoff_secs = 1\n",
                stub::ENROL_TOKEN,
                o.wait_ms
            )
        })
        .unwrap_or_default();
    let keys = if o.server.is_none() {
        let k = signer().public_info();
        format!(
            "keys = [{{ key_id = {}, public_key = {:?} }}]\n",
            k.key_id, k.public_key
        )
    } else {
        String::new()
    };
    let exit = if o.exit_scanner {
        format!(
            "[exit_scanner]\nsim_link = {:?}\ndebounce_ms = {}\nidle_gap_ms = 0\n\n",
            dir.join("exit-scanner").display().to_string(),
            o.debounce_ms
        )
    } else {
        String::new()
    };
    let text = format!(
        "data_dir = {data:?}\nstatus_listen = \"127.0.0.1:0\"\n{keys}\n\
         [door]\nbuilding = 2\nclass = \"entrance\"\npulse_ms = {pulse}\n{extra}\n\
         [scanner]\n{scanner_line}\ndebounce_ms = {debounce}\nidle_gap_ms = 0\n\n{exit}{sync}\n\
         [clock]\n{clock}",
        data = dir.join("data").display().to_string(),
        pulse = o.pulse_ms,
        extra = o.extra_door,
        debounce = o.debounce_ms,
        // The test machine's own NTP state must not decide whether the gate trusts its clock.
        clock = "ntp = \"none\"\n",
    );
    let path = dir.join("gate.toml");
    std::fs::write(&path, text).unwrap();
    path
}

impl GateProc {
    pub fn start(dir: &Path, o: GateOptions) -> GateProc {
        let scanner = if o.use_port {
            let (master, slave) = pty_pair();
            let slave_path = slave.name().unwrap();
            // The gate opens the slave by its path; the test keeps the master.
            drop(slave);
            Scanner::Port { master, slave_path }
        } else {
            Scanner::Sim(dir.join("scanner"))
        };
        Self::start_with(dir, &o, scanner)
    }

    pub fn start_with(dir: &Path, o: &GateOptions, scanner: Scanner) -> GateProc {
        let config = write_config(dir, o, &scanner);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse-gate"));
        cmd.arg("--config")
            .arg(&config)
            .env("RUST_LOG", gatehouse_test_support::child_log_filter())
            .env_remove("GATEHOUSE_STATUS_LISTEN")
            .env_remove("GATEHOUSE_DATA_DIR")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(dir.join("gate.log"))
                    .unwrap(),
            ));
        cmd.envs(o.env.iter().map(|(k, v)| (k, v)));
        match o.clock_offset_secs {
            Some(s) => cmd.env("GATEHOUSE_SIM_CLOCK_OFFSET_SECS", s.to_string()),
            None => cmd.env_remove("GATEHOUSE_SIM_CLOCK_OFFSET_SECS"),
        };
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| {
                panic!(
                    "gate not ready; log:\n{}",
                    std::fs::read_to_string(dir.join("gate.log")).unwrap_or_default()
                )
            });
        let base = line
            .trim()
            .strip_prefix("gatehouse-gate status on ")
            .unwrap_or_else(|| {
                panic!(
                    "unexpected ready line {line:?}; log:\n{}",
                    std::fs::read_to_string(dir.join("gate.log")).unwrap_or_default()
                )
            })
            .to_owned();
        GateProc {
            child,
            base,
            dir: dir.to_owned(),
            scanner,
        }
    }

    /// Writes one line into the scanner, terminated as a GM65 does (CR).
    pub fn scan(&mut self, text: &str) {
        self.scan_raw(format!("{text}\r").as_bytes());
    }

    /// Writes one line into the exit reader's pty.
    pub fn scan_exit(&self, text: &str) {
        let mut w = std::fs::OpenOptions::new()
            .write(true)
            .open(self.dir.join("exit-scanner"))
            .unwrap();
        w.write_all(format!("{text}\r").as_bytes()).unwrap();
    }

    pub fn scan_raw(&mut self, bytes: &[u8]) {
        match &mut self.scanner {
            Scanner::Sim(link) => {
                let mut w = std::fs::OpenOptions::new().write(true).open(link).unwrap();
                w.write_all(bytes).unwrap();
            }
            Scanner::Port { master, .. } => master.write_all(bytes).unwrap(),
        }
    }

    pub async fn status(&self) -> Value {
        reqwest::get(format!("{}/status", self.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) {
        let r = reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }

    /// Polls the status until `cond` holds (or panics after `secs`).
    pub async fn wait_for(&self, secs: u64, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.status().await;
            if cond(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what}; status: {s:#}\nlog:\n{}",
                    std::fs::read_to_string(self.dir.join("gate.log")).unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn terminate(&mut self) -> std::process::ExitStatus {
        signal(&self.child, Signal::SIGTERM).unwrap();
        self.child.wait().unwrap()
    }

    pub fn kill9(&mut self) {
        signal(&self.child, Signal::SIGKILL).unwrap();
        let _ = self.child.wait();
    }

    /// Every entry in the gate's journal (read while the gate is stopped or running).
    pub fn journal(&self) -> Vec<JournalEntry> {
        gatehouse_gate::journal::Journal::open(&self.dir.join("data/journal.sqlite"), u64::MAX)
            .unwrap()
            .all()
            .unwrap()
    }
}

/// The decisions on the status page, as (card, admitted, reason).
pub fn decisions(status: &Value) -> Vec<(Option<u64>, bool, Option<String>)> {
    status["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["card_id"].as_u64(),
                d["admitted"].as_bool().unwrap(),
                d["reason"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// A stub server and a gate enrolled with it, after the first sync.
pub async fn start_synced(dir: &Path, o: GateOptions) -> (GateProc, stub::Stub, String) {
    let (addr, stub) = stub::spawn(DeviceKind::Gate).await;
    let server = format!("http://{addr}");
    let gate = GateProc::start(
        dir,
        GateOptions {
            server: Some(server.clone()),
            ..o
        },
    );
    gate.wait_for(10, "enrolment and first sync", |s| {
        s["sync"]["server_reachable"] == true
    })
    .await;
    (gate, stub, server)
}

/// A pty pair whose fds are not inherited by the gate process (`TTYPort::pair` opens the
/// master without close-on-exec; an inherited master would keep the "device" alive).
pub fn pty_pair() -> (TTYPort, TTYPort) {
    let (master, slave) = TTYPort::pair().unwrap();
    // A native clone is made with F_DUPFD_CLOEXEC; the inheritable originals close on drop.
    (
        master.try_clone_native().unwrap(),
        slave.try_clone_native().unwrap(),
    )
}
