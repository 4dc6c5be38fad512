//! The muster list (who may be inside, ticks per roll call) and overstaying visitors (one desk
//! notice, automatic sign-out after the grace, with a simulated clock).

use crate::app::{TestApp, spawn_staffed};
use crate::desk::{renovation, seed_unit, worker_card};
use crate::emergency::{audit_actions, evacuate};
use crate::monitor::upload;
use crate::platform::enrol_device;
use chrono::{DateTime, Duration, Utc};
use gatehouse_credential::api::gate::{Direction, GateEvent, JournalEntry};
use gatehouse_credential::api::muster::{MusterKind, MusterList};
use gatehouse_credential::{CardId, Kind};
use gatehouse_server::domain::overstay;
use serde_json::{Value, json};

/// A gate at building 2's entrance: (device id, api key).
pub async fn entrance_gate(app: &TestApp, admin: &str) -> (String, String) {
    let created: Value = app
        .post(
            "/api/v1/devices",
            Some(admin),
            json!({"kind": "gate", "name": "B2 lobby turnstile", "zone": {"building": 2, "class": "entrance"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let enrolled: Value = app
        .post(
            "/api/v1/devices/enrol",
            None,
            json!({"token": created["enrolment_token"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    (
        enrolled["device_id"].as_str().unwrap().to_owned(),
        enrolled["api_key"].as_str().unwrap().to_owned(),
    )
}

/// Registers visitor 赵小六 to unit 2-1203 at the desk; returns the pass number.
pub async fn visitor(app: &TestApp, desk: &str) -> u32 {
    let unit = seed_unit(app).await;
    let r = app
        .post(
            "/api/v1/visitors",
            Some(desk),
            json!({"name": "赵小六", "unit_id": unit, "host_name": "王小明", "purpose": "delivery", "party_size": 1}),
        )
        .await;
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["issued"]["card"]["card_id"]
        .as_u64()
        .unwrap() as u32
}

/// A passage admitted `seconds_ago` by the uploading gate.
pub fn passage(
    card: u32,
    kind: Kind,
    seconds_ago: i64,
    direction: Option<Direction>,
) -> JournalEntry {
    JournalEntry {
        id: uuid::Uuid::new_v4(),
        at: Utc::now() - Duration::seconds(seconds_ago),
        clock_trusted: true,
        card_id: Some(CardId(card)),
        kind: Some(kind),
        event: GateEvent::Admitted { flag: None },
        direction,
        area: None,
    }
}

async fn muster(app: &TestApp, token: &str) -> MusterList {
    app.get_ok("/api/v1/muster", Some(token)).await
}

#[tokio::test]
async fn the_muster_list_has_signed_in_visitors_and_workers_still_inside_with_ticks_per_roll_call()
{
    let (app, admin, desk) = spawn_staffed().await;
    let (_, kiosk) = enrol_device(&app, &admin, "kiosk").await;
    let (_, gate) = entrance_gate(&app, &admin).await;
    let reno = renovation(&app, &desk).await;
    let (inside, _) = worker_card(&app, &desk, reno, "110105194912310021").await;
    let (left, _) = worker_card(&app, &desk, reno, "110105194912310039").await;
    let (never_seen, _) = worker_card(&app, &desk, reno, "110105194912310047").await;
    let pass = visitor(&app, &desk).await;
    upload(
        &app,
        &gate,
        &[
            passage(inside, Kind::Worker, 40, Some(Direction::Entry)),
            passage(left, Kind::Worker, 30, Some(Direction::Entry)),
            passage(left, Kind::Worker, 20, Some(Direction::Exit)),
            passage(pass, Kind::Visitor, 10, None),
        ],
    )
    .await;

    // The kiosk keeps a copy, so its device key may read the list.
    let list = muster(&app, &kiosk).await;
    let cards: Vec<(MusterKind, u32)> = list.people.iter().map(|p| (p.kind, p.card_id)).collect();
    assert_eq!(
        cards,
        vec![(MusterKind::Visitor, pass), (MusterKind::Worker, inside)],
        "the worker who went out and the one never seen today are not on it"
    );
    assert!(!cards.contains(&(MusterKind::Worker, left)));
    assert!(!cards.contains(&(MusterKind::Worker, never_seen)));
    let v = &list.people[0];
    assert_eq!(v.name_masked, "赵*六");
    assert_eq!(v.host.as_deref(), Some("王*明"));
    assert_eq!(v.unit.as_deref(), Some("2-1203"));
    assert_eq!(
        (v.building.as_deref(), v.floor),
        (Some("Tower 2"), Some(12))
    );
    assert_eq!(v.last_door.as_deref(), Some("B2 lobby turnstile"));
    let w = &list.people[1];
    assert_eq!(w.name_masked, "张*明");
    assert_eq!(w.host.as_deref(), Some("Acme Decoration Co."));
    assert_eq!(w.last_door.as_deref(), Some("B2 lobby turnstile"));
    assert!(w.last_seen_at.is_some() && w.found_at.is_none());
    assert_eq!(list.counts.len(), 1);
    assert_eq!(
        (
            list.counts[0].building.as_deref(),
            list.counts[0].floor,
            list.counts[0].count
        ),
        (Some("Tower 2"), Some(12), 2)
    );
    assert_eq!(list.time_zone, "Asia/Shanghai");
    let body = serde_json::to_string(&list).unwrap();
    assert!(
        !body.contains("赵小六") && !body.contains("张三明"),
        "names are masked"
    );

    // Ticking off: staff only, the right kind of card, kept with who and when.
    let tick = format!("/api/v1/muster/worker/{inside}/found");
    assert_eq!(app.post(&tick, Some(&kiosk), json!({})).await.status(), 403);
    let wrong = format!("/api/v1/muster/visitor/{inside}/found");
    assert_eq!(app.post(&wrong, Some(&desk), json!({})).await.status(), 404);
    let r = app.post(&tick, Some(&desk), json!({})).await;
    assert_eq!(r.status(), 200);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["found_by"], "desk1");
    let again: Value = app
        .post(&tick, Some(&admin), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, first, "a second tick keeps the first");
    let list = muster(&app, &desk).await;
    let w = list.people.iter().find(|p| p.card_id == inside).unwrap();
    assert_eq!(w.found_by.as_deref(), Some("desk1"));
    assert!(w.found_at.is_some());

    // An evacuation starts a new roll call: nobody is found yet.
    assert_eq!(evacuate(&app, &desk, true).await.status(), 200);
    let list = muster(&app, &desk).await;
    assert!(list.people.iter().all(|p| p.found_at.is_none()));
    assert_eq!(list.people.len(), 2);

    let ticks = audit_actions(&app, &admin)
        .await
        .into_iter()
        .filter(|(action, _)| action == "muster.found")
        .count();
    assert_eq!(ticks, 1, "one tick, one entry");
}

async fn sweep(app: &TestApp, now: DateTime<Utc>) -> overstay::SweepReport {
    app.state
        .db
        .call(move |c| {
            let tx = c.savepoint()?;
            let r = overstay::apply(&tx, now, overstay::DEFAULT_GRACE)?;
            tx.commit()?;
            Ok::<_, gatehouse_server::domain::desk_error::DeskError>(r)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn an_overstaying_visitor_is_noticed_once_and_signed_out_after_the_grace() {
    let (app, admin, desk) = spawn_staffed().await;
    let pass = visitor(&app, &desk).await;
    let end: DateTime<Utc> = app
        .db(move |c| {
            let minute: u32 =
                c.query_row("SELECT not_after FROM cards WHERE id = ?1", [pass], |r| {
                    r.get(0)
                })?;
            Ok::<_, gatehouse_server::db::DbError>(
                gatehouse_credential::UtcMinute(minute).to_datetime(),
            )
        })
        .await;
    let overstays = || async {
        app.get("/api/v1/visitors/overstays", Some(&desk))
            .await
            .json::<Vec<Value>>()
            .await
            .unwrap()
    };

    assert_eq!(
        sweep(&app, end - Duration::minutes(1)).await,
        Default::default()
    );
    assert!(overstays().await.is_empty());

    let noticed = sweep(&app, end + Duration::minutes(1)).await;
    assert_eq!((noticed.noticed, noticed.signed_out), (1, 0));
    assert_eq!(
        sweep(&app, end + Duration::minutes(30)).await,
        Default::default(),
        "the desk is told once"
    );
    let list = overstays().await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["card_id"], pass);
    assert_eq!(list[0]["name_masked"], "赵*六");
    assert_eq!(
        list[0]["sign_out_at"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        end + Duration::hours(2)
    );
    // Still on the muster list: the visitor may be inside.
    assert!(
        muster(&app, &desk)
            .await
            .people
            .iter()
            .any(|p| p.card_id == pass)
    );
    let seen = format!("/api/v1/visitors/overstays/{pass}/acknowledge");
    let r = app.post(&seen, Some(&desk), json!({})).await;
    assert_eq!(r.status(), 204);
    assert_eq!(overstays().await[0]["acknowledged_by"], "desk1");

    let out = sweep(&app, end + Duration::hours(2)).await;
    assert_eq!((out.noticed, out.signed_out), (0, 1));
    assert!(overstays().await.is_empty());
    assert!(muster(&app, &desk).await.people.is_empty());
    let on_site: Vec<Value> = app.get_ok("/api/v1/visitors/on-site", Some(&desk)).await;
    assert!(on_site.is_empty());
    assert_eq!(
        sweep(&app, end + Duration::hours(3)).await,
        Default::default()
    );

    let audit = audit_actions(&app, &admin).await;
    let by = |wanted: &str| {
        audit
            .iter()
            .filter(|(action, _)| action == wanted)
            .map(|(_, actor)| actor.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(by("visitor.overstay"), vec!["system:overstay"]);
    assert_eq!(by("card.signed_out"), vec!["system:overstay"]);
    assert_eq!(by("visitor.overstay.acknowledge"), vec!["desk:desk1"]);
}
