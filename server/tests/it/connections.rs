//! Clients that connect and stall: the real server binary under a 1,024 file limit keeps
//! answering `/healthz` while 2,000 connections hold half a request each.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// The server binary in its own process, with `RLIMIT_NOFILE` set to `nofile` by `prlimit`.
struct Server {
    child: Child,
    addr: std::net::SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(nofile: u32, header_timeout_secs: u64) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\nheader_read_timeout_secs = {header_timeout_secs}\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let mut child = Command::new("prlimit")
        .arg(format!("--nofile={nofile}:{nofile}"))
        .arg(env!("CARGO_BIN_EXE_gatehouse-server"))
        .arg("--config")
        .arg(&config)
        .env("GATEHOUSE_ADMIN_PASSWORD", crate::app::ADMIN_PASSWORD)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("prlimit (util-linux) runs the server");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("server printed its ready line")
            .unwrap();
        if let Some(url) = line.strip_prefix("gatehouse-server listening on http://") {
            break url.parse().unwrap();
        }
    };
    Server {
        child,
        addr,
        _dir: dir,
    }
}

/// Raises this test process's own soft file limit so it can hold `want` sockets.
fn raise_own_file_limit(want: u64) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let current = getrlimit(Resource::Nofile);
    let hard = current.maximum;
    let soft = hard.map_or(want, |h| h.min(want));
    if current.current.is_some_and(|c| c >= soft) {
        return;
    }
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(soft),
            maximum: hard,
        },
    )
    .expect("raise RLIMIT_NOFILE");
}

async fn healthz(addr: std::net::SocketAddr) -> Result<u16, String> {
    let r = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    Ok(r.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_stalled_connections_do_not_take_the_server_down() {
    const STALLED: usize = 2_000;
    raise_own_file_limit(STALLED as u64 + 1_000);
    // A header timeout longer than the test: the connection limit alone must keep it up.
    let server = start_server(1_024, 600);
    let addr = server.addr;
    assert_eq!(healthz(addr).await, Ok(200));

    let started = Instant::now();
    let mut held = Vec::with_capacity(STALLED);
    for _ in 0..STALLED {
        let mut s = tokio::time::timeout(Duration::from_secs(30), TcpStream::connect(addr))
            .await
            .expect("connect within 30 s")
            .expect("connect");
        // Half a request head, never finished.
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        held.push(s);
    }
    let status = healthz(addr).await;
    assert_eq!(
        status,
        Ok(200),
        "with {STALLED} stalled connections open ({:?} to open them)",
        started.elapsed()
    );
    // Still up for a second request, and the stalled ones are still held by this test.
    assert_eq!(healthz(addr).await, Ok(200));
    assert_eq!(held.len(), STALLED);
}

#[tokio::test]
async fn a_connection_that_never_finishes_its_request_head_is_closed() {
    let server = start_server(1_024, 1);
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    let mut buf = [0u8; 512];
    // The server closes it (reads end) well within this bound, after its 1 s header timeout.
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        use tokio::io::AsyncReadExt;
        let mut total = 0;
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return total,
                Ok(n) => total += n,
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the stalled connection is still open after 20 s"
    );
}
