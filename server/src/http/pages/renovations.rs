//! Renovations: the list with registration, and one renovation's file: workers with their
//! cards and the actions on them in the worker's row, the refund checklist and refund,
//! extension, documents, inspection and occupancy, the deposit ledger.

use super::{Viewer, yuan};
use crate::domain::custody::CardState;
use crate::domain::desk_error::DeskError;
use crate::domain::ledger::{Category, LedgerKind};
use crate::domain::renovation::{self, Document, Filter, Status};
use crate::domain::{privacy, refund, units};
use crate::http::extract::ApiPath;
use crate::http::renovations::{LedgerView, load_detail, read, renovations_page};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::Uri;
use chrono::{DateTime, NaiveDate, Utc};
use maud::{Markup, html};
use serde::Deserialize;

/// A card's state in words.
pub(super) fn card_state(v: &Viewer, s: CardState) -> &'static str {
    match s {
        CardState::Active => v.t("有效", "active"),
        CardState::Returned => v.t("已交回", "returned"),
        CardState::Lost => v.t("已挂失", "declared lost"),
        CardState::Revoked => v.t("已停用", "revoked"),
        CardState::Reissued => v.t("已补打（旧卡失效）", "replaced by a reprint"),
        CardState::SignedOut => v.t("已签离", "signed out"),
    }
}

fn status(v: &Viewer, s: Status) -> &'static str {
    match s {
        Status::Active => v.t("施工中", "in progress"),
        Status::Inspected => v.t("已核查，待退保证金", "inspected, deposit not yet refunded"),
        Status::Refunded => v.t("保证金已退，已结案", "deposit refunded, closed"),
    }
}

/// Who did something, from its audit name (`desk:li`): the name and the role in words.
pub(super) fn who(v: &Viewer, audit_name: &str) -> String {
    match audit_name.split_once(':') {
        Some(("desk", name)) => format!("{name} ({})", v.t("前台", "front desk")),
        Some(("manager", name)) => format!("{name} ({})", v.t("经理", "manager")),
        Some(("guard", name)) => format!("{name} ({})", v.t("门岗", "guard")),
        Some(("kiosk", _)) => v.t("自助机", "kiosk").to_owned(),
        Some(("system", _)) => v.t("系统", "system").to_owned(),
        _ => audit_name.to_owned(),
    }
}

/// A stored RFC 3339 moment, local and to the minute (the text itself if it is not one).
pub(super) fn stamp(v: &Viewer, at: &str) -> String {
    at.parse::<DateTime<Utc>>()
        .map(|t| v.time(t))
        .unwrap_or_else(|_| at.to_owned())
}

fn kind_words(v: &Viewer, k: LedgerKind) -> &'static str {
    match k {
        LedgerKind::Deposit => v.t("装修保证金", "deposit"),
        LedgerKind::RubbishFee => v.t("垃圾清运费", "rubbish-removal fee"),
        LedgerKind::Deduction => v.t("扣款", "deduction"),
        LedgerKind::Reversal => v.t("冲回", "reversal"),
        LedgerKind::Refund => v.t("退还", "refund"),
    }
}

fn category_words(v: &Viewer, c: Category) -> &'static str {
    match c {
        Category::LostCard => v.t("补卡费", "lost card fee"),
        Category::Damage => v.t("损坏赔偿", "damage"),
        Category::Cleaning => v.t("垃圾清运", "cleaning / rubbish removal"),
        Category::Violation => v.t("违规", "violation"),
        Category::Other => v.t("其他", "other"),
    }
}

/// The list's filters as the filter form sends them (`?building=2&floor=&status=active…`):
/// empty fields are left out, the rest parsed strictly.
#[derive(Debug, Default, Deserialize)]
pub(super) struct FilterQuery {
    building: Option<String>,
    floor: Option<String>,
    status: Option<String>,
    contractor: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// The page after the one whose "more" link gave this.
    before: Option<String>,
}

/// A filter field: absent or empty is none; anything else must parse.
fn field<T: std::str::FromStr>(value: &Option<String>) -> Result<Option<T>, ()> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| ()),
    }
}

impl FilterQuery {
    /// The filter and the page's cursor, or the names of the fields that are not what they
    /// should be.
    fn parse(&self) -> Result<(Filter, Option<i64>), Vec<&'static str>> {
        let mut bad = Vec::new();
        let mut check = |name: &'static str, ok: bool| {
            if !ok {
                bad.push(name);
            }
        };
        let building = field::<u8>(&self.building);
        check("building", building.is_ok());
        let floor = field::<i8>(&self.floor);
        check("floor", floor.is_ok());
        let status = match self.status.as_deref().unwrap_or("") {
            "" => Ok(None),
            "active" => Ok(Some(Status::Active)),
            "inspected" => Ok(Some(Status::Inspected)),
            "refunded" => Ok(Some(Status::Refunded)),
            _ => Err(()),
        };
        check("status", status.is_ok());
        let from = field::<NaiveDate>(&self.from);
        check("from", from.is_ok());
        let to = field::<NaiveDate>(&self.to);
        check("to", to.is_ok());
        let before = field::<i64>(&self.before);
        check("before", before.is_ok());
        if !bad.is_empty() {
            return Err(bad);
        }
        let filter = Filter {
            building: building.unwrap_or_default(),
            floor: floor.unwrap_or_default(),
            status: status.unwrap_or_default(),
            contractor: self.contractor.clone().filter(|c| !c.trim().is_empty()),
            from: from.unwrap_or_default(),
            to: to.unwrap_or_default(),
        };
        Ok((filter, before.unwrap_or_default()))
    }
}

/// A filter field's label.
fn filter_label(v: &Viewer, key: &str) -> &'static str {
    match key {
        "building" => v.t("楼栋", "building"),
        "floor" => v.t("楼层", "floor"),
        "status" => v.t("状态", "status"),
        "from" => v.t("期间从", "period from"),
        "before" => v.t("页", "page"),
        _ => v.t("期间至", "period to"),
    }
}

pub(super) async fn renovations(
    State(state): State<AppState>,
    v: Viewer,
    uri: Uri,
    Query(q): Query<FilterQuery>,
) -> Result<Markup, DeskError> {
    let parsed = q.parse();
    let (filter, before) = parsed.clone().unwrap_or_default();
    let first = before.is_none();
    let page = renovations_page(&state, filter.clone(), before, None).await?;
    let more = page.next_href(&uri, "before");
    let list = page.rows;
    let filtering = filter != Filter::default();
    let (matching, units, buildings) = read(&state, move |c| {
        Ok((
            if filtering {
                renovation::count(c, &filter)?
            } else {
                0
            },
            units::units(c)?,
            crate::domain::estate::estate(c)?.buildings,
        ))
    })
    .await?;
    Ok(v.page(
        v.t("装修备案", "Renovations"),
        html! {
            h2 { (v.t("登记装修", "Register a renovation")) }
            form.inline #register data-api="/api/v1/renovations" data-go="/desk/renovations/" {
                label { (v.t("房号", "Unit")) select name="unit_id" data-type="int" { @for u in &units { option value=(u.id) { (u.label) } } } }
                label { (v.t("业主", "Owner")) input name="owner_name" required; }
                label { (v.t("施工单位", "Contractor")) input name="contractor" required; }
                label { (v.t("现场负责人", "Supervisor")) input name="supervisor_name" required; }
                label { (v.t("负责人电话", "Supervisor phone")) input name="supervisor_phone" required; }
                label { (v.t("开工", "Start")) input name="start_date" type="date" required; }
                label { (v.t("完工（不超过 3 个月）", "End (at most 3 months)")) input name="end_date" type="date" required; }
                label { (v.t("破坏防水", "Waterproofing broken")) input name="waterproofing" type="checkbox"; }
                button type="submit" { (v.t("登记", "Register")) }
            }
            h2 { (v.t("全部装修", "All renovations")) }
            form.inline #renovation-filters method="get" action="/desk/renovations" {
                label { (v.t("楼栋", "Building")) select name="building" {
                    option value="" { (v.t("全部", "all")) }
                    @for b in &buildings { option value=(b.number) selected[q.building.as_deref() == Some(&b.number.to_string())] { (b.name) } } } }
                label { (v.t("楼层", "Floor")) input name="floor" type="number" min="-128" max="127" size="4" value=[q.floor.as_deref()]; }
                label { (v.t("状态", "Status")) select name="status" {
                    option value="" { (v.t("全部", "all")) }
                    @for (value, s) in [("active", Status::Active), ("inspected", Status::Inspected), ("refunded", Status::Refunded)] {
                        option value=(value) selected[q.status.as_deref() == Some(value)] { (status(&v, s)) } } } }
                label { (v.t("施工单位", "Contractor")) input name="contractor" value=[q.contractor.as_deref()]; }
                label { (v.t("期间从", "Period from")) input name="from" type="date" value=[q.from.as_deref()]; }
                label { (v.t("至", "to")) input name="to" type="date" value=[q.to.as_deref()]; }
                button type="submit" { (v.t("筛选", "Filter")) }
                @if filtering { a #clear-filters href="/desk/renovations" { (v.t("清除筛选", "Clear filters")) } }
            }
            @if let Err(bad) = &parsed {
                div.result.err #filter-error role="status" { (v.t("筛选条件有误：", "These filters are not valid: "))
                    (bad.iter().map(|k| filter_label(&v, k)).collect::<Vec<_>>().join(v.t("、", ", "))) }
            }
            @if filtering { p #filter-count { (v.t("符合条件：", "Matching: ")) (matching) } }
            label { (v.t("查找（编号、房号、业主、施工单位、状态）", "Search (code, unit, owner, contractor, status)"))
                input type="search" #renovation-search data-filter="#renovations"; }
            table #renovations {
                tr { th { (v.t("编号", "Code")) } th { (v.t("房号", "Unit")) } th { (v.t("业主", "Owner")) } th { (v.t("施工单位", "Contractor")) }
                     th { (v.t("期限", "Period")) } th { (v.t("状态", "Status")) } }
                @for r in &list {
                    tr {
                        td { a href={ "/desk/renovations/" (r.id) } { (r.code) } }
                        td { (r.unit.label) }
                        td { (r.owner_name.as_deref().map(privacy::mask_name).unwrap_or_default()) }
                        td { (r.contractor.clone().unwrap_or_default()) }
                        td { (v.date(r.start_date)) " → " (v.date(r.end_date))
                            @if r.end_date != r.original_end_date { " (" (v.t("延期至", "extended to")) " " (v.date(r.end_date)) ")" } }
                        td { (status(&v, r.status)) }
                    }
                }
            }
            (more_links(&v, more.as_deref(), first, "/desk/renovations"))
        },
    ))
}

/// Under a list shown a page at a time: the link to the next (older) page if there is one,
/// and back to the first page when this is not it.
pub(super) fn more_links(v: &Viewer, next: Option<&str>, first: bool, start: &str) -> Markup {
    html! {
        p.more-links {
            @if let Some(href) = next {
                a #more href=(href) { (v.t("更多…", "More…")) }
            }
            @if !first {
                " " a #first-page href=(start) { (v.t("回到第一页", "Back to the first page")) }
            }
        }
    }
}

pub(super) async fn renovation_page(
    State(state): State<AppState>,
    v: Viewer,
    ApiPath(id): ApiPath<i64>,
) -> Result<Markup, DeskError> {
    let now = state.now();
    let d = read(&state, move |c| load_detail(c, id, now)).await?;
    let r = &d.renovation;
    let api = format!("/api/v1/renovations/{id}");
    let owner = r
        .owner_name
        .as_deref()
        .map(privacy::mask_name)
        .unwrap_or_default();
    let all_met = d.refund_check.iter().all(|x| x.met);
    Ok(v.page(
        &format!("{} {} · {}", v.t("装修", "Renovation"), r.code, r.unit.label),
        html! {
            table #facts {
                tr { th { (v.t("业主", "Owner")) } td { (owner) } }
                tr { th { (v.t("施工单位", "Contractor")) } td { (r.contractor.clone().unwrap_or_default()) } }
                tr { th { (v.t("现场负责人", "Supervisor")) } td { (r.supervisor_name.as_deref().map(privacy::mask_name).unwrap_or_default()) " "
                    (r.supervisor_phone.as_deref().map(privacy::mask_phone).unwrap_or_default()) } }
                tr { th { (v.t("期限", "Period")) } td { (v.date(r.start_date)) " → " (v.date(r.end_date))
                    @if r.end_date != r.original_end_date { " · " (v.t("延期至", "extended to")) " " (v.date(r.end_date))
                        " (" (v.t("原定", "originally")) " " (v.date(r.original_end_date)) ")" } } }
                tr { th { (v.t("状态", "Status")) } td #status { (status(&v, r.status)) } }
                tr { th { (v.t("自助取卡码", "Kiosk code")) } td { strong { (r.code) } } }
            }
            @if let Some(at) = &d.collection_locked_at {
                p.unmet #collection-locked { (v.t("自助取卡多次输错，已锁定", "Kiosk collection locked after wrong attempts")) " (" (at) ") "
                    form.inline data-api={ (api) "/collection-release" } { button type="submit" { (v.t("解除锁定", "Release")) } } }
            }

            h2 { (v.t("施工人员与出入卡", "Workers and cards")) }
            table #workers {
                tr { th { (v.t("人员", "Worker")) } th { (v.t("电话", "Phone")) } th { (v.t("身份证", "ID")) } th { (v.t("卡", "Cards")) } th { (v.t("操作", "Actions")) } }
                @for w in &d.workers {
                    @let cards: Vec<_> = d.cards.iter().filter(|c| c.worker_id == Some(w.id)).collect();
                    @let active = cards.iter().find(|c| c.state == CardState::Active);
                    tr data-worker=(w.id) data-name=(w.name_masked) {
                        td { (w.name_masked) } td { (w.phone_masked) } td { (privacy::mask_id_last4(&w.id_last4)) }
                        td { @for c in &cards {
                            span.card data-card=(c.card_id) data-state=(c.state.as_str()) { "#" (c.card_id) " " (card_state(&v, c.state))
                                " (" (v.t("至", "until")) " " (v.time(c.not_after)) ")" } br;
                        } }
                        td {
                            @if let Some(c) = active {
                                form.inline.reprint data-api={ "/api/v1/cards/" (c.card_id) "/reprint" } data-show="card"
                                    data-confirm=(format!("{} {} #{}？{}", v.t("为", "Reprint for"), w.name_masked, c.card_id,
                                        v.t("补打后旧卡立即失效。", "— the old paper stops opening doors at once.")))
                                    data-done=(v.t("已补打新卡", "New card printed")) {
                                    button type="submit" { (v.t("补打", "Reprint")) } }
                                form.inline.lost data-api={ "/api/v1/cards/" (c.card_id) "/lost" }
                                    data-confirm=(format!("{} {} {} #{}？{} {{fee_cents}}。", v.t("挂失", "Declare lost:"), w.name_masked,
                                        v.t("的卡", "card"), c.card_id,
                                        v.t("卡将立即停用，并从保证金扣除补卡费", "It stops opening doors at once and the fee is deducted from the deposit:")))
                                    data-yes=(v.t("确认挂失", "Declare lost")) data-done=(v.t("已挂失，补卡费已扣", "Declared lost; fee deducted")) {
                                    label { (v.t("补卡费（元）", "Fee (¥)")) input name="fee_cents" data-type="yuan" value="50" size="6"; }
                                    button.danger type="submit" { (v.t("挂失", "Declare lost")) } }
                                form.inline.revoke data-api={ "/api/v1/cards/" (c.card_id) "/revoke" }
                                    data-confirm=(format!("{} {} {} #{}？{}", v.t("停用", "Revoke"), w.name_masked, v.t("的卡", "card"), c.card_id,
                                        v.t("卡将立即停用。", "It stops opening doors at once.")))
                                    data-yes=(v.t("确认停用", "Revoke")) data-done=(v.t("已停用", "Revoked")) {
                                    button.danger type="submit" { (v.t("停用", "Revoke")) } }
                            } @else {
                                form.inline.issue data-api={ "/api/v1/workers/" (w.id) "/card" } data-show="card"
                                    data-done=(v.t("已发卡", "Card issued")) {
                                    button type="submit" { (v.t("发卡", "Issue card")) } }
                            }
                            form.inline.new-code data-api={ "/api/v1/workers/" (w.id) "/collection-code" } data-show="code"
                                data-confirm=(format!("{} {}？{}", v.t("为", "New kiosk collection code for"), w.name_masked,
                                    v.t("生成新的自助取卡码，旧码立即失效。", "— the old code stops working at once.")))
                                data-done=(v.t("已生成新取卡码", "New collection code made")) {
                                button type="submit" { (v.t("新取卡码", "New collection code")) } }
                        }
                    }
                }
            }
            (super::card_print::frame(&v, r))
            // The one-time kiosk collection code is shown once, here, after a worker is added or
            // given a new code: the server keeps only a keyed hash of it.
            p #collection-code hidden data-label=(v.t("自助取卡码（只显示一次，请告知施工单位）：", "Kiosk collection code (shown once; give it to the contractor): ")) {}
            form.inline #add-worker data-api={ (api) "/workers" } data-show="code" data-done=(v.t("已登记人员", "Worker added")) {
                label { (v.t("姓名", "Name")) input name="name" required; }
                label { (v.t("电话", "Phone")) input name="phone" required; }
                label { (v.t("身份证号", "ID number")) input name="id_number" required autocomplete="off"; }
                button type="submit" { (v.t("登记人员", "Add worker")) }
            }

            h2 { (v.t("退还保证金核对", "Refund checklist")) }
            table #refund-check {
                tr { th { (v.t("规则", "Rule")) } th { (v.t("结果", "Result")) } th { (v.t("原因", "Reason")) } }
                @for rule in &d.refund_check {
                    tr data-rule=(format!("{:?}", rule.rule)) {
                        td { (v.t(rule.title_zh, rule.title)) }
                        @if rule.met { td.met { "✔ " (v.t("满足", "met")) } } @else { td.unmet { "✘ " (v.t("未满足", "unmet")) } }
                        td { (refund::reason_in(&rule.findings, v.lang, &|d| v.date(d))) }
                    }
                }
            }
            form.inline #refund-form data-api={ (api) "/refund" }
                data-confirm=(format!("{} {} {}？", v.t("向业主", "Refund"), owner, v.t(&format!("退还保证金 {}", yuan(d.ledger.refundable_cents)),
                    &format!("the deposit of {}", yuan(d.ledger.refundable_cents)))))
                data-yes=(v.t("确认退还", "Pay the refund")) data-done=(v.t("保证金已退还", "Deposit refunded")) {
                button type="submit" #refund disabled[!all_met] { (v.t("退还保证金", "Refund deposit")) " " (yuan(d.ledger.refundable_cents)) }
                @if !all_met { span.unmet { (v.t("上表全部满足后才能退还", "Every rule above must be met first")) } }
            }

            h2 { (v.t("延期", "Extension")) }
            form.inline #extend data-api={ (api) "/extensions" } data-done=(v.t("已批准延期", "Extension approved")) {
                label { (v.t("新完工日期（不超过当前 + 3 个月）", "New end (at most current + 3 months)")) input name="new_end_date" type="date" required; }
                button type="submit" { (v.t("批准延期", "Approve extension")) }
            }
            @for e in &d.extensions { p { (e.previous_end) " → " (e.new_end) " · " (who(&v, &e.approved_by)) " · " (v.time(e.at)) } }

            h2 { (v.t("资料清单", "Document checklist")) }
            form.inline #documents data-api={ (api) "/documents" } data-method="PUT" data-done=(v.t("已保存", "Saved")) {
                @for doc in r.required_documents() {
                    label { (v.t(doc.title_zh(), doc.title()))
                        input type="checkbox" name=(doc_key(doc)) checked[r.documents.get(&doc).copied().unwrap_or(false)]; }
                }
                button type="submit" { (v.t("保存", "Save")) }
            }

            h2 { (v.t("核查与入住", "Inspection and occupancy")) }
            form.inline #progress data-api={ (api) "/progress" } data-method="PUT" data-done=(v.t("已保存", "Saved")) {
                label { (v.t("核查通过", "Inspection passed")) input name="inspection_passed_on" type="date" data-type="opt" value=[r.inspection_passed_on]; }
                label { (v.t("入住", "Occupied on")) input name="occupied_on" type="date" data-type="opt" value=[r.occupied_on]; }
                label { (v.t("楼下业主签字", "Downstairs signed off")) input type="checkbox" name="downstairs_signed_off" checked[r.downstairs_signed_off]; }
                label { (v.t("登记证原件", "Certificate presented")) input type="checkbox" name="certificate_presented" checked[r.certificate_presented]; }
                label { (v.t("保证金收据", "Receipt presented")) input type="checkbox" name="receipt_presented" checked[r.receipt_presented]; }
                @if v.kind == crate::auth::ActorKind::Manager {
                    label { (v.t("更正原因", "Reason for a correction")) input name="reason" data-type="opt"; }
                }
                button type="submit" { (v.t("保存", "Save")) }
            }

            h2 { (v.t("保证金台账", "Deposit ledger")) }
            (ledger_table(&v, &d.ledger))
            form.inline #ledger-form data-api={ (api) "/ledger" }
                data-confirm=(v.t("记账：{kind} {amount_cents}（收据 {receipt_no}）？", "Record {kind} of {amount_cents} (receipt {receipt_no})?"))
                data-yes=(v.t("确认记账", "Record it")) data-done=(v.t("已记账", "Recorded")) {
                label { (v.t("类别", "Kind")) select name="kind" {
                    option value="deposit" { (kind_words(&v, LedgerKind::Deposit)) } option value="rubbish_fee" { (kind_words(&v, LedgerKind::RubbishFee)) }
                    option value="deduction" { (kind_words(&v, LedgerKind::Deduction)) } } }
                label { (v.t("扣款项目", "Deduction for")) select name="category" data-type="opt" {
                    option value="" { "—" }
                    @for c in [Category::Damage, Category::Cleaning, Category::Violation, Category::LostCard, Category::Other] {
                        option value=(c.as_str()) { (category_words(&v, c)) } } } }
                label { (v.t("卡号（补卡费）", "Card (lost card fee)")) input name="card_id" data-type="int"; }
                label { (v.t("金额（元）", "Amount (¥)")) input name="amount_cents" data-type="yuan" inputmode="decimal" placeholder="5,000.00" required; }
                label { (v.t("收据号", "Receipt no.")) input name="receipt_no" data-type="opt"; }
                label { (v.t("说明", "Note")) input name="note"; }
                button type="submit" { (v.t("记账", "Record")) }
            }
        },
    ))
}

/// Every ledger line and the totals: what the refund slip shows.
fn ledger_table(v: &Viewer, l: &LedgerView) -> Markup {
    html! {
        table #ledger {
            tr { th { "#" } th { (v.t("类别", "Kind")) } th { (v.t("项目", "For")) } th { (v.t("金额", "Amount")) } th { (v.t("收据", "Receipt")) }
                 th { (v.t("说明", "Note")) } th { (v.t("经办", "By")) } th { (v.t("时间", "At")) } }
            @for x in &l.lines {
                tr data-kind=(x.kind.as_str()) {
                    td { (x.id) } td { (kind_words(v, x.kind)) }
                    td { (x.category.map(|c| category_words(v, c)).unwrap_or_default())
                         @if let Some(c) = x.card_id { " · " (v.t("卡", "card")) " #" (c) }
                         @if let Some(r) = x.reverses { " · " (v.t("冲回", "reverses")) " #" (r) } }
                    td.amount { @if matches!(x.kind, LedgerKind::Deduction | LedgerKind::Refund) { "−" } (yuan(x.amount_cents)) }
                    td { (x.receipt_no.clone().unwrap_or_default()) } td { (x.note) }
                    td { (who(v, &x.by)) @if let Some(a) = &x.approved_by { " · " (v.t("批准", "approved")) ": " (who(v, a)) } } td { (v.time(x.at)) }
                }
            }
            tr #refundable { th colspan="3" { (v.t("可退", "Refundable")) } td colspan="5" { (yuan(l.refundable_cents)) " = " (yuan(l.deposit_cents))
                " − " (yuan(l.deductions_cents)) " + " (yuan(l.reversals_cents)) } }
            @if l.owed_cents > 0 { tr #owed { th colspan="3" { (v.t("业主应补", "Owed by the owner")) } td.unmet colspan="5" { (yuan(l.owed_cents)) } } }
        }
    }
}

fn doc_key(d: Document) -> String {
    serde_json::to_value(d)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
