//! End-to-end harness: starts the real Gatehouse programs as processes (random ports, temporary
//! data dirs, pseudo-terminals for scanners) and drives them through their HTTP APIs.
//!
//! The stories live in `tests/it/`; the demo launcher `gatehouse-demo` uses the same pieces.

pub mod estate;
pub mod gate;
pub mod kiosk;
pub mod link;
pub mod monitor;
pub mod passes;
pub mod process;
pub mod programs;
pub mod scanner;
pub mod server;
pub mod system;

use thiserror::Error;

/// What went wrong while driving the programs.
#[derive(Debug, Error)]
pub enum HarnessError {
    /// A program binary is missing and could not be built.
    #[error("program {name} not found in {dir} and building it failed: {message}")]
    MissingProgram {
        /// e.g. `gatehouse-server`.
        name: String,
        /// Where it was looked for.
        dir: String,
        /// What the build said.
        message: String,
    },
    /// A program exited or stayed silent instead of printing its ready line.
    #[error("{name} did not print its ready line: {message}\n--- last log lines ---\n{log_tail}")]
    NotReady {
        /// The program.
        name: String,
        /// Why.
        message: String,
        /// The end of its stderr log.
        log_tail: String,
    },
    /// An HTTP call failed or answered an unexpected status.
    #[error("{call}: {message}")]
    Http {
        /// e.g. `POST /api/v1/devices`.
        call: String,
        /// Status and body, or the transport error.
        message: String,
    },
    /// A condition was not met in time.
    #[error("timed out after {waited_ms} ms waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        waited_ms: u128,
    },
    /// What the programs did is not what the story expects.
    #[error("{0}")]
    Story(String),
    /// A file, pty or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
}

impl HarnessError {
    /// Wraps an I/O error with what was being done.
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> HarnessError {
        let what = what.into();
        move |source| HarnessError::Io { what, source }
    }
}

/// The harness's result type.
pub type Result<T, E = HarnessError> = std::result::Result<T, E>;

/// Polls `probe` every 20 ms until it yields a value or `timeout` passes.
pub fn wait_for<T>(
    what: &str,
    timeout: std::time::Duration,
    mut probe: impl FnMut() -> Option<T>,
) -> Result<T> {
    let start = std::time::Instant::now();
    loop {
        if let Some(v) = probe() {
            return Ok(v);
        }
        if start.elapsed() >= timeout {
            return Err(HarnessError::Timeout {
                what: what.to_owned(),
                waited_ms: start.elapsed().as_millis(),
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
