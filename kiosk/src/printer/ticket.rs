//! What goes on a printed slip, in both languages, from a pass the server issued.

use super::escpos::Ticket;
use chrono::{DateTime, Duration, Utc};
use gatehouse_credential::Kind;
use gatehouse_credential::api::kiosk::IssuedPass;

/// The last valid minute of a pass whose end is exclusive, in the estate's time zone.
fn last_valid(not_after: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    (not_after - Duration::minutes(1))
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The validity in plain words, one line per language (`zh`, `en`).
pub fn validity_words(pass: &IssuedPass, tz: chrono_tz::Tz) -> (String, String) {
    match pass.kind {
        Kind::Worker => {
            let until = (pass.not_after - Duration::minutes(1))
                .with_timezone(&tz)
                .format("%Y-%m-%d")
                .to_string();
            (
                format!("有效期至 {until}（限施工时段）"),
                format!("Valid until {until}, working hours only"),
            )
        }
        _ => {
            let until = last_valid(pass.not_after, tz);
            (format!("有效期至 {until}"), format!("Valid until {until}"))
        }
    }
}

/// The slip for `pass`.
pub fn ticket_for(pass: &IssuedPass, estate: &str, tz: chrono_tz::Tz) -> Ticket {
    let (zh, en) = validity_words(pass, tz);
    let title = match pass.kind {
        Kind::Worker => "人员临时出入卡 WORKER CARD",
        _ => "访客通行证 VISITOR PASS",
    };
    let mut lines = vec![
        format!("姓名 Name: {}", pass.holder_masked),
        format!("单元 Unit: {}", pass.unit_label),
        zh,
        en,
    ];
    if let Some(date) = pass.extended_to {
        lines.push(format!("延期至 {date} / extended to {date}"));
    }
    lines.push(format!("编号 No.: {}", pass.short_id));
    lines.push(match pass.kind {
        Kind::Worker => "完工后请交回前台 Return to the desk when work ends".into(),
        _ => "离开时请签退 Please sign out when leaving".into(),
    });
    Ticket {
        heading: estate.to_owned(),
        title: title.to_owned(),
        credential: Some(pass.credential.clone()),
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};
    use gatehouse_credential::CardId;

    fn pass(kind: Kind) -> IssuedPass {
        IssuedPass {
            card_id: CardId(7),
            kind,
            credential: "ABC".into(),
            short_id: "V7K2".into(),
            holder_masked: "张*明".into(),
            unit_label: "2-1203".into(),
            not_before: Utc.with_ymd_and_hms(2026, 11, 27, 1, 0, 0).unwrap(),
            // Midnight in Shanghai is 16:00 UTC the day before.
            not_after: Utc.with_ymd_and_hms(2026, 11, 27, 16, 0, 0).unwrap(),
            extended_to: None,
        }
    }

    #[test]
    fn a_visitor_slip_shows_local_end_of_day() {
        let t = ticket_for(&pass(Kind::Visitor), "翠湖花园", chrono_tz::Asia::Shanghai);
        assert!(t.lines.contains(&"有效期至 2026-11-27 23:59".to_string()));
        assert!(
            t.lines
                .contains(&"Valid until 2026-11-27 23:59".to_string())
        );
        assert!(t.title.contains("VISITOR"));
        assert_eq!(t.credential.as_deref(), Some("ABC"));
    }

    #[test]
    fn an_extended_worker_card_says_so_in_both_languages() {
        let mut p = pass(Kind::Worker);
        p.extended_to = NaiveDate::from_ymd_opt(2027, 3, 1);
        let t = ticket_for(&p, "翠湖花园", chrono_tz::Asia::Shanghai);
        assert!(
            t.lines
                .contains(&"延期至 2027-03-01 / extended to 2027-03-01".to_string())
        );
        assert!(t.title.contains("人员临时出入卡"));
        assert!(t.lines.iter().any(|l| l.contains("2-1203")));
    }
}
