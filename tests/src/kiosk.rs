//! The kiosk process: its config (file printer), start, and the printed output.

use crate::process::Launch;
use crate::programs::Program;
use crate::server::{expect_ok, http_client};
use crate::{HarnessError, Result};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Where a kiosk keeps its files.
#[derive(Clone, Debug)]
pub struct KioskFiles {
    /// Its directory.
    pub dir: PathBuf,
}

impl KioskFiles {
    /// The kiosk's files in `dir`.
    pub fn new(dir: &Path) -> Self {
        KioskFiles {
            dir: dir.to_path_buf(),
        }
    }
    /// The config file.
    pub fn config(&self) -> PathBuf {
        self.dir.join("kiosk.toml")
    }
    /// The enrolled API key.
    pub fn credential(&self) -> PathBuf {
        self.dir.join("device.json")
    }
    /// Where the file printer appends its ESC/POS bytes.
    pub fn printer_output(&self) -> PathBuf {
        self.dir.join("printer.bin")
    }
    /// Whether the kiosk enrolled before (it holds a device key).
    pub fn is_enrolled(&self) -> bool {
        self.credential().is_file()
    }
    /// The log.
    pub fn log(&self) -> PathBuf {
        self.dir.join("kiosk.log")
    }
}

/// The kiosk's TOML: loopback port `listen`, the file printer, the server and, until it has
/// enrolled, its one-time token.
pub fn config_toml(
    files: &KioskFiles,
    server_url: &str,
    listen: &str,
    token: Option<&str>,
) -> String {
    let token = token
        .map(|t| format!("enrolment_token = {t:?}\n"))
        .unwrap_or_default();
    format!(
        r#"listen = {listen:?}
server_url = {server_url:?}

[device]
credential_path = {credential:?}
{token}
[printer]
backend = "file"
path = {printer:?}

[estate]
name = "翠湖花园 Gatehouse demo"
time_zone = "Asia/Shanghai"
"#,
        credential = files.credential().display().to_string(),
        printer = files.printer_output().display().to_string(),
    )
}

/// Writes the config (the server URL may differ from a previous run); how to start the kiosk
/// (with [`Running::start`](crate::process::Running::start)).
pub fn launch(
    files: &KioskFiles,
    server_url: &str,
    listen: &str,
    token: Option<&str>,
) -> Result<Launch> {
    std::fs::create_dir_all(&files.dir).map_err(HarnessError::io("creating the kiosk dir"))?;
    let config = files.config();
    std::fs::write(&config, config_toml(files, server_url, listen, token))
        .map_err(HarnessError::io("writing the kiosk config"))?;
    Ok(Launch::new(Program::Kiosk, files.log()).args(["--config".as_ref(), config.as_os_str()]))
}

/// The bytes the kiosk has printed so far.
pub fn printed(files: &KioskFiles) -> Vec<u8> {
    std::fs::read(files.printer_output()).unwrap_or_default()
}

/// Registers a visitor through the kiosk's own web API, as its touch screen does: picks the
/// unit by label from `/api/units`, posts `/api/visitors`. The pass answer (with `credential`).
pub fn register_visitor(kiosk_url: &str, name: &str, unit_label: &str) -> Result<Value> {
    let http = http_client();
    let units = expect_ok("GET /api/units", http.get(format!("{kiosk_url}/api/units")))?;
    let unit_id = crate::estate::unit_id(&units, unit_label, "unit_id").ok_or_else(|| {
        HarnessError::Http {
            call: "GET /api/units".into(),
            message: format!("no unit {unit_label} in {units}"),
        }
    })?;
    let form = json!({
        "name": name,
        "unit_id": unit_id,
        "host_name": "李先生",
        "purpose": "探亲访友",
        "party_size": 1,
    });
    expect_ok(
        "POST /api/visitors",
        http.post(format!("{kiosk_url}/api/visitors")).json(&form),
    )
}

/// Signs a pass out at the kiosk (`/api/sign-out`).
pub fn sign_out(kiosk_url: &str, pass: &str) -> Result<Value> {
    expect_ok(
        "POST /api/sign-out",
        http_client()
            .post(format!("{kiosk_url}/api/sign-out"))
            .json(&json!({"pass": pass})),
    )
}
