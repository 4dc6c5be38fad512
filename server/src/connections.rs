//! Serving HTTP connections with bounds, so that clients who connect and stall cannot use up
//! the server's file descriptors: a connection must send a complete request head within
//! [`ConnectionLimits::header_read_timeout`] (also while it sits idle between requests), and
//! at most [`ConnectionLimits::max_connections`] are open at once — kept below the process's
//! file limit. When the limit is reached, the connection that has waited longest without a
//! request in progress is closed to make room; if every connection is busy, the new one is
//! closed instead. Errors hyper answers itself, before any request reaches the router, get a
//! JSON body like every other error ([`early_errors`]).

pub mod early_errors;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// File descriptors kept free for the database, key files, logs and the listener.
pub const RESERVED_FILES: u64 = 64;

/// The bounds on client connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Most connections open at once (lowered at start to stay below the file limit).
    pub max_connections: usize,
    /// Time a connection has to send a request head, counted from when it is opened or its
    /// previous answer was sent.
    pub header_read_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 4096,
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

impl ConnectionLimits {
    /// These limits with `max_connections` lowered to fit a file limit of `nofile`.
    pub fn within_file_limit(self, nofile: u64) -> ConnectionLimits {
        let room = nofile.saturating_sub(RESERVED_FILES).max(1);
        ConnectionLimits {
            max_connections: self
                .max_connections
                .min(usize::try_from(room).unwrap_or(usize::MAX)),
            ..self
        }
    }
}

/// The process's soft limit on open files, if it can be read.
pub fn file_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

/// One open connection as the acceptor sees it.
struct Open {
    busy: Arc<AtomicUsize>,
    close: oneshot::Sender<()>,
}

/// The open connections, by the order they were accepted.
#[derive(Default)]
struct Table {
    next_id: u64,
    open: BTreeMap<u64, Open>,
}

impl Table {
    /// Makes room for one more connection under `max`: closes the oldest idle one if full.
    /// `false` if every connection is busy.
    fn make_room(&mut self, max: usize) -> bool {
        if self.open.len() < max {
            return true;
        }
        let idle = self
            .open
            .iter()
            .find(|(_, c)| c.busy.load(Ordering::Acquire) == 0)
            .map(|(id, _)| *id);
        match idle.and_then(|id| self.open.remove(&id)) {
            Some(evicted) => {
                let _ = evicted.close.send(());
                metrics::counter!("connections_evicted_total").increment(1);
                true
            }
            None => false,
        }
    }
}

/// Serves `router` on `listener` under `limits` until `shutdown` completes; then stops
/// accepting, lets the requests in flight finish (for at most `drain`), and returns.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> std::io::Result<()> {
    let table = Arc::new(Mutex::new(Table::default()));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let http = Arc::new(http);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: wait, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let (close_tx, close_rx) = oneshot::channel();
        let busy = Arc::new(AtomicUsize::new(0));
        let id = {
            let Ok(mut t) = table.lock() else { break };
            if !t.make_room(limits.max_connections) {
                metrics::counter!("connections_refused_total").increment(1);
                continue;
            }
            let id = t.next_id;
            t.next_id += 1;
            t.open.insert(
                id,
                Open {
                    busy: busy.clone(),
                    close: close_tx,
                },
            );
            id
        };
        let _ = stream.set_nodelay(true);
        let service = {
            let router = router.clone();
            hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                let mut router = router.clone();
                let guard = Busy::new(busy.clone());
                async move {
                    let response = tower_service::Service::call(
                        &mut router,
                        request.map(axum::body::Body::new),
                    )
                    .await;
                    drop(guard);
                    response
                }
            })
        };
        let conn = graceful.watch(http.serve_connection(
            TokioIo::new(early_errors::EarlyErrors::new(stream)),
            service,
        ));
        let table = table.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = conn => {}
                _ = close_rx => {}
            }
            if let Ok(mut t) = table.lock() {
                t.open.remove(&id);
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after {drain:?}; closing them");
    }
    Ok(())
}

/// Marks a connection busy while a request is being answered.
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn new(count: Arc<AtomicUsize>) -> Busy {
        count.fetch_add(1, Ordering::AcqRel);
        Busy(count)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_stays_below_the_file_limit() {
        let l = ConnectionLimits::default();
        assert_eq!(l.within_file_limit(1024).max_connections, 1024 - 64);
        assert_eq!(l.within_file_limit(1 << 20).max_connections, 4096);
    }

    #[test]
    fn a_full_table_closes_its_oldest_idle_connection() {
        let mut t = Table::default();
        let mut closed = Vec::new();
        for (id, busy) in [(0, 1), (1, 0), (2, 0)] {
            let (tx, rx) = oneshot::channel();
            t.open.insert(
                id,
                Open {
                    busy: Arc::new(AtomicUsize::new(busy)),
                    close: tx,
                },
            );
            closed.push(rx);
        }
        assert!(t.make_room(3));
        assert!(
            closed[1].try_recv().is_ok(),
            "the oldest idle one is closed"
        );
        assert!(closed[0].try_recv().is_err(), "a busy one is kept");
        assert_eq!(t.open.len(), 2);
        t.open.get(&2).unwrap().busy.store(1, Ordering::Release);
        assert!(!t.make_room(2), "all busy: no room");
    }
}
