//! Retention: personal data of visitors and of finished (refunded) renovations is erased after
//! the configured period (default 180 days). Rows stay, so counts remain; names, phones, ID
//! hashes and purposes go; goods-release permits lose applicant, consent and plate; ended loans of keys and radios their
//! holder. Runs daily and on a manager's request.

use super::desk_error::DeskResult;
use super::settings;
use crate::audit;
use crate::auth::Actor;
use crate::db::ts;
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;

/// What one purge erased, and what is kept as anonymous counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PurgeReport {
    /// Records older than this were purged (UTC).
    pub cutoff: String,
    /// The retention period used.
    pub retention_days: i64,
    /// Visitors whose personal data was erased now.
    pub visitors: u64,
    /// Invites whose visitor data was erased now.
    pub invites: u64,
    /// Renovations whose personal data was erased now.
    pub renovations: u64,
    /// Workers whose personal data was erased now.
    pub workers: u64,
    /// Goods-release permits whose applicant, consent and plate were erased now.
    pub goods_permits: u64,
    /// Loans of keys and radios whose holder's name and phone were erased now.
    pub custody_loans: u64,
    /// Anonymous totals kept: every visitor ever registered.
    pub total_visitors: u64,
    /// Anonymous totals kept: every renovation ever registered.
    pub total_renovations: u64,
}

/// Erases personal data older than the retention period and audits the counts.
pub fn purge(tx: &Connection, actor: &Actor, now: DateTime<Utc>) -> DeskResult<PurgeReport> {
    let days = settings::retention_days(tx)?;
    let cutoff = ts(now - Duration::days(days));
    let visitors = tx.execute(
        "UPDATE visitors SET name = NULL, host_name = NULL, phone = NULL, purpose = NULL, purged_at = ?2
         WHERE purged_at IS NULL AND registered_at < ?1",
        params![cutoff, ts(now)],
    )?;
    let invites = tx.execute(
        "UPDATE invites SET visitor = '{}', purged_at = ?2 WHERE purged_at IS NULL AND created_at < ?1",
        params![cutoff, ts(now)],
    )?;
    let workers = tx.execute(
        "UPDATE workers SET name = NULL, phone = NULL, id_hash = NULL, purged_at = ?2
         WHERE purged_at IS NULL AND renovation_id IN (SELECT id FROM renovations WHERE refunded_at IS NOT NULL AND refunded_at < ?1)",
        params![cutoff, ts(now)],
    )?;
    let renovations = tx.execute(
        "UPDATE renovations SET owner_name = NULL, contractor = NULL, supervisor_name = NULL, supervisor_phone = NULL, purged_at = ?2
         WHERE purged_at IS NULL AND refunded_at IS NOT NULL AND refunded_at < ?1",
        params![cutoff, ts(now)],
    )?;
    let goods_permits = super::goods::purge(tx, &cutoff, now)?;
    let custody_loans = super::custody_items::purge(tx, &cutoff, now)?;
    let count = |sql: &str| -> rusqlite::Result<u64> {
        tx.query_row(sql, [], |r| r.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
    };
    let report = PurgeReport {
        cutoff,
        retention_days: days,
        visitors: visitors as u64,
        invites: invites as u64,
        renovations: renovations as u64,
        workers: workers as u64,
        goods_permits,
        custody_loans,
        total_visitors: count("SELECT COUNT(*) FROM visitors")?,
        total_renovations: count("SELECT COUNT(*) FROM renovations")?,
    };
    audit::record(
        tx,
        actor,
        "retention.purge",
        "retention",
        serde_json::to_value(&report).unwrap_or_default(),
        now,
    )?;
    Ok(report)
}

/// Runs [`purge`] and prunes the gate change log ([`crate::changes::prune`]) once a day, the first time an hour after start, until the database closes.
pub async fn run_daily(db: crate::db::Db) {
    let day = std::time::Duration::from_secs(24 * 3600);
    let first = tokio::time::Instant::now() + std::time::Duration::from_secs(3600);
    let mut tick = tokio::time::interval_at(first, day);
    loop {
        tick.tick().await;
        let now = Utc::now();
        let result = db
            .call(move |c| {
                let tx = c.savepoint().map_err(super::desk_error::DeskError::from)?;
                let report = purge(&tx, &Actor::System("daily-retention"), now)?;
                let changes = crate::changes::prune(&tx, now)?;
                tx.commit().map_err(super::desk_error::DeskError::from)?;
                Ok::<_, super::desk_error::DeskError>((report, changes))
            })
            .await;
        match result {
            Ok((r, changes)) => tracing::info!(
                visitors = r.visitors,
                renovations = r.renovations,
                workers = r.workers,
                gate_changes_pruned = changes,
                "retention purge ran"
            ),
            Err(super::desk_error::DeskError::DbThread(crate::db::DbError::Closed)) => break,
            Err(e) => tracing::error!(error = %e, "retention purge failed"),
        }
    }
}
