//! The desk's live monitor seen from outside: a staff member's server-sent event stream, and a
//! measurement of how long a real gate's decision takes to appear on it.

use crate::estate::VISITED_FLOOR;
use crate::server::Api;
use crate::system::System;
use crate::{HarnessError, Result};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One event off the stream and when it arrived.
#[derive(Debug)]
pub struct Seen {
    /// The event's JSON (`data:` line).
    pub event: Value,
    /// Wall-clock time it arrived (comparable with the gate's `at`: one machine, one clock).
    pub wall: chrono::DateTime<chrono::Utc>,
    /// Monotonic time it arrived.
    pub at: Instant,
}

/// Opens `GET /api/v1/monitor/events` as `api`'s staff member and hands every event to the
/// returned receiver from a reader thread, which ends with the stream.
pub fn subscribe(api: &Api) -> Result<mpsc::Receiver<Seen>> {
    let call = "GET /api/v1/monitor/events";
    let fail = |message: String| HarnessError::Http {
        call: call.into(),
        message,
    };
    let response = reqwest::blocking::Client::builder()
        .timeout(None)
        .build()
        .map_err(|e| fail(e.to_string()))?
        .get(format!("{}/api/v1/monitor/events", api.base()))
        .bearer_auth(api.token())
        .send()
        .map_err(|e| fail(e.to_string()))?;
    if response.status() != 200 {
        return Err(fail(format!("status {}", response.status())));
    }
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(response).lines() {
            let Ok(line) = line else { return };
            let Some(data) = line.strip_prefix("data:") else {
                continue;
            };
            let Ok(event) = serde_json::from_str(data.trim()) else {
                continue;
            };
            let seen = Seen {
                event,
                wall: chrono::Utc::now(),
                at: Instant::now(),
            };
            if tx.send(seen).is_err() {
                return;
            }
        }
    });
    Ok(rx)
}

/// Delays measured for each scan, in milliseconds, sorted.
#[derive(Debug)]
pub struct Delays {
    /// From the gate's decision (its `at`) to the event arriving on the stream.
    pub from_decision: Vec<f64>,
    /// From the scan's line written to the scanner port to the event arriving.
    pub from_scan: Vec<f64>,
}

/// The `q`-quantile of sorted `xs`.
pub fn quantile(xs: &[f64], q: f64) -> f64 {
    xs[((xs.len() as f64 - 1.0) * q).round() as usize]
}

/// Registers `scans` visitors, subscribes to the monitor, then scans each pass at gate 0 (an
/// entrance of the estate's building), one at a time, each waiting for its own admission on
/// the stream. Fails if an admission does not arrive within 10 s or names the wrong door.
pub fn measure(system: &mut System, scans: usize) -> Result<Delays> {
    let estate = system.api.get("/api/v1/estate")?;
    let unit = estate["units"]
        .as_array()
        .and_then(|units| units.iter().find(|u| u["floor"] == VISITED_FLOOR))
        .map(|u| u["id"].clone())
        .ok_or_else(|| HarnessError::Story("no unit on the visited floor".into()))?;
    let mut passes = Vec::with_capacity(scans);
    for i in 0..scans {
        let v = system.api.post(
            "/api/v1/visitors",
            &json!({"name": format!("访客{i}"), "unit_id": unit, "host_name": "李先生",
                    "purpose": "探亲访友", "party_size": 1}),
        )?;
        let card = v["issued"]["card"]["card_id"].as_u64();
        let text = v["issued"]["credential"].as_str();
        match (card, text) {
            (Some(card), Some(text)) => passes.push((card, text.to_owned())),
            _ => return Err(HarnessError::Story(format!("no pass in {v}"))),
        }
    }
    let zone = &system.gates[0].setup.zone;
    let door = system
        .estate
        .door(zone)
        .map(|d| d.name.to_owned())
        .ok_or_else(|| HarnessError::Story("gate 0 guards no door of the estate".into()))?;
    let stream = subscribe(&system.api)?;
    let mut delays = Delays {
        from_decision: Vec::with_capacity(scans),
        from_scan: Vec::with_capacity(scans),
    };
    for (card, text) in &passes {
        let sent = Instant::now();
        system.gates[0].scanner.scan(text)?;
        let seen = loop {
            let seen = stream.recv_timeout(Duration::from_secs(10)).map_err(|_| {
                HarnessError::Story(format!("card {card}'s admission not on the stream in 10 s"))
            })?;
            if seen.event["card_id"] == *card && seen.event["result"] == "admitted" {
                break seen;
            }
        };
        if seen.event["door"] != door.as_str() {
            return Err(HarnessError::Story(format!(
                "card {card} admitted at {} on the stream, scanned at {door}",
                seen.event["door"]
            )));
        }
        let decided: chrono::DateTime<chrono::Utc> = seen.event["at"]
            .as_str()
            .and_then(|at| at.parse().ok())
            .ok_or_else(|| HarnessError::Story(format!("no time in {}", seen.event)))?;
        let ms = (seen.wall - decided).num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0;
        delays.from_decision.push(ms);
        delays
            .from_scan
            .push((seen.at - sent).as_secs_f64() * 1000.0);
    }
    delays.from_decision.sort_by(f64::total_cmp);
    delays.from_scan.sort_by(f64::total_cmp);
    Ok(delays)
}
