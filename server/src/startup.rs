//! Building and running the server: `Application::build(config)` prepares everything and binds
//! the listener (port 0 in tests); `run_until(shutdown)` serves until the future completes.

use crate::auth::{Actor, Role, password};
use crate::config::Config;
use crate::db::{Db, DbError};
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
    /// The signing key file is unreadable or malformed.
    #[error("signing key: {0}")]
    SigningKey(#[from] gatehouse_credential::KeyFileError),
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
    /// A route is missing from the authorization matrix (a programming error).
    #[error(transparent)]
    Router(#[from] crate::http::RouterError),
}

/// A built server, bound and ready to run.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    state: AppState,
    shutdown_tx: watch::Sender<bool>,
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

        let signer = crate::signing::load_or_create(&dir)?;
        let db = Db::open(&dir.join("gatehouse.db"))?;
        let initial_admin_password = ensure_admin(&db, &config).await?;
        crate::domain::first_start(&db, chrono::Utc::now()).await?;
        // Personal data past the retention period is purged daily (server-desk).
        tokio::spawn(crate::domain::retention::run_daily(db.clone()));

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
            signer: Arc::new(signer),
            config: Arc::new(config),
            throttle: Arc::new(Mutex::new(crate::auth::throttle::LoginThrottle::new())),
            metrics: crate::http::ops::metrics_handle(),
            shutdown: shutdown_rx,
        };
        let router = crate::http::router(state.clone())?;
        Ok(Application {
            listener,
            router,
            state,
            shutdown_tx,
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
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(async move {
                shutdown.await;
                tracing::info!("shutting down");
                let _ = shutdown_tx.send(true);
            })
            .await
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
            &Actor::Anonymous,
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

/// Completes on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
