//! A stand-in for the server's kiosk endpoints, speaking exactly the contract in
//! `credential::api::{kiosk, device}` and signing real credentials.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use gatehouse_credential::api::ErrorBody;
use gatehouse_credential::api::device::{AlarmReport, DeviceKind, EnrolRequest, EnrolResponse};
use gatehouse_credential::api::kiosk::*;
use gatehouse_credential::api::muster::{MusterCount, MusterKind, MusterList, MusterPerson};
use gatehouse_credential::{
    BuildingScope, CardId, Claims, KeyRing, Kind, ScheduleId, Signer, UtcMinute, ZoneClass,
    ZoneClasses, ZoneScope,
};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub const API_KEY: &str = "stub-kiosk-api-key";
pub const ENROL_TOKEN: &str = "enrol-me-once";
pub const INVITE_CODE: &str = "INV2026A";
pub const RENOVATION: &str = "R-2026-001";
pub const ID_LAST4: &str = "123X";
/// The worker's one-time collection code, as the desk gave it.
pub const COLLECTION_CODE: &str = "24681357";
pub const DENIED_NAME: &str = "黑名单";
/// A second worker of the renovation, whose card the front desk handed out itself.
pub const DESK_ISSUED_ID_LAST4: &str = "0042";
/// When the desk issued it: 09:15 in Shanghai.
pub const DESK_ISSUED_AT: &str = "2026-12-03T01:15:00.000000Z";

#[derive(Default)]
pub struct Ledger {
    next_card: u32,
    /// short id → (card, masked name, credential, signed out)
    passes: HashMap<String, (u32, String, String, bool)>,
    worker_collected: bool,
    invite_redeemed: bool,
    /// The estate makes walk-ins wait for the host's approval (the server's walk-in approval
    /// setting `host`).
    pub host_approval: bool,
    enrolled: bool,
    /// Every alarm report the kiosk sent, in order.
    pub alarms: Vec<AlarmReport>,
    /// The `Gatehouse-Emergency` header value sent with the muster list, if any.
    pub emergency: Option<&'static str>,
    /// Goods-release permits the desk sent to the kiosk's printer, not yet taken.
    pub permit_slips: Vec<gatehouse_credential::api::print::PermitSlip>,
    /// What the kiosk reported of each slip: (job, result).
    pub print_results: Vec<(i64, gatehouse_credential::api::print::PrintResult)>,
}

#[derive(Clone)]
pub struct Stub {
    pub signer: Arc<Signer>,
    pub ledger: Arc<Mutex<Ledger>>,
}

impl Stub {
    pub fn ring(&self) -> KeyRing {
        let mut ring = KeyRing::new();
        ring.insert_signer(&self.signer);
        ring
    }

    /// The alarm reports received so far.
    pub fn alarms(&self) -> Vec<AlarmReport> {
        self.ledger.lock().unwrap().alarms.clone()
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

    pub fn is_signed_out(&self, short_id: &str) -> bool {
        self.ledger
            .lock()
            .unwrap()
            .passes
            .get(short_id)
            .is_some_and(|p| p.3)
    }
}

fn new_stub() -> Stub {
    Stub {
        signer: Arc::new(gatehouse_test_support::signer()),
        ledger: Arc::default(),
    }
}

fn app(stub: &Stub) -> Router {
    let kiosk = Router::new()
        .route("/api/v1/kiosk/units", get(units))
        .route("/api/v1/kiosk/visitors", post(visitors))
        .route("/api/v1/kiosk/invites/redeem", post(invite))
        .route("/api/v1/kiosk/sign-out", post(sign_out))
        .route("/api/v1/kiosk/worker-cards", post(worker_card))
        .route("/api/v1/device/alarms", post(alarm))
        .route("/api/v1/muster", get(muster))
        .route("/api/v1/kiosk/print-jobs", get(print_jobs))
        .route("/api/v1/kiosk/print-jobs/{job}/result", post(print_result))
        .layer(middleware::from_fn(require_key));
    Router::new()
        .route("/api/v1/devices/enrol", post(enrol))
        .merge(kiosk)
        .with_state(stub.clone())
}

pub async fn spawn() -> (SocketAddr, Stub) {
    let stub = new_stub();
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
    pub fn stop(mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.1.take() {
            thread.join().unwrap();
        }
    }
}

pub fn spawn_stoppable() -> (SocketAddr, Stub, Stopper) {
    let stub = new_stub();
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

async fn require_key(req: Request, next: Next) -> Response {
    let ok = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {API_KEY}"));
    if !ok {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "device key required",
        );
    }
    next.run(req).await
}

async fn enrol(State(stub): State<Stub>, Json(req): Json<EnrolRequest>) -> Response {
    let mut ledger = stub.ledger.lock().unwrap();
    if req.token != ENROL_TOKEN || ledger.enrolled {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "unknown or used token",
        );
    }
    ledger.enrolled = true;
    Json(EnrolResponse {
        device_id: "kiosk-1".into(),
        kind: DeviceKind::Kiosk,
        name: "Lobby kiosk".into(),
        api_key: API_KEY.into(),
    })
    .into_response()
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
    stub.ledger.lock().unwrap().alarms.push(report);
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
    let mut ledger = stub.ledger.lock().unwrap();
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
    if stub.ledger.lock().unwrap().host_approval {
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
    if std::mem::replace(&mut stub.ledger.lock().unwrap().invite_redeemed, true) {
        return refuse(
            StatusCode::CONFLICT,
            "already_redeemed",
            "this invite has already been used",
        );
    }
    let unit = unit_list().remove(2);
    Json(issue(&stub, Kind::Visitor, "王芳", &unit, None)).into_response()
}

async fn sign_out(State(stub): State<Stub>, Json(req): Json<SignOutRequest>) -> Response {
    let mut ledger = stub.ledger.lock().unwrap();
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
    if std::mem::replace(&mut stub.ledger.lock().unwrap().worker_collected, true) {
        return refuse(
            StatusCode::CONFLICT,
            "already_collected",
            "reprint at the desk",
        );
    }
    let unit = unit_list().remove(1);
    let extended = NaiveDate::from_ymd_opt(2027, 3, 31);
    Json(issue(&stub, Kind::Worker, "李建国", &unit, extended)).into_response()
}

async fn muster(State(stub): State<Stub>) -> Response {
    let ledger = stub.ledger.lock().unwrap();
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
    for _ in 0..10 {
        let slips = std::mem::take(&mut stub.ledger.lock().unwrap().permit_slips);
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
    stub.ledger
        .lock()
        .unwrap()
        .print_results
        .push((job, result));
    StatusCode::NO_CONTENT
}
