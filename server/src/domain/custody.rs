//! A card's custody as one state machine: where a card is (out with its holder, dead at the
//! gates but not back, back at the desk) and which desk action may move it where.
//!
//! The one table [`TRANSITIONS`] decides every move. Two rules shape it: a card the desk
//! physically holds ends as `returned` whatever happened to it before (revoked, lost, reprinted,
//! expired), and a lost-card fee stands only while the card is not back, so the move out of
//! `lost` reverses the fee. Expiry is not a stored state: an `active` card past its end is
//! expired, and expired cards follow the `active` rows.

use serde::{Deserialize, Serialize};

/// Where a card stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CardState {
    /// Issued and with its holder; opens doors until its end (after it: expired).
    Active,
    /// Back at the desk.
    Returned,
    /// Declared lost: dead at the gates, its replacement fee deducted.
    Lost,
    /// Revoked by staff: dead at the gates, the card itself not back.
    Revoked,
    /// Superseded by a reprint: dead at the gates; the old paper may still come back or be
    /// declared lost.
    Reissued,
    /// A visitor pass whose visitor signed out.
    SignedOut,
}

impl CardState {
    /// Every state.
    pub const ALL: [CardState; 6] = [
        CardState::Active,
        CardState::Returned,
        CardState::Lost,
        CardState::Revoked,
        CardState::Reissued,
        CardState::SignedOut,
    ];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            CardState::Active => "active",
            CardState::Returned => "returned",
            CardState::Lost => "lost",
            CardState::Revoked => "revoked",
            CardState::Reissued => "reissued",
            CardState::SignedOut => "signed_out",
        }
    }

    /// The state in words for the clerk, in English and Chinese.
    pub const fn words(self) -> &'static str {
        match self {
            CardState::Active => "in use (在用)",
            CardState::Returned => "returned (已交回)",
            CardState::Lost => "declared lost (已挂失)",
            CardState::Revoked => "revoked (已停用)",
            CardState::Reissued => "superseded by a reprint (已补打)",
            CardState::SignedOut => "signed out (已签离)",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether the card is at the desk (or, for a pass, its visitor has left).
    pub const fn is_back(self) -> bool {
        matches!(self, CardState::Returned | CardState::SignedOut)
    }

    /// Whether the card still opens doors (until its end).
    pub const fn opens_doors(self) -> bool {
        matches!(self, CardState::Active)
    }

    /// Whether the refund waits for this card: it is with someone and was neither declared
    /// lost (fee paid) nor superseded by a reprint the desk chose to make.
    pub const fn blocks_refund(self) -> bool {
        matches!(self, CardState::Active | CardState::Revoked)
    }
}

/// What the desk does to a card.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// The card is handed back (scanned or typed).
    Return,
    /// Staff stop the card without having it.
    Revoke,
    /// The holder says it is lost.
    DeclareLost,
    /// A new card is printed in its place.
    Reprint,
    /// A visitor leaves (visitor passes only).
    SignOut,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 5] = [
        Action::Return,
        Action::Revoke,
        Action::DeclareLost,
        Action::Reprint,
        Action::SignOut,
    ];
}

/// What happens to the lost-card fee on a move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fee {
    /// Nothing.
    Unchanged,
    /// The replacement fee is deducted from the deposit.
    Charge,
    /// The fee charged when the card was declared lost is reversed: the card is back.
    Reverse,
}

/// One allowed move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    /// From.
    pub from: CardState,
    /// By.
    pub action: Action,
    /// To.
    pub to: CardState,
    /// The money that moves with it.
    pub fee: Fee,
}

const fn t(from: CardState, action: Action, to: CardState, fee: Fee) -> Transition {
    Transition {
        from,
        action,
        to,
        fee,
    }
}

use Action as A;
use CardState as S;

/// Every allowed move of a worker card (visitor passes: only [`Action::SignOut`] and
/// [`Action::Return`] from `active`, both to `signed_out`). Anything else is refused.
pub const TRANSITIONS: &[Transition] = &[
    t(S::Active, A::Return, S::Returned, Fee::Unchanged),
    t(S::Active, A::Revoke, S::Revoked, Fee::Unchanged),
    t(S::Active, A::DeclareLost, S::Lost, Fee::Charge),
    t(S::Active, A::Reprint, S::Reissued, Fee::Unchanged),
    t(S::Revoked, A::Return, S::Returned, Fee::Unchanged),
    t(S::Revoked, A::DeclareLost, S::Lost, Fee::Charge),
    t(S::Lost, A::Return, S::Returned, Fee::Reverse),
    t(S::Reissued, A::Return, S::Returned, Fee::Unchanged),
    t(S::Reissued, A::DeclareLost, S::Lost, Fee::Charge),
];

/// The moves of a visitor pass.
const PASS_TRANSITIONS: &[Transition] = &[
    t(S::Active, A::Return, S::SignedOut, Fee::Unchanged),
    t(S::Active, A::SignOut, S::SignedOut, Fee::Unchanged),
];

/// One allowed move of something else the desk hands out or checks once (a goods-release
/// permit, a key or a radio): the same shape as a card's [`Transition`], without its money.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step<S, A> {
    /// From.
    pub from: S,
    /// By.
    pub action: A,
    /// To.
    pub to: S,
}

/// The move `action` makes from `from` in a kind's `table`, if it is allowed.
pub fn step<S: Copy + PartialEq, A: Copy + PartialEq>(
    table: &[Step<S, A>],
    from: S,
    action: A,
) -> Option<Step<S, A>> {
    table
        .iter()
        .find(|x| x.from == from && x.action == action)
        .copied()
}

/// Why a move is refused, for the error the clerk reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The card is already back; nothing to do.
    AlreadyBack,
    /// The card no longer opens doors; the action has nothing left to stop.
    AlreadyDead,
    /// The action does not apply to this kind of card.
    WrongKind,
}

impl Refusal {
    /// The stable error code.
    pub const fn code(self) -> &'static str {
        match self {
            Refusal::AlreadyBack => "already_returned",
            Refusal::AlreadyDead => "card_not_active",
            Refusal::WrongKind => "wrong_card_kind",
        }
    }
}

/// The move `action` makes from `from`, or why it is refused.
pub fn next(from: CardState, is_pass: bool, action: Action) -> Result<Transition, Refusal> {
    let table = if is_pass {
        PASS_TRANSITIONS
    } else {
        TRANSITIONS
    };
    if let Some(found) = table.iter().find(|x| x.from == from && x.action == action) {
        return Ok(*found);
    }
    let applies = table.iter().any(|x| x.action == action);
    Err(if !applies {
        Refusal::WrongKind
    } else if from.is_back() {
        Refusal::AlreadyBack
    } else {
        Refusal::AlreadyDead
    })
}

/// What the clerk should do instead, after `refusal` of `action` on a card in `state`.
pub fn advice(refusal: Refusal, action: Action, state: CardState) -> &'static str {
    match (refusal, action) {
        (Refusal::AlreadyBack, _) => "nothing more to do: the desk holds it (卡已在前台，无需操作)",
        (Refusal::WrongKind, A::DeclareLost | A::Reprint) => {
            "a visitor pass is not declared lost or reprinted: sign it out and issue a new pass (访客通行证不能挂失或补打：请签离后重新发证)"
        }
        (Refusal::WrongKind, _) => {
            "a worker card is taken back with Return at the desk (施工人员卡请在前台用“交卡”收回)"
        }
        (Refusal::AlreadyDead, A::Reprint) => {
            "it no longer opens doors: issue the worker a new card instead (此卡已失效：请为该人员发新卡)"
        }
        (Refusal::AlreadyDead, _) if state == CardState::Lost => {
            "if it has turned up, take it back with Return (the fee is reversed) (如已找回，请用“交卡”收回，补卡费将冲回)"
        }
        (Refusal::AlreadyDead, _) => {
            "it no longer opens doors; when it comes back, take it with Return (此卡已失效；交回时请用“交卡”收回)"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_tells_the_clerk_what_to_do_in_chinese_too() {
        let states = [
            S::Active,
            S::Returned,
            S::Lost,
            S::Revoked,
            S::Reissued,
            S::SignedOut,
        ];
        let actions = [A::Return, A::Revoke, A::DeclareLost, A::Reprint, A::SignOut];
        for is_pass in [false, true] {
            for from in states {
                for action in actions {
                    if let Err(why) = next(from, is_pass, action) {
                        let advice = advice(why, action, from);
                        assert!(
                            advice
                                .chars()
                                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                            "{from:?} {action:?}: {advice}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_card_the_desk_holds_can_always_be_returned() {
        for from in CardState::ALL {
            let r = next(from, false, Action::Return);
            match from {
                S::Returned | S::SignedOut => assert_eq!(r, Err(Refusal::AlreadyBack)),
                _ => assert_eq!(r.map(|x| x.to), Ok(S::Returned), "{from:?}"),
            }
        }
    }

    #[test]
    fn only_a_lost_card_coming_back_reverses_the_fee_and_only_a_card_not_back_is_charged() {
        for x in TRANSITIONS {
            assert_eq!(x.fee == Fee::Reverse, x.from == S::Lost, "{x:?}");
            assert_eq!(x.fee == Fee::Charge, x.to == S::Lost, "{x:?}");
            assert!(!x.from.is_back(), "nothing leaves `returned`: {x:?}");
        }
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(
            next(S::Revoked, false, A::Revoke),
            Err(Refusal::AlreadyDead)
        );
        assert_eq!(
            next(S::Returned, false, A::DeclareLost),
            Err(Refusal::AlreadyBack)
        );
        assert_eq!(next(S::Active, true, A::Reprint), Err(Refusal::WrongKind));
        assert_eq!(next(S::Active, false, A::SignOut), Err(Refusal::WrongKind));
        assert_eq!(
            next(S::Active, true, A::Return).map(|x| x.to),
            Ok(S::SignedOut)
        );
        assert!(advice(Refusal::AlreadyDead, A::Revoke, S::Lost).contains("Return"));
    }
}
