//! The kiosk's flows as pure validation and decisions: what a typed form becomes, and what a
//! server answer means for the person at the screen.

pub mod invite;
pub mod sign_out;
pub mod visitor;
pub mod worker;

use crate::server::ServerError;
use chrono::{DateTime, Utc};

/// A field that does not hold what it must; the UI highlights the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct Invalid {
    /// The form field's name, as in the JSON body.
    pub field: &'static str,
    /// What is wrong, in English (the UI has its own words per field).
    pub problem: &'static str,
}

pub(crate) fn invalid(field: &'static str, problem: &'static str) -> Invalid {
    Invalid { field, problem }
}

/// What the screen tells the person when a flow does not end in a pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// The server cannot be reached: nothing was issued; see the desk.
    ServerUnreachable,
    /// A neutral refusal (deny list, kiosk not authorised, server fault): see the desk.
    SeeFrontDesk,
    /// The code, pass or renovation was not recognised.
    InvalidCode,
    /// The worker card was collected at a kiosk before; a reprint needs the desk.
    AlreadyCollected,
    /// The front desk already handed this worker their card (at this time, when the server
    /// said); a reprint needs the desk.
    IssuedAtDesk {
        /// When the desk issued it.
        issued_at: Option<DateTime<Utc>>,
    },
    /// The walk-in visit is recorded and waits for the host's approval, given through the desk.
    HostApprovalPending,
    /// The invitation was exchanged for a pass before.
    AlreadyRedeemed,
    /// The invitation is for another day.
    NotToday,
    /// The pass was signed out before.
    AlreadySignedOut,
    /// The server rejected a field.
    InvalidInput(String),
}

/// Which flow a server answer belongs to (a 404 means "invalid code" only where a code was typed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Visitor self-registration.
    Visitor,
    /// Invite redemption.
    Invite,
    /// Sign-out.
    SignOut,
    /// Worker card collection.
    WorkerCard,
}

impl Notice {
    /// The stable code the kiosk's own API answers with.
    pub fn code(&self) -> &'static str {
        match self {
            Notice::ServerUnreachable => "server_unreachable",
            Notice::SeeFrontDesk => "see_front_desk",
            Notice::InvalidCode => "invalid_code",
            Notice::AlreadyCollected => "already_collected",
            Notice::IssuedAtDesk { .. } => "issued_at_desk",
            Notice::HostApprovalPending => "host_approval_pending",
            Notice::AlreadyRedeemed => "already_redeemed",
            Notice::NotToday => "not_today",
            Notice::AlreadySignedOut => "already_signed_out",
            Notice::InvalidInput(_) => "invalid_input",
        }
    }
}

/// What a failed server call means on screen.
pub fn notice_for(flow: Flow, err: &ServerError) -> Notice {
    match err {
        ServerError::Unreachable(_) => Notice::ServerUnreachable,
        ServerError::BadAnswer(_) => Notice::SeeFrontDesk,
        ServerError::Refused {
            status,
            body,
            details,
        } => match (status, body.error.as_str()) {
            (_, "see_front_desk") => Notice::SeeFrontDesk,
            (_, "already_collected") => Notice::AlreadyCollected,
            (_, "issued_at_desk") if flow == Flow::WorkerCard => Notice::IssuedAtDesk {
                issued_at: details.issued_at,
            },
            (_, "host_approval_pending") if flow == Flow::Visitor => Notice::HostApprovalPending,
            // A code that exists but can no longer be used says why, so the person knows
            // whether retyping can help.
            (_, "already_redeemed") if flow == Flow::Invite => Notice::AlreadyRedeemed,
            (_, "not_today") if flow == Flow::Invite => Notice::NotToday,
            (_, "card_not_active") if flow == Flow::SignOut => Notice::AlreadySignedOut,
            (404 | 410, _)
            | (
                _,
                "invalid_code" | "expired" | "not_found" | "already_redeemed" | "not_today"
                | "card_not_active",
            ) if flow != Flow::Visitor => Notice::InvalidCode,
            (400 | 422, _) => Notice::InvalidInput(body.message.clone()),
            _ => Notice::SeeFrontDesk,
        },
    }
}

/// Trims, and refuses empty, over-long or control-character text.
pub(crate) fn clean_text(
    field: &'static str,
    raw: &str,
    max_chars: usize,
) -> Result<String, Invalid> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(invalid(field, "is empty"));
    }
    if text.chars().count() > max_chars {
        return Err(invalid(field, "is too long"));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(field, "contains control characters"));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::RefusalDetails;
    use gatehouse_credential::api::ErrorBody;

    fn refused(status: u16, code: &str) -> ServerError {
        ServerError::Refused {
            status,
            body: ErrorBody {
                error: code.into(),
                message: "m".into(),
            },
            details: RefusalDetails::default(),
        }
    }

    #[test]
    fn server_answers_become_the_right_screen() {
        assert_eq!(
            notice_for(Flow::Visitor, &ServerError::Unreachable("x".into())),
            Notice::ServerUnreachable
        );
        assert_eq!(
            notice_for(Flow::Visitor, &refused(403, "see_front_desk")),
            Notice::SeeFrontDesk
        );
        assert_eq!(
            notice_for(Flow::Invite, &refused(404, "not_found")),
            Notice::InvalidCode
        );
        assert_eq!(
            notice_for(Flow::WorkerCard, &refused(409, "already_collected")),
            Notice::AlreadyCollected
        );
        let at: DateTime<Utc> = "2026-12-03T01:15:00Z".parse().unwrap();
        let mut desk = refused(409, "issued_at_desk");
        if let ServerError::Refused { details, .. } = &mut desk {
            details.issued_at = Some(at);
        }
        assert_eq!(
            notice_for(Flow::WorkerCard, &desk),
            Notice::IssuedAtDesk {
                issued_at: Some(at)
            }
        );
        assert_eq!(
            notice_for(Flow::Visitor, &refused(409, "host_approval_pending")),
            Notice::HostApprovalPending
        );
        // A visitor typed no code: a 404 there is the server's problem, not an invalid code.
        assert_eq!(
            notice_for(Flow::Visitor, &refused(404, "not_found")),
            Notice::SeeFrontDesk
        );
        assert_eq!(
            notice_for(Flow::Visitor, &refused(400, "invalid_input")),
            Notice::InvalidInput("m".into())
        );
        assert_eq!(
            notice_for(Flow::Invite, &refused(409, "already_redeemed")),
            Notice::AlreadyRedeemed
        );
        assert_eq!(
            notice_for(Flow::Invite, &refused(409, "not_today")),
            Notice::NotToday
        );
        assert_eq!(
            notice_for(Flow::SignOut, &refused(409, "card_not_active")),
            Notice::AlreadySignedOut
        );
        assert_eq!(
            notice_for(Flow::SignOut, &refused(500, "internal")),
            Notice::SeeFrontDesk
        );
    }
}
