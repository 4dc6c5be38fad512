//! The words of every stable error code, in both languages, for the pages: a general text,
//! and where the error's details name the case (card, worker, time), a text with them filled
//! in. The pages show the one in the clerk's language; an unknown code shows the message.

/// One error code's words.
struct Words {
    code: &'static str,
    zh: &'static str,
    en: &'static str,
    /// With `{detail}` fields filled from the error body's `details`.
    detail: Option<(&'static str, &'static str)>,
}

const fn w(code: &'static str, zh: &'static str, en: &'static str) -> Words {
    Words {
        code,
        zh,
        en,
        detail: None,
    }
}

const fn wd(
    code: &'static str,
    zh: &'static str,
    en: &'static str,
    detail_zh: &'static str,
    detail_en: &'static str,
) -> Words {
    Words {
        code,
        zh,
        en,
        detail: Some((detail_zh, detail_en)),
    }
}

const WORDS: &[Words] = &[
    w("bad_request", "请求有误", "The request is malformed"),
    w(
        "unauthorized",
        "用户名或密码不对，或登录已过期",
        "Wrong username or password, or the session has ended",
    ),
    w(
        "forbidden",
        "您的账号无权执行此操作",
        "Your account may not do this",
    ),
    w("not_found", "找不到该记录", "No such record"),
    w(
        "internal",
        "服务器出错，已记录",
        "Something went wrong on the server; it has been logged",
    ),
    w(
        "too_many_requests",
        "尝试次数过多，请稍后再试",
        "Too many attempts; try again later",
    ),
    wd(
        "invalid",
        "填写的内容有误",
        "A value is not valid",
        "第 {entry} 条记录过长（最多 {max_chars} 个字符）",
        "Entry {entry} is too long (at most {max_chars} characters)",
    ),
    w("invalid_detail", "填写的内容有误", "A value is not valid"),
    w(
        "conflict",
        "与当前状态冲突",
        "This conflicts with the current state",
    ),
    w("already_exists", "已存在同名记录", "It already exists"),
    w(
        "in_use",
        "仍有记录引用它，不能删除",
        "Records still refer to it; it cannot be removed",
    ),
    w(
        "weak_password",
        "密码太弱：至少 10 个字符，且不能是常见密码",
        "The password is too weak: at least 10 characters, not a common password",
    ),
    w(
        "own_account",
        "不能对自己的账号这样操作",
        "You cannot do this to your own account",
    ),
    w(
        "last_manager",
        "这是最后一个在用的经理账号，请先另设一位经理",
        "This is the last active manager; make another manager first",
    ),
    w(
        "invalid_range",
        "日期范围有误：结束不能早于开始，最长一年",
        "The date range is wrong: it cannot end before it starts, and covers at most a year",
    ),
    w(
        "range_too_large",
        "门禁记录每次最多导出 31 天，请分月导出",
        "Gate events export at most 31 days at a time: export a longer period month by month",
    ),
    w("unknown_unit", "没有这个房号", "No such unit"),
    w(
        "period_too_long",
        "装修期限不能超过 3 个月",
        "A renovation period is at most 3 months",
    ),
    w(
        "period_reversed",
        "完工日期早于开工日期",
        "The end date is before the start date",
    ),
    w(
        "period_over",
        "装修期限已过",
        "The renovation period is over",
    ),
    w(
        "extension_too_long",
        "每次延期不能超过 3 个月",
        "An extension is at most 3 months",
    ),
    w(
        "extension_not_later",
        "新的完工日期必须晚于当前完工日期",
        "The new end date must be later than the current one",
    ),
    w(
        "renovation_closed",
        "该装修已结束，不能再修改",
        "This renovation is closed",
    ),
    w(
        "renovation_finished",
        "该装修已完工",
        "This renovation has finished",
    ),
    w(
        "inspection_before_start",
        "核查日期早于开工日期",
        "The inspection date is before the start",
    ),
    w(
        "occupancy_before_inspection",
        "入住日期早于核查日期",
        "The occupancy date is before the inspection",
    ),
    w(
        "occupancy_without_inspection",
        "未核查通过不能登记入住",
        "Occupancy needs a passed inspection first",
    ),
    w(
        "signoff_before_inspection",
        "核查通过前不能由楼下业主签字",
        "The downstairs owner signs off after the inspection",
    ),
    w(
        "date_in_future",
        "日期不能晚于今天",
        "The date cannot be in the future",
    ),
    w("not_today", "日期必须是今天", "The date must be today"),
    w(
        "correction_needs_manager",
        "更正已记录的日期需要经理并写明原因",
        "Correcting a recorded date needs a manager and a reason",
    ),
    w(
        "manager_required",
        "此操作需要经理",
        "A manager must do this",
    ),
    w("reason_required", "请写明原因", "Give a reason"),
    w(
        "receipt_required",
        "请填写收据号",
        "Enter the receipt number",
    ),
    w(
        "deposit_recorded",
        "该装修已登记保证金",
        "A deposit is already recorded for this renovation",
    ),
    w(
        "already_registered",
        "此身份证号已在该装修登记",
        "This ID number is already registered on this renovation",
    ),
    wd(
        "already_returned",
        "此卡已交回，无需操作",
        "This card is already back at the desk; nothing to do",
        "卡 #{card_id} 已于 {since} 交回，无需操作",
        "Card #{card_id} was already returned at {since}; nothing to do",
    ),
    wd(
        "card_not_active",
        "此卡已失效",
        "This card no longer opens doors",
        "卡 #{card_id} 已失效（{state}）",
        "Card #{card_id} no longer opens doors ({state})",
    ),
    wd(
        "wrong_card_kind",
        "此操作不适用于这类卡",
        "This does not apply to this kind of card",
        "此操作不适用于卡 #{card_id}（{state}）",
        "This does not apply to card #{card_id} ({state})",
    ),
    w("card_active", "此卡仍然有效", "This card still opens doors"),
    w("card_required", "请填写卡号", "Enter the card number"),
    w(
        "card_is_visitor_pass",
        "这是访客通行证，不是施工人员卡",
        "This is a visitor pass, not a worker card",
    ),
    w(
        "not_a_visitor_pass",
        "这不是访客通行证",
        "This is not a visitor pass",
    ),
    w(
        "card_not_expected",
        "这张卡不属于本次操作",
        "This card is not the one expected here",
    ),
    w(
        "card_not_lost",
        "此卡未挂失",
        "This card is not declared lost",
    ),
    w(
        "card_of_other_renovation",
        "此卡属于另一个装修",
        "This card belongs to another renovation",
    ),
    w(
        "card_numbers_exhausted",
        "卡号已用完，请联系管理员",
        "Card numbers are used up; call the administrator",
    ),
    wd(
        "unknown_card",
        "找不到这张卡：请核对卡上的编号",
        "No card has this number or code: check the number printed on the card",
        "找不到卡“{q}”：请核对卡上的编号",
        "No card matches “{q}”: check the number printed on the card",
    ),
    w(
        "unreadable_card",
        "无法识别：既不是卡号也不是卡上的编号。请输入卡上“编号”后的 6 位代码，或重新扫码",
        "Not a card number or a card's code: type the 6 characters printed after 编号 No., or scan again",
    ),
    w(
        "already_collected",
        "此卡已领取；补打请到前台办理",
        "This card was already collected; reprints are done at the desk",
    ),
    w(
        "already_redeemed",
        "此邀请码已使用",
        "This invitation has already been used",
    ),
    w(
        "already_refunded",
        "保证金已退还",
        "The deposit has already been refunded",
    ),
    w(
        "already_reversed",
        "该扣款已冲回",
        "This deduction is already reversed",
    ),
    w(
        "not_a_deduction",
        "只能冲回扣款",
        "Only a deduction can be reversed",
    ),
    wd(
        "fee_already_charged",
        "该卡的补卡费已扣除",
        "The fee for this card is already deducted",
        "卡 #{card_id} 的补卡费已扣除",
        "The fee for lost card #{card_id} is already deducted",
    ),
    w(
        "awaiting_approval",
        "退款已提交，等待经理批准",
        "The refund awaits a manager's approval",
    ),
    w(
        "refund_rules_unmet",
        "不满足退还保证金的条件（见核对表）",
        "The deposit cannot be refunded yet (see the checklist)",
    ),
    w("cards_overdue", "有逾期未还的卡", "Cards are overdue"),
    w(
        "deny_listed",
        "此人在禁止名单上",
        "This person is on the deny list",
    ),
    w(
        "see_front_desk",
        "请到前台办理",
        "Please see the front desk",
    ),
    w(
        "alarm_kind_not_allowed",
        "此设备不能报告这类告警",
        "This device cannot report this kind of alarm",
    ),
    wd(
        "date_out_of_range",
        "日期超出允许的范围",
        "The date is outside the allowed range",
        "日期须在 {min} 至 {max} 之间，{value} 不在范围内",
        "The date must lie between {min} and {max}; {value} does not",
    ),
    wd(
        "unknown_building",
        "没有这栋楼，请先添加",
        "No such building; add it first",
        "没有 {building} 号楼，请先添加",
        "There is no building {building}; add it first",
    ),
    w(
        "cross_site_request",
        "请求来自其他网站，已拒绝",
        "The request came from another site and was refused",
    ),
    w(
        "already_approved",
        "放行单已批准",
        "The permit is already approved",
    ),
    w(
        "already_released",
        "此放行单的物品已放行",
        "The goods on this permit were already released",
    ),
    w(
        "already_stopped",
        "此放行单已被拦下",
        "This permit was already stopped at a gate",
    ),
    w("permit_refused", "放行单未获批准", "The permit was refused"),
    w(
        "permit_not_approved",
        "放行单尚未批准",
        "The permit is not approved yet",
    ),
    w(
        "not_a_permit",
        "这是出入卡，不是放行单",
        "This is an access card, not a goods-release permit",
    ),
    w(
        "unreadable_permit",
        "无法识别：请重扫或输入放行单号",
        "Not readable: scan again, or type the permit number",
    ),
    w(
        "unknown_scan",
        "该扫码记录不属于此放行单",
        "That scan was not of this permit",
    ),
    w(
        "invalid_items",
        "物品清单有误：请填写 1–30 项物品，每项写明数量",
        "The list of goods is wrong: 1–30 items, each with a count",
    ),
    w(
        "invalid_period",
        "有效期有误：须从今天起，最长 31 天",
        "The validity is wrong: from today on, for at most 31 days",
    ),
    w(
        "invalid_plate",
        "车牌号格式不对，例如 沪A12345",
        "The plate is not valid; write it like 沪A12345",
    ),
    w(
        "owner_consent_required",
        "租户申请须记录业主同意方式及经办人",
        "A tenant needs the owner's consent: record how it was given and who took it",
    ),
    w(
        "invalid_phone",
        "手机号格式不对",
        "The phone number is not valid",
    ),
    w(
        "invalid_return_time",
        "归还时间须晚于现在",
        "The expected return must be in the future",
    ),
    w(
        "item_state",
        "该物品当前的状态不允许此操作",
        "The item's state does not allow this now",
    ),
    w(
        "key_count_differs",
        "钥匙数量与登记不符：请重新清点，或注明缺少的钥匙",
        "The key count differs from the register: count again, or record what is missing",
    ),
    w(
        "not_unit_keys",
        "只有房屋钥匙可交付业主",
        "Only an owner's unit keys are handed over",
    ),
    w(
        "note_required",
        "请注明损坏、缺少或遗失的情况",
        "Say what is damaged or missing, or how it was lost",
    ),
    w(
        "unit_key",
        "房屋钥匙不外借，请用“交付业主”",
        "An owner's unit keys are handed over, not lent",
    ),
    w(
        "unit_required",
        "房屋钥匙须注明房号",
        "Unit keys name their unit",
    ),
    w(
        "same_clerk",
        "请由接班人确认交接",
        "The incoming clerk confirms the handover",
    ),
    w(
        "qr_failed",
        "无法生成二维码",
        "The QR code could not be made",
    ),
    w(
        "collection_code_required",
        "请输入前台给施工单位的取卡码",
        "Enter the collection code the front desk gave the contractor",
    ),
    w(
        "collection_locked",
        "输错次数过多，已锁定：请前台解锁",
        "Too many wrong attempts: the front desk must release it",
    ),
    w(
        "deny_list_phone_needed",
        "姓名与禁止名单相符，请询问访客的手机号",
        "The name matches the deny list: ask for the visitor's phone",
    ),
    w(
        "host_approval_pending",
        "需被访人确认，请到前台",
        "The host must approve this visit: see the front desk",
    ),
    w(
        "not_pending",
        "此访客申请不在等待确认",
        "This visit is not waiting for approval",
    ),
    w("device_revoked", "该设备已停用", "This device is retired"),
    w("not_a_gate", "该设备不是门禁", "This device is not a gate"),
    w(
        "not_a_kiosk",
        "只有自助机能打印",
        "Only a kiosk prints slips",
    ),
    w("unknown_device", "没有这台设备", "No such device"),
    w(
        "unknown_kiosk",
        "没有这台自助机，请从列表中选择",
        "No such kiosk: pick one from the list",
    ),
    w(
        "fire_alarm_active",
        "火警仍未解除，门禁不能复位",
        "A fire alarm is still on; the gates cannot be reset",
    ),
    wd(
        "issued_at_desk",
        "此卡已在前台发出；补打请到前台办理",
        "This card was issued at the front desk; reprints are done at the desk",
        "此卡已于 {issued_at} 在前台发出；补打请到前台办理",
        "This card was issued at the front desk at {issued_at}; reprints are done at the desk",
    ),
    wd(
        "building_in_use",
        "该楼栋仍有房号、装修、区域或闸机，不能删除",
        "Units, renovations, zones or gates still name this building; it cannot be removed",
        "{building} 号楼仍有 {units} 个房号、{renovations} 个装修、{zones} 个区域和 {gates} 台闸机，请先移走或删除",
        "Building {building} still has {units} unit(s), {renovations} renovation(s), {zones} zone(s) and {gates} gate(s); move or remove them first",
    ),
    wd(
        "floors_in_use",
        "楼层范围须包含已有房号、区域和闸机所在的楼层",
        "The floor range must include the floors units, zones and gates are on",
        "{building} 号楼的房号、区域或闸机在 {lowest} 至 {highest} 层，楼层范围须包含这些楼层",
        "Units, zones or gates of building {building} are on floors {lowest} to {highest}; the range must include them",
    ),
    w(
        "uri_too_long",
        "请求地址过长",
        "The request's address is too long",
    ),
    w(
        "headers_too_large",
        "请求头过大",
        "The request's headers are too large",
    ),
    w(
        "http_version_not_supported",
        "不支持此 HTTP 版本",
        "This HTTP version is not supported",
    ),
];

/// A card's state (`details.state`) in words: stored name, Chinese, English.
const CARD_STATES: &[(&str, &str, &str)] = &[
    ("active", "在用", "in use"),
    ("returned", "已交回", "returned"),
    ("lost", "已挂失", "declared lost"),
    ("revoked", "已停用", "revoked"),
    ("reissued", "已补打", "superseded by a reprint"),
    ("signed_out", "已签离", "signed out"),
];

/// The general words of error `code` in `lang`, if it has any.
pub fn words(lang: crate::domain::language::Lang, code: &str) -> Option<&'static str> {
    WORDS
        .iter()
        .find(|w| w.code == code)
        .map(|w| lang.pick(w.zh, w.en))
}

/// `const ERRORS = {code: {text: [zh, en], detail: [zh, en]}}` and `const CARD_STATES =
/// {state: [zh, en]}` for the page script.
pub fn script() -> String {
    let mut map = serde_json::Map::new();
    for x in WORDS {
        let mut entry = serde_json::Map::new();
        entry.insert("text".into(), serde_json::json!([x.zh, x.en]));
        if let Some((zh, en)) = x.detail {
            entry.insert("detail".into(), serde_json::json!([zh, en]));
        }
        map.insert(x.code.into(), entry.into());
    }
    let states: serde_json::Map<String, serde_json::Value> = CARD_STATES
        .iter()
        .map(|(name, zh, en)| ((*name).to_owned(), serde_json::json!([zh, en])))
        .collect();
    format!(
        "const ERRORS={};\nconst CARD_STATES={};\n",
        serde_json::Value::Object(map),
        serde_json::Value::Object(states)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_has_words_once_and_details_name_the_same_fields_in_both_languages() {
        let mut seen = std::collections::HashSet::new();
        for x in WORDS {
            assert!(seen.insert(x.code), "{} twice", x.code);
            assert!(!x.zh.is_empty() && !x.en.is_empty(), "{}", x.code);
            if let Some((zh, en)) = x.detail {
                assert_eq!(fields(zh), fields(en), "{}", x.code);
                assert!(!fields(zh).is_empty(), "{}", x.code);
            }
        }
    }

    #[test]
    fn every_card_state_has_words() {
        for state in crate::domain::custody::CardState::ALL {
            assert!(
                CARD_STATES.iter().any(|(name, ..)| *name == state.as_str()),
                "{state:?}"
            );
        }
    }

    fn fields(s: &str) -> Vec<&str> {
        s.split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(f, _)| f))
            .collect()
    }

    fn has_chinese(s: &str) -> bool {
        s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }

    #[test]
    fn every_code_the_server_sends_has_words_in_both_languages_using_the_details_it_sends() {
        use crate::http::error::CODES;
        for (code, keys) in CODES {
            let x = WORDS
                .iter()
                .find(|w| w.code == *code)
                .unwrap_or_else(|| panic!("the pages have no words for {code}"));
            assert!(has_chinese(x.zh), "{code}: {}", x.zh);
            assert!(!x.en.is_empty(), "{code} has no English");
            match x.detail {
                Some((zh, en)) => {
                    assert!(has_chinese(zh), "{code}: {zh}");
                    for field in fields(zh).into_iter().chain(fields(en)) {
                        assert!(
                            keys.contains(&field),
                            "{code}'s words name {{{field}}}, which the server does not send"
                        );
                    }
                }
                None => assert!(
                    keys.is_empty(),
                    "{code} sends {keys:?} but the pages' words use none of them"
                ),
            }
        }
        for x in WORDS {
            assert!(
                CODES.iter().any(|(c, _)| *c == x.code),
                "the pages word {}, which the server never sends",
                x.code
            );
        }
    }
}
