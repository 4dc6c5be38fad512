//! Headless Chromium through chromedriver, for the browser tests of the server's desk pages and
//! the kiosk's touch UI: one place that finds the tools, starts the driver on a free port and
//! opens a session with a fresh profile.
//!
//! A test asks [`headless`] for a browser and fails without Chromium or chromedriver: such a
//! test is marked `#[ignore = "needs chromium and chromedriver (Debian packages chromium,
//! chromium-driver)"]` and runs with `cargo test -- --include-ignored`.

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
/// `width`×`height` CSS pixels for `test`; panics when either tool is missing.
pub async fn headless(test: &str, width: u32, height: u32) -> Browser {
    let chromium = find_tool(&["chromium", "chromium-browser", "google-chrome"]);
    let driver = find_tool(&["chromedriver"]);
    let (Some(chromium), Some(driver)) = (chromium, driver) else {
        panic!(
            "browser test {test} needs chromium and chromedriver on PATH \
             (Debian packages chromium, chromium-driver)"
        );
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
    Browser {
        client,
        driver: child,
        _profile: profile,
    }
}

/// How long a helper waits for an element or a condition before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

impl Browser {
    /// The element `css` names, once it exists (up to [`WAIT`]).
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("waiting for {css}: {e}"))
    }

    /// Clicks `css` once it exists.
    pub async fn click(&self, css: &str) {
        self.wait_for(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks into `css` and types `text` as keystrokes.
    pub async fn type_in(&self, css: &str, text: &str) {
        let el = self.wait_for(css).await;
        el.click().await.unwrap();
        el.send_keys(text).await.unwrap();
    }

    /// The text of `css` once it exists.
    pub async fn text(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.unwrap()
    }

    /// Runs `script` in the page and returns its result.
    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// Waits (up to [`WAIT`]) until `script` returns `true`; `what` names it in the failure.
    pub async fn until(&self, what: &str, script: &str) {
        let started = Instant::now();
        while self.js(script).await != json!(true) {
            assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits (up to [`WAIT`]) until the text of `css` contains `needle`; returns the text.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        let started = Instant::now();
        loop {
            if let Ok(el) = self.client.find(fantoccini::Locator::Css(css)).await
                && let Ok(text) = el.text().await
                && text.contains(needle)
            {
                return text;
            }
            assert!(started.elapsed() < WAIT, "{css} never showed {needle:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves a screenshot as `dir/name.png` and returns the PNG.
    pub async fn screenshot(&self, dir: &std::path::Path, name: &str) -> Vec<u8> {
        let png = self.client.screenshot().await.unwrap();
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
        png
    }
}
