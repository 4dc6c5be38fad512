//! What lies on disk: the database and its WAL and shared-memory files are private to the
//! server's user whatever the umask.

use crate::app::spawn_app;
use std::os::unix::fs::PermissionsExt;

#[tokio::test]
async fn the_database_and_its_wal_and_shm_are_created_0600_under_umask_022() {
    // The usual umask, which leaves new files readable by everyone.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
    let app = spawn_app().await;
    // A write, so the WAL holds something.
    app.admin().await;
    let db = app.dir.path().join(gatehouse_server::startup::DB_FILE);
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
