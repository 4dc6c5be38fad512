//! What the three Gatehouse programs (server, kiosk, gate controller) share around their cores:
//! the shutdown signal installed before the ready line, logging, systemd notification, TOML
//! config files, private key files and device enrolment, secrets kept out of logs, and retry
//! back-off with jitter.
//!
//! Each program's `main` is: init logging, load its config, install the shutdown signal, build,
//! print the ready line, notify systemd, run until the signal.

#![forbid(unsafe_code)]

pub mod backoff;
pub mod config;
pub mod enrolment;
pub mod logging;
pub mod notify;
pub mod private_file;
pub mod secret;
pub mod signal;
