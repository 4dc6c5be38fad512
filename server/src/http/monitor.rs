//! The live event monitor's stream: gate decisions and alarms as server-sent events, the moment
//! the database thread has committed them (it announces every stored gate event, see
//! [`crate::db::Db::event_seq`]; nothing polls the database).
//!
//! Each event's SSE `id` is its [`MonitorEvent::id`], so a browser's `EventSource` resumes by
//! itself after a lost connection or a server restart (`Last-Event-ID`); other clients pass
//! `?after=`. Bounds: at most [`MAX_STREAMS`] streams at once (then 429); a stream is pulled,
//! never pushed, so a slow client holds at most one batch ([`monitor::BATCH`] events) in the
//! server however far behind it is; and a stream ends after [`MAX_STREAM_AGE`], the client
//! resuming where it was.

use super::Endpoint;
use super::error::ApiError;
use super::extract::ApiQuery;
use super::openapi::{Io, one, params};
use crate::auth::Allow;
use crate::domain::monitor::{self, MonitorEvent};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::Stream;
use serde::Deserialize;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, watch};

/// The most monitor streams open at once (a few desk screens each; the rest is a mistake).
pub const MAX_STREAMS: usize = 32;
/// How long one stream lasts before the server ends it and the client resumes.
pub const MAX_STREAM_AGE: Duration = Duration::from_secs(600);
/// How soon a browser reconnects after a lost connection.
pub const RETRY: Duration = Duration::from_secs(1);
/// How often an idle stream sends a comment, so proxies and the client see it alive.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// This module's endpoints.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/api/v1/monitor/events", get(stream))
            .allow(Allow::ANY_STAFF)
            .doc(
                "events",
                "Live gate decisions and alarms (server-sent events), resumable, by door",
            )
            .io(Io::events(one::<MonitorEvent>).params(&[params::<StreamQuery>])),
    ]
}

/// `?after=N&door=ID`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Resume after this event id (a `Last-Event-ID` header wins). Without either, the stream
    /// begins with the 50 newest events.
    #[param(format = Int64, minimum = 0)]
    pub after: Option<u64>,
    /// Only this gate's events (its device id).
    pub door: Option<String>,
}

/// A resume point from outside, as an id.
fn event_id(text: &str, from: &str) -> Result<i64, ApiError> {
    text.trim()
        .parse::<u64>()
        .ok()
        .and_then(|id| i64::try_from(id).ok())
        .ok_or_else(|| ApiError::invalid(format!("{from} is an event id (a whole number)")))
}

async fn stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let resume = match headers.get("last-event-id") {
        Some(v) => Some(event_id(v.to_str().unwrap_or("-"), "Last-Event-ID")?),
        None => q
            .after
            .map(|a| event_id(&a.to_string(), "after"))
            .transpose()?,
    };
    let permit =
        state
            .monitors
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::TooManyRequests {
                retry_after_secs: RETRY.as_secs().max(1),
            })?;
    // Subscribe before reading, so an event stored meanwhile still wakes the stream.
    let stored = state.db.event_seq();
    let door = q.door;
    let asked = door.clone();
    let after = state
        .db
        .call(move |c| {
            if let Some(d) = &asked {
                if !monitor::is_door(c, d)? {
                    return Err(ApiError::NotFound(format!("no gate with id {d}")));
                }
            }
            match resume {
                Some(after) => Ok(after),
                None => Ok(monitor::backlog_start(c, asked.as_deref())?),
            }
        })
        .await?;
    let feed = Feed {
        state,
        door,
        after,
        stored,
        queue: VecDeque::new(),
        ends: tokio::time::Instant::now() + MAX_STREAM_AGE,
        greeted: false,
        _slot: permit,
    };
    let stream = futures_util::stream::unfold(feed, |mut feed| async move {
        let event = feed.next().await?;
        Some((Ok(event), feed))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// One client's stream: where it is, and what it has read but not yet sent.
struct Feed {
    state: AppState,
    door: Option<String>,
    /// Every event up to this id has been read (sent, queued or filtered out).
    after: i64,
    stored: watch::Receiver<i64>,
    /// At most one batch.
    queue: VecDeque<MonitorEvent>,
    ends: tokio::time::Instant,
    greeted: bool,
    /// Held while the stream lives; dropping the stream frees it.
    _slot: OwnedSemaphorePermit,
}

impl Feed {
    /// The next event to send, waiting for one; `None` ends the stream.
    async fn next(&mut self) -> Option<Event> {
        if !std::mem::replace(&mut self.greeted, true) {
            return Some(Event::default().retry(RETRY).comment("gatehouse monitor"));
        }
        let mut shutdown = self.state.shutdown.clone();
        loop {
            if let Some(e) = self.queue.pop_front() {
                let data = serde_json::to_string(&e).ok()?;
                return Some(Event::default().id(e.id.to_string()).data(data));
            }
            let top = *self.stored.borrow_and_update();
            if top > self.after {
                let (after, door) = (self.after, self.door.clone());
                let found = self
                    .state
                    .db
                    .call(move |c| {
                        monitor::between(c, after, top, door.as_deref()).map_err(ApiError::from)
                    })
                    .await;
                match found {
                    Ok(found) => {
                        self.after = match found.last() {
                            Some(last) if found.len() == monitor::BATCH as usize => last.id,
                            _ => top,
                        };
                        self.queue.extend(found);
                    }
                    Err(e) => {
                        // The client resumes from its last event when it reconnects.
                        tracing::error!(error = %e, "reading monitor events failed; stream ended");
                        return None;
                    }
                }
                continue;
            }
            tokio::select! {
                r = self.stored.changed() => r.ok()?,
                () = tokio::time::sleep_until(self.ends) => return None,
                _ = shutdown.wait_for(|down| *down) => return None,
            }
        }
    }
}
