//! Gate benchmarks (run with `cargo bench -p gatehouse-gate --bench latency`):
//!
//! 1. scan latency: the line terminator written into the simulated scanner's pty → the relay
//!    pin set, p50/p99 over `GATE_BENCH_SCANS` (default 10,000) scans, in process, through the
//!    same shell the binary runs (journal with synchronous=FULL included), with the journal on
//!    disk and again on tmpfs (where fsync costs nothing). Between scans, in the same run and
//!    the same directory, the raw floor of the disk after the same pause as a scan: a 4 KiB
//!    overwrite + fdatasync, then a 4 KiB append + fdatasync and a 4 KiB overwrite + fsync
//!    (the call the bundled SQLite makes) right after it. The line's body is written 200 µs
//!    before its terminator (the last character alone takes 1.04 ms at 9600 baud), and again
//!    on tmpfs with body and terminator in one write;
//!    scans are `GATE_BENCH_GAP_MS` (default 10) apart — a real scanner needs ≈ 125 ms per pass
//!    at 9600 baud and ≈ 11 ms at 115200;
//! 2. the journal commit alone, A/B in one run: SQLite's inline auto-checkpoint against the
//!    background checkpointer the gate uses, commits alternating between the two journals;
//! 3. the real binary's resident memory after 10,000 scans;
//! 4. the real binary's start-up time to its ready line;
//! 5. fire input → relay: the simulated fire loop opened → the relay pin unlocked, p50/p99
//!    over `GATE_BENCH_FIRES` (default 200) alarms, each cleared again before the next
//!    (`GATE_BENCH_ONLY=fire` runs only this). The input debounce (50 ms) is part of it.

use gatehouse_credential::{
    BuildingScope, CardId, Claims, Kind, UtcMinute, ZoneClass, ZoneClasses, ZoneScope,
};
use gatehouse_gate::app::{Application, Env};
use gatehouse_gate::config::Config;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gatehouse_test_support::signer;

fn pass(card: u32) -> String {
    let now = chrono::Utc::now();
    signer()
        .issue(&Claims {
            kind: Kind::Visitor,
            card_id: CardId(card),
            not_before: UtcMinute::floor(now - chrono::Duration::hours(1)).unwrap(),
            not_after: UtcMinute::floor(now + chrono::Duration::days(1)).unwrap(),
            schedule: None,
            scope: ZoneScope {
                building: BuildingScope::One(2),
                floor_lo: 0,
                floor_hi: 0,
                classes: ZoneClasses::of(&[ZoneClass::Entrance]),
            },
        })
        .unwrap()
}

fn config_text(dir: &Path) -> String {
    let k = signer().public_info();
    format!(
        "data_dir = {:?}\nstatus_listen = \"127.0.0.1:0\"\n\
         keys = [{{ key_id = {}, public_key = {:?} }}]\n\
         [door]\nbuilding = 2\nclass = \"entrance\"\npulse_ms = 1\n\
         [scanner]\nsim_link = {:?}\ndebounce_ms = 0\nidle_gap_ms = 0\n\
         [clock]\nntp = \"none\"\n",
        dir.join("data").display().to_string(),
        k.key_id,
        k.public_key,
        dir.join("scanner").display().to_string(),
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// The raw cost of making 4 KiB durable in the journal's directory, sampled between scans.
struct DiskFloor {
    overwrite: std::fs::File,
    append: std::fs::File,
    block: Vec<u8>,
    overwrite_fdatasync: Vec<Duration>,
    append_fdatasync: Vec<Duration>,
    overwrite_fsync: Vec<Duration>,
}

impl DiskFloor {
    fn new(dir: &Path) -> Self {
        let open = |name: &str| {
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(true)
                .read(true)
                .write(true)
                .open(dir.join(name))
                .unwrap()
        };
        let overwrite = open("floor-overwrite");
        let block = vec![0x5A; 4096];
        overwrite.write_all_at(&block, 0).unwrap();
        overwrite.sync_all().unwrap();
        DiskFloor {
            overwrite,
            append: open("floor-append"),
            block,
            overwrite_fdatasync: Vec::new(),
            append_fdatasync: Vec::new(),
            overwrite_fsync: Vec::new(),
        }
    }

    fn sample(&mut self) {
        let t = Instant::now();
        self.overwrite.write_all_at(&self.block, 0).unwrap();
        self.overwrite.sync_data().unwrap();
        self.overwrite_fdatasync.push(t.elapsed());
        let t = Instant::now();
        self.append.write_all(&self.block).unwrap();
        self.append.sync_data().unwrap();
        self.append_fdatasync.push(t.elapsed());
        let t = Instant::now();
        self.overwrite.write_all_at(&self.block, 0).unwrap();
        self.overwrite.sync_all().unwrap();
        self.overwrite_fsync.push(t.elapsed());
    }
}

fn summary(samples: &mut [Duration]) -> (Duration, Duration, Duration) {
    samples.sort();
    (
        percentile(samples, 0.5),
        percentile(samples, 0.99),
        *samples.last().unwrap(),
    )
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// How the line reaches the pty.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Arrival {
    /// The body, then 200 µs later the terminator (on a 9600-baud line the last character
    /// alone takes 1.04 ms), so that the gate can check the signature before the terminator.
    TerminatorLast,
    /// Body and terminator in one write (a USB adapter that hands the whole line over at
    /// once): nothing can be done before the terminator.
    OneWrite,
}

/// `base`: where the data dir goes (`None`: the system temp dir, on disk here).
fn scan_latency(scans: usize, gap: Duration, base: Option<&Path>, label: &str, arrival: Arrival) {
    let dir = match base {
        Some(b) => tempfile::tempdir_in(b).unwrap(),
        None => tempfile::tempdir().unwrap(),
    };
    let config = Config::parse(&config_text(dir.path())).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = runtime
        .block_on(Application::build(config, Env::default()))
        .unwrap();
    let relay = app.sim().unwrap().relay;
    let checkpoints = app.checkpoint_stats();
    // On disk only (on tmpfs a sync costs nothing).
    let mut floor = base.is_none().then(|| DiskFloor::new(dir.path()));
    let load_before = load_average();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = runtime.spawn(app.run(async {
        let _ = stop_rx.await;
    }));
    let passes: Vec<String> = (0..100).map(pass).collect();
    let mut writer = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join("scanner"))
        .unwrap();
    let mut latencies = Vec::with_capacity(scans);
    let lines: Vec<String> = passes.iter().map(|p| format!("{p}\r")).collect();
    for i in 0..scans {
        let before;
        let t0;
        if arrival == Arrival::TerminatorLast {
            writer
                .write_all(passes[i % passes.len()].as_bytes())
                .unwrap();
            // Let the body arrive first, so only the terminator's path is timed.
            std::thread::sleep(Duration::from_micros(200));
            before = relay.set_count();
            t0 = Instant::now();
            writer.write_all(b"\r").unwrap();
        } else {
            before = relay.set_count();
            t0 = Instant::now();
            writer.write_all(lines[i % lines.len()].as_bytes()).unwrap();
        }
        relay
            .wait_for_set(before, Duration::from_secs(5))
            .expect("relay never moved");
        let set_at = relay
            .transitions()
            .into_iter()
            .rev()
            .find(|t| t.high)
            .unwrap()
            .mono;
        latencies.push(set_at.saturating_duration_since(t0));
        // Wait for the 1 ms pulse to end so that every scan moves the relay.
        relay
            .wait_for_set(before + 1, Duration::from_secs(5))
            .expect("relay never locked");
        if let Some(floor) = floor.as_mut() {
            // After the same quiet time as a scan: here the first write after a pause costs
            // more than one right after another.
            std::thread::sleep(gap);
            floor.sample();
        }
        std::thread::sleep(gap);
    }
    let (p50, p99, max) = summary(&mut latencies);
    println!(
        "scan latency (terminator → relay set), journal on {label}, {}, {scans} scans {gap:?} apart: \
         p50 {p50:?}, p99 {p99:?}, max {max:?} (load average {load_before} before, {} after)",
        match arrival {
            Arrival::TerminatorLast => "terminator 200 µs after the body",
            Arrival::OneWrite => "line and terminator in one write",
        },
        load_average()
    );
    if let Some(floor) = floor.as_mut() {
        for (what, samples) in [
            (
                "4 KiB overwrite + fdatasync",
                &mut floor.overwrite_fdatasync,
            ),
            ("4 KiB append + fdatasync", &mut floor.append_fdatasync),
            ("4 KiB overwrite + fsync", &mut floor.overwrite_fsync),
        ] {
            let (f50, f99, fmax) = summary(samples);
            println!(
                "  floor, same dir, between scans: {what}: p50 {f50:?}, p99 {f99:?}, max {fmax:?}; \
                 scan latency / floor: p50 {:.1}x, p99 {:.1}x",
                p50.as_secs_f64() / f50.as_secs_f64(),
                p99.as_secs_f64() / f99.as_secs_f64()
            );
        }
    }
    println!(
        "  journal checkpoints off the decision path: {} (WAL restarts taken by the checkpointer: {}, largest WAL {} frames)",
        checkpoints
            .checkpoints
            .load(std::sync::atomic::Ordering::Relaxed),
        checkpoints
            .restarts
            .load(std::sync::atomic::Ordering::Relaxed),
        checkpoints
            .max_frames
            .load(std::sync::atomic::Ordering::Relaxed),
    );
    let _ = stop_tx.send(());
    runtime.block_on(running).unwrap().unwrap();
}

/// One journal commit (an admit entry, synchronous=FULL) timed with SQLite's inline
/// auto-checkpoint and with the background checkpointer, alternating on the same disk.
fn journal_commit_ab(commits: usize, gap: Duration) {
    use gatehouse_gate::core::Entry;
    use gatehouse_gate::journal::Journal;
    let dir = tempfile::tempdir().unwrap();
    let mut inline = Journal::open(&dir.path().join("inline.sqlite"), u64::MAX).unwrap();
    let mut background = Journal::open(&dir.path().join("background.sqlite"), u64::MAX).unwrap();
    let checkpointer = background.start_checkpointer().unwrap();
    let entry = Entry {
        card_id: Some(CardId(1)),
        kind: Some(Kind::Visitor),
        event: gatehouse_credential::api::gate::GateEvent::Admitted { flag: None },
        direction: None,
        area: None,
        unlocks: true,
    };
    let mut times = [Vec::new(), Vec::new()];
    let now = chrono::Utc::now();
    for i in 0..commits {
        // Alternate which goes first, so neither always follows the other's fsync.
        for which in [i % 2, 1 - i % 2] {
            let journal = if which == 0 {
                &mut inline
            } else {
                &mut background
            };
            let t = Instant::now();
            journal.append(&entry, now, true).unwrap();
            times[which].push(t.elapsed());
        }
        std::thread::sleep(gap);
    }
    for (label, samples) in ["inline auto-checkpoint", "background checkpointer"]
        .into_iter()
        .zip(times.iter_mut())
    {
        let (p50, p99, max) = summary(samples);
        println!(
            "journal commit on disk, {label}, {commits} commits {gap:?} apart: p50 {p50:?}, p99 {p99:?}, max {max:?}"
        );
    }
    println!(
        "  background checkpoints: {} (load average {})",
        checkpointer
            .stats
            .checkpoints
            .load(std::sync::atomic::Ordering::Relaxed),
        load_average()
    );
}

/// Spawns the binary, returns it and the time to its ready line.
fn spawn_gate(dir: &Path) -> (std::process::Child, Duration) {
    let config = dir.join("gate.toml");
    std::fs::write(&config, config_text(dir)).unwrap();
    let t0 = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse-gate"))
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready = t0.elapsed();
    assert!(line.starts_with("gatehouse-gate status on"), "{line:?}");
    (child, ready)
}

fn stop(mut child: std::process::Child) {
    gatehouse_e2e::process::signal(&child, gatehouse_e2e::process::Signal::SIGTERM).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap()
}

fn memory_after_scans(scans: usize) {
    let dir = tempfile::tempdir().unwrap();
    let (child, _) = spawn_gate(dir.path());
    let pid = child.id();
    let before = rss_kib(pid, "VmRSS:");
    let passes: Vec<String> = (0..100).map(pass).collect();
    let mut writer = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join("scanner"))
        .unwrap();
    for i in 0..scans {
        writer
            .write_all(format!("{}\r", passes[i % passes.len()]).as_bytes())
            .unwrap();
    }
    let journal = dir.path().join("data/journal.sqlite");
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let n = gatehouse_gate::journal::Journal::open(&journal, u64::MAX)
            .unwrap()
            .pending()
            .unwrap();
        if n as usize >= scans {
            break;
        }
        assert!(Instant::now() < deadline, "only {n} of {scans} journalled");
        std::thread::sleep(Duration::from_millis(200));
    }
    println!(
        "resident memory: {} KiB at start, {} KiB after {scans} scans (peak {} KiB)",
        before,
        rss_kib(pid, "VmRSS:"),
        rss_kib(pid, "VmHWM:")
    );
    stop(child);
}

fn startup(runs: usize) {
    let mut first = Vec::new();
    let mut again = Vec::new();
    for _ in 0..runs {
        let dir = tempfile::tempdir().unwrap();
        let (child, t) = spawn_gate(dir.path());
        first.push(t);
        stop(child);
        let (child, t) = spawn_gate(dir.path());
        again.push(t);
        stop(child);
    }
    first.sort();
    again.sort();
    println!(
        "start-up to ready, {runs} runs: fresh data dir p50 {:?} max {:?}; restart p50 {:?} max {:?}",
        percentile(&first, 0.5),
        first.last().unwrap(),
        percentile(&again, 0.5),
        again.last().unwrap()
    );
}

/// Fire input change → relay unlocked, through the shell the binary runs.
fn fire_latency(fires: usize) {
    let dir = tempfile::tempdir().unwrap();
    // An explicit [pins] section: the documented input debounce (50 ms) applies.
    let text = format!("{}[pins]\nbackend = \"sim\"\n", config_text(dir.path()));
    let config = Config::parse(&text).unwrap();
    assert_eq!(config.pins.input_debounce_ms, 50);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = runtime
        .block_on(Application::build(config, Env::default()))
        .unwrap();
    let sim = app.sim().unwrap();
    let load_before = load_average();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = runtime.spawn(app.run(async {
        let _ = stop_rx.await;
    }));
    let mut latencies = Vec::with_capacity(fires);
    for _ in 0..fires {
        for alarm in [true, false] {
            let mut before = sim.relay.set_count();
            sim.fire_alarm.drive(alarm);
            let changed = sim.fire_alarm.transitions().last().unwrap().mono;
            // Wait for the relay to reach the level the alarm asks for (the shell's start-up
            // "locked" may come first).
            let set = loop {
                before = sim
                    .relay
                    .wait_for_set(before, Duration::from_secs(5))
                    .expect("relay never moved");
                let set = *sim.relay.transitions().last().unwrap();
                if set.high == alarm {
                    break set;
                }
            };
            if alarm {
                latencies.push(set.mono - changed);
            }
        }
    }
    let _ = stop_tx.send(());
    runtime.block_on(running).unwrap().unwrap();
    let (p50, p99, max) = summary(&mut latencies);
    println!(
        "fire input → relay unlocked, {fires} alarms (debounce 50 ms, inputs polled every 10 ms): \
         p50 {p50:?}, p99 {p99:?}, max {max:?}; load before {load_before}, after {}",
        load_average()
    );
}

fn main() {
    // `cargo test --benches` passes flags; run the full set only under `cargo bench`.
    let scans: usize = std::env::var("GATE_BENCH_SCANS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let gap = Duration::from_millis(
        std::env::var("GATE_BENCH_GAP_MS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(10),
    );
    if !std::env::args().any(|a| a == "--bench") {
        println!("run with `cargo bench -p gatehouse-gate --bench latency`");
        return;
    }
    // `GATE_BENCH_ONLY=disk` runs only the on-disk latency (for quick comparisons).
    let only_disk = std::env::var("GATE_BENCH_ONLY").is_ok_and(|v| v == "disk");
    let fires = std::env::var("GATE_BENCH_FIRES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    if std::env::var("GATE_BENCH_ONLY").is_ok_and(|v| v == "fire") {
        fire_latency(fires);
        return;
    }
    if !only_disk {
        startup(20);
    }
    scan_latency(scans, gap, None, "disk (fsync)", Arrival::TerminatorLast);
    if only_disk {
        return;
    }
    journal_commit_ab(scans / 2, gap);
    // tmpfs makes fsync free: what the software itself costs.
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        scan_latency(scans, gap, Some(shm), "tmpfs", Arrival::TerminatorLast);
        scan_latency(scans, gap, Some(shm), "tmpfs", Arrival::OneWrite);
    }
    memory_after_scans(scans);
    fire_latency(fires);
}
