//! Tracing to stderr, filtered by `RUST_LOG` (or the program's default), and the switch that
//! turns it on in tests (`TEST_LOG`).

use tracing_subscriber::EnvFilter;

/// The filter `RUST_LOG` names, or `default` when it is unset or malformed.
pub fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default))
}

/// Logs to stderr for a program's whole life. A log that cannot be written (stderr on a full
/// disk) is dropped rather than reported, so it never stops the program.
pub fn init(default_filter: &str) {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .log_internal_errors(false)
        .with_env_filter(filter(default_filter))
        .init();
}

/// The filter `TEST_LOG` asks for: `1`/`true` means `debug`, any other value is a filter;
/// unset, empty or `0` means no log.
pub fn test_filter(test_log: Option<&str>) -> Option<EnvFilter> {
    match test_log.map(str::trim) {
        None | Some("" | "0" | "false") => None,
        Some("1" | "true") => Some(EnvFilter::new("debug")),
        Some(filter) => Some(EnvFilter::new(filter)),
    }
}

/// In a test: logs through the test harness's capture when `TEST_LOG` is set, so a failing
/// test's output shows what the code under test said. Safe to call from every test.
pub fn init_for_tests() {
    let test_log = std::env::var("TEST_LOG").ok();
    if let Some(filter) = test_filter(test_log.as_deref()) {
        // Another test in this process may have installed it already.
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(filter)
            .try_init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_log_turns_logging_on_and_off() {
        assert!(test_filter(None).is_none());
        assert!(test_filter(Some("0")).is_none());
        assert!(test_filter(Some("")).is_none());
        assert_eq!(test_filter(Some("1")).unwrap().to_string(), "debug");
        assert_eq!(
            test_filter(Some("gatehouse_gate=trace"))
                .unwrap()
                .to_string(),
            "gatehouse_gate=trace"
        );
    }
}
