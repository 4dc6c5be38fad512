//! A stub of the server's gate API, exactly as `credential/src/api/gate.rs` documents it:
//! enrolment, snapshot, long-poll changes, journal upload stored once per id.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{NaiveTime, Utc, Weekday};
use gatehouse_credential::api::ErrorBody;
use gatehouse_credential::api::device::{DeviceKind, EnrolRequest, EnrolResponse};
use gatehouse_credential::api::gate::{
    Change, ChangeBatch, ChangeEvent, GateSnapshot, JournalAck, JournalEntry, JournalUpload,
};
use gatehouse_credential::schedule::{Schedule, TimeWindow};
use gatehouse_credential::{ScheduleId, Signer, WorkCalendar};
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

pub const TOKEN: &str = "enrol-me-once";
pub const API_KEY: &str = "device-secret-key";

#[derive(Default)]
pub struct Inner {
    pub changes: Vec<Change>,
    /// Entries stored, in arrival order, each id once.
    pub stored: Vec<JournalEntry>,
    /// How many times each id was received (retries included).
    pub received: HashMap<uuid::Uuid, u32>,
    pub enrolled: bool,
    /// While set, every call answers 503, as a server that is down behind a proxy would.
    pub offline: bool,
    /// While set, the snapshot never answers (the gate's request times out).
    pub snapshot_hangs: bool,
}

#[derive(Clone)]
pub struct Stub {
    pub inner: Arc<Mutex<Inner>>,
    pub changed: Arc<Notify>,
    pub snapshot: Arc<GateSnapshot>,
}

impl Stub {
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }

    pub fn push(&self, event: ChangeEvent) {
        let mut inner = self.lock();
        let seq = inner.changes.len() as u64 + 1;
        inner.changes.push(Change {
            seq,
            at: Utc::now(),
            event,
        });
        drop(inner);
        self.changed.notify_waiters();
    }
}

/// Schedule 1: any time. Schedule 2: one hour that is not now (local to Shanghai).
pub fn calendar() -> WorkCalendar {
    let all_days = vec![
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
    let local_hour = chrono::Timelike::hour(&Utc::now().with_timezone(&chrono_tz::Asia::Shanghai));
    let other = if local_hour < 12 { 18 } else { 3 };
    let t = |h, m, s| NaiveTime::from_hms_opt(h, m, s).unwrap();
    WorkCalendar {
        time_zone: chrono_tz::Asia::Shanghai,
        schedules: vec![
            Schedule {
                id: ScheduleId::new(1).unwrap(),
                name: "any time".into(),
                windows: vec![TimeWindow {
                    days: all_days.clone(),
                    start: t(0, 0, 0),
                    end: t(23, 59, 59),
                }],
            },
            Schedule {
                id: ScheduleId::new(2).unwrap(),
                name: "not now".into(),
                windows: vec![TimeWindow {
                    days: all_days,
                    start: t(other, 0, 0),
                    end: t(other + 1, 0, 0),
                }],
            },
        ],
        // Tomorrow (local) is a blackout date: a gate whose clock is shifted a day sees it.
        blackout_dates: vec![
            (Utc::now() + chrono::Duration::days(1))
                .with_timezone(&chrono_tz::Asia::Shanghai)
                .date_naive(),
        ],
    }
}

pub async fn start(signer: &Signer) -> (SocketAddr, Stub) {
    let stub = Stub {
        inner: Arc::default(),
        changed: Arc::new(Notify::new()),
        snapshot: Arc::new(GateSnapshot {
            keys: vec![signer.public_info()],
            calendar: calendar(),
            lockdown: false,
            evacuation: false,
            server_time: Utc::now(),
            cursor: 0,
        }),
    };
    let app = Router::new()
        .route("/api/v1/devices/enrol", post(enrol))
        .route("/api/v1/gate/snapshot", get(snapshot))
        .route("/api/v1/gate/changes", get(changes))
        .route("/api/v1/gate/journal", post(journal))
        .with_state(stub.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, stub)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(ErrorBody {
            error: code.into(),
            message: message.into(),
        }),
    )
        .into_response()
}

fn authorised(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {API_KEY}"))
}

async fn enrol(State(stub): State<Stub>, Json(req): Json<EnrolRequest>) -> Response {
    let mut inner = stub.lock();
    if req.token != TOKEN || inner.enrolled {
        return error(
            StatusCode::UNAUTHORIZED,
            "bad_token",
            "unknown or used token",
        );
    }
    inner.enrolled = true;
    Json(EnrolResponse {
        device_id: "gate-lobby".into(),
        kind: DeviceKind::Gate,
        name: "lobby".into(),
        api_key: API_KEY.into(),
    })
    .into_response()
}

async fn snapshot(State(stub): State<Stub>, headers: HeaderMap) -> Response {
    let (offline, hangs) = {
        let inner = stub.lock();
        (inner.offline, inner.snapshot_hangs)
    };
    if hangs {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    if offline || hangs {
        return error(StatusCode::SERVICE_UNAVAILABLE, "offline", "server is down");
    }
    if !authorised(&headers) {
        return error(StatusCode::UNAUTHORIZED, "unauthorised", "bad device key");
    }
    let mut snapshot = (*stub.snapshot).clone();
    snapshot.server_time = Utc::now();
    // As the server does: the snapshot carries the lockdown and evacuation states in force.
    let inner = stub.lock();
    snapshot.cursor = inner.changes.len() as u64;
    for change in &inner.changes {
        match change.event {
            ChangeEvent::Lockdown { active } => snapshot.lockdown = active,
            ChangeEvent::Evacuation { active } => snapshot.evacuation = active,
            _ => {}
        }
    }
    drop(inner);
    Json(snapshot).into_response()
}

#[derive(Deserialize)]
struct ChangesQuery {
    since: u64,
    wait_ms: Option<u64>,
}

async fn changes(
    State(stub): State<Stub>,
    headers: HeaderMap,
    Query(q): Query<ChangesQuery>,
) -> Response {
    if stub.lock().offline {
        return error(StatusCode::SERVICE_UNAVAILABLE, "offline", "server is down");
    }
    if !authorised(&headers) {
        return error(StatusCode::UNAUTHORIZED, "unauthorised", "bad device key");
    }
    let deadline =
        tokio::time::Instant::now() + Duration::from_millis(q.wait_ms.unwrap_or(0).min(30_000));
    loop {
        let notified = stub.changed.notified();
        let batch: Vec<Change> = stub
            .lock()
            .changes
            .iter()
            .filter(|c| c.seq > q.since)
            .cloned()
            .collect();
        if !batch.is_empty() {
            let cursor = batch.last().unwrap().seq;
            return Json(ChangeBatch {
                changes: batch,
                cursor,
            })
            .into_response();
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return Json(ChangeBatch {
                changes: vec![],
                cursor: q.since,
            })
            .into_response();
        }
    }
}

async fn journal(
    State(stub): State<Stub>,
    headers: HeaderMap,
    Json(upload): Json<JournalUpload>,
) -> Response {
    if stub.lock().offline {
        return error(StatusCode::SERVICE_UNAVAILABLE, "offline", "server is down");
    }
    if !authorised(&headers) {
        return error(StatusCode::UNAUTHORIZED, "unauthorised", "bad device key");
    }
    if upload.entries.len() > 500 {
        return error(StatusCode::BAD_REQUEST, "too_many", "at most 500 entries");
    }
    let mut inner = stub.lock();
    let mut ids = Vec::new();
    for entry in upload.entries {
        *inner.received.entry(entry.id).or_default() += 1;
        if !inner.stored.iter().any(|e| e.id == entry.id) {
            inner.stored.push(entry.clone());
        }
        ids.push(entry.id);
    }
    Json(JournalAck { stored: ids }).into_response()
}
