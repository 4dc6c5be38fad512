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
//! 6. at wire pace (`GATE_BENCH_ONLY=wire`, `GATE_BENCH_WIRE_SCANS`, default 200 per case):
//!    each byte of the pass written into the pty when it would arrive on a serial line (one
//!    character = 10 bits: 1.04 ms at 9600 baud, 87 µs at 115200), then first byte → relay and
//!    last byte → relay, at 9600 and 115200 baud, with a CR tail and without one (a GM65 whose
//!    tail register says "none": the line ends by the gate's 100 ms idle gap); journal on
//!    disk, with the disk's floor sampled between scans.

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

/// A gate running in process through the shell the binary runs, with the sim pins.
struct InProcess {
    runtime: tokio::runtime::Runtime,
    sim: gatehouse_gate::door::SimControls,
    checkpoints: std::sync::Arc<gatehouse_gate::journal::CheckpointStats>,
    stop: tokio::sync::oneshot::Sender<()>,
    running: tokio::task::JoinHandle<Result<(), gatehouse_gate::app::AppError>>,
}

impl InProcess {
    fn start(config: Config) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let app = runtime
            .block_on(Application::build(config, Env::default()))
            .unwrap();
        let sim = app.sim().unwrap();
        let checkpoints = app.checkpoint_stats();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let running = runtime.spawn(app.run(async {
            let _ = stop_rx.await;
        }));
        InProcess {
            runtime,
            sim,
            checkpoints,
            stop,
            running,
        }
    }

    fn stop(self) {
        let _ = self.stop.send(());
        self.runtime.block_on(self.running).unwrap().unwrap();
    }
}

/// Waits for the relay's next unlock after `before` (its set count), then for its lock again
/// (every scan must move it); returns when it unlocked.
fn next_unlock(relay: &gatehouse_gate::door::SimPin, before: u64) -> Instant {
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
    relay
        .wait_for_set(before + 1, Duration::from_secs(5))
        .expect("relay never locked");
    set_at
}

/// `base`: where the data dir goes (`None`: the system temp dir, on disk here).
fn scan_latency(scans: usize, gap: Duration, base: Option<&Path>, label: &str, arrival: Arrival) {
    let dir = match base {
        Some(b) => tempfile::tempdir_in(b).unwrap(),
        None => tempfile::tempdir().unwrap(),
    };
    let gate = InProcess::start(Config::parse(&config_text(dir.path())).unwrap());
    let relay = gate.sim.relay.clone();
    let checkpoints = gate.checkpoints.clone();
    // On disk only (on tmpfs a sync costs nothing).
    let mut floor = base.is_none().then(|| DiskFloor::new(dir.path()));
    let load_before = load_average();
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
        latencies.push(next_unlock(&relay, before).saturating_duration_since(t0));
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
    gate.stop();
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
    let gate = InProcess::start(config);
    let sim = gate.sim.clone();
    let load_before = load_average();
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
    gate.stop();
    let (p50, p99, max) = summary(&mut latencies);
    println!(
        "fire input → relay unlocked, {fires} alarms (debounce 50 ms, inputs polled every 10 ms): \
         p50 {p50:?}, p99 {p99:?}, max {max:?}; load before {load_before}, after {}",
        load_average()
    );
}

/// How a line ends on the wire.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// A CR after the text (the GM65's default tail, and what the gate's setup sets).
    Cr,
    /// Nothing: the gate ends the line after its idle gap.
    IdleGap,
}

/// Writes `bytes` one at a time at `baud`'s character time (10 bits: start, 8 data, stop),
/// each at its own deadline from `start` (spinning for the last stretch: a sleep alone
/// overshoots 87 µs); returns when the last byte was written.
fn write_at_wire_pace(
    writer: &mut std::fs::File,
    bytes: &[u8],
    baud: u32,
    start: Instant,
) -> Instant {
    let char_time = Duration::from_secs_f64(10.0 / f64::from(baud));
    let mut last = start;
    for (i, b) in bytes.iter().enumerate() {
        let due = start + char_time * i as u32;
        loop {
            let now = Instant::now();
            if now >= due {
                break;
            }
            if due - now > Duration::from_micros(300) {
                std::thread::sleep(due - now - Duration::from_micros(200));
            } else {
                std::hint::spin_loop();
            }
        }
        last = Instant::now();
        writer.write_all(std::slice::from_ref(b)).unwrap();
    }
    last
}

/// First byte on the wire → relay set, and last byte → relay set, at `baud`.
fn wire_latency(scans: usize, baud: u32, ending: Ending) {
    let dir = tempfile::tempdir().unwrap();
    let idle_gap_ms = match ending {
        Ending::Cr => 0,
        Ending::IdleGap => 100,
    };
    let text =
        config_text(dir.path()).replace("idle_gap_ms = 0", &format!("idle_gap_ms = {idle_gap_ms}"));
    let gate = InProcess::start(Config::parse(&text).unwrap());
    let relay = gate.sim.relay.clone();
    let mut floor = DiskFloor::new(dir.path());
    let load_before = load_average();
    let mut writer = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join("scanner"))
        .unwrap();
    let lines: Vec<Vec<u8>> = (0..100)
        .map(|card| {
            let mut line = pass(card).into_bytes();
            if ending == Ending::Cr {
                line.push(b'\r');
            }
            line
        })
        .collect();
    let wire = Duration::from_secs_f64(10.0 * lines[0].len() as f64 / f64::from(baud));
    let (mut from_first, mut from_last) = (Vec::new(), Vec::new());
    for i in 0..scans {
        let before = relay.set_count();
        let first = Instant::now();
        let last = write_at_wire_pace(&mut writer, &lines[i % lines.len()], baud, first);
        let set_at = next_unlock(&relay, before);
        from_first.push(set_at.saturating_duration_since(first));
        from_last.push(set_at.saturating_duration_since(last));
        std::thread::sleep(Duration::from_millis(10));
        floor.sample();
        std::thread::sleep(Duration::from_millis(10));
    }
    gate.stop();
    let (f50, f99, fmax) = summary(&mut from_first);
    let (l50, l99, lmax) = summary(&mut from_last);
    let (d50, d99, _) = summary(&mut floor.overwrite_fdatasync);
    let gap = Duration::from_millis(idle_gap_ms);
    let goal = (wire + gap + d99).mul_f64(1.2);
    println!(
        "wire pace {baud} baud, {}: {} bytes = {wire:?} on the wire, {scans} scans, journal on disk\n  \
         first byte → relay: p50 {f50:?}, p99 {f99:?}, max {fmax:?}\n  \
         last byte → relay: p50 {l50:?}, p99 {l99:?}, max {lmax:?}\n  \
         disk floor (4 KiB overwrite + fdatasync) p50 {d50:?}, p99 {d99:?}; \
         goal first byte p99 ≤ 1.2 × (wire{} + floor p99) = {goal:?}: {}; load {load_before} → {}",
        match ending {
            Ending::Cr => "CR tail",
            Ending::IdleGap => "no tail, 100 ms idle gap",
        },
        lines[0].len(),
        if ending == Ending::IdleGap {
            " + idle gap"
        } else {
            ""
        },
        if f99 <= goal { "met" } else { "NOT met" },
        load_average(),
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
    let wire_scans = std::env::var("GATE_BENCH_WIRE_SCANS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let only_wire = std::env::var("GATE_BENCH_ONLY").is_ok_and(|v| v == "wire");
    if only_wire {
        for (baud, ending) in [
            (115_200, Ending::Cr),
            (9600, Ending::Cr),
            (115_200, Ending::IdleGap),
            (9600, Ending::IdleGap),
        ] {
            wire_latency(wire_scans, baud, ending);
        }
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
