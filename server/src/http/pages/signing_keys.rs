//! Signing keys (managers): each credential signing key's state, fingerprint, dates and how
//! many working cards it signed. Rotation stays a command on the server (it touches key files
//! in the data directory); the page shows the commands to run.

use super::Viewer;
use crate::domain::desk_error::DeskError;
use crate::domain::signing_keys;
use crate::http::renovations::read;
use crate::keys::{self, KeyRecord, KeyState};
use crate::state::AppState;
use axum::extract::State;
use maud::{Markup, html};

/// A key's state in words.
fn state_words(v: &Viewer, state: KeyState) -> Markup {
    html! {
        @match state {
            KeyState::Active => span.met { (v.t("使用中：新卡用它签发", "active: new cards are signed with it")) },
            KeyState::Published => span { (v.t("已发布：门禁认得，尚未用来签发", "published: gates know it, nothing signed with it yet")) },
            KeyState::Retired => span.unmet { (v.t("已停用：门禁不再认", "retired: gates no longer accept it")) },
        }
    }
}

pub(super) async fn signing_keys_page(
    State(state): State<AppState>,
    v: Viewer,
) -> Result<Markup, DeskError> {
    let now = state.now();
    let list: Vec<(KeyRecord, Option<u64>)> = read(&state, move |c| {
        keys::records(c)?
            .into_iter()
            .map(|k| {
                let in_use = if k.is_live() {
                    Some(signing_keys::cards_in_use(c, &k, now)?)
                } else {
                    None
                };
                Ok((k, in_use))
            })
            .collect::<Result<_, rusqlite::Error>>()
            .map_err(DeskError::from)
    })
    .await?;
    let command = format!(
        "gatehouse-server --data-dir {}",
        state.config.data_dir.display()
    );
    Ok(v.page(
        v.t("签名密钥", "Signing keys"),
        html! {
            p { (v.t("出入卡和访客通行证上的二维码用这些密钥签名；门禁只凭公钥验证，断网也能开门。指纹可与服务器上 “keys list” 的输出核对。",
                     "The QR codes of cards and passes are signed with these keys; gates check them with the public key alone, so doors work with the network down. Compare the fingerprints with the server's “keys list”.")) }
            table #signing-keys {
                tr { th { (v.t("编号", "Id")) } th { (v.t("状态", "State")) } th { (v.t("指纹", "Fingerprint")) } th { (v.t("建立", "Created")) }
                     th { (v.t("启用", "Activated")) } th { (v.t("停用", "Retired")) } th { (v.t("仍有效的卡", "Cards still working")) } }
                @for (k, in_use) in &list {
                    tr data-key=(k.key_id.get()) data-state=(k.state.as_str()) {
                        td { (k.key_id.get()) } td { (state_words(&v, k.state)) } td.fingerprint { code { (k.fingerprint()) } }
                        td { (v.time(k.created_at)) }
                        td { (k.activated_at.map(|t| v.time(t)).unwrap_or_default()) }
                        td { (k.retired_at.map(|t| v.time(t)).unwrap_or_default()) }
                        td { (in_use.map(|n| n.to_string()).unwrap_or_default()) }
                    }
                }
            }
            h2 { (v.t("轮换密钥（在服务器上运行命令）", "Rotating the key (a command on the server)")) }
            p { (v.t("轮换会改动数据目录中的密钥文件，所以只能由管理员在服务器上执行；服务器运行时也可以执行，门禁在一秒内获知。",
                     "Rotation changes key files in the data directory, so an administrator runs it on the server; it is safe while the server runs, and gates learn of it within a second.")) }
            ol #rotation-steps {
                li { (v.t("新增密钥（先发布给所有门禁）：", "Add a key (published to every gate first):")) pre { (command) " keys add" } }
                li { (v.t("等所有门禁在线同步后，启用它（新卡用它签发）：", "Once every gate has synced, activate it (new cards are signed with it):")) pre { (command) " keys activate ID" } }
                li { (v.t("旧密钥签发的卡都失效后，停用旧密钥：", "When no working card was signed with the old key, retire it:")) pre { (command) " keys retire ID" } }
            }
        },
    ))
}
