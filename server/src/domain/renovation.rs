//! Renovation registrations (装修备案): the period rule (at most three calendar months, and
//! three more per extension), the document checklist, and the facts the refund rules read.

use super::desk_error::{DeskError, DeskResult};
use super::privacy;
use super::settings;
use super::units::{self, Unit};
use crate::auth::Actor;
use crate::db::{date, instant, opt_instant, ts};
use crate::{audit, changes};
use chrono::{DateTime, Months, NaiveDate, Utc};
use gatehouse_credential::api::gate::ChangeEvent;
use gatehouse_credential::{CardId, UtcMinute};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The longest a registration or one extension may run, in calendar months.
pub const MAX_PERIOD_MONTHS: u32 = 3;

/// One item of the renovation file (the brief's checklist).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Document {
    /// The owner's application (装修申请表).
    Application,
    /// The owner's commitment letter (装修承诺书).
    CommitmentLetter,
    /// Floor plans (平面图).
    FloorPlans,
    /// The contractor's business licence (营业执照).
    BusinessLicence,
    /// The contractor's qualification certificate (资质证书).
    QualificationCertificate,
    /// The construction plan (施工方案).
    ConstructionPlan,
    /// The site supervisor's ID (现场负责人身份证).
    SupervisorId,
    /// The site supervisor's photo (现场负责人照片).
    SupervisorPhoto,
    /// The worker register with each worker's ID and photo (施工人员登记表).
    WorkerRegister,
    /// The owner's commitment when the original waterproofing is broken (防水业主承诺书).
    WaterproofingCommitment,
}

impl Document {
    /// Every item, in checklist order.
    pub const ALL: [Document; 10] = [
        Document::Application,
        Document::CommitmentLetter,
        Document::FloorPlans,
        Document::BusinessLicence,
        Document::QualificationCertificate,
        Document::ConstructionPlan,
        Document::SupervisorId,
        Document::SupervisorPhoto,
        Document::WorkerRegister,
        Document::WaterproofingCommitment,
    ];

    /// The item's name in English.
    pub const fn title(self) -> &'static str {
        match self {
            Document::Application => "Owner's application",
            Document::CommitmentLetter => "Owner's commitment letter",
            Document::FloorPlans => "Floor plans",
            Document::BusinessLicence => "Business licence",
            Document::QualificationCertificate => "Qualification certificate",
            Document::ConstructionPlan => "Construction plan",
            Document::SupervisorId => "Site supervisor's ID",
            Document::SupervisorPhoto => "Site supervisor's photo",
            Document::WorkerRegister => "Worker register (IDs and photos)",
            Document::WaterproofingCommitment => "Owner's waterproofing commitment",
        }
    }

    /// The item's name in Chinese.
    pub const fn title_zh(self) -> &'static str {
        match self {
            Document::Application => "装修申请表",
            Document::CommitmentLetter => "装修承诺书",
            Document::FloorPlans => "平面图",
            Document::BusinessLicence => "营业执照",
            Document::QualificationCertificate => "资质证书",
            Document::ConstructionPlan => "施工方案",
            Document::SupervisorId => "现场负责人身份证",
            Document::SupervisorPhoto => "现场负责人照片",
            Document::WorkerRegister => "施工人员登记表",
            Document::WaterproofingCommitment => "防水业主承诺书",
        }
    }
}

/// Where a renovation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Registered; work may go on.
    Active,
    /// The inspection passed; waiting for the refund.
    Inspected,
    /// The deposit was paid back; the file is closed.
    Refunded,
}

/// A registered renovation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Renovation {
    /// Database id.
    pub id: i64,
    /// The short code a worker types at the kiosk.
    pub code: String,
    /// The unit renovated.
    pub unit: Unit,
    /// The owner's name (None once purged).
    pub owner_name: Option<String>,
    /// The contractor's company.
    pub contractor: Option<String>,
    /// The site supervisor's name.
    pub supervisor_name: Option<String>,
    /// The site supervisor's phone.
    pub supervisor_phone: Option<String>,
    /// First day of work (local date).
    pub start_date: NaiveDate,
    /// Last day as first registered.
    pub original_end_date: NaiveDate,
    /// Last day of work as extended (local date, inclusive).
    pub end_date: NaiveDate,
    /// Whether the work breaks the original waterproofing.
    pub waterproofing: bool,
    /// Each checklist item: received or missing.
    pub documents: BTreeMap<Document, bool>,
    /// When the inspection (装修核查) passed.
    pub inspection_passed_on: Option<NaiveDate>,
    /// When the owner moved in after the inspection.
    pub occupied_on: Option<NaiveDate>,
    /// Whether the downstairs owner signed off.
    pub downstairs_signed_off: bool,
    /// Whether the owner presented the original registration certificate.
    pub certificate_presented: bool,
    /// Whether the owner presented the deposit receipt.
    pub receipt_presented: bool,
    /// Where it stands.
    pub status: Status,
    /// When registered (UTC).
    pub created_at: DateTime<Utc>,
    /// Which staff member registered it.
    pub created_by: String,
    /// When the personal data was purged, if it was.
    pub purged_at: Option<DateTime<Utc>>,
}

impl Renovation {
    /// The checklist items this renovation needs (the waterproofing commitment only if flagged).
    pub fn required_documents(&self) -> Vec<Document> {
        Document::ALL
            .into_iter()
            .filter(|d| *d != Document::WaterproofingCommitment || self.waterproofing)
            .collect()
    }

    /// Required items not recorded as received.
    pub fn missing_documents(&self) -> Vec<Document> {
        self.required_documents()
            .into_iter()
            .filter(|d| !self.documents.get(d).copied().unwrap_or(false))
            .collect()
    }
}

/// The latest end a period starting (or continuing) from `from` may have.
pub fn latest_end(from: NaiveDate) -> Option<NaiveDate> {
    from.checked_add_months(Months::new(MAX_PERIOD_MONTHS))
}

/// Checks a registration period: it must end on or after its start and at most three calendar
/// months after it.
pub fn check_period(start: NaiveDate, end: NaiveDate) -> DeskResult<()> {
    if end < start {
        return Err(DeskError::invalid(
            "period_reversed",
            format!("the end date {end} is before the start date {start}"),
        ));
    }
    match latest_end(start) {
        Some(latest) if end <= latest => Ok(()),
        Some(latest) => Err(DeskError::invalid(
            "period_too_long",
            format!(
                "a registration covers at most {MAX_PERIOD_MONTHS} months: from {start} the end date may be {latest} at the latest, not {end}; register the rest as an extension (延期)"
            ),
        )),
        None => Err(DeskError::invalid(
            "period_too_long",
            "the start date is out of range",
        )),
    }
}

/// How many years back a registration may start (work recorded late, never decades ago).
pub const START_YEARS_BACK: u32 = 5;
/// How many years ahead a registration may start.
pub const START_YEARS_AHEAD: u32 = 1;

/// Checks that a registration starts in a sane window around `today`: a year like 1900 or 9999
/// is a typing mistake, and would also make cards valid for centuries.
pub fn check_start(start: NaiveDate, today: NaiveDate) -> DeskResult<()> {
    let earliest = today
        .checked_sub_months(Months::new(12 * START_YEARS_BACK))
        .unwrap_or(NaiveDate::MIN)
        .max(super::bounds::earliest_date());
    let latest = today
        .checked_add_months(Months::new(12 * START_YEARS_AHEAD))
        .unwrap_or(NaiveDate::MAX);
    Ok(super::bounds::date(
        "start_date",
        start,
        earliest,
        latest,
        "",
    )?)
}

/// Checks an extension: the new end must be after the current end and at most three calendar
/// months after it.
pub fn check_extension(current_end: NaiveDate, new_end: NaiveDate) -> DeskResult<()> {
    if new_end <= current_end {
        return Err(DeskError::invalid(
            "extension_not_later",
            format!("the new end date {new_end} must be after the current end date {current_end}"),
        ));
    }
    match latest_end(current_end) {
        Some(latest) if new_end <= latest => Ok(()),
        Some(latest) => Err(DeskError::invalid(
            "extension_too_long",
            format!(
                "an extension covers at most {MAX_PERIOD_MONTHS} months: from the current end {current_end} the new end may be {latest} at the latest, not {new_end}"
            ),
        )),
        None => Err(DeskError::invalid(
            "extension_too_long",
            "the end date is out of range",
        )),
    }
}

/// What the desk types to register a renovation.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewRenovation {
    /// The unit.
    pub unit_id: i64,
    /// The owner's name.
    pub owner_name: String,
    /// The contractor's company.
    pub contractor: String,
    /// The site supervisor's name.
    pub supervisor_name: String,
    /// The site supervisor's phone.
    pub supervisor_phone: String,
    /// First day of work.
    pub start_date: NaiveDate,
    /// Last day of work (at most three months after the start).
    pub end_date: NaiveDate,
    /// Whether the work breaks the original waterproofing.
    #[serde(default)]
    pub waterproofing: bool,
    /// Checklist items already received.
    #[serde(default)]
    pub documents: BTreeMap<Document, bool>,
}

fn text(field: &str, value: &str, max: usize) -> DeskResult<String> {
    privacy::required_text(field, value, max).map_err(|m| DeskError::invalid("invalid", m))
}

/// Registers a renovation and audits it.
pub fn create(
    tx: &Connection,
    actor: &Actor,
    new: &NewRenovation,
    now: DateTime<Utc>,
) -> DeskResult<Renovation> {
    let unit = units::unit(tx, new.unit_id)?;
    let owner = text("owner_name", &new.owner_name, 64)?;
    let contractor = text("contractor", &new.contractor, 128)?;
    let supervisor = text("supervisor_name", &new.supervisor_name, 64)?;
    let phone = privacy::valid_phone(&new.supervisor_phone)
        .map_err(|m| DeskError::invalid("invalid", format!("supervisor_{m}")))?;
    check_period(new.start_date, new.end_date)?;
    check_start(
        new.start_date,
        settings::local_date(settings::time_zone(tx)?, now),
    )?;
    let documents: BTreeMap<Document, bool> = Document::ALL
        .into_iter()
        .map(|d| (d, new.documents.get(&d).copied().unwrap_or(false)))
        .collect();
    let docs_json = serde_json::to_string(&documents)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    let code = loop {
        let code = format!("R{}", privacy::random_code(5));
        let taken: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM renovations WHERE code = ?1) AS taken",
            params![code],
            |r| r.get("taken"),
        )?;
        if !taken {
            break code;
        }
    };
    tx.execute(
        "INSERT INTO renovations (code, unit_id, owner_name, contractor, supervisor_name, supervisor_phone,
            start_date, original_end_date, end_date, waterproofing, documents, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11, ?12)",
        params![
            code,
            unit.id,
            owner,
            contractor,
            supervisor,
            phone,
            new.start_date.to_string(),
            new.end_date.to_string(),
            new.waterproofing,
            docs_json,
            ts(now),
            actor.audit_name()
        ],
    )?;
    let id = tx.last_insert_rowid();
    audit::record(
        tx,
        actor,
        "renovation.create",
        &format!("renovation:{id}"),
        serde_json::json!({"unit": unit.id, "start": new.start_date, "end": new.end_date, "waterproofing": new.waterproofing}),
        now,
    )?;
    get(tx, id)
}

const COLUMNS: &str = "r.id, r.code, u.id AS unit_id, u.label, u.building, u.floor, r.owner_name, r.contractor, r.supervisor_name,
    r.supervisor_phone, r.start_date, r.original_end_date, r.end_date, r.waterproofing, r.documents,
    r.inspection_passed_on, r.occupied_on, r.downstairs_signed_off, r.certificate_presented, r.receipt_presented,
    r.refunded_at, r.created_at, r.created_by, r.purged_at";

/// The column `name` of `r`, made from its text by `parse`.
fn parsed<T, E: std::error::Error + Send + Sync + 'static>(
    r: &rusqlite::Row<'_>,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> rusqlite::Result<T> {
    let s: String = r.get(name)?;
    parse(&s).map_err(|e| {
        let i = r.as_ref().column_index(name).unwrap_or_default();
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn opt_date(r: &rusqlite::Row<'_>, name: &str) -> rusqlite::Result<Option<NaiveDate>> {
    match r.get_ref(name)? {
        rusqlite::types::ValueRef::Null => Ok(None),
        _ => date(r, name).map(Some),
    }
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Renovation> {
    let documents: BTreeMap<Document, bool> = parsed(r, "documents", |s| serde_json::from_str(s))?;
    let inspection_passed_on = opt_date(r, "inspection_passed_on")?;
    let refunded: Option<String> = r.get("refunded_at")?;
    let building: i64 = r.get("building")?;
    let floor: i64 = r.get("floor")?;
    Ok(Renovation {
        id: r.get("id")?,
        code: r.get("code")?,
        unit: Unit {
            id: r.get("unit_id")?,
            label: r.get("label")?,
            building: u8::try_from(building).unwrap_or(0),
            floor: i8::try_from(floor).unwrap_or(0),
        },
        owner_name: r.get("owner_name")?,
        contractor: r.get("contractor")?,
        supervisor_name: r.get("supervisor_name")?,
        supervisor_phone: r.get("supervisor_phone")?,
        start_date: date(r, "start_date")?,
        original_end_date: date(r, "original_end_date")?,
        end_date: date(r, "end_date")?,
        waterproofing: r.get("waterproofing")?,
        documents,
        inspection_passed_on,
        occupied_on: opt_date(r, "occupied_on")?,
        downstairs_signed_off: r.get("downstairs_signed_off")?,
        certificate_presented: r.get("certificate_presented")?,
        receipt_presented: r.get("receipt_presented")?,
        status: if refunded.is_some() {
            Status::Refunded
        } else if inspection_passed_on.is_some() {
            Status::Inspected
        } else {
            Status::Active
        },
        created_at: instant(r, "created_at")?,
        created_by: r.get("created_by")?,
        purged_at: opt_instant(r, "purged_at")?,
    })
}

/// The renovation `id`, or 404.
pub fn get(conn: &Connection, id: i64) -> DeskResult<Renovation> {
    conn.query_row(
        &format!(
            "SELECT {COLUMNS} FROM renovations r JOIN units u ON u.id = r.unit_id WHERE r.id = ?1"
        ),
        params![id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| DeskError::NotFound(format!("there is no renovation {id}")))
}

/// The renovation with kiosk code `code`, if any.
pub fn by_code(conn: &Connection, code: &str) -> DeskResult<Option<Renovation>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM renovations r JOIN units u ON u.id = r.unit_id WHERE r.code = ?1"),
            params![privacy::normalise_code(code)],
            from_row,
        )
        .optional()?)
}

/// Every renovation, newest first.
pub fn list(conn: &Connection) -> DeskResult<Vec<Renovation>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM renovations r JOIN units u ON u.id = r.unit_id ORDER BY r.id DESC"
    ))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Which renovations a list shows: every condition given must hold; none given shows all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// In this building.
    pub building: Option<u8>,
    /// On this floor.
    pub floor: Option<i8>,
    /// Standing so.
    pub status: Option<Status>,
    /// The contractor's name contains this (any case).
    pub contractor: Option<String>,
    /// Its period reaches this day or later.
    pub from: Option<NaiveDate>,
    /// Its period starts on this day or earlier.
    pub to: Option<NaiveDate>,
}

/// The renovations `f` lets through, as a `WHERE` clause (empty if none) and its values.
fn filter_clause(f: &Filter) -> (String, Vec<rusqlite::types::Value>) {
    let mut clauses: Vec<&str> = Vec::new();
    let mut values: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(b) = f.building {
        clauses.push("u.building = ?");
        values.push(i64::from(b).into());
    }
    if let Some(floor) = f.floor {
        clauses.push("u.floor = ?");
        values.push(i64::from(floor).into());
    }
    match f.status {
        Some(Status::Active) => {
            clauses.push("r.refunded_at IS NULL AND r.inspection_passed_on IS NULL")
        }
        Some(Status::Inspected) => {
            clauses.push("r.refunded_at IS NULL AND r.inspection_passed_on IS NOT NULL")
        }
        Some(Status::Refunded) => clauses.push("r.refunded_at IS NOT NULL"),
        None => {}
    }
    if let Some(c) = f
        .contractor
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        clauses.push("r.contractor LIKE ? ESCAPE '\\'");
        let escaped = c
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        values.push(format!("%{escaped}%").into());
    }
    if let Some(from) = f.from {
        clauses.push("r.end_date >= ?");
        values.push(from.to_string().into());
    }
    if let Some(to) = f.to {
        clauses.push("r.start_date <= ?");
        values.push(to.to_string().into());
    }
    let clause = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    (clause, values)
}

/// At most `limit` of the renovations `f` lets through, registered before renovation
/// `before` (from the newest if `None`), newest first.
pub fn filtered(
    conn: &Connection,
    f: &Filter,
    before: Option<i64>,
    limit: u32,
) -> DeskResult<Vec<Renovation>> {
    let (mut clause, mut values) = filter_clause(f);
    clause.push_str(if clause.is_empty() { "WHERE" } else { " AND" });
    clause.push_str(" r.id < ? ORDER BY r.id DESC LIMIT ?");
    values.push(before.unwrap_or(i64::MAX).into());
    values.push(i64::from(limit).into());
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM renovations r JOIN units u ON u.id = r.unit_id {clause}"
    ))?;
    let rows = stmt.query_map(rusqlite::params_from_iter(values), from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many renovations `f` lets through.
pub fn count(conn: &Connection, f: &Filter) -> DeskResult<usize> {
    let (clause, values) = filter_clause(f);
    let n: i64 = conn
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM renovations r JOIN units u ON u.id = r.unit_id {clause}"
        ))?
        .query_row(rusqlite::params_from_iter(values), |r| r.get(0))?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// How many renovations are inspected and wait for their deposit to be refunded.
pub fn awaiting_refund(conn: &Connection) -> DeskResult<usize> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM renovations
             WHERE refunded_at IS NULL AND inspection_passed_on IS NOT NULL",
        )?
        .query_row([], |r| r.get::<_, i64>(0))
        .map(|n| usize::try_from(n).unwrap_or(0))?)
}

/// Records received or missing checklist items.
pub fn set_documents(
    tx: &Connection,
    actor: &Actor,
    id: i64,
    changes: &BTreeMap<Document, bool>,
    now: DateTime<Utc>,
) -> DeskResult<Renovation> {
    let mut r = get(tx, id)?;
    refuse_if_closed(&r)?;
    for (doc, received) in changes {
        r.documents.insert(*doc, *received);
    }
    let json = serde_json::to_string(&r.documents)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    tx.execute(
        "UPDATE renovations SET documents = ?1 WHERE id = ?2",
        params![json, id],
    )?;
    audit::record(
        tx,
        actor,
        "renovation.documents",
        &format!("renovation:{id}"),
        serde_json::json!(changes),
        now,
    )?;
    get(tx, id)
}

fn refuse_if_closed(r: &Renovation) -> DeskResult<()> {
    if r.status == Status::Refunded {
        return Err(DeskError::conflict(
            "renovation_closed",
            format!("renovation {} was refunded and is closed", r.id),
        ));
    }
    Ok(())
}

/// What may still happen to a renovation's work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activity {
    /// Register another worker.
    AddWorker,
    /// Issue or reprint a worker card.
    IssueCard,
    /// Extend the period.
    Extend,
}

impl Activity {
    const fn words(self) -> &'static str {
        match self {
            Activity::AddWorker => "no new workers",
            Activity::IssueCard => "no new worker cards",
            Activity::Extend => "no extensions",
        }
    }
}

/// The one rule for what may happen after the inspection: once the inspection passed the work
/// is over — no new workers, cards or extensions (returns, losses and the refund go on); once
/// refunded, the file is closed. The error says how to undo a mistaken inspection date.
pub fn allows(r: &Renovation, what: Activity) -> DeskResult<()> {
    refuse_if_closed(r)?;
    match r.inspection_passed_on {
        Some(d) => Err(DeskError::conflict(
            "renovation_finished",
            format!(
                "renovation {} passed inspection on {d}, so the work is over: {}. If the inspection date was recorded by mistake, a manager clears it (inspection_passed_on: null, with a reason)",
                r.id,
                what.words()
            ),
        )),
        None => Ok(()),
    }
}

/// Reads a field that is present into `Some`, so that `null` (clear) and absent (keep) differ.
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// Facts recorded on the way to a refund; absent fields stay as they are. A date not yet
/// recorded may be set by any staff member; changing a recorded date, or clearing it with
/// `null`, is a manager's correction and needs a `reason`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct Progress {
    /// The date the inspection passed (`null` clears it).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub inspection_passed_on: Option<Option<NaiveDate>>,
    /// The date the owner moved in (`null` clears it).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub occupied_on: Option<Option<NaiveDate>>,
    /// Whether the downstairs owner signed off.
    #[serde(default)]
    pub downstairs_signed_off: Option<bool>,
    /// Whether the original registration certificate was presented.
    #[serde(default)]
    pub certificate_presented: Option<bool>,
    /// Whether the deposit receipt was presented.
    #[serde(default)]
    pub receipt_presented: Option<bool>,
    /// Why a recorded date is corrected or cleared (a manager's correction).
    #[serde(default)]
    pub reason: Option<String>,
}

/// The date rules of a renovation's progress: the inspection on or after the start, the
/// occupancy on or after the inspection, neither in the future, the downstairs sign-off only
/// after an inspection.
pub fn check_progress(
    start: NaiveDate,
    inspection: Option<NaiveDate>,
    occupied: Option<NaiveDate>,
    downstairs_signed_off: bool,
    today: NaiveDate,
) -> DeskResult<()> {
    for (name, d) in [
        ("inspection_passed_on", inspection),
        ("occupied_on", occupied),
    ] {
        if let Some(d) = d.filter(|d| *d > today) {
            return Err(DeskError::invalid(
                "date_in_future",
                format!("{name} {d} is in the future (today is {today})"),
            ));
        }
    }
    if let Some(i) = inspection.filter(|i| *i < start) {
        return Err(DeskError::invalid(
            "inspection_before_start",
            format!("the inspection on {i} is before the renovation started on {start}"),
        ));
    }
    match (inspection, occupied) {
        (None, Some(o)) => Err(DeskError::invalid(
            "occupancy_without_inspection",
            format!(
                "occupancy on {o} needs the inspection date first (occupancy follows the inspection)"
            ),
        )),
        (Some(i), Some(o)) if o < i => Err(DeskError::invalid(
            "occupancy_before_inspection",
            format!(
                "occupancy on {o} is before the inspection on {i}; the owner moves in after the inspection"
            ),
        )),
        (None, _) if downstairs_signed_off => Err(DeskError::invalid(
            "signoff_before_inspection",
            "the downstairs owner signs off after the inspection: record the inspection date first",
        )),
        _ => Ok(()),
    }
}

/// Records inspection, occupancy, sign-off and presented papers; a recorded date is changed
/// or cleared only by a manager with a reason. The renovation's state follows its dates.
pub fn set_progress(
    tx: &Connection,
    actor: &Actor,
    id: i64,
    p: &Progress,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> DeskResult<Renovation> {
    let r = get(tx, id)?;
    refuse_if_closed(&r)?;
    let reason = p.reason.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let mut corrected = serde_json::Map::new();
    let mut resolve = |name: &str, old: Option<NaiveDate>, new: Option<Option<NaiveDate>>| {
        let Some(new) = new else { return Ok(old) };
        if old.is_some() && new != old {
            if !matches!(actor, Actor::Manager(_)) || reason.is_none() {
                return Err(DeskError::conflict(
                    "correction_needs_manager",
                    format!(
                        "{name} is recorded as {}: only a manager changes or clears a recorded date, with a reason",
                        old.map(|d| d.to_string()).unwrap_or_default()
                    ),
                ));
            }
            corrected.insert(name.to_owned(), serde_json::json!({"from": old, "to": new}));
        }
        Ok(new)
    };
    let inspection = resolve(
        "inspection_passed_on",
        r.inspection_passed_on,
        p.inspection_passed_on,
    )?;
    let occupied = resolve("occupied_on", r.occupied_on, p.occupied_on)?;
    let downstairs = p.downstairs_signed_off.unwrap_or(r.downstairs_signed_off);
    check_progress(r.start_date, inspection, occupied, downstairs, today)?;
    tx.execute(
        "UPDATE renovations SET inspection_passed_on = ?1, occupied_on = ?2, downstairs_signed_off = ?3,
            certificate_presented = COALESCE(?4, certificate_presented),
            receipt_presented = COALESCE(?5, receipt_presented)
         WHERE id = ?6",
        params![
            inspection.map(|d| d.to_string()),
            occupied.map(|d| d.to_string()),
            downstairs,
            p.certificate_presented,
            p.receipt_presented,
            id
        ],
    )?;
    audit::record(
        tx,
        actor,
        "renovation.progress",
        &format!("renovation:{id}"),
        serde_json::json!({
            "inspection_passed_on": p.inspection_passed_on, "occupied_on": p.occupied_on,
            "downstairs_signed_off": p.downstairs_signed_off, "certificate_presented": p.certificate_presented,
            "receipt_presented": p.receipt_presented, "corrected": corrected, "reason": reason,
        }),
        now,
    )?;
    get(tx, id)
}

/// One approved extension.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Extension {
    /// The end before.
    pub previous_end: String,
    /// The new end.
    pub new_end: String,
    /// Who approved it.
    pub approved_by: String,
    /// When (UTC).
    pub at: DateTime<Utc>,
}

/// The end (exclusive) of a card valid through local date `end` in the estate's zone.
pub fn card_end(conn: &Connection, end: NaiveDate) -> DeskResult<UtcMinute> {
    let tz = settings::time_zone(conn)?;
    let next = end
        .succ_opt()
        .ok_or_else(|| DeskError::invalid("invalid", "the end date is out of range"))?;
    UtcMinute::floor(settings::local_midnight(tz, next))
        .ok_or_else(|| DeskError::invalid("invalid", "the end date is out of a credential's range"))
}

/// Extends a renovation to `new_end`: records who approved it, moves every active worker
/// card's end and tells the gates (an `Extended` change per card), all in `tx`.
pub fn extend(
    tx: &Connection,
    actor: &Actor,
    id: i64,
    new_end: NaiveDate,
    now: DateTime<Utc>,
) -> DeskResult<(Renovation, Vec<CardId>)> {
    let r = get(tx, id)?;
    allows(&r, Activity::Extend)?;
    check_extension(r.end_date, new_end)?;
    tx.execute(
        "INSERT INTO renovation_extensions (renovation_id, previous_end, new_end, approved_by, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, r.end_date.to_string(), new_end.to_string(), actor.audit_name(), ts(now)],
    )?;
    tx.execute(
        "UPDATE renovations SET end_date = ?1 WHERE id = ?2",
        params![new_end.to_string(), id],
    )?;
    let not_after = card_end(tx, new_end)?;
    let cards: Vec<u32> = {
        let mut stmt = tx.prepare(
            "SELECT c.id FROM cards c JOIN workers w ON w.id = c.worker_id WHERE w.renovation_id = ?1 AND c.state = 'active' ORDER BY c.id",
        )?;
        let rows = stmt.query_map(params![id], |r| r.get("id"))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for card in &cards {
        tx.execute(
            "UPDATE cards SET not_after = ?1 WHERE id = ?2",
            params![not_after.0, card],
        )?;
        changes::append(
            tx,
            &ChangeEvent::Extended {
                card_id: CardId(*card),
                not_after,
            },
            now,
        )?;
    }
    audit::record(
        tx,
        actor,
        "renovation.extend",
        &format!("renovation:{id}"),
        serde_json::json!({"previous_end": r.end_date, "new_end": new_end, "cards": cards}),
        now,
    )?;
    Ok((get(tx, id)?, cards.into_iter().map(CardId).collect()))
}

/// The extensions of renovation `id`, oldest first.
pub fn extensions(conn: &Connection, id: i64) -> DeskResult<Vec<Extension>> {
    let mut stmt = conn.prepare(
        "SELECT previous_end, new_end, approved_by, at FROM renovation_extensions WHERE renovation_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![id], |r| {
        Ok(Extension {
            previous_end: r.get("previous_end")?,
            new_end: r.get("new_end")?,
            approved_by: r.get("approved_by")?,
            at: instant(r, "at")?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// A renovation with nothing recorded yet.
    pub(crate) fn sample() -> Renovation {
        Renovation {
            id: 1,
            code: "RABCDE".into(),
            unit: Unit {
                id: 1,
                label: "2-1203".into(),
                building: 2,
                floor: 12,
            },
            owner_name: Some("王小明".into()),
            contractor: Some("Acme".into()),
            supervisor_name: Some("李四".into()),
            supervisor_phone: Some("13812345678".into()),
            start_date: d("2026-01-01"),
            original_end_date: d("2026-03-31"),
            end_date: d("2026-03-31"),
            waterproofing: false,
            documents: BTreeMap::new(),
            inspection_passed_on: None,
            occupied_on: None,
            downstairs_signed_off: false,
            certificate_presented: false,
            receipt_presented: false,
            status: Status::Active,
            created_at: DateTime::UNIX_EPOCH,
            created_by: String::new(),
            purged_at: None,
        }
    }

    #[test]
    fn a_period_may_end_exactly_three_calendar_months_after_its_start() {
        let cases = [
            ("2026-01-15", "2026-04-15", true),
            ("2026-01-15", "2026-04-16", false),
            // Calendar months, not 90 days: end of May plus 3 months is the end of August.
            ("2026-05-31", "2026-08-31", true),
            // A short month clamps: Nov 30 + 3 months is Feb 28.
            ("2025-11-30", "2026-02-28", true),
            ("2025-11-30", "2026-03-01", false),
            ("2026-01-15", "2026-01-15", true),
            ("2026-01-15", "2026-01-14", false),
        ];
        for (start, end, ok) in cases {
            assert_eq!(check_period(d(start), d(end)).is_ok(), ok, "{start}..{end}");
        }
        let e = check_period(d("2026-01-15"), d("2026-05-01"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("at most 3 months") && e.contains("2026-04-15"),
            "{e}"
        );
    }

    #[test]
    fn an_extension_adds_at_most_three_months_to_the_current_end() {
        assert!(check_extension(d("2026-04-15"), d("2026-07-15")).is_ok());
        let e = check_extension(d("2026-04-15"), d("2026-07-16")).unwrap_err();
        assert!(
            matches!(
                e,
                DeskError::Invalid {
                    code: "extension_too_long",
                    ..
                }
            ),
            "{e}"
        );
        let e = check_extension(d("2026-04-15"), d("2026-04-15")).unwrap_err();
        assert!(
            matches!(
                e,
                DeskError::Invalid {
                    code: "extension_not_later",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn waterproofing_adds_the_owners_commitment_to_the_checklist() {
        let mut r = sample();
        assert_eq!(r.required_documents().len(), 9);
        r.waterproofing = true;
        assert!(
            r.required_documents()
                .contains(&Document::WaterproofingCommitment)
        );
        for d in Document::ALL {
            r.documents
                .insert(d, d != Document::WaterproofingCommitment);
        }
        assert_eq!(
            r.missing_documents(),
            vec![Document::WaterproofingCommitment]
        );
    }
}
