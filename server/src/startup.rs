//! Building and running the server: `Application::build(config)` prepares everything and binds
//! the listener (port 0 in tests); `run_until(shutdown)` serves until the future completes.

use crate::auth::{Actor, Role, password};
use crate::config::Config;
use crate::db::{DB_FILE, Db, DbError};
use crate::domain::staff;
use crate::state::AppState;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The data directory cannot be created or written.
    #[error("data directory {path} is not usable: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// No usable signing key: a key file is missing, unreadable or not the one the database
    /// names.
    #[error("signing key: {0}")]
    SigningKey(#[from] crate::keys::KeyError),
    /// Another server runs on the data directory (or its lock file cannot be opened).
    #[error(transparent)]
    DataDirLocked(#[from] crate::backup::BackupError),
    /// The database cannot be opened or migrated.
    #[error("database: {0}")]
    Database(#[from] DbError),
    /// Creating the first manager failed.
    #[error("creating the first manager account: {0}")]
    Admin(String),
    /// The listen address is taken or not ours.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A route is declared incompletely or twice (a programming error).
    #[error(transparent)]
    Router(#[from] crate::http::RouteError),
}

/// A built server, bound and ready to run.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    state: AppState,
    shutdown_tx: watch::Sender<bool>,
    /// Held while serving: `restore` refuses to run, and a second server to start, meanwhile.
    data_dir_lock: crate::backup::DataDirLock,
    /// The generated password of `admin` on first start when none was configured; show it once.
    pub initial_admin_password: Option<String>,
}

impl Application {
    /// Prepares the data directory, key, database and first account, and binds the listener.
    pub async fn build(config: Config) -> Result<Application, StartupError> {
        let dir = config.data_dir.clone();
        let dir_err = |source| StartupError::DataDir {
            path: dir.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(dir_err)?;
        let probe = dir.join(".write-test");
        std::fs::write(&probe, b"ok")
            .and_then(|()| std::fs::remove_file(&probe))
            .map_err(dir_err)?;
        let data_dir_lock = crate::backup::DataDirLock::acquire(&dir)?;

        let personal = crate::keys::personal::PersonalKey::load_or_create(&dir)?;
        let db = crate::store::open(&dir.join(DB_FILE))?;
        let key_dir = dir.clone();
        let now = chrono::Utc::now();
        let key = db
            .call(move |c| {
                let tx = c.savepoint()?;
                let key = crate::domain::signing_keys::ensure_active(&tx, &key_dir, now)?;
                // A log from before the audit-chain key continues keyed from its head.
                crate::audit::continue_keyed(&tx, now)?;
                tx.commit()?;
                Ok::<_, crate::keys::KeyError>(key)
            })
            .await?;
        tracing::info!(key_id = %key.key_id, fingerprint = %key.fingerprint(), "signing key active");
        let initial_admin_password = ensure_admin(&db, &config).await?;
        crate::domain::first_start(&db, chrono::Utc::now()).await?;
        // Personal data past the retention period is purged daily.
        tokio::spawn(crate::domain::retention::run_daily(db.clone()));
        // Overstaying visitor passes are noticed and, after the grace, signed out.
        tokio::spawn(crate::domain::overstay::run(
            db.clone(),
            config.overstay_grace,
        ));

        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let state = AppState {
            db,
            signer: Arc::new(crate::keys::SigningKeys::new(&dir)),
            personal: Arc::new(personal),
            config: Arc::new(config),
            throttle: Arc::new(Mutex::new(crate::auth::throttle::LoginThrottle::new())),
            metrics: crate::http::ops::metrics_handle(),
            shutdown: shutdown_rx,
            goods_feed: Arc::new(watch::channel(0).0),
            monitors: Arc::new(tokio::sync::Semaphore::new(
                crate::http::monitor::MAX_STREAMS,
            )),
        };
        let router = crate::http::router(state.clone())?;
        tokio::spawn(notice_other_writers(
            state.db.clone(),
            state.shutdown.clone(),
        ));
        Ok(Application {
            listener,
            router,
            state,
            shutdown_tx,
            data_dir_lock,
            initial_admin_password,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The shared state (tests use it to reach the database).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish (long polls
    /// answer at once) and returns.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let shutdown_tx = self.shutdown_tx;
        let _lock = self.data_dir_lock;
        let mut limits = self.state.config.limits;
        if let Some(nofile) = crate::connections::file_limit() {
            limits = limits.within_file_limit(nofile);
        }
        tracing::info!(
            max_connections = limits.max_connections,
            header_read_timeout = ?limits.header_read_timeout,
            "connection limits"
        );
        crate::connections::serve(
            self.listener,
            self.router,
            limits,
            async move {
                shutdown.await;
                tracing::info!("shutting down");
                let _ = shutdown_tx.send(true);
            },
            SHUTDOWN_DRAIN,
        )
        .await
    }
}

/// How long requests in flight may take to finish once shutdown begins (below the unit's
/// `TimeoutStopSec`).
pub const SHUTDOWN_DRAIN: std::time::Duration = std::time::Duration::from_secs(20);

/// How often the server looks for changes another process (`gatehouse-server keys …`)
/// committed to the database, so that gates hear of them within a second.
pub const OTHER_WRITERS_POLL: std::time::Duration = std::time::Duration::from_millis(250);

/// Runs an empty database call every [`OTHER_WRITERS_POLL`]: after each call the database
/// thread compares the change log with what gates were told and wakes them if it grew, which
/// is how a change committed by another process reaches the long polls.
async fn notice_other_writers(db: Db, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(OTHER_WRITERS_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.wait_for(|down| *down) => return,
        }
        if let Err(e) = db.call(|_| Ok::<_, DbError>(())).await {
            tracing::warn!(error = %e, "the database thread is gone; no longer watching for other writers");
            return;
        }
    }
}

/// Creates `admin` when there is no staff account; returns the password if it was generated.
async fn ensure_admin(db: &Db, config: &Config) -> Result<Option<String>, StartupError> {
    let exists = db.call(|c| staff::any(c).map_err(DbError::from)).await?;
    if exists {
        return Ok(None);
    }
    let (password_text, generated) = match &config.admin_password {
        Some(p) => (p.expose().to_owned(), false),
        None => (crate::auth::new_secret()[..20].to_owned(), true),
    };
    let to_hash = password_text.clone();
    let hash = tokio::task::spawn_blocking(move || password::hash(&to_hash))
        .await
        .map_err(|e| StartupError::Admin(e.to_string()))?
        .map_err(|e| StartupError::Admin(e.to_string()))?;
    let now = chrono::Utc::now();
    db.call(move |c| {
        let admin = |e: &dyn std::fmt::Display| StartupError::Admin(e.to_string());
        let tx = c.savepoint().map_err(|e| admin(&e))?;
        staff::create(
            &tx,
            &Actor::System("first-start"),
            staff::ADMIN,
            Role::Manager,
            &hash,
            now,
        )
        .map_err(|e| admin(&e))?;
        tx.commit().map_err(|e| admin(&e))
    })
    .await?;
    Ok(generated.then_some(password_text))
}
