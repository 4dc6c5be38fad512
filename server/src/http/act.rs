//! [`Act`]: what a handler that changes data takes instead of the state and the caller apart.

use super::error::ApiError;
use crate::auth::Actor;
use crate::db::DbError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};

/// The state and the caller of a request that writes; [`Act::write`] runs its change.
pub struct Act {
    /// The application state.
    pub state: AppState,
    /// Who called.
    pub actor: Actor,
}

impl FromRequestParts<AppState> for Act {
    type Rejection = <Actor as FromRequestParts<AppState>>::Rejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let actor = Actor::from_request_parts(parts, state).await?;
        Ok(Act {
            state: state.clone(),
            actor,
        })
    }
}

impl Act {
    /// Runs `f` as the caller, at the time the handler reads now, in one committed savepoint.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&rusqlite::Savepoint<'_>, &Actor, DateTime<Utc>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<rusqlite::Error> + Send + 'static,
    {
        // Read when the handler runs, not when the database thread gets to the change: the
        // time recorded is when the request was made.
        let now = self.state.now();
        let actor = self.actor.clone();
        write(&self.state, move |tx| f(tx, &actor, now)).await
    }
}

/// Runs `f` on the database thread in one savepoint, committed if `f` succeeds.
pub async fn write<T, E, F>(state: &AppState, f: F) -> Result<T, E>
where
    F: FnOnce(&rusqlite::Savepoint<'_>) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + From<rusqlite::Error> + Send + 'static,
{
    state
        .db
        .call(move |conn| {
            let tx = conn.savepoint()?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
}

/// Runs `f` on the database thread outside a savepoint (a read, or one statement that
/// writes); its error is answered as an [`ApiError`].
pub async fn call<T, E, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&rusqlite::Connection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
    ApiError: From<E>,
{
    state.db.call(move |c| f(c).map_err(ApiError::from)).await
}
