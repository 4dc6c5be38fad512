//! Where the gate learns whether NTP keeps the system clock synchronised.
//!
//! - `kernel`: `adjtimex(2)` with `modes = 0` (read only, no privilege). chronyd, ntpd/ntpsec
//!   and systemd-timesyncd all update the kernel's NTP state, so this works whichever runs.
//!   The test is the one `timedatectl`'s `NTPSynchronized` makes: the kernel's maximum error
//!   below 16 s. `STA_UNSYNC` is not looked at, because chronyd keeps it set (to stop the
//!   kernel's 11-minute RTC updates) unless `rtcsync` is configured.
//! - `chrony`: `chronyc -c tracking`; synchronised unless the leap status is
//!   `Not synchronised` or the reference is chronyd's own `local` clock (`7F7F0101`).
//! - `timesyncd`: the flag file `/run/systemd/timesync/synchronized`, which
//!   systemd-timesyncd creates at its first synchronisation (it stays until reboot).
//! - `auto` (default): the kernel; if a sandbox refuses the call, chrony when chronyd runs,
//!   else the timesyncd flag when timesyncd runs.

use super::trust::NtpStatus;
use serde::Deserialize;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use thiserror::Error;

/// systemd-timesyncd's flag file.
pub const TIMESYNCD_FLAG: &str = "/run/systemd/timesync/synchronized";

/// The kernel's largest maximum error (`NTP_PHASE_LIMIT`, µs): at or above it, unsynchronised.
pub const KERNEL_MAXERROR_LIMIT_US: i64 = 16_000_000;

/// chronyd's reference id when it serves its own clock (`local` directive).
pub const CHRONY_LOCAL_REFID: u32 = 0x7F7F_0101;

/// The `[clock] ntp` setting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NtpSourceKind {
    /// The kernel, falling back to chrony or timesyncd when the kernel cannot be asked.
    #[default]
    Auto,
    /// The kernel's NTP state (`adjtimex`).
    Kernel,
    /// `chronyc -c tracking`.
    Chrony,
    /// The timesyncd flag file (`ntp_flag` names another path).
    Timesyncd,
    /// Do not ask: NTP status unknown.
    None,
}

/// Why an NTP status could not be read.
#[derive(Debug, Error)]
pub enum NtpError {
    /// `adjtimex` failed (a seccomp filter, or not Linux).
    #[error("adjtimex: {0}")]
    Kernel(std::io::Error),
    /// chronyc could not be run or did not answer in time.
    #[error("chronyc: {0}")]
    Chronyc(String),
    /// chronyc answered something that is not `-c tracking` output.
    #[error("chronyc -c tracking printed {line:?}: {what}")]
    ChronyParse {
        /// The line.
        line: String,
        /// What is wrong with it.
        what: String,
    },
}

/// The kernel's NTP state as `adjtimex(2)` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelTime {
    /// The return value: the clock state (`TIME_OK` 0 … `TIME_ERROR` 5).
    pub state: i32,
    /// Maximum error, µs.
    pub maxerror_us: i64,
    /// The status bits (`STA_*`).
    pub status: i32,
}

impl KernelTime {
    /// Reads it (modes = 0: nothing is changed, no privilege needed).
    pub fn read() -> Result<Self, NtpError> {
        // SAFETY: a zeroed timex is valid input; modes = 0 only reads.
        let mut tx: libc::timex = unsafe { std::mem::zeroed() };
        // SAFETY: `tx` is a valid, exclusively borrowed timex for the call's duration.
        let state = unsafe { libc::adjtimex(&mut tx) };
        if state < 0 {
            return Err(NtpError::Kernel(std::io::Error::last_os_error()));
        }
        Ok(KernelTime {
            state,
            maxerror_us: tx.maxerror as i64,
            status: tx.status,
        })
    }

    /// What it means, as `timedatectl` reads it.
    pub fn ntp_status(&self) -> NtpStatus {
        if self.maxerror_us < KERNEL_MAXERROR_LIMIT_US {
            NtpStatus::Synchronised
        } else {
            NtpStatus::Unsynchronised
        }
    }
}

/// chrony's leap status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leap {
    /// `Normal`.
    Normal,
    /// `Insert second`.
    InsertSecond,
    /// `Delete second`.
    DeleteSecond,
    /// `Not synchronised`.
    NotSynchronised,
}

/// The fields of `chronyc -c tracking` the gate uses.
#[derive(Clone, Debug, PartialEq)]
pub struct ChronyTracking {
    /// Reference id (hex in the output).
    pub reference_id: u32,
    /// The reference's name or address (empty for none or `local`).
    pub reference: String,
    /// Stratum.
    pub stratum: u8,
    /// How far the system clock is behind NTP time, seconds (negative: ahead). The human
    /// form prints the magnitude with "fast" or "slow".
    pub slow_by_secs: f64,
    /// Leap status.
    pub leap: Leap,
}

impl ChronyTracking {
    /// Parses the one CSV line `chronyc -c tracking` prints (14 fields).
    pub fn parse(output: &str) -> Result<Self, NtpError> {
        let line = output.trim();
        let bad = |what: &str| NtpError::ChronyParse {
            line: line.chars().take(200).collect(),
            what: what.to_owned(),
        };
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 14 {
            return Err(bad(&format!("{} fields, expected 14", fields.len())));
        }
        let reference_id =
            u32::from_str_radix(fields[0], 16).map_err(|_| bad("reference id is not hex"))?;
        let stratum = fields[2]
            .parse()
            .map_err(|_| bad("stratum is not a number"))?;
        let slow_by_secs = fields[4]
            .parse()
            .map_err(|_| bad("system time offset is not a number"))?;
        let leap = match fields[13] {
            "Normal" => Leap::Normal,
            "Insert second" => Leap::InsertSecond,
            "Delete second" => Leap::DeleteSecond,
            "Not synchronised" => Leap::NotSynchronised,
            _ => return Err(bad("unknown leap status")),
        };
        Ok(ChronyTracking {
            reference_id,
            reference: fields[1].to_owned(),
            stratum,
            slow_by_secs,
            leap,
        })
    }

    /// Synchronised to a real source (not chronyd's own `local` clock).
    pub fn ntp_status(&self) -> NtpStatus {
        if self.leap == Leap::NotSynchronised || self.reference_id == CHRONY_LOCAL_REFID {
            NtpStatus::Unsynchronised
        } else {
            NtpStatus::Synchronised
        }
    }
}

/// A configured way of asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NtpSource {
    /// `adjtimex`.
    Kernel,
    /// This chronyc binary.
    Chrony(PathBuf),
    /// This flag file.
    Flag(PathBuf),
    /// Nothing.
    None,
}

impl NtpSource {
    /// The source for a setting: `auto` probes the kernel once and falls back as the module
    /// documentation says.
    pub fn resolve(kind: NtpSourceKind, flag: Option<&Path>) -> NtpSource {
        let flag = flag.map_or_else(|| PathBuf::from(TIMESYNCD_FLAG), Path::to_path_buf);
        match kind {
            NtpSourceKind::Kernel => NtpSource::Kernel,
            NtpSourceKind::Chrony => NtpSource::Chrony(PathBuf::from("chronyc")),
            NtpSourceKind::Timesyncd => NtpSource::Flag(flag),
            NtpSourceKind::None => NtpSource::None,
            NtpSourceKind::Auto => match KernelTime::read() {
                Ok(_) => NtpSource::Kernel,
                Err(e) => {
                    let fallback = if Path::new("/run/chrony").is_dir() {
                        NtpSource::Chrony(PathBuf::from("chronyc"))
                    } else if flag.parent().is_some_and(Path::is_dir) {
                        NtpSource::Flag(flag)
                    } else {
                        NtpSource::None
                    };
                    tracing::warn!(error = %e, ?fallback, "cannot ask the kernel about NTP; using the fallback");
                    fallback
                }
            },
        }
    }

    /// How often it is worth asking (running chronyc costs a process).
    pub fn poll_every(&self) -> Duration {
        match self {
            NtpSource::Chrony(_) => Duration::from_secs(15),
            _ => Duration::from_secs(1),
        }
    }

    /// Asks.
    pub fn read(&self) -> Result<NtpStatus, NtpError> {
        match self {
            NtpSource::Kernel => Ok(KernelTime::read()?.ntp_status()),
            NtpSource::Flag(path) => Ok(if path.exists() {
                NtpStatus::Synchronised
            } else {
                NtpStatus::Unsynchronised
            }),
            NtpSource::Chrony(chronyc) => {
                let out = run_with_deadline(chronyc, &["-c", "tracking"], Duration::from_secs(3))?;
                // "506 Cannot talk to daemon": chronyd is not running, so nothing steers the clock.
                if !out.success {
                    tracing::debug!(output = %out.text.trim(), "chronyc failed");
                    return Ok(NtpStatus::Unsynchronised);
                }
                Ok(ChronyTracking::parse(&out.text)?.ntp_status())
            }
            NtpSource::None => Ok(NtpStatus::Unknown),
        }
    }
}

struct Output {
    success: bool,
    text: String,
}

/// Runs a short command; kills it when it takes longer than `deadline`.
fn run_with_deadline(
    program: &Path,
    args: &[&str],
    deadline: Duration,
) -> Result<Output, NtpError> {
    let err = |e: std::io::Error| NtpError::Chronyc(e.to_string());
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(err)?;
    let until = Instant::now() + deadline;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(err)? {
            break status;
        }
        if Instant::now() >= until {
            let _ = child.kill();
            let _ = child.wait();
            return Err(NtpError::Chronyc(format!("no answer within {deadline:?}")));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut text = String::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_string(&mut text).map_err(err)?;
    }
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut text).map_err(err)?;
    }
    Ok(Output {
        success: status.success(),
        text,
    })
}

/// Whether an RTC set the system clock at boot: the kernel's `hctosys` attribute of one of
/// the RTCs under `sysfs_rtc` (`/sys/class/rtc`) reads `1`.
pub fn rtc_set_clock_at_boot(sysfs_rtc: &Path) -> bool {
    let Ok(dir) = std::fs::read_dir(sysfs_rtc) else {
        return false;
    };
    dir.flatten().any(|rtc| {
        std::fs::read_to_string(rtc.path().join("hctosys")).is_ok_and(|v| v.trim() == "1")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from chrony 4.3 (Debian 12) with `chronyd -x` (no clock control): no sources;
    // `local stratum 10`; a client of another chronyd on 127.0.0.1 (human form: "Reference ID
    // 7F000001 (localhost)", "System time 0.000001436 seconds fast of NTP time").
    const CHRONY_NO_SOURCES: &str = "00000000,,0,0.000000000,0.000000000,0.000000000,0.000000000,0.000,0.000,0.000,1.000000000,1.000000000,0.0,Not synchronised\n";
    const CHRONY_LOCAL: &str = "7F7F0101,,10,1796290546.222309635,0.000000000,0.000000000,0.000000000,0.000,0.000,0.000,0.000000000,0.000000000,0.0,Normal\n";
    const CHRONY_SYNCED: &str = "7F000001,127.0.0.1,9,1796290687.054957665,-0.000001435,-0.000000009,0.000000207,0.020,-0.000,0.032,0.000006398,0.000000979,0.3,Normal\n";

    #[test]
    fn chronyc_tracking_parses_as_captured() {
        let none = ChronyTracking::parse(CHRONY_NO_SOURCES).unwrap();
        assert_eq!(
            (none.reference_id, none.stratum, none.leap),
            (0, 0, Leap::NotSynchronised)
        );
        assert_eq!(none.ntp_status(), NtpStatus::Unsynchronised);

        let local = ChronyTracking::parse(CHRONY_LOCAL).unwrap();
        assert_eq!(
            (local.reference_id, local.stratum, local.leap),
            (CHRONY_LOCAL_REFID, 10, Leap::Normal)
        );
        assert_eq!(
            local.ntp_status(),
            NtpStatus::Unsynchronised,
            "its own clock is no source"
        );

        let synced = ChronyTracking::parse(CHRONY_SYNCED).unwrap();
        assert_eq!(
            (synced.reference.as_str(), synced.stratum),
            ("127.0.0.1", 9)
        );
        assert!(
            (synced.slow_by_secs + 0.000001435).abs() < 1e-12,
            "fast by 1.4 µs"
        );
        assert_eq!(synced.ntp_status(), NtpStatus::Synchronised);
    }

    #[test]
    fn chronyc_garbage_is_an_error_that_says_what() {
        for (text, what) in [
            ("506 Cannot talk to daemon\n", "1 fields"),
            ("ZZ,,0,0,0,0,0,0,0,0,0,0,0,Normal", "hex"),
            ("0,,x,0,0,0,0,0,0,0,0,0,0,Normal", "stratum"),
            ("0,,1,0,0,0,0,0,0,0,0,0,0,Maybe", "leap"),
            ("", "1 fields"),
        ] {
            let err = ChronyTracking::parse(text).unwrap_err().to_string();
            assert!(err.contains(what), "{text:?}: {err}");
        }
    }

    #[test]
    fn kernel_state_reads_like_timedatectl() {
        let k = |maxerror_us, status, state| KernelTime {
            state,
            maxerror_us,
            status,
        };
        // timesyncd or ntpd synchronised: TIME_OK, small maximum error.
        assert_eq!(k(150_000, 0x2001, 0).ntp_status(), NtpStatus::Synchronised);
        // chronyd without rtcsync: STA_UNSYNC (0x40) set, TIME_ERROR returned, yet disciplined.
        assert_eq!(k(8_000, 0x2041, 5).ntp_status(), NtpStatus::Synchronised);
        // Free-running since boot: the kernel's maximum error is at its limit.
        assert_eq!(
            k(16_000_000, 0x41, 5).ntp_status(),
            NtpStatus::Unsynchronised
        );
        // This machine's kernel answers without privileges.
        let here = KernelTime::read().expect("adjtimex(modes = 0) needs no privilege");
        assert!((0..=5).contains(&here.state), "{here:?}");
    }

    #[test]
    fn flag_file_and_none_sources() {
        let dir = tempfile::tempdir().unwrap();
        let flag = dir.path().join("synchronized");
        let source = NtpSource::resolve(NtpSourceKind::Timesyncd, Some(&flag));
        assert_eq!(source.read().unwrap(), NtpStatus::Unsynchronised);
        std::fs::write(&flag, "").unwrap();
        assert_eq!(source.read().unwrap(), NtpStatus::Synchronised);
        assert_eq!(NtpSource::None.read().unwrap(), NtpStatus::Unknown);
        // On a machine where the kernel answers, auto asks the kernel.
        assert_eq!(
            NtpSource::resolve(NtpSourceKind::Auto, None),
            NtpSource::Kernel
        );
    }

    #[test]
    fn a_missing_chronyc_is_an_error_not_a_verdict() {
        let source = NtpSource::Chrony(PathBuf::from("/nonexistent/chronyc"));
        assert!(source.read().unwrap_err().to_string().contains("chronyc"));
    }

    #[test]
    fn rtc_hctosys_is_read_from_sysfs() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!rtc_set_clock_at_boot(&dir.path().join("absent")));
        let rtc0 = dir.path().join("rtc0");
        std::fs::create_dir(&rtc0).unwrap();
        std::fs::write(rtc0.join("hctosys"), "0\n").unwrap();
        assert!(!rtc_set_clock_at_boot(dir.path()));
        std::fs::write(rtc0.join("hctosys"), "1\n").unwrap();
        assert!(rtc_set_clock_at_boot(dir.path()));
    }
}
