//! The gate's TOML configuration. Every option is documented here and in
//! `gate-controller/gate.example.toml`; unknown keys are rejected so that a typo is an error,
//! not a silently ignored setting.

use crate::clock::NtpSourceKind;
use crate::core::{AntiPassback, ClockPolicy, Direction, DoorPolicy};
use gatehouse_credential::api::gate::AreaName;
use gatehouse_credential::keys::PublicKeyInfo;
use gatehouse_credential::{Zone, ZoneClass};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

/// Why the configuration cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read, or is not TOML of the expected shape.
    #[error(transparent)]
    File(#[from] gatehouse_shell::config::FileError),
    /// A value is out of range or options contradict each other.
    #[error("config: {0}")]
    Invalid(String),
}

/// The whole gate configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the journal (SQLite) and the device key live. Created if missing.
    pub data_dir: PathBuf,
    /// Address of the local status endpoint (`GET /status`); port 0 picks a free port.
    #[serde(default = "default_status_listen")]
    pub status_listen: SocketAddr,
    /// The door this gate guards and how it behaves.
    pub door: DoorConfig,
    /// The QR scanner; on a lane with two readers, the entry reader.
    pub scanner: ScannerConfig,
    /// The exit reader of an entry/exit pair wired to this controller (same keys as
    /// `[scanner]`). When set, scans from `[scanner]` count as entries, scans from here as
    /// exits, and anti-passback follows the direction.
    #[serde(default)]
    pub exit_scanner: Option<ScannerConfig>,
    /// GPIO pins (relay, door contact, exit button, LEDs, buzzer).
    #[serde(default)]
    pub pins: PinsConfig,
    /// Sync with the server; without it the gate decides on `keys` alone.
    #[serde(default)]
    pub sync: Option<SyncConfig>,
    /// Untrusted-clock handling.
    #[serde(default)]
    pub clock: ClockConfig,
    /// Journal retention.
    #[serde(default)]
    pub journal: JournalConfig,
    /// Public keys to trust before the first sync (`{ key_id = 1, public_key = "hex" }`).
    #[serde(default)]
    pub keys: Vec<PublicKeyInfo>,
}

/// `[door]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoorConfig {
    /// Building number 0–254.
    pub building: u8,
    /// `entrance`, `floor`, `service_elevator`, `passenger_elevator` or `carpark`.
    pub class: ZoneClass,
    /// The floor, required for `class = "floor"`.
    #[serde(default)]
    pub floor: Option<i8>,
    /// Relay unlock time per admit or exit request, ms (default 3000).
    #[serde(default = "default_pulse_ms")]
    pub pulse_ms: u64,
    /// Door open longer than this raises `door_held_open`, seconds (default 30).
    #[serde(default = "default_held_open_secs")]
    pub held_open_alarm_secs: u64,
    /// `off` (default), `soft` (admit and flag) or `hard` (deny).
    #[serde(default)]
    pub anti_passback: AntiPassback,
    /// How long a card's last passage is remembered, minutes (default 10): a second passage
    /// (with an exit reader: a second one in the same direction) within it is a passback.
    #[serde(default = "default_anti_passback_minutes")]
    pub anti_passback_minutes: u64,
    /// How long the green/red LED stays on after a decision, ms (default 1000).
    #[serde(default = "default_feedback_ms")]
    pub feedback_ms: u64,
    /// `entry` or `exit`: this one-reader door is one side of a pair whose other side is
    /// another controller (with `[exit_scanner]` the two readers say it themselves).
    #[serde(default)]
    pub direction: Option<Direction>,
    /// The doors whose passages count together for anti-passback, told to each other
    /// through the server (e.g. an entry turnstile and an exit turnstile on two controllers).
    #[serde(default)]
    pub anti_passback_area: Option<AreaName>,
    /// Whether a fire alarm or an evacuation releases this door (default: true for
    /// `class = "entrance"`, false otherwise). Set it on every door on an escape route.
    #[serde(default)]
    pub fire_release: Option<bool>,
    /// Keep a fire release after the alarm clears until a person resets it
    /// (`POST /fire/reset` on the status endpoint); default false: the door locks again as
    /// soon as the fire panel's alarm clears (the panel itself latches until reset there).
    #[serde(default)]
    pub fire_latch: bool,
    /// A turnstile lane with `[exit_scanner]`: each direction has its own relay, pulsed for
    /// `pulse_ms` (200–500, a turnstile controller's "open A" / "open B" dry contact); the
    /// exit direction's relay is `[pins] exit_relay`. No door contact is watched.
    #[serde(default)]
    pub turnstile: bool,
    /// A goods-check gate (the entrance or the car park): a scanned goods-release permit is
    /// verified and reported to the guard page at once; the door never opens for it.
    #[serde(default)]
    pub goods_check: bool,
}

/// `[scanner]`: exactly one of `port` and `sim_link`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScannerConfig {
    /// A real serial device, e.g. `/dev/ttyUSB0` or `/dev/serial0`.
    #[serde(default)]
    pub port: Option<String>,
    /// Simulated scanner: the gate opens a pseudo-terminal and links its slave side here,
    /// so `printf '%s\r' "$PASS" > PATH` scans a pass.
    #[serde(default)]
    pub sim_link: Option<PathBuf>,
    /// Baud rate, 8N1 (default 9600); with `gm65_setup`, the speed read at when the module
    /// does not answer (a GM65 is found at 115200 or 9600 and switched to 115200).
    #[serde(default = "default_baud")]
    pub baud: u32,
    /// The same text again within this time is ignored, ms (default 3000).
    #[serde(default = "default_debounce_ms")]
    pub debounce_ms: u64,
    /// A line with no terminator ends after this much silence, ms; 0 disables (default 100).
    #[serde(default = "default_idle_gap_ms")]
    pub idle_gap_ms: u64,
    /// Longest line accepted, bytes (default 512); longer lines are dropped.
    #[serde(default = "default_max_line")]
    pub max_line: usize,
    /// Set up a GM65-class scanner on a real port (default true): find it at 115200 or 9600,
    /// put it in serial output, continuous mode, CR tail, setting barcodes closed, 115200
    /// baud, save that to its EEPROM, and check it every minute. A scanner that does not
    /// answer is read as it is, with an alarm; set false for a scanner of another kind.
    #[serde(default = "default_true")]
    pub gm65_setup: bool,
    /// The GM65 same-code delay register (0x0013): bit 7 on, bits 6–0 in 100 ms
    /// (default 0x85 = 0.5 s; 0xB2 = 5 s).
    #[serde(default = "default_gm65_delay")]
    pub gm65_same_code_delay: u8,
    /// Wait between attempts to reopen a vanished scanner, ms (default 1000).
    #[serde(default = "default_reopen_ms")]
    pub reopen_ms: u64,
}

/// Which GPIO implementation drives the pins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PinBackend {
    /// Recorded pins, for simulation and tests (default).
    #[default]
    Sim,
    /// Raspberry Pi GPIO through rppal (build with `--features rpi`).
    Rpi,
}

/// `[pins]`: BCM pin numbers for the `rpi` backend.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinsConfig {
    /// `sim` (default) or `rpi`.
    #[serde(default)]
    pub backend: PinBackend,
    /// The lock relay's pin (required for `rpi`).
    #[serde(default)]
    pub relay: Option<u8>,
    /// The relay board switches on a low level (many do). It describes the board, never the
    /// lock: a fail-safe maglock is wired to the relay's NC contact instead.
    #[serde(default)]
    pub relay_active_low: bool,
    /// The exit direction's relay of a turnstile lane (`[door] turnstile`), same polarity.
    #[serde(default)]
    pub exit_relay: Option<u8>,
    /// Door contact (reed switch) input, with pull-up; absent means no contact is wired.
    #[serde(default)]
    pub door_contact: Option<u8>,
    /// The contact reads high when the door is open (default true: switch to ground when shut).
    #[serde(default = "default_true")]
    pub door_open_high: bool,
    /// Request-to-exit button input, with pull-up.
    #[serde(default)]
    pub exit_button: Option<u8>,
    /// The button pulls the input low when pressed (default true).
    #[serde(default = "default_true")]
    pub exit_button_active_low: bool,
    /// Green LED output.
    #[serde(default)]
    pub green_led: Option<u8>,
    /// Red LED output.
    #[serde(default)]
    pub red_led: Option<u8>,
    /// Buzzer output (sounds with the red LED on a refusal; silent when both LEDs show a
    /// goods permit read at a goods-check gate).
    #[serde(default)]
    pub buzzer: Option<u8>,
    /// Fire-alarm input from the fire panel's dry contact, with pull-up. Wire a normally
    /// closed contact to ground: the loop reads low while all is well, and an alarm or a cut
    /// wire reads high.
    #[serde(default)]
    pub fire_alarm: Option<u8>,
    /// The fire input reads high in alarm (default true, the supervised loop above). Set
    /// false only for a contact that closes to ground on alarm: a cut wire then goes unseen.
    #[serde(default = "default_true")]
    pub fire_alarm_high: bool,
    /// An input must hold a level this long to count, ms (default 50).
    #[serde(default = "default_input_debounce_ms")]
    pub input_debounce_ms: u64,
}

/// `[sync]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    /// The server's base URL, e.g. `http://127.0.0.1:8080`.
    pub server: String,
    /// One-time enrolment token (or env `GATEHOUSE_ENROLMENT_TOKEN`); used once, then the
    /// device key in the data dir is used.
    #[serde(default)]
    pub enrolment_token: Option<String>,
    /// Long-poll wait the gate asks for, ms (default 25000, at most 30000).
    #[serde(default = "default_wait_ms")]
    pub wait_ms: u64,
    /// Journal entries per upload (default 500, at most 500).
    #[serde(default = "default_upload_batch")]
    pub upload_batch: usize,
    /// Longest back-off between attempts while the server is away, seconds (default 30).
    #[serde(default = "default_max_backoff_secs")]
    pub max_backoff_secs: u64,
}

/// `[clock]`: when the wall clock is trusted (see `clock.rs`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockConfig {
    /// `deny_time_dependent` (default) or `assume_last_trusted`.
    #[serde(default)]
    pub policy: ClockPolicy,
    /// Where NTP status is read: `auto` (default), `kernel`, `chrony`, `timesyncd` or `none`.
    /// Unset with `ntp_flag` set means `timesyncd`.
    #[serde(default)]
    pub ntp: Option<NtpSourceKind>,
    /// The flag file `timesyncd` (and `auto` when it falls back to timesyncd) looks at
    /// (default `/run/systemd/timesync/synchronized`).
    #[serde(default)]
    pub ntp_flag: Option<PathBuf>,
    /// How far the clock may be from the server's time and still be right, seconds
    /// (default 120).
    #[serde(default = "default_server_tolerance_secs")]
    pub server_tolerance_secs: u64,
    /// How long a server time seen in an answer stays evidence, seconds (default 3600).
    #[serde(default = "default_server_evidence_secs")]
    pub server_evidence_secs: u64,
    /// Trust a clock that a battery-backed RTC set at boot (the kernel's `hctosys`) as if NTP
    /// had synchronised it (default false; for a Pi 5 with its RTC battery fitted).
    #[serde(default)]
    pub trust_rtc: bool,
    /// SIMULATION ONLY, `[pins] backend = "sim"` only: a file holding whole seconds added to
    /// the wall clock, re-read every quarter second (end-to-end tests of clock steps).
    #[serde(default)]
    pub sim_offset_file: Option<PathBuf>,
}

impl Default for ClockConfig {
    fn default() -> Self {
        ClockConfig {
            policy: ClockPolicy::default(),
            ntp: None,
            ntp_flag: None,
            server_tolerance_secs: default_server_tolerance_secs(),
            server_evidence_secs: default_server_evidence_secs(),
            trust_rtc: false,
            sim_offset_file: None,
        }
    }
}

impl ClockConfig {
    /// The NTP source setting with the `ntp_flag` shorthand applied.
    pub fn ntp_source(&self) -> NtpSourceKind {
        match (self.ntp, &self.ntp_flag) {
            (Some(kind), _) => kind,
            (None, Some(_)) => NtpSourceKind::Timesyncd,
            (None, None) => NtpSourceKind::Auto,
        }
    }
}

fn default_server_tolerance_secs() -> u64 {
    120
}
fn default_server_evidence_secs() -> u64 {
    3600
}

/// `[journal]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalConfig {
    /// Entries already on the server that are kept locally (default 100000); unsent entries
    /// are always kept.
    #[serde(default = "default_retain_sent")]
    pub retain_sent: u64,
}

impl Default for JournalConfig {
    fn default() -> Self {
        JournalConfig {
            retain_sent: default_retain_sent(),
        }
    }
}

fn default_status_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9180))
}
fn default_pulse_ms() -> u64 {
    3000
}
fn default_held_open_secs() -> u64 {
    30
}
fn default_anti_passback_minutes() -> u64 {
    10
}
fn default_feedback_ms() -> u64 {
    1000
}
fn default_baud() -> u32 {
    9600
}
fn default_debounce_ms() -> u64 {
    3000
}
fn default_idle_gap_ms() -> u64 {
    100
}
fn default_max_line() -> usize {
    512
}
fn default_gm65_delay() -> u8 {
    0x85
}
fn default_reopen_ms() -> u64 {
    1000
}
fn default_true() -> bool {
    true
}
fn default_input_debounce_ms() -> u64 {
    50
}
fn default_wait_ms() -> u64 {
    25_000
}
fn default_upload_batch() -> usize {
    500
}
fn default_max_backoff_secs() -> u64 {
    30
}
fn default_retain_sent() -> u64 {
    100_000
}

impl ScannerConfig {
    fn validate(&self, section: &str) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(format!("[{section}] {m}")));
        match (&self.port, &self.sim_link) {
            (Some(_), Some(_)) => return bad("set `port` or `sim_link`, not both".into()),
            (None, None) => {
                return bad("set `port` (a serial device) or `sim_link` (a simulated one)".into());
            }
            _ => {}
        }
        if !(300..=921_600).contains(&self.baud) {
            return bad(format!("baud {} is not a serial speed", self.baud));
        }
        if !(16..=4096).contains(&self.max_line) {
            return bad(format!("max_line {} must be 16–4096 bytes", self.max_line));
        }
        Ok(())
    }
}

impl Config {
    /// Reads and checks a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let config: Config = gatehouse_shell::config::read_toml(path)?;
        config.validate()?;
        Ok(config)
    }

    /// Parses and checks config text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let config: Config = gatehouse_shell::config::parse_toml(text)?;
        config.validate()?;
        Ok(config)
    }

    fn validate_clock(&self) -> Result<(), ConfigError> {
        let c = &self.clock;
        let bad = |m: &str| Err(ConfigError::Invalid(format!("[clock] {m}")));
        if c.sim_offset_file.is_some() && self.pins.backend != PinBackend::Sim {
            return bad("sim_offset_file is for simulation only ([pins] backend = \"sim\")");
        }
        if !(1..=3600).contains(&c.server_tolerance_secs) {
            return bad("server_tolerance_secs must be 1–3600");
        }
        if !(60..=86_400).contains(&c.server_evidence_secs) {
            return bad("server_evidence_secs must be 60–86400");
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        self.scanner.validate("scanner")?;
        if let Some(exit) = &self.exit_scanner {
            exit.validate("exit_scanner")?;
            let same_port = exit.port.is_some() && exit.port == self.scanner.port;
            let same_link = exit.sim_link.is_some() && exit.sim_link == self.scanner.sim_link;
            if same_port || same_link {
                return bad("[exit_scanner] must be a different device from [scanner]".into());
            }
        }
        self.validate_clock()?;
        let d = &self.door;
        if d.class == ZoneClass::Floor && d.floor.is_none() {
            return bad("[door] class = \"floor\" needs `floor`".into());
        }
        if d.building == 255 {
            return bad("[door] building 255 is reserved".into());
        }
        if d.pulse_ms == 0 || d.pulse_ms > 60_000 {
            return bad(format!("[door] pulse_ms {} must be 1–60000", d.pulse_ms));
        }
        if !(1..=86_400).contains(&d.held_open_alarm_secs) {
            return bad(format!(
                "[door] held_open_alarm_secs {} must be 1–86400",
                d.held_open_alarm_secs
            ));
        }
        if !(1..=1440).contains(&d.anti_passback_minutes) {
            return bad(format!(
                "[door] anti_passback_minutes {} must be 1–1440 (a day)",
                d.anti_passback_minutes
            ));
        }
        if d.feedback_ms > 60_000 {
            return bad(format!(
                "[door] feedback_ms {} exceeds 60000",
                d.feedback_ms
            ));
        }
        if d.direction.is_some() && self.exit_scanner.is_some() {
            return bad(
                "[door] direction is for a one-reader door; with [exit_scanner] the two readers \
                 are the entry and the exit"
                    .into(),
            );
        }
        if d.turnstile {
            if self.exit_scanner.is_none() {
                return bad(
                    "[door] turnstile needs [exit_scanner]: one reader per direction".into(),
                );
            }
            if !(200..=500).contains(&d.pulse_ms) {
                return bad(format!(
                    "[door] turnstile pulse_ms {} must be 200–500 (an open A / open B pulse)",
                    d.pulse_ms
                ));
            }
            if self.pins.backend == PinBackend::Rpi && self.pins.exit_relay.is_none() {
                return bad("[door] turnstile needs [pins] exit_relay (a BCM pin number)".into());
            }
        } else if self.pins.exit_relay.is_some() {
            return bad("[pins] exit_relay is for [door] turnstile = true".into());
        }
        if d.anti_passback_area.is_some() && d.anti_passback == AntiPassback::Off {
            return bad(
                "[door] anti_passback_area needs anti_passback = \"soft\" or \"hard\"".into(),
            );
        }
        if d.anti_passback_area.is_some() && self.sync.is_none() {
            return bad(
                "[door] anti_passback_area needs [sync]: the area's doors hear of each other's \
                 passages through the server"
                    .into(),
            );
        }
        if self.pins.backend == PinBackend::Rpi {
            if self.pins.relay.is_none() {
                return bad("[pins] backend = \"rpi\" needs `relay` (a BCM pin number)".into());
            }
            if !cfg!(feature = "rpi") {
                return bad("[pins] backend = \"rpi\" but this build has no `rpi` feature".into());
            }
        }
        if let Some(sync) = &self.sync {
            if reqwest::Url::parse(&sync.server).is_err() {
                return bad(format!("[sync] server {:?} is not a URL", sync.server));
            }
            if sync.wait_ms > 30_000 {
                return bad(format!("[sync] wait_ms {} exceeds 30000", sync.wait_ms));
            }
            if !(1..=500).contains(&sync.upload_batch) {
                return bad(format!(
                    "[sync] upload_batch {} must be 1–500",
                    sync.upload_batch
                ));
            }
        }
        Ok(())
    }

    /// The core's view of the door.
    pub fn door_policy(&self) -> DoorPolicy {
        let d = &self.door;
        DoorPolicy {
            zone: Zone {
                building: d.building,
                class: d.class,
                floor: d.floor,
            },
            pulse: Duration::from_millis(d.pulse_ms),
            held_open_limit: Duration::from_secs(d.held_open_alarm_secs),
            has_door_contact: !d.turnstile
                && (self.pins.door_contact.is_some() || self.pins.backend == PinBackend::Sim),
            anti_passback: d.anti_passback,
            anti_passback_window: Duration::from_secs(d.anti_passback_minutes * 60),
            clock_policy: self.clock.policy,
            feedback: Duration::from_millis(d.feedback_ms),
            area: d.anti_passback_area.clone(),
            fire_release: d.fire_release.unwrap_or(d.class == ZoneClass::Entrance),
            fire_latch: d.fire_latch,
            exit_relay: d.turnstile,
            goods_check: d.goods_check,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        data_dir = "/tmp/gate"
        [door]
        building = 2
        class = "entrance"
        [scanner]
        sim_link = "/tmp/gate/scanner"
    "#;

    #[test]
    fn minimal_config_gets_documented_defaults() {
        let c = Config::parse(MINIMAL).unwrap();
        assert_eq!(c.status_listen.to_string(), "127.0.0.1:9180");
        assert_eq!(c.scanner.baud, 9600);
        assert_eq!(c.scanner.debounce_ms, 3000);
        assert_eq!(c.scanner.max_line, 512);
        assert_eq!(c.door_policy().pulse, Duration::from_secs(3));
        assert_eq!(c.pins.backend, PinBackend::Sim);
        assert!(c.sync.is_none());
        assert!(c.exit_scanner.is_none(), "one reader unless configured");
        assert!(c.door_policy().fire_release, "an entrance releases on fire");
        assert!(!c.door_policy().fire_latch);
        let pins = Config::parse(&format!("{MINIMAL}\n[pins]\nbackend = \"sim\"\n")).unwrap();
        assert_eq!(
            (pins.pins.fire_alarm, pins.pins.fire_alarm_high),
            (None, true)
        );
    }

    #[test]
    fn fire_release_defaults_by_door_class_and_can_be_set() {
        let floor = MINIMAL.replace("\"entrance\"", "\"floor\"\nfloor = 12");
        assert!(!Config::parse(&floor).unwrap().door_policy().fire_release);
        let escape = floor.replace("floor = 12", "floor = 12\nfire_release = true");
        assert!(Config::parse(&escape).unwrap().door_policy().fire_release);
        let held = MINIMAL.replace(
            "building = 2",
            "building = 2\nfire_release = false\nfire_latch = true",
        );
        let p = Config::parse(&held).unwrap().door_policy();
        assert!(!p.fire_release && p.fire_latch);
        let pins = format!("{MINIMAL}\n[pins]\nfire_alarm = 22\nfire_alarm_high = false\n");
        let c = Config::parse(&pins).unwrap();
        assert_eq!(
            (c.pins.fire_alarm, c.pins.fire_alarm_high),
            (Some(22), false)
        );
    }

    #[test]
    fn an_exit_reader_gets_the_scanner_defaults() {
        let c = Config::parse(&format!(
            "{MINIMAL}\n[exit_scanner]\nport = \"/dev/ttyUSB1\"\n"
        ))
        .unwrap();
        let exit = c.exit_scanner.unwrap();
        assert_eq!(exit.port.as_deref(), Some("/dev/ttyUSB1"));
        assert_eq!(
            (exit.baud, exit.debounce_ms, exit.max_line),
            (9600, 3000, 512)
        );
    }

    #[test]
    fn clock_section_defaults_shorthand_and_checks() {
        let c = Config::parse(MINIMAL).unwrap();
        assert_eq!(c.clock.ntp_source(), NtpSourceKind::Auto);
        assert_eq!(
            (c.clock.server_tolerance_secs, c.clock.server_evidence_secs),
            (120, 3600)
        );
        assert!(!c.clock.trust_rtc);
        let clock = |lines: &str| Config::parse(&format!("{MINIMAL}\n[clock]\n{lines}\n"));
        let flag = clock("ntp_flag = \"/run/x\"").unwrap();
        assert_eq!(flag.clock.ntp_source(), NtpSourceKind::Timesyncd);
        assert_eq!(
            clock("ntp = \"chrony\"").unwrap().clock.ntp_source(),
            NtpSourceKind::Chrony
        );
        let err = |lines: &str| clock(lines).unwrap_err().to_string();
        assert!(err("ntp = \"ntpd\"").contains("ntpd"));
        assert!(err("server_tolerance_secs = 0").contains("1–3600"));
        let sim_file = "sim_offset_file = \"/tmp/offset\"";
        assert!(clock(sim_file).is_ok());
        let on_a_pi =
            format!("{MINIMAL}\n[pins]\nbackend = \"rpi\"\nrelay = 17\n[clock]\n{sim_file}\n");
        let err = Config::parse(&on_a_pi).unwrap_err().to_string();
        assert!(
            err.contains("simulation only") || err.contains("rpi"),
            "{err}"
        );
    }

    #[test]
    fn the_example_config_parses() {
        let text = include_str!("../gate.example.toml");
        let c = Config::parse(text).unwrap();
        assert_eq!(c.door.class, ZoneClass::Entrance);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let err = |t: &str| Config::parse(t).unwrap_err().to_string();
        assert!(err(&MINIMAL.replace("building = 2", "bulding = 2")).contains("bulding"));
        assert!(err(&MINIMAL.replace("\"entrance\"", "\"floor\"")).contains("needs `floor`"));
        assert!(err(&MINIMAL.replace("\"entrance\"", "\"roof\"")).contains("roof"));
        assert!(
            err(&MINIMAL.replace("sim_link", "port = \"/dev/x\"\nsim_link")).contains("not both")
        );
        assert!(err(&format!("{MINIMAL}\nbaud = 7\n")).contains("baud 7"));
        let sync = format!("{MINIMAL}\n[sync]\nserver = \"not a url\"\n");
        assert!(err(&sync).contains("not a URL"));
        let exit = format!("{MINIMAL}\n[exit_scanner]\nsim_link = \"/tmp/gate/scanner\"\n");
        assert!(err(&exit).contains("[exit_scanner] must be a different device"));
        let exit = format!("{MINIMAL}\n[exit_scanner]\nbaud = 9600\n");
        assert!(err(&exit).contains("[exit_scanner] set `port`"));
        let door = |extra: &str| MINIMAL.replace("building = 2", &format!("building = 2\n{extra}"));
        assert!(err(&door("anti_passback_minutes = 0")).contains("must be 1–1440"));
        assert!(err(&door("anti_passback_minutes = 99999999999999999")).contains("1–1440"));
        assert!(err(&door("held_open_alarm_secs = 0")).contains("1–86400"));
        assert!(err(&door("feedback_ms = 18446744073709551615")).contains("exceeds 60000"));
        assert!(err(&door("direction = \"up\"")).contains("up"));
        let lane = format!(
            "{}\n[exit_scanner]\nport = \"/dev/ttyUSB1\"\n",
            door("direction = \"entry\"")
        );
        assert!(err(&lane).contains("with [exit_scanner] the two readers"));
        assert!(err(&door("anti_passback_area = \"Lobby 1\"")).contains("area name"));
        let area = "anti_passback_area = \"lobby\"";
        assert!(err(&door(area)).contains("needs anti_passback"));
        let hard = format!("{area}\nanti_passback = \"hard\"");
        assert!(err(&door(&hard)).contains("needs [sync]"));
        let synced = format!(
            "{}\n[sync]\nserver = \"http://10.0.0.2:8080\"\n",
            door(&hard)
        );
        let c = Config::parse(&synced).unwrap();
        assert_eq!(c.door_policy().area.unwrap().as_str(), "lobby");
        let exit = "[exit_scanner]\nport = \"/dev/ttyUSB1\"\n";
        assert!(err(&door("turnstile = true")).contains("needs [exit_scanner]"));
        let slow = format!("{}\n{exit}", door("turnstile = true"));
        assert!(err(&slow).contains("must be 200–500"));
        let lane = format!("{}\n{exit}", door("turnstile = true\npulse_ms = 300"));
        let p = Config::parse(&lane).unwrap().door_policy();
        assert!(p.exit_relay && !p.has_door_contact);
        let stray = format!("{MINIMAL}\n[pins]\nexit_relay = 23\n");
        assert!(err(&stray).contains("exit_relay is for"));
    }
}
