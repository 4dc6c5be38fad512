//! Login rate limiting: a pure record of recent failures per (account, client address) pair.
//! Time is passed in; the caller holds it behind a mutex.
//!
//! An attempt is counted when it starts, before the slow password hash, so guesses sent at the
//! same moment cannot all be checked; a successful login forgives the pair's attempts. After
//! [`FREE_ATTEMPTS`] the pair must wait, each time twice as long (up to [`MAX_DELAY`]). Only
//! that pair waits: the owner of an account, coming from another address, is never locked out
//! by someone guessing elsewhere.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Attempts a pair may make without waiting.
pub const FREE_ATTEMPTS: u32 = 5;
/// The wait after the first attempt beyond the free ones; it doubles with each further one.
pub const FIRST_DELAY: Duration = Duration::from_secs(1);
/// The longest wait between two attempts of one pair.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// A pair that has not tried for this long starts afresh.
pub const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

/// How many pairs are kept before the stale ones are dropped.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug)]
struct Pair {
    attempts: u32,
    last: Instant,
    next_allowed: Instant,
}

/// Recent login attempts by (account, client address).
#[derive(Debug, Default)]
pub struct LoginThrottle {
    pairs: HashMap<(String, String), Pair>,
}

/// The wait imposed after a pair's `attempts`-th unforgiven attempt.
pub fn delay_after(attempts: u32) -> Duration {
    if attempts < FREE_ATTEMPTS {
        return Duration::ZERO;
    }
    let doublings = (attempts - FREE_ATTEMPTS).min(20);
    FIRST_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
}

impl LoginThrottle {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts an attempt of `account` from `client` at `now`: counts it at once and returns
    /// `Ok`, or `Err(wait)` (counting nothing) if the pair must wait first. `account` is
    /// compared as given; fold its case before calling.
    pub fn begin(&mut self, account: &str, client: &str, now: Instant) -> Result<(), Duration> {
        if self.pairs.len() > PRUNE_ABOVE {
            self.pairs
                .retain(|_, p| now.saturating_duration_since(p.last) < FORGET_AFTER);
        }
        let pair = self
            .pairs
            .entry((account.to_owned(), client.to_owned()))
            .or_insert(Pair {
                attempts: 0,
                last: now,
                next_allowed: now,
            });
        if now.saturating_duration_since(pair.last) >= FORGET_AFTER {
            pair.attempts = 0;
            pair.next_allowed = now;
        }
        if now < pair.next_allowed {
            return Err(pair.next_allowed - now);
        }
        pair.attempts += 1;
        pair.last = now;
        pair.next_allowed = now + delay_after(pair.attempts);
        Ok(())
    }

    /// Forgives the pair's attempts after a successful login.
    pub fn succeed(&mut self, account: &str, client: &str) {
        self.pairs.remove(&(account.to_owned(), client.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_beyond_the_free_ones_wait_twice_as_long_each_time() {
        let mut t = LoginThrottle::new();
        let t0 = Instant::now();
        for i in 0..FREE_ATTEMPTS {
            assert_eq!(t.begin("alice", "10.0.0.9", t0), Ok(()), "attempt {i}");
        }
        // Counted before any check: the next one at the same instant must wait.
        assert_eq!(t.begin("alice", "10.0.0.9", t0), Err(FIRST_DELAY));
        let t1 = t0 + FIRST_DELAY;
        assert_eq!(t.begin("alice", "10.0.0.9", t1), Ok(()));
        assert_eq!(t.begin("alice", "10.0.0.9", t1), Err(FIRST_DELAY * 2));
        assert_eq!(delay_after(FREE_ATTEMPTS + 30), MAX_DELAY);
    }

    #[test]
    fn another_address_or_account_is_not_slowed() {
        let mut t = LoginThrottle::new();
        let t0 = Instant::now();
        for _ in 0..10 {
            let _ = t.begin("admin", "203.0.113.5", t0);
        }
        assert!(t.begin("admin", "203.0.113.5", t0).is_err());
        assert_eq!(t.begin("admin", "198.51.100.7", t0), Ok(()));
        assert_eq!(t.begin("bob", "203.0.113.5", t0), Ok(()));
    }

    #[test]
    fn success_forgives_and_a_quiet_hour_forgets() {
        let mut t = LoginThrottle::new();
        let t0 = Instant::now();
        for _ in 0..FREE_ATTEMPTS {
            t.begin("alice", "a", t0).unwrap();
        }
        t.succeed("alice", "a");
        for _ in 0..FREE_ATTEMPTS {
            assert_eq!(t.begin("alice", "a", t0), Ok(()));
        }
        assert!(t.begin("alice", "a", t0).is_err());
        assert_eq!(t.begin("alice", "a", t0 + FORGET_AFTER), Ok(()));
    }
}
