//! `gatehouse-server backup` of a running server and `restore` into a fresh data directory.

use crate::app::{ADMIN_PASSWORD, spawn_staffed, spawn_with};
use crate::desk::{renovation, worker, worker_card};
use crate::keys::cli;
use gatehouse_credential::KeyRing;
use gatehouse_server::backup::BEFORE_RESTORE;
use gatehouse_server::config::Secret;
use serde_json::{Value, json};

#[tokio::test]
async fn a_backup_of_a_running_server_restores_into_a_fresh_data_dir() {
    let (app, _, desk) = spawn_staffed().await;
    let reno = renovation(&app, &desk).await;
    let (card_id, text) = worker_card(&app, &desk, reno, "110101199001011234").await;
    let out = tempfile::tempdir().unwrap();

    // The desk keeps issuing cards while the backup runs.
    let busy = {
        let (client, url, desk) = (app.client.clone(), app.url(""), desk.clone());
        let workers: Vec<i64> = {
            let mut w = Vec::new();
            for n in 0..5 {
                w.push(worker(&app, &desk, reno, &format!("11010119900101{n:04}")).await);
            }
            w
        };
        tokio::spawn(async move {
            for w in workers {
                let r = client
                    .post(format!("{url}/api/v1/workers/{w}/card"))
                    .bearer_auth(&desk)
                    .json(&serde_json::json!({}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
            }
        })
    };
    let run = cli(
        app.dir.path(),
        &["backup", "--to", out.path().to_str().unwrap()],
    )
    .await;
    busy.await.unwrap();
    assert!(run.ok, "{}", run.stderr);
    assert!(run.stdout.contains("integrity ok"), "{}", run.stdout);
    let file = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "db"))
        .expect("a time-stamped backup file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the backup holds personal data");
    }
    // An existing file is never overwritten.
    let again = cli(app.dir.path(), &["backup", "--to", file.to_str().unwrap()]).await;
    assert!(
        !again.ok && again.stderr.contains("already exists"),
        "{}",
        again.stderr
    );
    // Restoring over a running server is refused and changes nothing.
    let refused = cli(
        app.dir.path(),
        &["restore", "--from", file.to_str().unwrap()],
    )
    .await;
    assert!(
        !refused.ok && refused.stderr.contains("is running"),
        "{}",
        refused.stderr
    );
    assert!(!app.dir.path().join(BEFORE_RESTORE).exists());

    let old_dir = app.stop().await;
    let fresh = tempfile::tempdir().unwrap();
    let run = cli(fresh.path(), &["restore", "--from", file.to_str().unwrap()]).await;
    assert!(run.ok, "{}", run.stderr);
    // The key files are backed up separately; without them the server says so and stops.
    assert!(run.stdout.contains("warning: key 0"), "{}", run.stdout);
    let mut config = gatehouse_server::Config::for_tests(fresh.path());
    config.admin_password = Some(Secret::new(ADMIN_PASSWORD));
    let e = gatehouse_server::Application::build(config.clone())
        .await
        .err()
        .expect("no start without the key files")
        .to_string();
    assert!(e.contains("no key file"), "{e}");
    copy_dir(&old_dir.path().join("keys"), &fresh.path().join("keys"));

    let app = spawn_with(config, fresh).await;
    let admin = app.admin().await;
    let r = app
        .get(&format!("/api/v1/renovations/{reno}"), Some(&admin))
        .await;
    assert_eq!(r.status(), 200);
    let r = app.get("/api/v1/audit/verify", Some(&admin)).await;
    let chain: Value = r.json().await.unwrap();
    assert_eq!(chain["ok"], true, "{chain}");
    assert!(chain["entries"].as_u64().unwrap() > 5, "{chain}");
    // The card printed before the backup still verifies with what gates are sent, and the
    // restored server still knows it: it can be returned at the desk.
    let ring = KeyRing::from_infos(&app.published_keys()).unwrap();
    assert_eq!(ring.verify(&text).unwrap().claims.card_id.0, card_id);
    let desk = app.login("desk1", "desk-password-1").await;
    let r = crate::desk::give_back(&app, &desk, json!({"credential": text})).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);

    // A second restore (server stopped) keeps the database it replaces.
    let dir = app.stop().await;
    let run = cli(dir.path(), &["restore", "--from", file.to_str().unwrap()]).await;
    assert!(run.ok, "{}", run.stderr);
    assert!(dir.path().join(BEFORE_RESTORE).exists());
    drop(old_dir);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}
