//! Visitor-pass issuance load: throughput and p99 of `POST /api/v1/kiosk/visitors` against the
//! floor of signing one credential plus one durable SQLite insert in a loop.
//!
//! `cargo run --release -p gatehouse-server --example issuance [seconds] [concurrency]`

use gatehouse_credential::{
    BuildingScope, CardId, Claims, KeyId, Kind, Signer, UtcMinute, ZoneClasses, ZoneScope,
};
use gatehouse_server::{Application, Config};
use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(name: &str, mut lat: Vec<Duration>, elapsed: Duration) -> f64 {
    lat.sort();
    let rate = lat.len() as f64 / elapsed.as_secs_f64();
    println!(
        "{name}: {} ops in {:.2} s = {rate:.0}/s; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        lat.len(),
        elapsed.as_secs_f64(),
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    rate
}

/// Sign + one INSERT committed with synchronous=FULL, one at a time.
fn floor(seconds: u64) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let conn = gatehouse_server::store::connect(&dir.path().join("floor.db")).unwrap();
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a INTEGER, b TEXT)")
        .unwrap();
    let signer = Signer::generate(KeyId::new(0).unwrap());
    let mut lat = Vec::new();
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < Duration::from_secs(seconds) {
        let t = Instant::now();
        n += 1;
        let claims = Claims {
            kind: Kind::Visitor,
            card_id: CardId(n),
            not_before: UtcMinute(1_500_000),
            not_after: UtcMinute(1_500_600),
            schedule: None,
            scope: ZoneScope {
                building: BuildingScope::One(2),
                floor_lo: 12,
                floor_hi: 12,
                classes: ZoneClasses(0b1011),
            },
        };
        let text = signer.issue(&claims).unwrap();
        conn.execute(
            "INSERT INTO t (a, b) VALUES (?1, ?2)",
            rusqlite::params![n, text],
        )
        .unwrap();
        lat.push(t.elapsed());
    }
    report("floor (sign + 1 durable insert)", lat, start.elapsed())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let concurrency: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let floor_rate = floor(seconds);

    let dir = tempfile::tempdir().unwrap();
    let app = Application::build(Config::for_tests(dir.path()))
        .await
        .unwrap();
    let addr = app.local_addr().unwrap();
    let state = app.state().clone();
    tokio::spawn(app.run_until(std::future::pending()));
    let key = gatehouse_server::auth::new_secret();
    let hash = gatehouse_server::auth::secret_hash(&key);
    state
        .db
        .call(move |c| {
            c.execute_batch(
                "INSERT OR IGNORE INTO buildings (number, name, floor_lo, floor_hi) VALUES (2, 'T2', -2, 30);
                 INSERT OR IGNORE INTO units (label, building, floor) VALUES ('2-1203', 2, 12);",
            )?;
            c.execute(
                "INSERT INTO devices (id, kind, name, api_key_hash, created_at, created_by) VALUES ('bench-kiosk', 'kiosk', 'bench', ?1, '2026-01-01T00:00:00Z', 'bench')",
                rusqlite::params![hash],
            )?;
            c.query_row("SELECT id FROM units WHERE label = '2-1203'", [], |r| r.get::<_, i64>(0))
                .map_err(gatehouse_server::db::DbError::from)
        })
        .await
        .unwrap();
    let unit: i64 = state
        .db
        .call(|c| {
            c.query_row("SELECT id FROM units WHERE label = '2-1203'", [], |r| {
                r.get(0)
            })
            .map_err(gatehouse_server::db::DbError::from)
        })
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/api/v1/kiosk/visitors");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, key) = (client.clone(), url.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let r = client
                    .post(&url)
                    .bearer_auth(&key)
                    .json(&serde_json::json!({"name": "Bench Visitor", "unit_id": unit, "purpose": "load test", "party_size": 1}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
                let _ = r.bytes().await.unwrap();
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let rate = report(
        &format!("visitor passes over HTTP ({concurrency} clients)"),
        all,
        start.elapsed(),
    );
    println!("ratio to floor: {:.2}", rate / floor_rate);
}
