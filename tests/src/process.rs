//! One running program: spawned with its arguments, ready when it prints its ready line,
//! stopped with SIGTERM or SIGKILL, restartable with the same arguments.

use crate::programs::{self, Program};
use crate::{HarnessError, Result};
use gatehouse_test_support::child_log_filter;
pub use nix::sys::signal::Signal;
use nix::unistd::Pid;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a program may take to print its ready line.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How to start a program.
#[derive(Clone, Debug)]
pub struct Launch {
    /// Which program.
    pub program: Program,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Extra environment variables.
    pub env: Vec<(OsString, OsString)>,
    /// Where its stderr (the tracing log) is appended.
    pub log_path: PathBuf,
}

impl Launch {
    /// A launch of `program` logging to `log_path`.
    pub fn new(program: Program, log_path: impl Into<PathBuf>) -> Self {
        Launch {
            program,
            args: Vec::new(),
            env: Vec::new(),
            log_path: log_path.into(),
        }
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }
}

/// A started program that printed its ready line.
#[derive(Debug)]
pub struct Running {
    launch: Launch,
    child: Child,
    url: String,
    stdout_lines: Arc<Mutex<VecDeque<String>>>,
}

impl Running {
    /// Starts the program and waits for its ready line.
    pub fn start(launch: Launch) -> Result<Running> {
        let binary = programs::binary(launch.program)?;
        let name = launch.program.binary();
        let log = File::options()
            .create(true)
            .append(true)
            .open(&launch.log_path)
            .map_err(HarnessError::io(format!(
                "opening log {}",
                launch.log_path.display()
            )))?;
        let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
        let mut cmd = Command::new(&binary);
        cmd.args(&launch.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            // A NOTIFY_SOCKET inherited from a service manager is not ours to answer.
            .env_remove("NOTIFY_SOCKET");
        cmd.env("RUST_LOG", child_log_filter());
        for (k, v) in &launch.env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .map_err(HarnessError::io(format!("starting {}", binary.display())))?;
        let stdout = child.stdout.take().ok_or_else(|| HarnessError::NotReady {
            name: name.into(),
            message: "no stdout pipe".into(),
            log_tail: String::new(),
        })?;
        let stdout_lines = Arc::new(Mutex::new(VecDeque::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let prefix = launch.program.ready_prefix();
        let lines = Arc::clone(&stdout_lines);
        // Drains stdout for the program's whole life so it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut ready_tx = Some(ready_tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix(prefix)
                    && let Some(tx) = ready_tx.take()
                {
                    let _ = tx.send(url.trim().to_owned());
                }
                if let Ok(mut l) = lines.lock() {
                    l.push_back(line);
                    if l.len() > 1000 {
                        l.pop_front();
                    }
                }
            }
        });
        let not_ready = |message: String, launch: &Launch| HarnessError::NotReady {
            name: name.into(),
            message,
            log_tail: log_tail_since(&launch.log_path, log_start, 40),
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        let url = loop {
            match ready_rx.recv_timeout(Duration::from_millis(50)) {
                Ok(url) => break url,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().ok();
                    return Err(not_ready(
                        format!("it closed stdout and exited ({status:?})"),
                        &launch,
                    ));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(not_ready(format!("it exited with {status}"), &launch));
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(not_ready(
                    format!("nothing within {} s", READY_TIMEOUT.as_secs()),
                    &launch,
                ));
            }
        };
        Ok(Running {
            launch,
            child,
            url,
            stdout_lines,
        })
    }

    /// The base URL from the ready line, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How it was started.
    pub fn launch(&self) -> &Launch {
        &self.launch
    }

    /// The stdout lines seen so far (the ready line included).
    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout_lines
            .lock()
            .map(|l| l.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The last `n` lines of its log.
    pub fn log_tail(&self, n: usize) -> String {
        log_tail_since(&self.launch.log_path, 0, n)
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends SIGTERM and waits up to `timeout` for it to exit.
    pub fn terminate(mut self, timeout: Duration) -> Result<ExitStatus> {
        signal(&self.child, Signal::SIGTERM)?;
        let start = Instant::now();
        if let Some(status) =
            wait_timeout(&mut self.child, timeout).map_err(HarnessError::io("waiting for exit"))?
        {
            return Ok(status);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        Err(HarnessError::Timeout {
            what: format!("{} to exit after SIGTERM", self.launch.program.binary()),
            waited_ms: start.elapsed().as_millis(),
        })
    }

    /// Kills it with SIGKILL (no chance to clean up) and reaps it.
    pub fn kill9(mut self) -> Result<Launch> {
        signal(&self.child, Signal::SIGKILL)?;
        self.child
            .wait()
            .map_err(HarnessError::io("reaping after SIGKILL"))?;
        Ok(self.launch.clone())
    }

    /// Kills it with SIGKILL and starts it again with the same arguments.
    pub fn kill9_and_restart(self) -> Result<Running> {
        let launch = self.kill9()?;
        Running::start(launch)
    }
}

/// Waits up to `timeout` for `child` to exit and reaps it; `None` if it is still running.
/// A helper thread blocks in `waitid(WNOWAIT)`, which wakes at the exit without reaping, so
/// `try_wait` still gets the status; nothing polls.
pub fn wait_timeout(child: &mut Child, timeout: Duration) -> std::io::Result<Option<ExitStatus>> {
    use nix::sys::wait::{Id, WaitPidFlag, waitid};
    if let Some(status) = child.try_wait()? {
        return Ok(Some(status));
    }
    let pid = Pid::from_raw(i32::try_from(child.id()).map_err(std::io::Error::other)?);
    let (exited, exit) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = exited.send(waitid(
            Id::Pid(pid),
            WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT,
        ));
    });
    let _ = exit.recv_timeout(timeout);
    child.try_wait()
}

/// Sends `sig` to a child that has not been reaped yet.
pub fn signal(child: &Child, sig: Signal) -> Result<()> {
    let pid = i32::try_from(child.id()).map_err(|_| HarnessError::Io {
        what: "signalling".into(),
        source: std::io::Error::other("pid out of range"),
    })?;
    nix::sys::signal::kill(Pid::from_raw(pid), sig).map_err(|e| HarnessError::Io {
        what: format!("sending {sig} to {pid}"),
        source: e.into(),
    })
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The last `n` lines of a log file from byte `since` on.
pub fn log_tail_since(path: &Path, since: u64, n: usize) -> String {
    let mut text = String::new();
    if let Ok(mut f) = File::open(path) {
        let _ = f.seek(SeekFrom::Start(since));
        let _ = f.read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Makes the kernel refuse every write past the first byte of any file process `pid` writes
/// (`RLIMIT_FSIZE`), as a full or failing SD card does; `false` lifts the limit.
pub fn refuse_writes(pid: u32, refuse: bool) -> Result<()> {
    // util-linux's prlimit(1) sets it for another process; nix has prlimit(2) for our own only.
    let soft = if refuse { "1" } else { "unlimited" };
    let out = Command::new("prlimit")
        .arg(format!("--pid={pid}"))
        .arg(format!("--fsize={soft}:unlimited"))
        .output()
        .map_err(HarnessError::io("running prlimit"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(HarnessError::Io {
            what: format!("prlimit of process {pid}"),
            source: std::io::Error::other(String::from_utf8_lossy(&out.stderr).into_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_timeout_answers_at_the_exit_and_leaves_a_running_child_alone() {
        let mut quick = Command::new("sleep").arg("0.2").spawn().unwrap();
        let start = Instant::now();
        let status = wait_timeout(&mut quick, Duration::from_secs(20)).unwrap();
        assert!(status.is_some_and(|s| s.success()), "{status:?}");
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "answered at the exit, not at the timeout: {:?}",
            start.elapsed()
        );

        let mut slow = Command::new("sleep").arg("30").spawn().unwrap();
        assert_eq!(
            wait_timeout(&mut slow, Duration::from_millis(200)).unwrap(),
            None
        );
        slow.kill().unwrap();
        let status = wait_timeout(&mut slow, Duration::from_secs(20)).unwrap();
        assert!(status.is_some_and(|s| !s.success()), "{status:?}");
        assert!(slow.try_wait().unwrap().is_some(), "reaped");
    }
}
