//! The audit chain attacked on disk, as someone holding the database file but not the key
//! files would: every attack is reported by `GET /api/v1/audit/verify`.

use crate::app::{ADMIN_PASSWORD, TestApp, spawn_managed, spawn_with};
use gatehouse_server::config::Secret;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

async fn staff(app: &TestApp, admin: &str, names: &[&str]) {
    for name in names {
        app.add_staff(admin, name, "desk", "long-enough-pw").await;
    }
}

async fn verify(app: &TestApp, admin: &str) -> Value {
    app.get_ok("/api/v1/audit/verify", Some(admin)).await
}

/// Verifies the chain and asserts the answer's `ok` and one more field (`entries`,
/// `first_bad_seq`, `head_seq`) with its number; returns the answer.
async fn verify_says(app: &TestApp, admin: &str, ok: bool, (field, n): (&str, u64)) -> Value {
    let v = verify(app, admin).await;
    assert_eq!(
        (v["ok"].clone(), v[field].clone()),
        (json!(ok), json!(n)),
        "{v}"
    );
    v
}

fn open_db(app: &TestApp) -> rusqlite::Connection {
    rusqlite::Connection::open(app.dir.path().join(gatehouse_server::db::DB_FILE)).unwrap()
}

#[tokio::test]
async fn deleting_the_last_entries_is_reported_even_with_the_sequence_counter_lowered() {
    let (app, admin) = spawn_managed().await;
    staff(&app, &admin, &["amy", "bob", "cal"]).await;
    let v = verify_says(&app, &admin, true, ("entries", 4)).await;
    assert_eq!(
        v["anchor"]["seq"], 4,
        "the head is kept outside the database: {v}"
    );

    let db = open_db(&app);
    db.execute_batch("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq > 2;")
        .unwrap();
    let v = verify_says(&app, &admin, false, ("first_bad_seq", 3)).await;
    assert!(v["problem"].as_str().unwrap().contains("deleted"), "{v}");

    // Lowering SQLite's counter too leaves a database that looks whole by itself.
    db.execute(
        "UPDATE sqlite_sequence SET seq = 2 WHERE name = 'audit_log'",
        [],
    )
    .unwrap();
    let v = verify_says(&app, &admin, false, ("first_bad_seq", 3)).await;
    assert!(
        v["problem"]
            .as_str()
            .unwrap()
            .contains("recorded outside the database"),
        "{v}"
    );
}

/// What a SHA-256 chain over an entry looks like (the scheme of the log before the key).
fn sha_link(prev: &str, fields: &[String]) -> String {
    let mut h = Sha256::new();
    for f in std::iter::once(prev).chain(fields.iter().map(String::as_str)) {
        h.update((f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    hex::encode(h.finalize())
}

#[tokio::test]
async fn an_entry_edited_and_the_chain_recomputed_without_the_key_is_reported() {
    let (app, admin) = spawn_managed().await;
    staff(&app, &admin, &["amy", "bob", "cal"]).await;
    assert_eq!(verify(&app, &admin).await["ok"], true);

    // Rename the account created in entry 3 and recompute every link after it.
    let db = open_db(&app);
    db.execute_batch("DROP TRIGGER audit_log_no_update;")
        .unwrap();
    let rows: Vec<(i64, Vec<String>)> = db
        .prepare("SELECT seq, at, actor, action, subject, details FROM audit_log ORDER BY seq")
        .unwrap()
        .query_map([], |r| {
            let seq: i64 = r.get(0)?;
            Ok((
                seq,
                vec![
                    seq.to_string(),
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ],
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for keyed in [1, 0] {
        let mut prev = gatehouse_server::audit::GENESIS.to_owned();
        for (seq, fields) in &rows {
            let mut fields = fields.clone();
            if *seq == 3 {
                fields[5] = r#"{"username":"mallory"}"#.to_owned();
            }
            let hash = sha_link(&prev, &fields);
            db.execute(
                "UPDATE audit_log SET details = ?2, prev_hash = ?3, hash = ?4, keyed = ?5 WHERE seq = ?1",
                rusqlite::params![seq, fields[5], prev, hash, keyed],
            )
            .unwrap();
            prev = hash;
        }
        let v = verify(&app, &admin).await;
        assert_eq!(v["ok"], false, "keyed = {keyed}: {v}");
        assert_eq!(v["first_bad_seq"], 1, "keyed = {keyed}: {v}");
    }
}

#[tokio::test]
async fn an_older_copy_of_the_database_put_in_place_is_reported() {
    let (app, admin) = spawn_managed().await;
    staff(&app, &admin, &["amy"]).await;
    assert_eq!(verify(&app, &admin).await["ok"], true);
    let older = tempfile::tempdir().unwrap();
    let copy = older.path().join("older.db");
    open_db(&app)
        .execute("VACUUM INTO ?1", [copy.to_str().unwrap()])
        .unwrap();
    staff(&app, &admin, &["bob", "cal"]).await;
    verify_says(&app, &admin, true, ("head_seq", 4)).await;

    let dir = app.stop().await;
    let db = dir.path().join(gatehouse_server::db::DB_FILE);
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    // A new file in its place (the stopped server's last handles keep the old one).
    let incoming = dir.path().join("incoming.db");
    std::fs::copy(&copy, &incoming).unwrap();
    std::fs::rename(&incoming, &db).unwrap();
    let mut config = gatehouse_server::Config::for_tests(dir.path());
    config.admin_password = Some(Secret::new(ADMIN_PASSWORD));
    let app = spawn_with(config, dir).await;
    let admin = app.admin().await;
    // Logging in appends entries past the copy's head; the rollback is still found.
    staff(&app, &admin, &["dan", "eve", "fay"]).await;
    let v = verify(&app, &admin).await;
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(
        v["anchor"]["seq"], 4,
        "the head before the swap is kept: {v}"
    );
    assert_eq!(v["first_bad_seq"], 4, "{v}");
    assert!(v["problem"].as_str().unwrap().contains("older copy"), "{v}");
}
