//! The kiosk's TOML configuration, parsed into typed values or rejected with a clear message.

use crate::printer::escpos::{PrintSettings, QrMode};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

/// Why a configuration could not be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read, or is not TOML of the expected shape.
    #[error(transparent)]
    File(#[from] gatehouse_shell::config::FileError),
    /// A value is out of range or inconsistent.
    #[error("config value `{key}` is invalid: {message}")]
    Invalid {
        /// The dotted key.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// A UI language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
pub enum Language {
    /// Simplified Chinese, the default.
    #[serde(rename = "zh-CN")]
    ZhCn,
    /// English.
    #[serde(rename = "en")]
    En,
}

/// Where the kiosk gets its device credential from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceAuth {
    /// The file holding the enrolled API key (written by enrolment, mode 0600).
    pub credential_path: PathBuf,
    /// A one-time enrolment token, used only when the credential file does not exist yet.
    pub enrolment_token: Option<String>,
}

/// Which printer backend to drive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrinterBackend {
    /// A real serial port.
    Serial {
        /// e.g. `/dev/ttyUSB0`.
        port: String,
        /// e.g. 9600.
        baud: u32,
    },
    /// A USB printer-class device (the kernel's usblp driver), e.g. `/dev/usb/lp0`.
    Usb {
        /// The device node.
        port: String,
    },
    /// Whatever `port` turns out to be when it appears: a tty is driven as `Serial`, any
    /// other character device as `Usb`.
    Auto {
        /// e.g. `/dev/gatehouse-printer`.
        port: String,
        /// The speed, if it is a serial port.
        baud: u32,
    },
    /// Append the exact byte stream to a file (tests and the demo).
    File {
        /// The output file.
        path: PathBuf,
        /// Optional file whose content (`ok`, `near_end`, `out`, `offline`) the backend
        /// answers to a paper-status query; absent means `ok`.
        status_path: Option<PathBuf>,
    },
}

/// The thermal printer: where it is and what the model can do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrinterConfig {
    /// How bytes reach it.
    pub backend: PrinterBackend,
    /// Whether it answers `DLE EOT` status queries; a unidirectional printer (`false`) is
    /// printed to without asking, and its paper is never reported.
    pub status_query: bool,
    /// QR mode and cutter.
    pub settings: crate::printer::escpos::PrintSettings,
}

/// Keeping and printing the muster list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MusterConfig {
    /// The PIN a staff member enters on the kiosk to print the list; none: no staff printing.
    pub staff_pin: Option<String>,
    /// How often the copy is refreshed from the server.
    pub refresh: Duration,
    /// Whether a fire alarm or evacuation reported by the server prints the list at once.
    pub print_on_emergency: bool,
    /// The server's public keys: a staff card they signed, scanned at the kiosk, prints the list.
    pub staff_card_keys: Vec<gatehouse_credential::PublicKeyInfo>,
}

impl MusterConfig {
    /// The keys that staff cards are checked against; `None` when no staff card may print.
    pub fn staff_card_ring(&self) -> Option<gatehouse_credential::KeyRing> {
        if self.staff_card_keys.is_empty() {
            return None;
        }
        let mut ring = gatehouse_credential::KeyRing::new();
        for key in &self.staff_card_keys {
            // Checked when the configuration was read.
            ring.insert_hex(key.key_id, &key.public_key).ok()?;
        }
        Some(ring)
    }
}

/// An optional serial QR scanner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScannerConfig {
    /// e.g. `/dev/ttyACM0`.
    pub port: String,
    /// e.g. 9600.
    pub baud: u32,
}

/// The estate shown on screen and on paper.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Estate {
    /// e.g. "翠湖花园".
    pub name: String,
    /// A PNG or SVG logo file, read once at start.
    pub logo_path: Option<PathBuf>,
    /// The estate's time zone for printed times.
    pub time_zone: chrono_tz::Tz,
}

/// The whole kiosk configuration.
#[derive(Clone, Debug)]
pub struct KioskConfig {
    /// The kiosk's own address; loopback only.
    pub listen: SocketAddr,
    /// The server's base URL, e.g. `http://127.0.0.1:8080`.
    pub server_url: reqwest::Url,
    /// How the kiosk authenticates to the server.
    pub device: DeviceAuth,
    /// The thermal printer.
    pub printer: PrinterConfig,
    /// The optional QR scanner.
    pub scanner: Option<ScannerConfig>,
    /// The muster list copy.
    pub muster: MusterConfig,
    /// Back to the welcome screen after this long without a touch.
    pub idle_timeout: Duration,
    /// The languages offered; the first is the default.
    pub languages: Vec<Language>,
    /// The estate.
    pub estate: Estate,
    /// How long one server call may take before the kiosk calls the server unreachable.
    pub server_timeout: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default = "default_listen")]
    listen: String,
    server_url: String,
    device: RawDevice,
    printer: RawPrinter,
    #[serde(default)]
    scanner: Option<RawScanner>,
    #[serde(default)]
    muster: RawMuster,
    #[serde(default = "default_idle")]
    idle_timeout_secs: u64,
    #[serde(default = "default_languages")]
    languages: Vec<Language>,
    estate: RawEstate,
    #[serde(default = "default_server_timeout")]
    server_timeout_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDevice {
    credential_path: PathBuf,
    #[serde(default)]
    enrolment_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrinter {
    backend: String,
    #[serde(default)]
    port: Option<String>,
    #[serde(default = "default_baud")]
    baud: u32,
    #[serde(default)]
    path: Option<PathBuf>,
    #[serde(default)]
    status_path: Option<PathBuf>,
    #[serde(default = "default_true")]
    status_query: bool,
    #[serde(default = "default_qr")]
    qr: String,
    #[serde(default = "default_true")]
    cutter: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMuster {
    #[serde(default)]
    staff_pin: Option<String>,
    #[serde(default = "default_muster_refresh")]
    refresh_secs: u64,
    #[serde(default = "default_true")]
    print_on_emergency: bool,
    #[serde(default)]
    staff_card_keys: Vec<gatehouse_credential::PublicKeyInfo>,
}

impl Default for RawMuster {
    fn default() -> Self {
        RawMuster {
            staff_pin: None,
            refresh_secs: default_muster_refresh(),
            print_on_emergency: true,
            staff_card_keys: Vec::new(),
        }
    }
}

fn default_muster_refresh() -> u64 {
    30
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScanner {
    port: String,
    #[serde(default = "default_baud")]
    baud: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEstate {
    name: String,
    #[serde(default)]
    logo_path: Option<PathBuf>,
    #[serde(default = "default_time_zone")]
    time_zone: String,
}

fn default_listen() -> String {
    "127.0.0.1:8090".into()
}
fn default_idle() -> u64 {
    60
}
fn default_languages() -> Vec<Language> {
    vec![Language::ZhCn, Language::En]
}
fn default_true() -> bool {
    true
}
fn default_qr() -> String {
    "native".into()
}
fn default_baud() -> u32 {
    9600
}
fn default_time_zone() -> String {
    "Asia/Shanghai".into()
}
fn default_server_timeout() -> u64 {
    5000
}

const BAUDS: [u32; 6] = [4800, 9600, 19200, 38400, 57600, 115200];

impl KioskConfig {
    /// Reads and validates a TOML file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::validate(gatehouse_shell::config::read_toml(path)?)
    }

    /// Parses and validates TOML text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        Self::validate(gatehouse_shell::config::parse_toml(text)?)
    }

    fn validate(raw: RawConfig) -> Result<Self, ConfigError> {
        let invalid = |key, message: String| ConfigError::Invalid { key, message };

        let listen: SocketAddr = raw
            .listen
            .parse()
            .map_err(|e| invalid("listen", format!("{:?} is not an address: {e}", raw.listen)))?;
        if !listen.ip().is_loopback() {
            return Err(invalid(
                "listen",
                format!("{listen} is not a loopback address; the kiosk UI serves 127.0.0.1 only"),
            ));
        }
        let server_url = reqwest::Url::parse(&raw.server_url)
            .map_err(|e| invalid("server_url", format!("{:?}: {e}", raw.server_url)))?;
        if !matches!(server_url.scheme(), "http" | "https") {
            return Err(invalid(
                "server_url",
                "must start with http:// or https://".into(),
            ));
        }
        if let Some(token) = &raw.device.enrolment_token
            && token.trim().is_empty()
        {
            return Err(invalid("device.enrolment_token", "is empty".into()));
        }
        let kind = raw.printer.backend.as_str();
        let port = || {
            raw.printer
                .port
                .clone()
                .ok_or_else(|| invalid("printer.port", format!("required for backend {kind:?}")))
        };
        let baud = || check_baud("printer.baud", raw.printer.baud).map(|()| raw.printer.baud);
        let backend = match kind {
            "serial" => PrinterBackend::Serial {
                port: port()?,
                baud: baud()?,
            },
            "usb" => PrinterBackend::Usb { port: port()? },
            "auto" => PrinterBackend::Auto {
                port: port()?,
                baud: baud()?,
            },
            "file" => PrinterBackend::File {
                path: raw.printer.path.clone().ok_or_else(|| {
                    invalid("printer.path", "required for backend \"file\"".into())
                })?,
                status_path: raw.printer.status_path.clone(),
            },
            other => {
                return Err(invalid(
                    "printer.backend",
                    format!("{other:?}: expected \"auto\", \"usb\", \"serial\" or \"file\""),
                ));
            }
        };
        let qr = match raw.printer.qr.as_str() {
            "native" => QrMode::Native,
            "raster" => QrMode::Raster,
            other => {
                return Err(invalid(
                    "printer.qr",
                    format!("{other:?}: expected \"native\" or \"raster\""),
                ));
            }
        };
        let printer = PrinterConfig {
            backend,
            status_query: raw.printer.status_query,
            settings: PrintSettings {
                qr,
                cutter: raw.printer.cutter,
            },
        };
        let scanner = match raw.scanner {
            Some(s) => {
                check_baud("scanner.baud", s.baud)?;
                Some(ScannerConfig {
                    port: s.port,
                    baud: s.baud,
                })
            }
            None => None,
        };
        if let Some(pin) = &raw.muster.staff_pin
            && !(pin.len() >= 4 && pin.len() <= 12 && pin.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(invalid("muster.staff_pin", "must be 4 to 12 digits".into()));
        }
        if !(1..=3600).contains(&raw.muster.refresh_secs) {
            return Err(invalid(
                "muster.refresh_secs",
                format!("{} is outside 1–3600 seconds", raw.muster.refresh_secs),
            ));
        }
        let muster = MusterConfig {
            staff_pin: raw.muster.staff_pin,
            refresh: Duration::from_secs(raw.muster.refresh_secs),
            print_on_emergency: raw.muster.print_on_emergency,
            staff_card_keys: raw.muster.staff_card_keys,
        };
        for key in &muster.staff_card_keys {
            gatehouse_credential::KeyRing::new()
                .insert_hex(key.key_id, &key.public_key)
                .map_err(|e| invalid("muster.staff_card_keys", e.to_string()))?;
        }
        if !(5..=3600).contains(&raw.idle_timeout_secs) {
            return Err(invalid(
                "idle_timeout_secs",
                format!("{} is outside 5–3600 seconds", raw.idle_timeout_secs),
            ));
        }
        if raw.languages.is_empty() {
            return Err(invalid("languages", "name at least one language".into()));
        }
        if raw.estate.name.trim().is_empty() {
            return Err(invalid("estate.name", "is empty".into()));
        }
        let time_zone: chrono_tz::Tz = raw.estate.time_zone.parse().map_err(|_| {
            invalid(
                "estate.time_zone",
                format!("{:?} is not an IANA time zone", raw.estate.time_zone),
            )
        })?;
        if !(200..=60_000).contains(&raw.server_timeout_ms) {
            return Err(invalid(
                "server_timeout_ms",
                format!("{} is outside 200–60000", raw.server_timeout_ms),
            ));
        }
        Ok(KioskConfig {
            listen,
            server_url,
            device: DeviceAuth {
                credential_path: raw.device.credential_path,
                enrolment_token: raw.device.enrolment_token,
            },
            printer,
            scanner,
            muster,
            idle_timeout: Duration::from_secs(raw.idle_timeout_secs),
            languages: raw.languages,
            estate: Estate {
                name: raw.estate.name,
                logo_path: raw.estate.logo_path,
                time_zone,
            },
            server_timeout: Duration::from_millis(raw.server_timeout_ms),
        })
    }
}

fn check_baud(key: &'static str, baud: u32) -> Result<(), ConfigError> {
    if BAUDS.contains(&baud) {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            key,
            message: format!("{baud} is not one of {BAUDS:?}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
server_url = "http://127.0.0.1:8080"
[device]
credential_path = "/var/lib/gatehouse-kiosk/device.json"
[printer]
backend = "file"
path = "/tmp/printer.bin"
[estate]
name = "翠湖花园"
"#;

    #[test]
    fn minimal_config_gets_the_documented_defaults() {
        let c = KioskConfig::parse(MINIMAL).unwrap();
        assert_eq!(c.idle_timeout, Duration::from_secs(60));
        assert_eq!(c.languages, vec![Language::ZhCn, Language::En]);
        assert_eq!(c.listen, "127.0.0.1:8090".parse().unwrap());
        assert_eq!(c.estate.time_zone, chrono_tz::Asia::Shanghai);
        assert!(c.scanner.is_none());
        assert!(matches!(c.printer.backend, PrinterBackend::File { .. }));
        assert!(c.printer.status_query);
        assert_eq!(c.printer.settings, PrintSettings::default());
        assert_eq!(c.muster.staff_pin, None);
        assert_eq!(c.muster.refresh, Duration::from_secs(30));
        assert!(c.muster.print_on_emergency);
    }

    #[test]
    fn serial_printer_and_scanner_are_read() {
        let text = MINIMAL.replace(
            "backend = \"file\"\npath = \"/tmp/printer.bin\"",
            "backend = \"serial\"\nport = \"/dev/ttyUSB0\"\nbaud = 19200",
        ) + "[scanner]\nport = \"/dev/ttyACM0\"\n";
        let c = KioskConfig::parse(&text).unwrap();
        assert_eq!(
            c.printer.backend,
            PrinterBackend::Serial {
                port: "/dev/ttyUSB0".into(),
                baud: 19200
            }
        );
        assert_eq!(c.scanner.unwrap().baud, 9600);
    }

    #[test]
    fn a_usb_printer_without_status_or_cutter_printing_raster_qr_is_read() {
        let text = MINIMAL.replace(
            "backend = \"file\"\npath = \"/tmp/printer.bin\"",
            "backend = \"usb\"\nport = \"/dev/usb/lp0\"\nstatus_query = false\nqr = \"raster\"\ncutter = false",
        );
        let c = KioskConfig::parse(&text).unwrap();
        assert_eq!(
            c.printer,
            PrinterConfig {
                backend: PrinterBackend::Usb {
                    port: "/dev/usb/lp0".into()
                },
                status_query: false,
                settings: PrintSettings {
                    qr: QrMode::Raster,
                    cutter: false
                },
            }
        );
    }

    #[test]
    fn bad_values_are_named_in_the_error() {
        let cases = [
            (MINIMAL.replace("file\"", "lpd\""), "printer.backend"),
            (MINIMAL.replace("file\"", "usb\""), "printer.port"),
            (
                MINIMAL.replace("[estate]", "qr = \"bitmap\"\n[estate]"),
                "printer.qr",
            ),
            (
                format!(
                    "{MINIMAL}[muster]\nstaff_card_keys = [{{ key_id = 1, public_key = \"00ff\" }}]\n"
                ),
                "muster.staff_card_keys",
            ),
            (
                MINIMAL.replace("server_url = \"http", "server_url = \"ftp"),
                "server_url",
            ),
            (format!("listen = \"0.0.0.0:80\"\n{MINIMAL}"), "listen"),
            (
                format!("{MINIMAL}[muster]\nstaff_pin = \"12a4\"\n"),
                "muster.staff_pin",
            ),
            (
                format!("idle_timeout_secs = 1\n{MINIMAL}"),
                "idle_timeout_secs",
            ),
            (
                MINIMAL.replace("path = \"/tmp/printer.bin\"\n", ""),
                "printer.path",
            ),
        ];
        for (text, key) in cases {
            let err = KioskConfig::parse(&text).unwrap_err().to_string();
            assert!(err.contains(key), "{err} should name {key}");
        }
    }

    #[test]
    fn the_shipped_example_parses() {
        let c = KioskConfig::parse(include_str!("../kiosk.example.toml")).unwrap();
        assert_eq!(
            c.printer.backend,
            PrinterBackend::Auto {
                port: "/dev/gatehouse-printer".into(),
                baud: 9600
            }
        );
        assert!(c.printer.status_query);
        assert_eq!(c.device.enrolment_token, None);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = KioskConfig::parse(&format!("colour = 1\n{MINIMAL}"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("colour"), "{err}");
    }
}
