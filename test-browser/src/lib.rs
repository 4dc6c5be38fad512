//! Headless Chromium through chromedriver, for the browser tests of the server's desk pages and
//! the kiosk's touch UI: one place that finds the tools, starts the driver on a free port and
//! opens a session with a fresh profile.
//!
//! A test asks [`headless`] for a browser; without Chromium or chromedriver it gets `None` and
//! a SKIPPED notice, unless `GATEHOUSE_REQUIRE_BROWSER=1` (CI), which makes that a failure.

use fantoccini::{Client, ClientBuilder};
use serde_json::json;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A WebDriver session and the chromedriver behind it; dropping it stops the driver.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The first of `names` found on `PATH`.
pub fn find_tool(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Starts chromedriver on a free port and a headless Chromium session with a window of
/// `width`×`height` CSS pixels, or says why not (see the crate documentation).
pub async fn headless(test: &str, width: u32, height: u32) -> Option<Browser> {
    let chromium = find_tool(&["chromium", "chromium-browser", "google-chrome"]);
    let driver = find_tool(&["chromedriver"]);
    let (Some(chromium), Some(driver)) = (chromium, driver) else {
        if std::env::var("GATEHOUSE_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!("GATEHOUSE_REQUIRE_BROWSER=1 but chromium or chromedriver is not installed");
        }
        eprintln!(
            "SKIPPED browser test {test}: chromium/chromedriver not found (apt-get install -y chromium chromium-driver)"
        );
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = tempfile::tempdir().expect("a temporary browser profile");
    let caps = json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
                     format!("--window-size={width},{height}"), "--hide-scrollbars", "--force-device-scale-factor=1",
                     format!("--user-data-dir={}", profile.path().display())]
        }
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!("a JSON object literal")
    };
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    // chromedriver takes a moment to listen.
    let client = loop {
        match ClientBuilder::rustls()
            .expect("rustls client")
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(c) => break c,
            Err(_) if started.elapsed() < Duration::from_secs(20) => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            Err(e) => panic!("no WebDriver session: {e}"),
        }
    };
    Some(Browser {
        client,
        driver: child,
        _profile: profile,
    })
}
