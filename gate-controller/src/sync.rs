//! Sync with the server: enrolment (one-time token → device key stored in the data dir), the
//! snapshot, the long-poll change loop with back-off, and journal upload in batches until
//! acknowledged. Everything here is optional for the door: offline, the gate keeps deciding on
//! the last synced state, which the main loop persists.

use crate::clock::{ServerTime, ServerTimeFeed};
use crate::config::SyncConfig;
use crate::core::SyncUpdate;
use crate::core::{DoorContact, Level};
use crate::journal::Journal;
use crate::status::GateStatus;
use chrono::{DateTime, Utc};
use gatehouse_credential::api::ErrorBody;
use gatehouse_credential::api::device::{AlarmReport, DeviceKind};
use gatehouse_credential::api::gate::{
    ChangeBatch, ChangeEvent, DoorState, GateReport, GateSnapshot, JournalAck, JournalUpload,
    RelayState,
};
use gatehouse_shell::backoff::Backoff;
use gatehouse_shell::enrolment::{self, DeviceCredential, EnrolmentError};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::sync::{Notify, mpsc};

/// Why a sync call failed.
#[derive(Debug, Error)]
pub enum SyncError {
    /// The server could not be reached or answered garbage.
    #[error("server unreachable: {0}")]
    Http(#[from] reqwest::Error),
    /// The server refused.
    #[error("server answered {status}: {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The gate has no device key and could not get one.
    #[error(transparent)]
    Enrolment(#[from] EnrolmentError),
    /// `[sync] server` is not a URL.
    #[error("[sync] server {0:?} is not a URL")]
    ServerUrl(String),
    /// The main loop has stopped taking updates.
    #[error("the gate is stopping")]
    Stopping,
}

/// Where the device key lives: `device.json` (mode 0600) in the data dir.
pub fn device_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("device.json")
}

/// What the status page shows about sync.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SyncStatus {
    /// Whether `[sync]` is configured.
    pub configured: bool,
    /// The device id, once enrolled.
    pub device_id: Option<String>,
    /// Whether the last call reached the server.
    pub server_reachable: bool,
    /// When the gate last heard from the server.
    pub last_sync: Option<DateTime<Utc>>,
    /// The last failure, if the server is away.
    pub last_error: Option<String>,
    /// Current back-off before the next attempt, seconds.
    pub backoff_secs: u64,
    /// Journal entries the server acknowledged since start.
    pub uploaded: u64,
}

/// Shared sync status.
pub type SharedSyncStatus = Arc<Mutex<SyncStatus>>;

/// A client of the server's gate API.
#[derive(Clone, Debug)]
pub struct GateClient {
    http: reqwest::Client,
    base: String,
    key: Option<DeviceCredential>,
    /// Where the server's time, seen in each answer, goes (for the clock).
    server_time: Option<ServerTimeFeed>,
}

impl GateClient {
    /// A client for `server` (base URL).
    pub fn new(server: &str) -> Result<Self, SyncError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(GateClient {
            http,
            base: server.trim_end_matches('/').to_owned(),
            key: None,
            server_time: None,
        })
    }

    /// Reports the server's time from every answer to `feed`: the snapshot's `server_time`,
    /// else the HTTP `Date` header (one-second resolution; every answer has one, and the long
    /// poll answers at least every `wait_ms`). The request's round trip bounds when the
    /// server stamped it.
    pub fn with_server_time(mut self, feed: ServerTimeFeed) -> Self {
        self.server_time = Some(feed);
        self
    }

    fn observe(&self, at: Option<DateTime<Utc>>, resolution: chrono::Duration, sent: Instant) {
        if let (Some(feed), Some(at)) = (&self.server_time, at) {
            feed.observe(ServerTime {
                at,
                resolution,
                sent,
                received: Instant::now(),
            });
        }
    }

    /// Notes the `Date` header of an answer whose request left at `sent`.
    fn observe_date(&self, sent: Instant, r: &reqwest::Response) {
        let at = r
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_http_date);
        self.observe(at, chrono::Duration::seconds(1), sent);
    }

    /// Uses the stored device key, or enrols with `token` and stores the new key.
    pub async fn enrol_or_load(
        &mut self,
        data_dir: &Path,
        token: Option<&str>,
    ) -> Result<DeviceCredential, SyncError> {
        let server =
            reqwest::Url::parse(&self.base).map_err(|_| SyncError::ServerUrl(self.base.clone()))?;
        let key = enrolment::load_or_enrol(
            &self.http,
            &server,
            &device_key_path(data_dir),
            token,
            DeviceKind::Gate,
        )
        .await?;
        self.key = Some(key.clone());
        Ok(key)
    }

    /// A request to `path` with the device key, once there is one.
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let req = self.http.request(method, format!("{}{path}", self.base));
        match &self.key {
            Some(k) => req.bearer_auth(k.api_key.expose()),
            None => req,
        }
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::GET, path)
    }

    /// `GET /api/v1/gate/snapshot`.
    pub async fn snapshot(&self) -> Result<GateSnapshot, SyncError> {
        let sent = Instant::now();
        let r = self
            .get("/api/v1/gate/snapshot")
            .timeout(Duration::from_secs(10))
            .send()
            .await?;
        // The answer's head has arrived: the server stamped its body before that.
        let received = Instant::now();
        let snapshot: GateSnapshot = checked(r).await?.json().await?;
        if let Some(feed) = &self.server_time {
            feed.observe(ServerTime {
                at: snapshot.server_time,
                resolution: chrono::Duration::zero(),
                sent,
                received,
            });
        }
        Ok(snapshot)
    }

    /// `GET /api/v1/gate/changes?since=N&wait_ms=W` (long poll), with the gate's own state.
    pub async fn changes(
        &self,
        since: u64,
        wait_ms: u64,
        report: Option<GateReport>,
    ) -> Result<ChangeBatch, SyncError> {
        let sent = Instant::now();
        let r = self
            .get(&format!(
                "/api/v1/gate/changes?since={since}&wait_ms={wait_ms}{}",
                report.map(|r| r.query()).unwrap_or_default()
            ))
            .timeout(Duration::from_millis(wait_ms) + Duration::from_secs(10))
            .send()
            .await?;
        self.observe_date(sent, &r);
        Ok(checked(r).await?.json().await?)
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::POST, path)
    }

    /// `POST /api/v1/device/alarms`: raises or clears one of this gate's alarms on the desk.
    pub async fn report_alarm(&self, report: &AlarmReport) -> Result<(), SyncError> {
        let req = self
            .post("/api/v1/device/alarms")
            .timeout(Duration::from_secs(10))
            .json(report);
        checked(req.send().await?).await?;
        Ok(())
    }

    /// `POST /api/v1/gate/journal`.
    pub async fn upload(&self, upload: &JournalUpload) -> Result<JournalAck, SyncError> {
        let req = self
            .post("/api/v1/gate/journal")
            .timeout(Duration::from_secs(30))
            .json(upload);
        let sent = Instant::now();
        let r = req.send().await?;
        self.observe_date(sent, &r);
        Ok(checked(r).await?.json().await?)
    }
}

/// An HTTP `Date` (IMF-fixdate, e.g. `Thu, 03 Dec 2026 09:36:05 GMT`), or `None`.
pub fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(value.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Turns a non-2xx answer into `Refused` with the server's message.
async fn checked(r: reqwest::Response) -> Result<reqwest::Response, SyncError> {
    if r.status().is_success() {
        return Ok(r);
    }
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    let message = serde_json::from_str::<ErrorBody>(&text)
        .map(|b| format!("{} ({})", b.message, b.error))
        .unwrap_or(text);
    Err(SyncError::Refused { status, message })
}

fn note_ok(status: &SharedSyncStatus) {
    let mut s = status.lock().unwrap_or_else(|p| p.into_inner());
    s.server_reachable = true;
    s.last_sync = Some(Utc::now());
    s.last_error = None;
    s.backoff_secs = 0;
}

fn note_err(status: &SharedSyncStatus, e: &SyncError, wait: Duration) {
    let mut s = status.lock().unwrap_or_else(|p| p.into_inner());
    s.server_reachable = false;
    s.last_error = Some(e.to_string());
    s.backoff_secs = wait.as_secs();
}

/// Everything the sync tasks need.
pub struct SyncTasks {
    /// The config section.
    pub config: SyncConfig,
    /// Where the device key lives.
    pub data_dir: PathBuf,
    /// The enrolment token (config or env).
    pub token: Option<String>,
    /// Where the last applied change is.
    pub cursor: u64,
    /// Updates for the main loop.
    pub updates: mpsc::Sender<SyncUpdate>,
    /// The journal, for uploads.
    pub journal: Arc<Mutex<Journal>>,
    /// Woken when the journal has new entries.
    pub journal_written: Arc<Notify>,
    /// Shared status.
    pub status: SharedSyncStatus,
    /// Where the server times seen in answers go.
    pub server_time: ServerTimeFeed,
    /// Alarms the desk must see at once, from the door's owner.
    pub reports: mpsc::UnboundedReceiver<AlarmReport>,
    /// What the door's owner publishes: its relay, door and fire input go with each long poll.
    pub door: Arc<Mutex<GateStatus>>,
}

impl SyncTasks {
    /// Enrols (retrying while the server is away), then runs the change loop and the uploader
    /// until the process ends.
    pub async fn run(self) {
        let max = Duration::from_secs(self.config.max_backoff_secs.max(1));
        let mut backoff = Backoff::new(max);
        let mut client = match GateClient::new(&self.config.server) {
            Ok(c) => c.with_server_time(self.server_time.clone()),
            Err(e) => {
                tracing::error!(error = %e, "cannot build the HTTP client; sync disabled");
                return;
            }
        };
        let key = loop {
            match client
                .enrol_or_load(&self.data_dir, self.token.as_deref())
                .await
            {
                Ok(key) => break key,
                Err(SyncError::Enrolment(cause)) if cause.is_final() => {
                    let e = SyncError::Enrolment(cause);
                    tracing::error!(error = %e, "sync disabled; the gate decides offline");
                    note_err(&self.status, &e, Duration::ZERO);
                    return;
                }
                Err(e) => {
                    let wait = backoff.step();
                    tracing::warn!(error = %e, wait_s = wait.as_secs(), "enrolment failed; retrying");
                    note_err(&self.status, &e, wait);
                    tokio::time::sleep(wait).await;
                }
            }
        };
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .device_id = Some(key.device_id.clone());
        if self
            .updates
            .send(SyncUpdate::Enrolled {
                device_id: key.device_id,
            })
            .await
            .is_err()
        {
            return;
        }
        let uploader = Uploader {
            client: client.clone(),
            journal: self.journal.clone(),
            written: self.journal_written.clone(),
            status: self.status.clone(),
            batch: self.config.upload_batch,
            max,
        };
        tokio::spawn(uploader.run());
        tokio::spawn(
            Reporter {
                client: client.clone(),
                reports: self.reports,
                max,
            }
            .run(),
        );
        changes_loop(
            client,
            self.cursor,
            self.config.wait_ms,
            max,
            self.updates,
            self.status,
            self.door,
        )
        .await;
    }
}

/// The door's state as its owner last published it, for the server (none before the owner's
/// first publication).
pub fn door_report(door: &GateStatus) -> Option<GateReport> {
    let relay = match door.relay? {
        Level::Locked => RelayState::Locked,
        Level::Unlocked => RelayState::Released,
    };
    let door_state = match (door.door?, door.door_held) {
        (DoorContact::Closed, _) => DoorState::Closed,
        (DoorContact::Open, false) => DoorState::Open,
        (DoorContact::Open, true) => DoorState::Held,
    };
    Some(GateReport {
        relay,
        door: door_state,
        fire: door.emergency.fire_alarm,
    })
}

async fn changes_loop(
    client: GateClient,
    mut cursor: u64,
    wait_ms: u64,
    max: Duration,
    updates: mpsc::Sender<SyncUpdate>,
    status: SharedSyncStatus,
    door: Arc<Mutex<GateStatus>>,
) {
    let mut backoff = Backoff::new(max);
    let mut need_snapshot = true;
    loop {
        let step: Result<(), SyncError> = async {
            if need_snapshot {
                let snapshot = client.snapshot().await?;
                need_snapshot = false;
                // The server answered: say so now, not when the long poll below returns.
                note_ok(&status);
                updates
                    .send(SyncUpdate::Snapshot(snapshot))
                    .await
                    .map_err(|_| SyncError::Stopping)?;
            }
            let report = door_report(&door.lock().unwrap_or_else(|p| p.into_inner()));
            let batch = client.changes(cursor, wait_ms, report).await?;
            need_snapshot = batch
                .changes
                .iter()
                .any(|c| c.event == ChangeEvent::SnapshotChanged);
            cursor = cursor.max(batch.cursor);
            if !batch.changes.is_empty() {
                tracing::info!(count = batch.changes.len(), cursor, "changes received");
            }
            updates
                .send(SyncUpdate::Changes(batch))
                .await
                .map_err(|_| SyncError::Stopping)?;
            Ok(())
        }
        .await;
        if updates.is_closed() {
            return;
        }
        match step {
            Ok(()) => {
                backoff.reset();
                note_ok(&status);
            }
            Err(e) => {
                let wait = backoff.step();
                tracing::warn!(error = %e, wait_s = wait.as_secs(), "sync failed; deciding offline");
                note_err(&status, &e, wait);
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// Sends the desk alarms the door's owner raises or clears, at once, in order; while the
/// server is away they wait and are retried with back-off, a newer report of a kind replacing
/// an older one not yet sent (the journal keeps the full history).
struct Reporter {
    client: GateClient,
    reports: mpsc::UnboundedReceiver<AlarmReport>,
    max: Duration,
}

/// Queues `report`, replacing a waiting report of the same kind.
fn queue_report(pending: &mut std::collections::VecDeque<AlarmReport>, report: AlarmReport) {
    pending.retain(|p| p.kind != report.kind);
    pending.push_back(report);
}

impl Reporter {
    async fn run(mut self) {
        let mut pending = std::collections::VecDeque::new();
        let mut backoff = Backoff::new(self.max);
        loop {
            if pending.is_empty() {
                match self.reports.recv().await {
                    Some(r) => queue_report(&mut pending, r),
                    None => return,
                }
            }
            while let Ok(r) = self.reports.try_recv() {
                queue_report(&mut pending, r);
            }
            let Some(next) = pending.front().cloned() else {
                continue;
            };
            match self.client.report_alarm(&next).await {
                Ok(()) => {
                    tracing::info!(kind = ?next.kind, active = next.active, "alarm reported to the desk");
                    pending.pop_front();
                    backoff.reset();
                }
                // The server will never take this one (it says why): retrying cannot help.
                Err(SyncError::Refused { status, message })
                    if (400..500).contains(&status) && status != 408 && status != 429 =>
                {
                    tracing::error!(status, %message, kind = ?next.kind, "the server refused an alarm report");
                    pending.pop_front();
                }
                Err(e) => {
                    let wait = backoff.step();
                    tracing::warn!(error = %e, wait_s = wait.as_secs(), "alarm report failed; will retry");
                    let sleep = tokio::time::sleep(wait);
                    tokio::pin!(sleep);
                    // Keep taking newer reports while waiting, so the retry sends the latest.
                    loop {
                        tokio::select! {
                            () = &mut sleep => break,
                            r = self.reports.recv() => match r {
                                Some(r) => queue_report(&mut pending, r),
                                None => break,
                            },
                        }
                    }
                }
            }
        }
    }
}

struct Uploader {
    client: GateClient,
    journal: Arc<Mutex<Journal>>,
    written: Arc<Notify>,
    status: SharedSyncStatus,
    batch: usize,
    max: Duration,
}

impl Uploader {
    async fn run(self) {
        let mut backoff = Backoff::new(self.max);
        loop {
            let unsent = {
                let journal = self.journal.lock().unwrap_or_else(|p| p.into_inner());
                journal.unsent(self.batch)
            };
            let pending = match unsent {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the journal for upload");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    continue;
                }
            };
            if pending.is_empty() {
                // New entries wake us; the timeout covers a missed wake-up.
                let _ = tokio::time::timeout(Duration::from_secs(5), self.written.notified()).await;
                continue;
            }
            let sent: Vec<(uuid::Uuid, i64)> =
                pending.iter().map(|p| (p.entry.id, p.seq)).collect();
            let entries = pending.into_iter().map(|p| p.entry).collect();
            match self.client.upload(&JournalUpload { entries }).await {
                Ok(ack) => {
                    backoff.reset();
                    let stored: Vec<i64> = ack
                        .stored
                        .iter()
                        .filter_map(|id| sent.iter().find(|(s, _)| s == id).map(|(_, seq)| *seq))
                        .collect();
                    let marked = {
                        let mut journal = self.journal.lock().unwrap_or_else(|p| p.into_inner());
                        journal.mark_sent(&stored)
                    };
                    if let Err(e) = marked {
                        tracing::error!(error = %e, "cannot mark uploaded entries");
                    }
                    self.status
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .uploaded += stored.len() as u64;
                    note_ok(&self.status);
                    if stored.is_empty() {
                        // The server took nothing: do not spin on the same batch.
                        tokio::time::sleep(backoff.step()).await;
                    }
                }
                Err(e) => {
                    let wait = backoff.step();
                    tracing::warn!(error = %e, wait_s = wait.as_secs(), "journal upload failed; will retry");
                    note_err(&self.status, &e, wait);
                    wait_to_retry(&self.written, wait).await;
                }
            }
        }
    }
}

/// The soonest a failed upload is tried again when the door writes a fresh entry meanwhile.
pub const FRESH_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Waits `wait` before trying a failed upload again, or only until [`FRESH_RETRY_AFTER`] has
/// passed when the door writes a fresh entry meanwhile: the server may be back, and the desk
/// watches decisions live, so a fresh one must not sit out a long back-off. A busy door during
/// an outage so tries at most once per [`FRESH_RETRY_AFTER`]; whatever waited still goes up in
/// batches of `upload_batch`.
async fn wait_to_retry(written: &Notify, wait: Duration) {
    let failed = tokio::time::Instant::now();
    if tokio::time::timeout(wait, written.notified()).await.is_ok() {
        tokio::time::sleep_until(failed + FRESH_RETRY_AFTER.min(wait)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_fresh_entry_cuts_a_long_back_off_short_but_not_below_the_floor() {
        let written = Arc::new(Notify::new());
        let start = Instant::now();
        let door = written.clone();
        let nudge = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            door.notify_one();
        });
        wait_to_retry(&written, Duration::from_secs(30)).await;
        let waited = start.elapsed();
        nudge.await.unwrap();
        assert!(waited >= FRESH_RETRY_AFTER, "{waited:?}");
        assert!(waited < Duration::from_secs(10), "{waited:?}");
        // Nothing written: the back-off is waited out.
        let start = Instant::now();
        wait_to_retry(&written, Duration::from_millis(300)).await;
        assert!(start.elapsed() >= Duration::from_millis(300));
    }

    #[test]
    fn http_dates_parse_as_servers_send_them() {
        // hyper's format (RFC 9110 IMF-fixdate).
        assert_eq!(
            parse_http_date("Thu, 03 Dec 2026 09:36:05 GMT"),
            Some("2026-12-03T09:36:05Z".parse().unwrap())
        );
        assert_eq!(parse_http_date("yesterday"), None);
        assert_eq!(parse_http_date(""), None);
    }

    #[test]
    fn the_door_is_reported_as_its_owner_published_it() {
        let mut s = GateStatus::default();
        assert_eq!(door_report(&s), None, "nothing published yet");
        s.relay = Some(Level::Unlocked);
        s.door = Some(DoorContact::Open);
        s.door_held = true;
        s.emergency.fire_alarm = true;
        let r = door_report(&s).unwrap();
        assert_eq!(
            r.query(),
            "&relay=released&door=held&fire=true",
            "the parameters the server parses"
        );
        s.relay = Some(Level::Locked);
        s.door = Some(DoorContact::Closed);
        s.emergency.fire_alarm = false;
        assert_eq!(
            door_report(&s).unwrap().query(),
            "&relay=locked&door=closed&fire=false"
        );
    }
}
