//! The kiosk process: its config (file printer), start, and the printed output.

use crate::process::{Launch, Running};
use crate::programs::Program;
use crate::{HarnessError, Result};
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

/// Writes the config (the server URL may differ from a previous run) and starts the kiosk.
pub fn start(
    files: &KioskFiles,
    server_url: &str,
    listen: &str,
    token: Option<&str>,
) -> Result<Running> {
    std::fs::create_dir_all(&files.dir).map_err(HarnessError::io("creating the kiosk dir"))?;
    let config = files.config();
    std::fs::write(&config, config_toml(files, server_url, listen, token))
        .map_err(HarnessError::io("writing the kiosk config"))?;
    Running::start(
        Launch::new(Program::Kiosk, files.log()).args(["--config".as_ref(), config.as_os_str()]),
    )
}

/// The bytes the kiosk has printed so far.
pub fn printed(files: &KioskFiles) -> Vec<u8> {
    std::fs::read(files.printer_output()).unwrap_or_default()
}
