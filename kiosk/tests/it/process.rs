//! The binary as the harness and systemd run it: the ready line, then a clean stop on SIGTERM.

use crate::kiosk::{Options, config_text, write_credential};
use gatehouse_credential::api::device::DeviceKind;
use gatehouse_test_support::stub;
use std::io::BufRead;
use std::process::{Command, Stdio};

#[tokio::test]
async fn the_binary_prints_its_ready_line_serves_and_exits_0_on_sigterm() {
    let (addr, _stub) = stub::spawn(DeviceKind::Kiosk).await;
    let dir = tempfile::tempdir().unwrap();
    write_credential(dir.path());
    let config = dir.path().join("kiosk.toml");
    std::fs::write(
        &config,
        config_text(dir.path(), &format!("http://{addr}"), &Options::default()),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse-kiosk"))
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        line
    })
    .await
    .unwrap();
    let url = line
        .trim_end()
        .strip_prefix("gatehouse-kiosk listening on ")
        .unwrap_or_else(|| panic!("unexpected ready line {line:?}"));
    assert!(
        url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"),
        "{url}"
    );
    let units: serde_json::Value = reqwest::get(format!("{url}/api/units"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(units[0]["label"], "2-1203");

    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0), "graceful exit on SIGTERM");
}

#[tokio::test]
async fn a_bad_config_stops_the_binary_with_a_message_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kiosk.toml");
    std::fs::write(&config, "server_url = \"http://127.0.0.1:1\"\n[device]\ncredential_path = \"x\"\n[printer]\nbackend = \"lpd\"\n[estate]\nname = \"e\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse-kiosk"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("printer.backend"), "{err}");
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout but the ready line"
    );
}
