//! Keys and radios in headless Chromium: register a radio, print its label (the QR on screen
//! decodes to the code the desk scanner reads), lend it, take it back by scanning the label
//! into the return field with its condition, declare it lost with a note; and a loan past its
//! due time raises one alarm on the desk pages until someone acknowledges it.
//!
//! Ignored unless asked for (`--include-ignored`); it fails without Chromium and chromedriver.

use crate::app::spawn_staffed;
use crate::browser::{DESK, sized};
use chrono::{Duration as Days, Utc};
use serde_json::{Value, json};

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn a_radio_is_registered_labelled_lent_scanned_back_lost_and_an_overdue_loan_alarms_once() {
    let b = sized("keys and radios", 1280, 1400).await;
    let (app, admin, desk) = spawn_staffed().await;
    b.log_in_as(&app, DESK, "nav").await;

    // Register a radio through the form.
    b.go(&app, "/desk/keys").await;
    b.js("document.querySelector('#item-new [name=kind]').value='radio';")
        .await;
    b.type_in("#item-new [name=label]", "对讲机 7").await;
    b.click("#item-new button[type=submit]").await;
    let row = "#items tr[data-state=in]";
    b.wait_text(row, "对讲机 7").await;
    let id = b
        .js("return document.querySelector('#items tr[data-state=in]').dataset.item;")
        .await;
    let id = id.as_str().unwrap().to_owned();
    let code = b
        .text(&format!("#items tr[data-item='{id}'] td:nth-child(2)"))
        .await;
    assert!(code.starts_with("GH-"), "{code}");

    // Its label on the sheet carries the code.
    b.go(&app, "/desk/keys/labels").await;
    let img = format!("#labels .label[data-item='{id}'] img");
    b.until(
        "the label's QR image",
        &format!(
            "const i=document.querySelector(\"{img}\");return !!i&&i.complete&&i.naturalWidth>0;"
        ),
    )
    .await;
    // Photographed near print resolution (22 mm at about 300 dpi, where a screen has 96):
    // the label's image drawn four times as large.
    b.js(&format!(
        "const i=document.querySelector(\"{img}\");i.style.width='88mm';i.style.height='88mm';"
    ))
    .await;
    let png = b.wait_for(&img).await.screenshot().await.unwrap();
    let shot = image::load_from_memory(&png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(shot);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the label");
    assert_eq!(grids[0].decode().unwrap().1, code);

    // Lent to a contractor until an hour from now.
    b.go(&app, "/desk/keys").await;
    let form = format!("form.check-out[data-item='{id}']");
    b.type_in(&format!("{form} [name=holder_name]"), "李四")
        .await;
    b.type_in(&format!("{form} [name=holder_phone]"), "13812345678")
        .await;
    b.js(&format!(
        "const d=new Date(Date.now()+3600e3),p=n=>String(n).padStart(2,'0');
         document.querySelector(\"{form} [name=expected_back]\").value=
           d.getFullYear()+'-'+p(d.getMonth()+1)+'-'+p(d.getDate())+'T'+p(d.getHours())+':'+p(d.getMinutes());
         document.querySelector(\"{form} [name=holder_kind]\").value='contractor';"
    ))
    .await;
    b.click(&format!("{form} button[type=submit]")).await;
    let out = b
        .wait_text(
            &format!("#items tr[data-item='{id}'][data-state=out]"),
            "李*",
        )
        .await;
    assert!(!out.contains("李四"), "the holder is masked: {out}");

    // The desk scanner reads the label into the return field; damaged, with a note.
    b.go(&app, "/desk/return").await;
    b.type_in("#scan", &format!("{}\u{E007}", code.to_lowercase()))
        .await;
    b.wait_for("#item-return:not([hidden]) #item-condition")
        .await;
    b.js("document.getElementById('item-condition').value='damaged';")
        .await;
    b.type_in("#item-note", "天线断").await;
    b.click("#item-return-yes").await;
    let back = b.wait_text("#scan-result.ok", "已收回").await;
    assert!(back.contains(&code), "{back}");

    // Lost, with how.
    b.go(&app, "/desk/keys").await;
    let lost = format!("#items tr[data-item='{id}'] form.lost");
    b.type_in(&format!("{lost} [name=note]"), "巡逻时丢失")
        .await;
    b.click(&format!("{lost} button[type=submit]")).await;
    b.wait_text(
        &format!("#items tr[data-item='{id}'][data-state=lost]"),
        "巡逻时丢失",
    )
    .await;

    // A key lent until two seconds from now falls overdue: one alarm line, until acknowledged.
    let key: Value = app
        .post(
            "/api/v1/custody-items",
            Some(&desk),
            json!({"kind": "key", "label": "机房钥匙 plant room"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let key_id = key["id"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/api/v1/custody-items/{key_id}/check-out"),
            Some(&desk),
            json!({"holder_name": "王五", "holder_kind": "staff",
                   "expected_back": Utc::now() + Days::seconds(2)}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let alarm = format!("#item-alarms .alarm.overdue[data-item='{key_id}']");
    // The page asks for the alarms when it loads (and every 10 s): once the server lists the
    // loan as overdue, one reload shows it.
    crate::custody_items::until_overdue(&app, &desk).await;
    b.client.refresh().await.unwrap();
    b.wait_for(&alarm).await;
    let lines = b
        .js(&format!(
            "return document.querySelectorAll(\"{alarm}\").length;"
        ))
        .await;
    assert_eq!(lines, json!(1), "one alarm line for the loan");
    assert!(b.text(&alarm).await.contains("机房钥匙"));
    b.click(&format!("{alarm} button")).await;
    b.until(
        "the acknowledged alarm to go",
        &format!("return document.querySelector(\"{alarm}\")===null;"),
    )
    .await;
    let left = app
        .get_json("/api/v1/custody-items/overdue-alarms", Some(&desk))
        .await;
    assert_eq!(left, json!([]), "acknowledged: not raised again");
    let raised = crate::custody_items::overdue_raised(&app, &admin, key_id).await;
    assert_eq!(raised, 1, "the overdue alarm is raised once");
}
