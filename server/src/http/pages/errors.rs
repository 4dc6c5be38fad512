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
    w("invalid", "填写的内容有误", "A value is not valid"),
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
    w(
        "wrong_card_kind",
        "此操作不适用于这类卡",
        "This does not apply to this kind of card",
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
        "ambiguous",
        "有多张卡匹配，请输入完整卡号",
        "More than one card matches; type the full card number",
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
        "{field} 须在 {min} 至 {max} 之间，{value} 不在范围内",
        "{field} must lie between {min} and {max}; {value} does not",
    ),
    wd(
        "unknown_building",
        "没有这栋楼，请先添加",
        "No such building; add it first",
        "没有 {building} 号楼，请先添加",
        "There is no building {building}; add it first",
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

/// The general words of error `code` in `lang`, if it has any.
pub fn words(lang: crate::domain::language::Lang, code: &str) -> Option<&'static str> {
    WORDS
        .iter()
        .find(|w| w.code == code)
        .map(|w| lang.pick(w.zh, w.en))
}

/// `const ERRORS = {code: {text: [zh, en], detail: [zh, en]}}` for the page script.
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
    format!("const ERRORS={};\n", serde_json::Value::Object(map))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_has_words_once_and_details_name_the_same_fields_in_both_languages() {
        let mut seen = std::collections::HashSet::new();
        let fields = |s: &str| -> Vec<String> {
            s.split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(f, _)| f.to_owned()))
                .collect()
        };
        for x in WORDS {
            assert!(seen.insert(x.code), "{} twice", x.code);
            assert!(!x.zh.is_empty() && !x.en.is_empty(), "{}", x.code);
            if let Some((zh, en)) = x.detail {
                assert_eq!(fields(zh), fields(en), "{}", x.code);
                assert!(!fields(zh).is_empty(), "{}", x.code);
            }
        }
    }
}
