//! The error of every front-desk domain operation (renovations, workers, cards, deposits,
//! visitors, retention), mapped to HTTP with the others in `http/error.rs`.

/// Why a front-desk operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// No such thing (404).
    #[error("{0}")]
    NotFound(String),
    /// A value is invalid (422) with a stable code.
    #[error("{message}")]
    Invalid {
        /// e.g. `period_too_long`.
        code: &'static str,
        /// What is wrong, in words.
        message: String,
    },
    /// The request conflicts with the current state (409) with a stable code.
    #[error("{message}")]
    Conflict {
        /// e.g. `card_not_active`.
        code: &'static str,
        /// What is wrong, in words.
        message: String,
    },
    /// The refund was refused because rules do not hold (409 `refund_rules_unmet`); it holds
    /// them in words ([`super::refund::unmet_text`]).
    #[error("the deposit cannot be refunded: {0}")]
    RefundRefused(String),
    /// A deny-listed visitor (403 `see_front_desk`; the message stays neutral).
    #[error("please see the front desk")]
    SeeFrontDesk,
    /// A worker at the kiosk whose card the front desk already handed out (409
    /// `issued_at_desk`, with the time in `details.issued_at`).
    #[error(
        "this worker's card was issued at the front desk at {issued_at}; a reprint needs the front desk"
    )]
    IssuedAtDesk {
        /// When the desk issued it.
        issued_at: chrono::DateTime<chrono::Utc>,
    },
    /// Too many wrong attempts lately (429 with `Retry-After`).
    #[error("too many wrong attempts; try again in {retry_after_secs} seconds")]
    Throttled {
        /// Seconds until the next attempt may be made.
        retry_after_secs: u64,
    },
    /// The claims could not be signed (a programming or data error).
    #[error("cannot issue the credential: {0}")]
    Issue(#[from] gatehouse_credential::IssueError),
    /// No usable signing key (missing or mismatched key file, no active key).
    #[error("signing key: {0}")]
    Keys(#[from] crate::keys::KeyError),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] rusqlite::Error),
    /// The database thread is gone.
    #[error(transparent)]
    DbThread(#[from] crate::db::DbError),
    /// A date or time outside its window (422 `date_out_of_range`).
    #[error(transparent)]
    OutOfRange(#[from] super::bounds::OutOfRange),
    /// Any of the above with the values of the case (card, worker, time, field) for the error
    /// body's `details`.
    #[error("{0}")]
    Detailed(Box<DeskError>, serde_json::Map<String, serde_json::Value>),
}

impl DeskError {
    /// A 422 with `code`.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        DeskError::Invalid {
            code,
            message: message.into(),
        }
    }

    /// A 409 with `code`.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        DeskError::Conflict {
            code,
            message: message.into(),
        }
    }

    /// This error with `details` (a JSON object) added to the values it names.
    pub fn with_details(self, details: serde_json::Value) -> Self {
        let serde_json::Value::Object(more) = details else {
            return self;
        };
        match self {
            DeskError::Detailed(inner, mut have) => {
                have.extend(more);
                DeskError::Detailed(inner, have)
            }
            other => DeskError::Detailed(Box::new(other), more),
        }
    }
}

/// Front-desk results.
pub type DeskResult<T> = Result<T, DeskError>;

/// A result whose refusal must still be committed (a counted wrong attempt, a desk alarm): the
/// outer error rolls the transaction back, the inner one is answered after the commit.
pub type Refusable<T> = DeskResult<Result<T, DeskError>>;
