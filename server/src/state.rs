//! What every handler can reach.

use crate::auth::throttle::LoginThrottle;
use crate::config::Config;
use crate::db::Db;
use chrono::{DateTime, Utc};
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// Shared state of the running server; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database handle.
    pub db: Db,
    /// The credential signing keys (which one signs is read from the database).
    pub signer: Arc<crate::keys::SigningKeys>,
    /// The personal-data key (keyed hashes of what is matched but not kept).
    pub personal: Arc<crate::keys::personal::PersonalKey>,
    /// The configuration it started with.
    pub config: Arc<Config>,
    /// Recent login failures.
    pub throttle: Arc<Mutex<LoginThrottle>>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// Becomes `true` when the server is shutting down, so long polls answer at once.
    pub shutdown: watch::Receiver<bool>,
    /// Counts what the guard page must hear of at once (a permit scanned, released or
    /// stopped); the guard page's long poll waits on it.
    pub goods_feed: Arc<watch::Sender<u64>>,
    /// One permit per open live-monitor stream (see [`crate::http::monitor::MAX_STREAMS`]).
    pub monitors: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// The current time; the one place handlers read the clock.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
