//! Signing-key rotation with `gatehouse-server keys …` run as a separate process while the
//! server serves: printed cards keep working, gates learn each step through `SnapshotChanged`.

use crate::app::{TestApp, error_code, spawn_app, spawn_staffed, spawn_with};
use crate::desk::{renovation, worker_card};
use crate::platform::enrol_device;
use gatehouse_credential::api::gate::{ChangeBatch, ChangeEvent, GateSnapshot};
use gatehouse_credential::{KeyId, KeyRing, Signer};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

/// Output of one run of the real binary.
pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `gatehouse-server --data-dir DIR ARGS…` as its own process.
pub async fn cli(dir: &Path, args: &[&str]) -> Run {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse-server"));
    command
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("USER", "tester")
        .env_remove("SUDO_USER");
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

async fn snapshot(app: &TestApp, gate: &str) -> GateSnapshot {
    app.get_ok("/api/v1/gate/snapshot", Some(gate)).await
}

/// Runs the key command `args` while a gate long-polls from `cursor`; returns how long after
/// the command finished the gate was told to fetch the snapshot again.
async fn gate_learns(app: &TestApp, gate: &str, cursor: u64, args: &[&str]) -> Duration {
    let poll = app
        .client
        .get(app.url(&format!(
            "/api/v1/gate/changes?since={cursor}&wait_ms=10000"
        )))
        .bearer_auth(gate)
        .send();
    let poll = tokio::spawn(poll);
    app.long_poll_parked().await;
    let run = cli(app.dir.path(), args).await;
    assert!(run.ok, "{args:?}: {}", run.stderr);
    let done = Instant::now();
    let batch: ChangeBatch = poll.await.unwrap().unwrap().json().await.unwrap();
    let waited = done.elapsed();
    assert!(
        batch
            .changes
            .iter()
            .any(|c| c.event == ChangeEvent::SnapshotChanged),
        "{batch:?}"
    );
    waited
}

fn ring_of(snapshot: &GateSnapshot) -> KeyRing {
    KeyRing::from_infos(&snapshot.keys).unwrap()
}

fn ids(snapshot: &GateSnapshot) -> Vec<u8> {
    snapshot.keys.iter().map(|k| k.key_id.get()).collect()
}

#[tokio::test]
async fn rotation_keeps_printed_cards_working_and_gates_learn_each_step() {
    let (app, admin, desk) = spawn_staffed().await;
    let (_, gate) = enrol_device(&app, &admin, "gate").await;
    let reno = renovation(&app, &desk).await;
    let (_, first) = worker_card(&app, &desk, reno, "110101199001011234").await;

    let before = snapshot(&app, &gate).await;
    assert_eq!(ids(&before), vec![0]);
    assert_eq!(ring_of(&before).verify(&first).unwrap().key_id.get(), 0);

    // Phase 1: key 1 is published; gates receive it, nothing is signed with it yet.
    let waited = gate_learns(&app, &gate, before.cursor, &["keys", "add"]).await;
    assert!(
        waited < Duration::from_secs(1),
        "gate told after {waited:?}"
    );
    let published = snapshot(&app, &gate).await;
    assert_eq!(ids(&published), vec![0, 1]);
    let (_, still_zero) = worker_card(&app, &desk, reno, "110101199001015678").await;
    assert_eq!(
        ring_of(&published)
            .verify(&still_zero)
            .unwrap()
            .key_id
            .get(),
        0
    );

    // Phase 2: key 1 signs; key 0 stays published so its cards keep verifying.
    let waited = gate_learns(&app, &gate, published.cursor, &["keys", "activate", "1"]).await;
    assert!(
        waited < Duration::from_secs(1),
        "gate told after {waited:?}"
    );
    let (_, second) = worker_card(&app, &desk, reno, "110101199001019999").await;
    let rotated = snapshot(&app, &gate).await;
    assert_eq!(ids(&rotated), vec![0, 1]);
    let ring = ring_of(&rotated);
    assert_eq!(ring.verify(&first).unwrap().key_id.get(), 0);
    assert_eq!(ring.verify(&second).unwrap().key_id.get(), 1);
    // A gate that only knew key 0 could not read the new card: key 1 really signed it.
    assert!(ring_of(&before).verify(&second).is_err());

    // Key 0 cannot go while cards it signed still open doors.
    let refused = cli(app.dir.path(), &["keys", "retire", "0"]).await;
    assert!(!refused.ok);
    assert!(
        refused.stderr.contains("2 unexpired, unrevoked card(s)")
            && refused.stderr.contains("--force"),
        "{}",
        refused.stderr
    );
    assert_eq!(ids(&snapshot(&app, &gate).await), vec![0, 1]);
    let active = cli(app.dir.path(), &["keys", "retire", "1"]).await;
    assert!(
        !active.ok && active.stderr.contains("is the active key"),
        "{}",
        active.stderr
    );

    // Both key-0 cards come back at the desk (scanned: verified with the published keys).
    for text in [&first, &still_zero] {
        let r = crate::desk::give_back(&app, &desk, json!({"credential": text})).await;
        assert_eq!(r.status(), 200, "{:?}", r.text().await);
    }
    let secret_zero = hex_seed(&app, 0);
    let returned = snapshot(&app, &gate).await;
    let waited = gate_learns(&app, &gate, returned.cursor, &["keys", "retire", "0"]).await;
    assert!(
        waited < Duration::from_secs(1),
        "gate told after {waited:?}"
    );
    let after = snapshot(&app, &gate).await;
    assert_eq!(ids(&after), vec![1]);
    assert!(ring_of(&after).verify(&second).is_ok());
    assert!(!gatehouse_server::keys::file::path(app.dir.path(), KeyId::new(0).unwrap()).exists());

    let list = cli(app.dir.path(), &["keys", "list"]).await;
    assert!(list.ok, "{}", list.stderr);
    let lines: Vec<&str> = list.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", list.stdout);
    assert!(
        lines[1].trim_start().starts_with("0  retired"),
        "{}",
        list.stdout
    );
    assert!(
        lines[2].trim_start().starts_with("1  active"),
        "{}",
        list.stdout
    );
    assert!(lines[2].contains("sha256:"), "{}", list.stdout);
    let secret_one = hex_seed(&app, 1);
    for secret in [&secret_zero, &secret_one] {
        assert!(!list.stdout.contains(secret.as_str()) && !list.stderr.contains(secret.as_str()));
    }

    // Each step is audited with who ran it, and the chain holds.
    let r = app.get("/api/v1/audit?limit=500", Some(&admin)).await;
    let audit = r.text().await.unwrap();
    for action in [
        "signing_key.add",
        "signing_key.activate",
        "signing_key.retire",
    ] {
        assert!(
            audit.contains(action),
            "{action} missing from the audit log"
        );
    }
    assert!(audit.contains("manager:console:tester"));
    let r = app.get("/api/v1/audit/verify", Some(&admin)).await;
    assert_eq!(r.json::<Value>().await.unwrap()["ok"], true);
}

fn hex_seed(app: &TestApp, id: u8) -> String {
    let path = gatehouse_server::keys::file::path(app.dir.path(), KeyId::new(id).unwrap());
    let text = std::fs::read_to_string(path).unwrap();
    text.trim().split_once(':').unwrap().1.to_owned()
}

#[tokio::test]
async fn key_commands_refuse_what_would_break_verification() {
    let app = spawn_app().await;
    let dir = app.dir.path();
    let run = cli(dir, &["keys", "activate", "0"]).await;
    assert!(
        !run.ok && run.stderr.contains("already the active key"),
        "{}",
        run.stderr
    );
    let run = cli(dir, &["keys", "activate", "7"]).await;
    assert!(
        !run.ok && run.stderr.contains("no published signing key with id 7"),
        "{}",
        run.stderr
    );
    let run = cli(dir, &["keys", "retire", "16"]).await;
    assert!(!run.ok && run.stderr.contains("16"), "{}", run.stderr);
    // A published key whose secret file is gone cannot become the signing key.
    assert!(cli(dir, &["keys", "add"]).await.ok);
    std::fs::remove_file(gatehouse_server::keys::file::path(
        dir,
        KeyId::new(1).unwrap(),
    ))
    .unwrap();
    let run = cli(dir, &["keys", "activate", "1"]).await;
    assert!(
        !run.ok && run.stderr.contains("no key file"),
        "{}",
        run.stderr
    );
    // Nothing changed: key 0 still signs.
    let admin = app.admin().await;
    let desk = app.desk(&admin).await;
    let reno = renovation(&app, &desk).await;
    let (_, text) = worker_card(&app, &desk, reno, "110101199001011234").await;
    let ring = KeyRing::from_infos(&app.published_keys()).unwrap();
    assert_eq!(ring.verify(&text).unwrap().key_id.get(), 0);
    // A data directory without a database is not created by a key command.
    let empty = tempfile::tempdir().unwrap();
    let run = cli(empty.path(), &["keys", "list"]).await;
    assert!(
        !run.ok && run.stderr.contains("no database"),
        "{}",
        run.stderr
    );
    assert!(!empty.path().join("gatehouse.db").exists());
    let _ = error_code;
}

#[tokio::test]
async fn the_key_file_of_earlier_versions_is_taken_over_as_key_0() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = Signer::generate(KeyId::new(0).unwrap());
    legacy.save(&dir.path().join("signing.key")).unwrap();
    let mut config = gatehouse_server::Config::for_tests(dir.path());
    config.admin_password = Some(gatehouse_server::config::Secret::new(
        crate::app::ADMIN_PASSWORD,
    ));
    let app = spawn_with(config, dir).await;
    assert_eq!(app.published_keys(), vec![legacy.public_info()]);
    assert_eq!(app.key_file(0).public_info(), legacy.public_info());
    assert!(!app.dir.path().join("signing.key").exists());
}
