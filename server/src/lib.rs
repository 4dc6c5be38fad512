//! The Gatehouse server: the front desk's system of record, the credential signer and the
//! source of gate sync. See `README.md` for where things go.

pub mod audit;
pub mod auth;
pub mod backup;
pub mod changes;
pub mod cli;
pub mod config;
pub mod connections;
pub mod csv;
pub mod db;
pub mod domain;
pub mod http;
pub mod keys;
pub mod startup;
pub mod state;
pub mod store;

pub use cli::Cli;
pub use config::Config;
pub use startup::{Application, StartupError};

/// The line printed to stdout once the server is ready (the contract the harness waits for).
pub fn ready_line(addr: std::net::SocketAddr) -> String {
    format!("gatehouse-server listening on http://{addr}")
}
