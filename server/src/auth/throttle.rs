//! Login rate limiting: a pure record of recent failures per key (username, client address).
//! Time is passed in; the caller holds it behind a mutex.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Failed attempts allowed per key inside [`WINDOW`].
pub const MAX_FAILURES: usize = 5;
/// How long a failure counts.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Recent login failures by key.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: HashMap<String, VecDeque<Instant>>,
}

impl LoginThrottle {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// `Some(wait)` if any of `keys` has used up its attempts at `now`.
    pub fn blocked(&mut self, keys: &[&str], now: Instant) -> Option<Duration> {
        keys.iter()
            .filter_map(|key| {
                let list = self.failures.get_mut(*key)?;
                while list
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= WINDOW)
                {
                    list.pop_front();
                }
                if list.len() >= MAX_FAILURES {
                    list.front()
                        .map(|first| WINDOW.saturating_sub(now.duration_since(*first)))
                } else {
                    None
                }
            })
            .max()
    }

    /// Records a failed attempt against each of `keys`.
    pub fn fail(&mut self, keys: &[&str], now: Instant) {
        for key in keys {
            self.failures
                .entry((*key).to_owned())
                .or_default()
                .push_back(now);
        }
        // Bound memory under a flood of distinct names.
        if self.failures.len() > 10_000 {
            self.failures
                .retain(|_, l| l.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        }
    }

    /// Forgets the failures of `key` after a successful login.
    pub fn succeed(&mut self, key: &str) {
        self.failures.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_block_until_the_window_passes() {
        let mut t = LoginThrottle::new();
        let t0 = Instant::now();
        for i in 0..MAX_FAILURES {
            assert_eq!(t.blocked(&["alice"], t0), None, "attempt {i}");
            t.fail(&["alice"], t0);
        }
        let wait = t.blocked(&["alice"], t0 + Duration::from_secs(60)).unwrap();
        assert_eq!(wait, WINDOW - Duration::from_secs(60));
        assert_eq!(t.blocked(&["bob"], t0), None, "other users are unaffected");
        assert_eq!(t.blocked(&["alice"], t0 + WINDOW), None);
    }

    #[test]
    fn success_clears_the_count() {
        let mut t = LoginThrottle::new();
        let t0 = Instant::now();
        for _ in 0..MAX_FAILURES - 1 {
            t.fail(&["alice"], t0);
        }
        t.succeed("alice");
        t.fail(&["alice"], t0);
        assert_eq!(t.blocked(&["alice"], t0), None);
    }
}
