//! A stand-in for the server's device API, configured for the device a test runs: the kiosk's
//! endpoints (`credential::api::{kiosk, muster}`) and the gate's (`credential::api::gate`:
//! snapshot, long-poll changes, journal upload stored once per id), behind one enrolment and
//! one device key, signing real credentials with the test [`signer`](crate::signer).

use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use gatehouse_credential::api::ErrorBody;
use gatehouse_credential::api::device::{AlarmReport, DeviceKind, EnrolRequest, EnrolResponse};
use gatehouse_credential::api::gate::{
    Change, ChangeBatch, ChangeEvent, GateSnapshot, JournalAck, JournalEntry, JournalUpload,
};
use gatehouse_credential::api::kiosk::{
    InviteRedeem, IssuedPass, SignOutRequest, SignOutResponse, UnitChoice, VisitorRequest,
    WorkerCardRequest,
};
use gatehouse_credential::api::muster::{MusterCount, MusterKind, MusterList, MusterPerson};
use gatehouse_credential::schedule::{Schedule, TimeWindow};
use gatehouse_credential::{
    BuildingScope, CardId, Claims, KeyRing, Kind, ScheduleId, Signer, UtcMinute, WorkCalendar,
    ZoneClass, ZoneClasses, ZoneScope,
};
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// The device key the stub hands out at enrolment and requires on every other call.
pub const API_KEY: &str = "stub-device-api-key";
/// The one enrolment token the stub accepts, once.
pub const ENROL_TOKEN: &str = "enrol-me-once";
/// The invitation code the kiosk can redeem, once.
pub const INVITE_CODE: &str = "INV2026A";
/// The renovation a worker collects a card for.
pub const RENOVATION: &str = "R-2026-001";
/// The last four characters of that worker's ID number.
pub const ID_LAST4: &str = "123X";
/// The worker's one-time collection code, as the desk gave it.
pub const COLLECTION_CODE: &str = "24681357";
/// A visitor name the server refuses ("please see the front desk").
pub const DENIED_NAME: &str = "黑名单";
/// A second worker of the renovation, whose card the front desk handed out itself.
pub const DESK_ISSUED_ID_LAST4: &str = "0042";
/// When the desk issued it: 09:15 in Shanghai.
pub const DESK_ISSUED_AT: &str = "2026-12-03T01:15:00.000000Z";

/// What the kiosk's calls left behind.
#[derive(Default)]
pub struct KioskLedger {
    next_card: u32,
    /// short id → (card, masked name, credential, signed out)
    passes: HashMap<String, (u32, String, String, bool)>,
    worker_collected: bool,
    invite_redeemed: bool,
    /// The estate makes walk-ins wait for the host's approval (the server's walk-in approval
    /// setting `host`).
    pub host_approval: bool,
    /// Every alarm report the device sent, in order.
    pub alarms: Vec<AlarmReport>,
    /// The `Gatehouse-Emergency` header value sent with the muster list, if any.
    pub emergency: Option<&'static str>,
    /// Goods-release permits the desk sent to the kiosk's printer, not yet taken.
    pub permit_slips: Vec<gatehouse_credential::api::print::PermitSlip>,
    /// What the kiosk reported of each slip: (job, result).
    pub print_results: Vec<(i64, gatehouse_credential::api::print::PrintResult)>,
    /// How many times the kiosk has asked for print jobs.
    pub print_job_polls: u32,
}

/// What the gate's calls left behind, and how the stub misbehaves.
#[derive(Default)]
pub struct GateLedger {
    /// The change feed, `seq` 1 first.
    pub changes: Vec<Change>,
    /// Entries stored, in arrival order, each id once.
    pub stored: Vec<JournalEntry>,
    /// How many times each id was received (retries included).
    pub received: HashMap<uuid::Uuid, u32>,
    /// While set, every call but enrolment answers 503, as a server that is down behind a
    /// proxy would.
    pub offline: bool,
    /// While set, the snapshot never answers (the gate's request times out).
    pub snapshot_hangs: bool,
}

/// A running stub: its state, shared with the test.
#[derive(Clone)]
pub struct Stub {
    /// Signs every credential the stub issues (the test signer).
    pub signer: Arc<Signer>,
    device: DeviceKind,
    enrolled: Arc<Mutex<bool>>,
    kiosk: Arc<Mutex<KioskLedger>>,
    gate: Arc<Mutex<GateLedger>>,
    changed: Arc<Notify>,
}

impl Stub {
    fn new(device: DeviceKind) -> Stub {
        Stub {
            signer: Arc::new(crate::signer()),
            device,
            enrolled: Arc::default(),
            kiosk: Arc::default(),
            gate: Arc::default(),
            changed: Arc::new(Notify::new()),
        }
    }

    /// The key ring that verifies the stub's credentials.
    pub fn ring(&self) -> KeyRing {
        let mut ring = KeyRing::new();
        ring.insert_signer(&self.signer);
        ring
    }

    /// The kiosk side's state.
    pub fn kiosk(&self) -> MutexGuard<'_, KioskLedger> {
        self.kiosk.lock().unwrap()
    }

    /// The gate side's state.
    pub fn gate(&self) -> MutexGuard<'_, GateLedger> {
        self.gate.lock().unwrap()
    }

    /// The alarm reports received so far.
    pub fn alarms(&self) -> Vec<AlarmReport> {
        self.kiosk().alarms.clone()
    }

    /// Appends `event` to the change feed and wakes every waiting long poll.
    pub fn push(&self, event: ChangeEvent) {
        let mut gate = self.gate();
        let seq = gate.changes.len() as u64 + 1;
        gate.changes.push(Change {
            seq,
            at: Utc::now(),
            event,
        });
        drop(gate);
        self.changed.notify_waiters();
    }

    /// A staff card the server signed, valid for a year, as its QR code reads.
    pub fn staff_card(&self, card: u32) -> String {
        let now = Utc::now();
        let claims = Claims {
            kind: Kind::Staff,
            card_id: CardId(card),
            not_before: UtcMinute::floor(now - Duration::days(1)).unwrap(),
            not_after: UtcMinute::ceil(now + Duration::days(365)).unwrap(),
            schedule: None,
            scope: ZoneScope {
                building: BuildingScope::Every,
                floor_lo: -2,
                floor_hi: 40,
                classes: ZoneClasses::of(&[ZoneClass::Entrance]),
            },
        };
        self.signer.issue(&claims).unwrap()
    }

    /// The `[muster]` keys that make the kiosk trust this stub's staff cards.
    pub fn staff_card_keys_toml(&self) -> String {
        let key = self.signer.public_info();
        format!(
            "staff_card_keys = [{{ key_id = {}, public_key = \"{}\" }}]\n",
            key.key_id.get(),
            key.public_key
        )
    }

    /// Whether the pass `short_id` has been signed out.
    pub fn is_signed_out(&self, short_id: &str) -> bool {
        self.kiosk().passes.get(short_id).is_some_and(|p| p.3)
    }
}

fn app(stub: &Stub) -> Router {
    let device = Router::new()
        .route("/api/v1/kiosk/units", get(units))
        .route("/api/v1/kiosk/visitors", post(visitors))
        .route("/api/v1/kiosk/invites/redeem", post(invite))
        .route("/api/v1/kiosk/sign-out", post(sign_out))
        .route("/api/v1/kiosk/worker-cards", post(worker_card))
        .route("/api/v1/device/alarms", post(alarm))
        .route("/api/v1/muster", get(muster))
        .route("/api/v1/kiosk/print-jobs", get(print_jobs))
        .route("/api/v1/kiosk/print-jobs/{job}/result", post(print_result))
        .route("/api/v1/gate/changes", get(changes))
        .route("/api/v1/gate/journal", post(journal))
        .layer(middleware::from_fn_with_state(stub.clone(), require_key));
    Router::new()
        .route("/api/v1/devices/enrol", post(enrol))
        // The snapshot checks the key itself: a hanging snapshot hangs before anything else.
        .route("/api/v1/gate/snapshot", get(snapshot))
        .merge(device)
        .with_state(stub.clone())
}

/// Starts a stub for `device` on the test's runtime.
pub async fn spawn(device: DeviceKind) -> (SocketAddr, Stub) {
    let stub = Stub::new(device);
    let app = app(&stub);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, stub)
}

/// A stub on its own thread and runtime, so that [`Stopper::stop`] ends it as a crash would:
/// its listener and every open connection close at once.
pub struct Stopper(
    Option<tokio::sync::oneshot::Sender<()>>,
    Option<std::thread::JoinHandle<()>>,
);

impl Stopper {
    /// Ends the stub and waits until it is gone.
    pub fn stop(mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.1.take() {
            thread.join().unwrap();
        }
    }
}

/// Starts a stub for `device` that the test can stop as a crash would.
pub fn spawn_stoppable(device: DeviceKind) -> (SocketAddr, Stub, Stopper) {
    let stub = Stub::new(device);
    let app = app(&stub);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            tokio::select! {
                _ = axum::serve(listener, app) => {}
                _ = rx => {}
            }
        });
        // Dropping the runtime here cancels every connection task.
    });
    (addr, stub, Stopper(Some(tx), Some(thread)))
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(ErrorBody {
            error: code.into(),
            message: message.into(),
        }),
    )
        .into_response()
}

/// The refusal of a second use of what is good for one (`used`), as the server words it.
fn once(used: bool, code: &str, message: &str) -> Option<Response> {
    used.then(|| refuse(StatusCode::CONFLICT, code, message))
}

fn down() -> Response {
    refuse(StatusCode::SERVICE_UNAVAILABLE, "offline", "server is down")
}

fn authorised(req: &Request) -> bool {
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {API_KEY}"))
}

fn unauthorised() -> Response {
    refuse(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "device key required",
    )
}

async fn require_key(State(stub): State<Stub>, req: Request, next: Next) -> Response {
    if stub.gate().offline {
        return down();
    }
    if !authorised(&req) {
        return unauthorised();
    }
    next.run(req).await
}

async fn enrol(State(stub): State<Stub>, Json(req): Json<EnrolRequest>) -> Response {
    let mut enrolled = stub.enrolled.lock().unwrap();
    if req.token != ENROL_TOKEN || *enrolled {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "unknown or used token",
        );
    }
    *enrolled = true;
    let (device_id, name) = match stub.device {
        DeviceKind::Kiosk => ("kiosk-1", "Lobby kiosk"),
        DeviceKind::Gate => ("gate-lobby", "lobby"),
    };
    Json(EnrolResponse {
        device_id: device_id.into(),
        kind: stub.device,
        name: name.into(),
        api_key: API_KEY.into(),
    })
    .into_response()
}

/// The gate's calendar: schedule 1 any time; schedule 2 one hour that is not now (local to
/// Shanghai); tomorrow (local) a blackout date, so a gate whose clock is shifted a day sees it.
pub fn gate_calendar() -> WorkCalendar {
    let all_days: Vec<Weekday> = std::iter::successors(Some(Weekday::Mon), |d| Some(d.succ()))
        .take(7)
        .collect();
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
        blackout_dates: vec![
            (Utc::now() + Duration::days(1))
                .with_timezone(&chrono_tz::Asia::Shanghai)
                .date_naive(),
        ],
    }
}

async fn snapshot(State(stub): State<Stub>, req: Request) -> Response {
    let (offline, hangs) = {
        let gate = stub.gate();
        (gate.offline, gate.snapshot_hangs)
    };
    if hangs {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    }
    if offline || hangs {
        return down();
    }
    if !authorised(&req) {
        return unauthorised();
    }
    let mut snapshot = GateSnapshot {
        keys: vec![stub.signer.public_info()],
        calendar: gate_calendar(),
        lockdown: false,
        evacuation: false,
        server_time: Utc::now(),
        cursor: 0,
    };
    // As the server does: the snapshot carries the lockdown and evacuation states in force.
    let gate = stub.gate();
    snapshot.cursor = gate.changes.len() as u64;
    for change in &gate.changes {
        match change.event {
            ChangeEvent::Lockdown { active } => snapshot.lockdown = active,
            ChangeEvent::Evacuation { active } => snapshot.evacuation = active,
            _ => {}
        }
    }
    drop(gate);
    Json(snapshot).into_response()
}

#[derive(Deserialize)]
struct ChangesQuery {
    since: u64,
    wait_ms: Option<u64>,
}

async fn changes(State(stub): State<Stub>, Query(q): Query<ChangesQuery>) -> Response {
    let deadline = tokio::time::Instant::now()
        + std::time::Duration::from_millis(q.wait_ms.unwrap_or(0).min(30_000));
    loop {
        let notified = stub.changed.notified();
        let batch: Vec<Change> = stub
            .gate()
            .changes
            .iter()
            .filter(|c| c.seq > q.since)
            .cloned()
            .collect();
        if let Some(last) = batch.last() {
            let cursor = last.seq;
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

async fn journal(State(stub): State<Stub>, Json(upload): Json<JournalUpload>) -> Response {
    if upload.entries.len() > 500 {
        return refuse(StatusCode::BAD_REQUEST, "too_many", "at most 500 entries");
    }
    let mut gate = stub.gate();
    let mut ids = Vec::new();
    for entry in upload.entries {
        *gate.received.entry(entry.id).or_default() += 1;
        if !gate.stored.iter().any(|e| e.id == entry.id) {
            gate.stored.push(entry.clone());
        }
        ids.push(entry.id);
    }
    Json(JournalAck { stored: ids }).into_response()
}

fn unit_list() -> Vec<UnitChoice> {
    vec![
        UnitChoice {
            unit_id: 1,
            label: "2-1203".into(),
            building: 2,
            floor: 12,
        },
        UnitChoice {
            unit_id: 2,
            label: "2-1504".into(),
            building: 2,
            floor: 15,
        },
        UnitChoice {
            unit_id: 3,
            label: "5-0801".into(),
            building: 5,
            floor: 8,
        },
        // In the server's text order, which is not the order a person reads.
        UnitChoice {
            unit_id: 4,
            label: "2-1004".into(),
            building: 2,
            floor: 10,
        },
        UnitChoice {
            unit_id: 5,
            label: "2-102".into(),
            building: 2,
            floor: 1,
        },
        UnitChoice {
            unit_id: 6,
            label: "2-101".into(),
            building: 2,
            floor: 1,
        },
        UnitChoice {
            unit_id: 7,
            label: "2-901".into(),
            building: 2,
            floor: 9,
        },
        UnitChoice {
            unit_id: 8,
            label: "10-0101".into(),
            building: 10,
            floor: 1,
        },
    ]
}

async fn alarm(State(stub): State<Stub>, Json(report): Json<AlarmReport>) -> StatusCode {
    stub.kiosk().alarms.push(report);
    StatusCode::NO_CONTENT
}

async fn units() -> Json<Vec<UnitChoice>> {
    Json(unit_list())
}

fn mask(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    match chars.len() {
        0 | 1 => "*".into(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

fn issue(
    stub: &Stub,
    kind: Kind,
    name: &str,
    unit: &UnitChoice,
    extended_to: Option<NaiveDate>,
) -> IssuedPass {
    let now = Utc::now();
    let (not_after, schedule, classes) = match kind {
        Kind::Worker => (
            now + Duration::days(60),
            ScheduleId::new(1),
            ZoneClasses::of(&[
                ZoneClass::Entrance,
                ZoneClass::Floor,
                ZoneClass::ServiceElevator,
            ]),
        ),
        _ => {
            let tz = chrono_tz::Asia::Shanghai;
            let today = now.with_timezone(&tz).date_naive();
            let midnight = tz
                .from_local_datetime(&(today + Duration::days(1)).and_hms_opt(0, 0, 0).unwrap())
                .unwrap()
                .with_timezone(&Utc);
            (
                midnight,
                None,
                ZoneClasses::of(&[
                    ZoneClass::Entrance,
                    ZoneClass::Floor,
                    ZoneClass::PassengerElevator,
                ]),
            )
        }
    };
    let mut ledger = stub.kiosk();
    ledger.next_card += 1;
    let card = 1000 + ledger.next_card;
    let claims = Claims {
        kind,
        card_id: CardId(card),
        not_before: UtcMinute::floor(now).unwrap(),
        not_after: UtcMinute::ceil(not_after).unwrap(),
        schedule,
        scope: ZoneScope {
            building: BuildingScope::One(unit.building),
            floor_lo: unit.floor,
            floor_hi: unit.floor,
            classes,
        },
    };
    let credential = stub.signer.issue(&claims).unwrap();
    let short_id = format!("V{card}");
    let masked = mask(name);
    ledger.passes.insert(
        short_id.clone(),
        (card, masked.clone(), credential.clone(), false),
    );
    IssuedPass {
        card_id: CardId(card),
        kind,
        credential,
        short_id,
        holder_masked: masked,
        unit_label: unit.label.clone(),
        not_before: claims.not_before.to_datetime(),
        not_after: claims.not_after.to_datetime(),
        extended_to,
    }
}

async fn visitors(State(stub): State<Stub>, Json(req): Json<VisitorRequest>) -> Response {
    if req.name == DENIED_NAME {
        return refuse(
            StatusCode::FORBIDDEN,
            "see_front_desk",
            "Please see the front desk.",
        );
    }
    if !(1..=20).contains(&req.party_size) || req.name.trim().is_empty() {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            "party size or name",
        );
    }
    let Some(unit) = unit_list().into_iter().find(|u| u.unit_id == req.unit_id) else {
        return refuse(StatusCode::BAD_REQUEST, "invalid_input", "unknown unit");
    };
    // As the server: the visit is recorded, and the pass waits for the host.
    if stub.kiosk().host_approval {
        return refuse(
            StatusCode::CONFLICT,
            "host_approval_pending",
            "your host must approve this visit: please see the front desk",
        );
    }
    (
        StatusCode::CREATED,
        Json(issue(&stub, Kind::Visitor, &req.name, &unit, None)),
    )
        .into_response()
}

async fn invite(State(stub): State<Stub>, Json(req): Json<InviteRedeem>) -> Response {
    if req.code != INVITE_CODE {
        return refuse(StatusCode::NOT_FOUND, "not_found", "no such invitation");
    }
    // As the server: an invitation gives one pass.
    let used = std::mem::replace(&mut stub.kiosk().invite_redeemed, true);
    let unit = unit_list().remove(2);
    once(
        used,
        "already_redeemed",
        "this invite has already been used",
    )
    .unwrap_or_else(|| Json(issue(&stub, Kind::Visitor, "王芳", &unit, None)).into_response())
}

async fn sign_out(State(stub): State<Stub>, Json(req): Json<SignOutRequest>) -> Response {
    let mut ledger = stub.kiosk();
    let found = ledger
        .passes
        .iter_mut()
        .find(|(short, p)| **short == req.pass || p.2 == req.pass);
    match found {
        Some((_, p)) if !p.3 => {
            p.3 = true;
            Json(SignOutResponse {
                card_id: CardId(p.0),
                holder_masked: p.1.clone(),
            })
            .into_response()
        }
        // As the server: a pass signed out before is no longer active.
        Some(_) => refuse(
            StatusCode::CONFLICT,
            "card_not_active",
            "card is signed out",
        ),
        None => refuse(StatusCode::NOT_FOUND, "not_found", "no such pass on site"),
    }
}

async fn worker_card(State(stub): State<Stub>, Json(req): Json<WorkerCardRequest>) -> Response {
    // As the server: the desk printed this worker's card, and says when.
    if req.renovation_code == RENOVATION
        && req.id_last4 == DESK_ISSUED_ID_LAST4
        && req.collection_code.as_deref() == Some(COLLECTION_CODE)
    {
        let body = serde_json::json!({
            "error": "issued_at_desk",
            "message": format!("this worker's card was issued at the front desk at {DESK_ISSUED_AT}; a reprint needs the front desk"),
            "details": {"issued_at": DESK_ISSUED_AT},
        });
        return (StatusCode::CONFLICT, Json(body)).into_response();
    }
    if req.renovation_code != RENOVATION
        || req.id_last4 != ID_LAST4
        || req.collection_code.as_deref() != Some(COLLECTION_CODE)
    {
        return refuse(StatusCode::NOT_FOUND, "not_found", "no such worker");
    }
    let used = std::mem::replace(&mut stub.kiosk().worker_collected, true);
    let unit = unit_list().remove(1);
    let extended = NaiveDate::from_ymd_opt(2027, 3, 31);
    once(used, "already_collected", "reprint at the desk").unwrap_or_else(|| {
        Json(issue(&stub, Kind::Worker, "李建国", &unit, extended)).into_response()
    })
}

async fn muster(State(stub): State<Stub>) -> Response {
    let ledger = stub.kiosk();
    let now = Utc::now();
    let mut people: Vec<MusterPerson> = ledger
        .passes
        .values()
        .filter(|p| !p.3)
        .map(|p| MusterPerson {
            kind: MusterKind::Visitor,
            card_id: p.0,
            name_masked: p.1.clone(),
            unit: Some("2-1203".into()),
            building: Some("2".into()),
            floor: Some(12),
            host: None,
            since: now - Duration::minutes(30),
            last_door: Some("大堂 Lobby".into()),
            last_seen_at: Some(now - Duration::minutes(29)),
            found_at: None,
            found_by: None,
        })
        .collect();
    people.push(MusterPerson {
        kind: MusterKind::Worker,
        card_id: 77,
        name_masked: "李*国".into(),
        unit: Some("2-1504".into()),
        building: Some("2".into()),
        floor: Some(15),
        host: Some("安居装饰".into()),
        since: now - Duration::hours(2),
        last_door: None,
        last_seen_at: None,
        found_at: None,
        found_by: None,
    });
    let list = MusterList {
        generated_at: now,
        time_zone: "Asia/Shanghai".into(),
        counts: vec![MusterCount {
            building: Some("2".into()),
            floor: None,
            count: people.len() as u32,
        }],
        people,
    };
    match ledger.emergency {
        Some(value) => ([("gatehouse-emergency", value)], Json(list)).into_response(),
        None => Json(list).into_response(),
    }
}

/// The slips waiting, each handed out once; an empty answer after a short wait (the server
/// holds it longer), so an idle kiosk does not spin.
async fn print_jobs(
    State(stub): State<Stub>,
) -> Json<Vec<gatehouse_credential::api::print::PermitSlip>> {
    stub.kiosk().print_job_polls += 1;
    for _ in 0..10 {
        let slips = std::mem::take(&mut stub.kiosk().permit_slips);
        if !slips.is_empty() {
            return Json(slips);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Json(Vec::new())
}

async fn print_result(
    State(stub): State<Stub>,
    axum::extract::Path(job): axum::extract::Path<i64>,
    Json(result): Json<gatehouse_credential::api::print::PrintResult>,
) -> StatusCode {
    stub.kiosk().print_results.push((job, result));
    StatusCode::NO_CONTENT
}
