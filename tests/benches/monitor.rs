//! Live monitor latency: how long after a real gate decides does the decision appear on the
//! desk's monitor stream (`GET /api/v1/monitor/events`). Real server and gate processes, a
//! pseudo-terminal scanner, one scan at a time.
//!
//! `cargo bench -p gatehouse-e2e --bench monitor`; `GATEHOUSE_MONITOR_SCANS` sets the number of
//! scans (default 200). Exits with failure when the p99 is over the one-second goal.

use gatehouse_credential::{Zone, ZoneClass};
use gatehouse_e2e::estate::BUILDING;
use gatehouse_e2e::monitor::{measure, quantile};
use gatehouse_e2e::system::System;

const GOAL_MS: f64 = 1000.0;

fn main() -> anyhow::Result<()> {
    let scans = match std::env::var("GATEHOUSE_MONITOR_SCANS") {
        Ok(n) => n.parse()?,
        Err(_) => 200,
    };
    let entrance = Zone {
        building: BUILDING,
        class: ZoneClass::Entrance,
        floor: None,
    };
    let mut system = System::launch(&[entrance], false)?;
    let delays = measure(&mut system, scans)?;
    println!("| what | scans | p50 | p99 | max |");
    println!("| --- | --- | --- | --- | --- |");
    for (what, xs) in [
        (
            "gate decision → on the monitor stream",
            &delays.from_decision,
        ),
        (
            "scan line written → on the monitor stream",
            &delays.from_scan,
        ),
    ] {
        println!(
            "| {what} | {} | {:.1} ms | {:.1} ms | {:.1} ms |",
            xs.len(),
            quantile(xs, 0.5),
            quantile(xs, 0.99),
            xs[xs.len() - 1]
        );
    }
    let p99 = quantile(&delays.from_decision, 0.99);
    anyhow::ensure!(
        p99 <= GOAL_MS,
        "p99 {p99:.1} ms is over the {GOAL_MS} ms goal"
    );
    Ok(())
}
