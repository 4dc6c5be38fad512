//! What lies on disk: the database and its WAL and shared-memory files are private to the
//! server's user whatever the umask.

use crate::app::{spawn_app, spawn_staffed};
use std::os::unix::fs::PermissionsExt;

#[tokio::test]
async fn the_database_and_its_wal_and_shm_are_created_0600_under_umask_022() {
    // The usual umask, which leaves new files readable by everyone.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
    let app = spawn_app().await;
    // A write, so the WAL holds something.
    app.admin().await;
    let db = app.dir.path().join(gatehouse_server::db::DB_FILE);
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", db.display());
        let mode = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{path} is {mode:o}");
    }
}

#[tokio::test]
async fn a_copy_of_the_database_alone_holds_no_key_to_search_id_numbers_with() {
    let (app, _, desk) = spawn_staffed().await;
    let renovation = crate::desk::renovation(&app, &desk).await;
    crate::desk::worker(&app, &desk, renovation, "11010519491231002X").await;
    let db =
        rusqlite::Connection::open(app.dir.path().join(gatehouse_server::db::DB_FILE)).unwrap();
    // What an attacker with the database alone sees: the last 4, and a keyed hash.
    let (hash, last4): (String, String) = db
        .query_row("SELECT id_hash, id_last4 FROM workers", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(last4, "002X");
    let salts: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM settings WHERE key LIKE '%salt%' OR value LIKE '%salt%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(salts, 0, "no salt or key in the database");
    // The key is a file beside the signing keys, private to the server's user.
    let key_file = app.dir.path().join("keys").join("personal-data.key");
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let key: [u8; 32] = hex::decode(std::fs::read_to_string(&key_file).unwrap().trim())
        .unwrap()
        .try_into()
        .unwrap();
    let key = gatehouse_server::keys::personal::PersonalKey::from_bytes(key);
    assert_eq!(
        hash,
        gatehouse_server::domain::privacy::id_hash(&key, "11010519491231002X"),
        "only with the key file does the stored hash match the number"
    );
}
