//! Exponential back-off with jitter for retrying a server.
//!
//! Without jitter every device that lost the server at the same moment (a server restart) would
//! retry in lockstep at 1, 2, 4 … s and arrive together each time. Each wait here is drawn from
//! the upper half of its step, `[d/2, d]` ("equal jitter"): retries spread out, and no wait is
//! shorter than half the plain schedule, so the server is not hammered either.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;

/// The first step.
const FIRST: Duration = Duration::from_secs(1);

/// Exponential back-off from 1 s to a ceiling, each wait jittered.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
    max: Duration,
    rng: StdRng,
}

impl Backoff {
    /// Starts at 1 s, doubles up to `max`; seeded from the OS so devices differ.
    pub fn new(max: Duration) -> Self {
        Self::with_rng(max, StdRng::from_entropy())
    }

    /// The same with a given seed (tests and simulations).
    pub fn seeded(max: Duration, seed: u64) -> Self {
        Self::with_rng(max, StdRng::seed_from_u64(seed))
    }

    fn with_rng(max: Duration, rng: StdRng) -> Self {
        Backoff {
            next: FIRST.min(max),
            max,
            rng,
        }
    }

    /// The wait before the next attempt: in the upper half of a step that doubles each time.
    pub fn step(&mut self) -> Duration {
        let step = self.next;
        self.next = (self.next * 2).min(self.max);
        let half = step / 2;
        half + half.mul_f64(self.rng.gen_range(0.0..=1.0))
    }

    /// After a success: the next failure starts again at the first step.
    pub fn reset(&mut self) {
        self.next = FIRST.min(self.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_to_the_ceiling_each_in_the_upper_half_of_its_step_and_reset() {
        let mut b = Backoff::new(Duration::from_secs(5));
        for step_ms in [1000, 2000, 4000, 5000, 5000] {
            let wait = b.step().as_millis();
            assert!(
                (step_ms / 2..=step_ms).contains(&wait),
                "{wait} ms for a {step_ms} ms step"
            );
        }
        b.reset();
        assert!(b.step() <= Duration::from_secs(1));
    }

    /// 200 gates lose the server at the same instant and retry five times: when do they knock?
    #[test]
    fn many_gates_retrying_after_a_server_restart_spread_out() {
        let gates = 200;
        let mut clocks = vec![Duration::ZERO; gates];
        let mut backoffs: Vec<_> = (0..gates)
            .map(|g| Backoff::seeded(Duration::from_secs(60), g as u64))
            .collect();
        for attempt in 1..=5 {
            for (clock, backoff) in clocks.iter_mut().zip(&mut backoffs) {
                *clock += backoff.step();
            }
            // The busiest 50 ms window holds a share of them (about 30 of 200 when spread evenly over
            // the first step's 500 ms), not all 200 as without jitter.
            let mut at: Vec<u128> = clocks.iter().map(Duration::as_millis).collect();
            at.sort_unstable();
            let busiest = (0..gates)
                .map(|i| at[i..].iter().take_while(|&&t| t < at[i] + 50).count())
                .max()
                .unwrap();
            assert!(
                busiest <= gates / 3,
                "attempt {attempt}: {busiest} of {gates} gates retry within the same 50 ms"
            );
            let spread = at[gates - 1] - at[0];
            assert!(spread >= 400, "attempt {attempt}: all within {spread} ms");
        }
    }
}
