//! Starts a kiosk on 127.0.0.1:0 with a temporary dir and a file printer.

use gatehouse_credential::api::device::{DeviceKind, EnrolResponse};
use gatehouse_kiosk::Application;
use gatehouse_kiosk::config::KioskConfig;
use gatehouse_kiosk::printer::port::PrinterPort;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub struct TestKiosk {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
}

pub struct Options {
    /// May be below the 5 s an operator's file may set, so idle tests take seconds.
    pub idle_timeout: Duration,
    pub pre_enrolled: bool,
    pub scanner_port: Option<String>,
    pub logo_svg: Option<&'static str>,
    /// An emulated printer link instead of the configured file printer.
    pub printer_port: Option<Box<dyn PrinterPort>>,
    /// More `[printer]` keys, e.g. `qr = "raster"`.
    pub printer_toml: &'static str,
    /// More top-level tables, e.g. a `[muster]` section.
    pub extra_toml: &'static str,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            idle_timeout: Duration::from_secs(60),
            pre_enrolled: true,
            scanner_port: None,
            logo_svg: None,
            printer_port: None,
            printer_toml: "",
            extra_toml: "",
        }
    }
}

impl TestKiosk {
    pub fn printer_path(&self) -> PathBuf {
        self.dir.path().join("printer.bin")
    }
    pub fn credential_path(&self) -> PathBuf {
        self.dir.path().join("device.json")
    }
    /// Sets what the paper sensor answers: ok, near_end, out, offline.
    pub fn set_paper(&self, word: &str) {
        std::fs::write(self.dir.path().join("paper-status"), word).unwrap();
    }
    pub fn printed(&self) -> Vec<u8> {
        std::fs::read(self.printer_path()).unwrap_or_default()
    }
    /// Registers 张小明 for unit 1 as the page would; the pass.
    pub async fn register_visitor(&self) -> Value {
        let (status, pass) = self
            .post(
                "/api/visitors",
                serde_json::json!({"name": "张小明", "unit_id": 1, "purpose": "探亲访友", "party_size": 1}),
            )
            .await;
        assert_eq!(status, 200, "{pass}");
        pass
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    /// Posts `body` to `path`, asserts that the kiosk refuses it with `status` and the error
    /// `code`, and returns the answer.
    pub async fn post_refused(&self, path: &str, body: Value, status: u16, code: &str) -> Value {
        let (got, answer) = self.post(path, body).await;
        assert_eq!(
            (got, answer["error"].as_str()),
            (status, Some(code)),
            "{path}: {answer}"
        );
        answer
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let resp = self.http.get(self.url(path)).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    /// Waits for the background print of `card` to finish and returns its outcome.
    pub async fn print_outcome(&self, card: u64) -> Value {
        for _ in 0..100 {
            let (status, body) = self.get(&format!("/api/prints/{card}")).await;
            assert_eq!(status, 200, "{body}");
            if body["done"] == true {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("print of card {card} never finished");
    }
}

/// The TOML a test kiosk runs with, in `dir`.
pub fn config_text(dir: &std::path::Path, server: &str, opts: &Options) -> String {
    let credential = dir.join("device.json");
    let token = if opts.pre_enrolled {
        String::new()
    } else {
        format!(
            "enrolment_token = \"{}\"\n",
            gatehouse_test_support::stub::ENROL_TOKEN
        )
    };
    let scanner = match &opts.scanner_port {
        Some(port) => format!("[scanner]\nport = \"{port}\"\n"),
        None => String::new(),
    };
    let logo = match opts.logo_svg {
        Some(svg) => {
            std::fs::write(dir.join("logo.svg"), svg).unwrap();
            format!("logo_path = \"{}\"\n", dir.join("logo.svg").display())
        }
        None => String::new(),
    };
    format!(
        r#"
listen = "127.0.0.1:0"
server_url = "{server}"
idle_timeout_secs = {idle}
server_timeout_ms = 1500
[device]
credential_path = "{cred}"
{token}
[printer]
backend = "file"
path = "{printer}"
status_path = "{status}"
{printer_extra}
[estate]
name = "翠湖花园"
{logo}{scanner}{extra}"#,
        printer_extra = opts.printer_toml,
        extra = opts.extra_toml,
        idle = opts.idle_timeout.as_secs().max(5),
        cred = credential.display(),
        printer = dir.join("printer.bin").display(),
        status = dir.join("paper-status").display(),
    )
}

/// Writes the device credential file a pre-enrolled kiosk reads.
pub fn write_credential(dir: &std::path::Path) {
    let enrolled = EnrolResponse {
        device_id: "kiosk-1".into(),
        kind: DeviceKind::Kiosk,
        name: "Lobby".into(),
        api_key: gatehouse_test_support::stub::API_KEY.into(),
    };
    std::fs::write(
        dir.join("device.json"),
        serde_json::to_string(&enrolled).unwrap(),
    )
    .unwrap();
}

pub async fn spawn(server: &str, mut opts: Options) -> TestKiosk {
    gatehouse_test_support::test_log();
    let dir = tempfile::tempdir().unwrap();
    if opts.pre_enrolled {
        write_credential(dir.path());
    }
    let mut config = KioskConfig::parse(&config_text(dir.path(), server, &opts)).unwrap();
    config.idle_timeout = opts.idle_timeout;
    let app = match opts.printer_port.take() {
        Some(port) => Application::build_with_port(config, port).await.unwrap(),
        None => Application::build(config).await.unwrap(),
    };
    let addr = app.local_addr();
    tokio::spawn(app.run(std::future::pending()));
    TestKiosk {
        addr,
        dir,
        http: reqwest::Client::new(),
    }
}
