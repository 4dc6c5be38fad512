//! Overstays: visitor passes past their end and not signed out.
//!
//! Each overstaying pass raises one desk notice (a row in `visitor_overstays`, shown with the
//! device alarms on every desk page until someone acknowledges it; the device alarm table
//! names a device, and an overstay has none). After a grace period (default 2 h, config
//! `overstay_grace_minutes`) the pass is signed out automatically by `system:overstay`,
//! audited like a sign-out at the desk, so the on-site and muster lists stay true.
//!
//! [`sweep`] decides from the passes and the time alone; [`apply`] reads and writes the
//! database; [`run`] calls it once a minute.

use super::card;
use super::desk_error::{DeskError, DeskResult};
use super::privacy;
use crate::audit;
use crate::auth::Actor;
use crate::db::{instant, opt_instant, ts};
use chrono::{DateTime, Duration, Utc};
use gatehouse_credential::UtcMinute;
use rusqlite::{Connection, params};
use serde::Serialize;

/// The grace after a pass's end before it is signed out automatically.
pub const DEFAULT_GRACE: Duration = Duration::hours(2);

/// How often the sweep runs.
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// What the sweep knows of a pass still signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenPass {
    /// The pass.
    pub card_id: u32,
    /// When it ended (or ends).
    pub not_after: DateTime<Utc>,
    /// Whether the desk has been told of its overstay already.
    pub noticed: bool,
}

/// What the sweep decided for one pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Tell the desk once: the pass has ended but is not signed out.
    Notice(u32),
    /// The grace is over: sign the pass out.
    SignOut(u32),
}

/// Decides, for the passes still signed in at `now`, which overstays the desk must be told of
/// and which passes to sign out (a pass signed out in the same sweep is noticed first).
pub fn sweep(passes: &[OpenPass], now: DateTime<Utc>, grace: Duration) -> Vec<Step> {
    let mut steps = Vec::new();
    for p in passes.iter().filter(|p| p.not_after <= now) {
        if !p.noticed {
            steps.push(Step::Notice(p.card_id));
        }
        if p.not_after + grace <= now {
            steps.push(Step::SignOut(p.card_id));
        }
    }
    steps
}

/// The actor of automatic sign-outs in the audit log.
pub const SWEEPER: Actor = Actor::System("overstay");

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Desk notices raised.
    pub noticed: usize,
    /// Passes signed out.
    pub signed_out: usize,
}

/// Reads the passes past their end, runs [`sweep`] and carries it out, audited.
pub fn apply(tx: &Connection, now: DateTime<Utc>, grace: Duration) -> DeskResult<SweepReport> {
    let now_minute = UtcMinute::floor(now).map_or(0, |m| m.0);
    let passes = tx
        .prepare_cached(
            "SELECT c.id, c.not_after, o.card_id IS NOT NULL AS noticed FROM cards c
             LEFT JOIN visitor_overstays o ON o.card_id = c.id
             WHERE c.kind = 'visitor' AND c.state = 'active' AND c.not_after <= ?1",
        )?
        .query_map(params![now_minute], |r| {
            Ok(OpenPass {
                card_id: r.get("id")?,
                not_after: UtcMinute(r.get("not_after")?).to_datetime(),
                noticed: r.get("noticed")?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut report = SweepReport::default();
    for step in sweep(&passes, now, grace) {
        match step {
            Step::Notice(card_id) => {
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO visitor_overstays (card_id, noticed_at) VALUES (?1, ?2)",
                )?
                .execute(params![card_id, ts(now)])?;
                audit::record(
                    tx,
                    &SWEEPER,
                    "visitor.overstay",
                    &format!("card:{card_id}"),
                    serde_json::json!({}),
                    now,
                )?;
                tracing::warn!(card_id, "a visitor pass has ended but is not signed out");
                report.noticed += 1;
            }
            Step::SignOut(card_id) => {
                card::sign_out(tx, &SWEEPER, card_id, now)?;
                tx.prepare_cached(
                    "UPDATE visitor_overstays SET signed_out_at = ?2 WHERE card_id = ?1",
                )?
                .execute(params![card_id, ts(now)])?;
                tracing::info!(card_id, "overstaying visitor pass signed out automatically");
                report.signed_out += 1;
            }
        }
    }
    Ok(report)
}

/// An overstaying visitor as the desk sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Overstay {
    /// The pass.
    pub card_id: u32,
    /// The masked name.
    pub name_masked: String,
    /// The unit visited.
    pub unit_label: String,
    /// Masked host name.
    pub host_masked: Option<String>,
    /// When the pass ended.
    pub not_after: DateTime<Utc>,
    /// When the pass will be signed out automatically.
    pub sign_out_at: DateTime<Utc>,
    /// When the desk was told.
    pub noticed_at: DateTime<Utc>,
    /// Who at the desk acknowledged it.
    pub acknowledged_by: Option<String>,
    /// When.
    pub acknowledged_at: Option<DateTime<Utc>>,
}

/// Passes past their end, not signed out, that the sweep has noticed; oldest end first.
pub fn list(conn: &Connection, grace: Duration) -> DeskResult<Vec<Overstay>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, v.name, u.label, v.host_name, c.not_after, o.noticed_at, o.acknowledged_by,
                o.acknowledged_at
         FROM visitor_overstays o JOIN cards c ON c.id = o.card_id
         JOIN visitors v ON v.id = c.visitor_id JOIN units u ON u.id = v.unit_id
         WHERE c.state = 'active' ORDER BY c.not_after, c.id",
    )?;
    let rows = stmt.query_map([], |r| {
        let name: Option<String> = r.get("name")?;
        let host: Option<String> = r.get("host_name")?;
        let not_after = UtcMinute(r.get("not_after")?).to_datetime();
        Ok(Overstay {
            card_id: r.get("id")?,
            name_masked: name.map(|n| privacy::mask_name(&n)).unwrap_or_default(),
            unit_label: r.get("label")?,
            host_masked: host.map(|h| privacy::mask_name(&h)),
            not_after,
            sign_out_at: not_after + grace,
            noticed_at: instant(r, "noticed_at")?,
            acknowledged_by: r.get("acknowledged_by")?,
            acknowledged_at: opt_instant(r, "acknowledged_at")?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A staff member has seen the overstay notice; a second acknowledgement keeps the first.
pub fn acknowledge(
    tx: &Connection,
    actor: &Actor,
    card_id: u32,
    now: DateTime<Utc>,
) -> DeskResult<()> {
    let Some(staff) = actor.staff() else {
        return Err(DeskError::invalid(
            "forbidden",
            "only staff acknowledge notices",
        ));
    };
    let exists: bool = tx
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM visitor_overstays WHERE card_id = ?1)")?
        .query_row([card_id], |r| r.get(0))?;
    if !exists {
        return Err(DeskError::NotFound(format!(
            "pass {card_id} has no overstay notice"
        )));
    }
    let changed = tx
        .prepare_cached(
            "UPDATE visitor_overstays SET acknowledged_by = ?2, acknowledged_at = ?3
             WHERE card_id = ?1 AND acknowledged_at IS NULL",
        )?
        .execute(params![card_id, staff.username, ts(now)])?;
    if changed == 1 {
        audit::record(
            tx,
            actor,
            "visitor.overstay.acknowledge",
            &format!("card:{card_id}"),
            serde_json::json!({}),
            now,
        )?;
    }
    Ok(())
}

/// Sweeps every [`SWEEP_EVERY`] until the database thread stops.
pub async fn run(db: crate::db::Db, grace: Duration) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = Utc::now();
        let result = db
            .call(move |c| {
                let tx = c.savepoint()?;
                let report = apply(&tx, now, grace)?;
                tx.commit()?;
                Ok::<_, DeskError>(report)
            })
            .await;
        match result {
            Ok(r) if r == SweepReport::default() => {}
            Ok(r) => tracing::info!(
                noticed = r.noticed,
                signed_out = r.signed_out,
                "overstay sweep"
            ),
            Err(DeskError::DbThread(crate::db::DbError::Closed)) => break,
            Err(e) => tracing::error!(error = %e, "overstay sweep failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64, m: i64) -> DateTime<Utc> {
        "2026-12-03T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
            + Duration::hours(h)
            + Duration::minutes(m)
    }

    #[test]
    fn a_pass_is_noticed_once_at_its_end_and_signed_out_after_the_grace() {
        let grace = DEFAULT_GRACE;
        let pass = |noticed| OpenPass {
            card_id: 7,
            not_after: at(10, 0),
            noticed,
        };
        assert_eq!(sweep(&[pass(false)], at(9, 59), grace), vec![]);
        assert_eq!(
            sweep(&[pass(false)], at(10, 0), grace),
            vec![Step::Notice(7)]
        );
        assert_eq!(sweep(&[pass(true)], at(11, 59), grace), vec![], "told once");
        assert_eq!(
            sweep(&[pass(true)], at(12, 0), grace),
            vec![Step::SignOut(7)]
        );
        // A server that was off through the whole grace notices and signs out in one sweep.
        assert_eq!(
            sweep(&[pass(false)], at(15, 0), grace),
            vec![Step::Notice(7), Step::SignOut(7)]
        );
    }
}
