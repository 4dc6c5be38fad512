//! Revocation propagation: how long from the commit of a revocation until each of 100
//! long-polling gates has it. Run: `cargo bench -p gatehouse-server --bench propagation`
//! (release). `PROPAGATION_GATES` and `PROPAGATION_ROUNDS` override 100 and 50.
//!
//! `PROPAGATION_CHANGE=evacuation` measures an evacuation instead, as the desk makes it: from
//! sending `POST /api/v1/evacuation` (and, every other round, the manager's `DELETE`) until
//! each gate has the change.

use gatehouse_credential::api::gate::{ChangeBatch, ChangeEvent, RevocationReason};
use gatehouse_credential::{CardId, UtcMinute};
use gatehouse_server::changes;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

mod support;
use support::percentile;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let gates = env_or("PROPAGATION_GATES", 100);
    let rounds = env_or("PROPAGATION_ROUNDS", 50);
    let evacuation = std::env::var("PROPAGATION_CHANGE").as_deref() == Ok("evacuation");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(gates * 2)
        .build()
        .expect("client");
    let server = support::start(&client).await;
    let (base, state, admin) = (
        server.base.clone(),
        server.state.clone(),
        server.token.clone(),
    );
    let mut keys = Vec::with_capacity(gates);
    for i in 0..gates {
        let created: Value = client
            .post(format!("{base}/api/v1/devices"))
            .bearer_auth(&admin)
            .json(&json!({"kind": "gate", "name": format!("bench gate {i}")}))
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("create body");
        let enrolled: Value = client
            .post(format!("{base}/api/v1/devices/enrol"))
            .json(&json!({"token": created["enrolment_token"]}))
            .send()
            .await
            .expect("enrol")
            .json()
            .await
            .expect("enrol body");
        keys.push(enrolled["api_key"].as_str().expect("api key").to_owned());
    }

    let mut samples: Vec<Duration> = Vec::with_capacity(gates * rounds);
    let mut cursor = 0u64;
    for round in 0..rounds {
        let mut polls = Vec::with_capacity(gates);
        for key in &keys {
            let url = format!("{base}/api/v1/gate/changes?since={cursor}&wait_ms=30000");
            let req = client.get(url).bearer_auth(key);
            polls.push(tokio::spawn(async move {
                let batch: ChangeBatch =
                    req.send().await.expect("poll").json().await.expect("batch");
                (Instant::now(), batch)
            }));
        }
        // Let every gate's request reach the server and park on the change signal.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let card = CardId(1000 + round as u32);
        let t0 = Instant::now();
        let seq = if evacuation {
            let request = if round % 2 == 0 {
                client.post(format!("{base}/api/v1/evacuation"))
            } else {
                client.delete(format!("{base}/api/v1/evacuation"))
            };
            let answer: Value = request
                .bearer_auth(&admin)
                .send()
                .await
                .expect("evacuation")
                .json()
                .await
                .expect("evacuation body");
            answer["seq"].as_u64().expect("the evacuation switched")
        } else {
            state
                .db
                .call(move |c| {
                    let tx = c.savepoint()?;
                    let seq = changes::append(
                        &tx,
                        &ChangeEvent::Revoked {
                            card_id: card,
                            reason: RevocationReason::Lost,
                            not_after: UtcMinute(10_000_000),
                        },
                        chrono::Utc::now(),
                    )?;
                    tx.commit()?;
                    Ok::<_, gatehouse_server::db::DbError>(seq)
                })
                .await
                .expect("revocation committed")
        };
        for poll in polls {
            let (at, batch) = poll.await.expect("poll task");
            assert!(
                batch.changes.iter().any(|c| c.seq == seq),
                "every gate got the change"
            );
            samples.push(at.saturating_duration_since(t0));
        }
        cursor = seq;
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{} propagation to {gates} long-polling gates, {rounds} rounds ({} samples): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        if evacuation {
            "evacuation"
        } else {
            "revocation"
        },
        samples.len(),
        ms(percentile(&samples, 0.50)),
        ms(percentile(&samples, 0.99)),
        ms(*samples.last().expect("samples")),
    );
}
