//! A network link between a program and the server that a story can cut and restore, like a
//! gate's cable: a TCP relay on its own loopback port. Cut, it closes every connection and
//! stops listening (connections are refused); restored, it listens on the same port again.

use crate::{HarnessError, Result};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A link that forwards to the server until cut.
#[derive(Debug)]
pub struct Link {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Shared {
    up: AtomicBool,
    stop: AtomicBool,
    /// Both ends of every open connection, to close them when the link is cut.
    open: Mutex<Vec<TcpStream>>,
    /// When each connection was accepted.
    accepted: Mutex<Vec<Instant>>,
}

impl Link {
    /// A link up and forwarding to `target` (e.g. `127.0.0.1:8080`).
    pub fn start(target: &str) -> Result<Link> {
        let target: SocketAddr = target.parse().map_err(|e| HarnessError::Io {
            what: format!("link target {target}"),
            source: std::io::Error::other(e),
        })?;
        let listener = TcpListener::bind("127.0.0.1:0").map_err(HarnessError::io("link bind"))?;
        let addr = listener
            .local_addr()
            .map_err(HarnessError::io("link address"))?;
        let shared = Arc::new(Shared::default());
        shared.up.store(true, Ordering::SeqCst);
        let s = shared.clone();
        let thread = std::thread::spawn(move || accept_loop(Some(listener), addr, target, &s));
        Ok(Link {
            addr,
            shared,
            thread: Some(thread),
        })
    }

    /// The URL a program uses to reach the server through this link.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Cuts the link: open connections are closed and new ones refused.
    pub fn cut(&self) {
        self.shared.up.store(false, Ordering::SeqCst);
        for c in self.shared.open.lock().unwrap().drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }

    /// Restores the link; returns when it accepts connections again.
    pub fn restore(&self) -> Instant {
        self.shared.up.store(true, Ordering::SeqCst);
        let _ = crate::wait_for("the link to listen", Duration::from_secs(5), || {
            TcpStream::connect(self.addr).ok()
        });
        Instant::now()
    }

    /// When the first connection after `since` was accepted, if one was.
    pub fn first_connection_after(&self, since: Instant) -> Option<Instant> {
        self.shared
            .accepted
            .lock()
            .unwrap()
            .iter()
            .copied()
            .find(|t| *t >= since)
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.cut();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(
    mut listener: Option<TcpListener>,
    addr: SocketAddr,
    target: SocketAddr,
    shared: &Shared,
) {
    while !shared.stop.load(Ordering::SeqCst) {
        if !shared.up.load(Ordering::SeqCst) {
            listener = None;
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        if listener.is_none() {
            listener = TcpListener::bind(addr).ok();
            if let Some(l) = &listener {
                let _ = l.set_nonblocking(true);
            } else {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
        }
        let Some(l) = &listener else { continue };
        match l.accept() {
            Ok((client, _)) => {
                shared.accepted.lock().unwrap().push(Instant::now());
                let _ = client.set_nonblocking(false);
                if let Ok(server) = TcpStream::connect(target) {
                    forward(client, server, shared);
                }
            }
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}

/// Copies both ways on two threads until either side closes.
fn forward(client: TcpStream, server: TcpStream, shared: &Shared) {
    let pairs = [
        (client.try_clone(), server.try_clone()),
        (server.try_clone(), client.try_clone()),
    ];
    {
        let mut open = shared.open.lock().unwrap();
        for s in [&client, &server] {
            if let Ok(c) = s.try_clone() {
                open.push(c);
            }
        }
    }
    for pair in pairs {
        if let (Ok(mut from), Ok(mut to)) = pair {
            std::thread::spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                loop {
                    match from.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                    }
                }
                let _ = to.shutdown(Shutdown::Both);
                let _ = from.shutdown(Shutdown::Both);
            });
        }
    }
}
