//! GM65-class scanner setup as a pure state machine (sans-IO): the reader thread feeds it every
//! byte it reads and the time, and performs what it asks for — bytes to send, a baud rate to
//! switch to — while scanned text keeps flowing to the line framer.
//!
//! At start the module is probed at each candidate speed (a module already switched to
//! 115200 is found there); every register the gate needs is read, written only if it differs,
//! and saved to EEPROM once if anything was written, so a module reset (RAM ← EEPROM) keeps
//! it. Register 0x0003 is checked every minute and after a burst of non-text bytes; a module
//! found with setting barcodes open again (or answering only after a new probe) is set up
//! again and reported. Each command is retried three times; replies are told apart from
//! scans by their `02 00` head, so a visitor scanning during setup is neither lost nor taken
//! for a reply.

pub mod frame;
pub mod registers;

use frame::{Command, Parsed, ReplyParser};
use registers::{SETTING_CODES, SETTINGS, Setting, Wanted};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long a command waits for its reply (the module drops a command that takes longer
/// than 400 ms to arrive, and answers one in a few ms).
pub const REPLY_TIMEOUT: Duration = Duration::from_millis(500);
/// Attempts per command.
pub const ATTEMPTS: u8 = 3;
/// How often register 0x0003 is checked.
pub const CHECK_EVERY: Duration = Duration::from_secs(60);
/// Non-text bytes (since the last check) that count as a burst: a module that reset to
/// another baud rate sends its scans as noise.
pub const NOISE_BURST: u32 = 16;
/// The shortest time between two checks caused by noise.
pub const NOISE_CHECK_GAP: Duration = Duration::from_secs(5);

/// What the gate asks of the module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Register 0x0013.
    pub same_code_delay: u8,
    /// The speed the module is switched to (one of [`registers::BAUD_DIVISORS`]).
    pub baud: u32,
    /// Speeds tried, in order, to find the module.
    pub probe: Vec<u32>,
    /// Where the gate keeps reading when no module answers.
    pub fallback_baud: u32,
    /// Frames carry a real CRC (else `AB CD`).
    pub crc: bool,
}

/// Something the shell should log or report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The module answered at this speed.
    Found {
        /// Baud rate.
        baud: u32,
    },
    /// Every setting holds; `written` are those that had to change, saved to EEPROM once.
    Configured {
        /// The speed the gate reads at now.
        baud: u32,
        /// The settings written.
        written: Vec<&'static str>,
    },
    /// No module answered at any speed: not a GM65-class scanner (or not wired for
    /// commands); the gate keeps reading lines at the fallback speed.
    NoAnswer {
        /// Where the gate reads now.
        baud: u32,
    },
    /// A module set up earlier had lost its settings (a reset, or a module swapped).
    Reset,
    /// A command was not acknowledged after every attempt.
    Failed {
        /// Which setting.
        what: &'static str,
    },
}

impl Event {
    /// Whether the desk should hear of it.
    pub fn is_alarm(&self) -> bool {
        matches!(
            self,
            Event::NoAnswer { .. } | Event::Reset | Event::Failed { .. }
        )
    }
}

/// What the shell does for the setup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Switch the port to this speed.
    Baud(u32),
    /// Drain the input already received (through [`Setup::input`]), then write these bytes.
    Send(Vec<u8>),
    /// Log or report this.
    Event(Event),
}

/// What the outstanding command is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Job {
    Probe,
    Read(usize),
    Write(usize),
    Save,
    Check,
}

#[derive(Debug)]
struct Pending {
    job: Job,
    command: Command,
    attempt: u8,
    deadline: Instant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Trying `probe[i]`.
    Probe(usize),
    /// Reading and writing the settings.
    Configure,
    /// Set up; the next check is due at the time.
    Idle(Instant),
    /// Nothing more to do: no module answered at start.
    Off,
}

/// The setup of one opened port.
#[derive(Debug)]
pub struct Setup {
    options: Options,
    wanted: Wanted,
    parser: ReplyParser,
    phase: Phase,
    pending: Option<Pending>,
    /// A command waiting for the line to go quiet after a retried one.
    queued: Option<(Job, Command)>,
    quiet_until: Option<Instant>,
    out: VecDeque<Output>,
    baud: u32,
    /// Settings written in this round.
    written: Vec<&'static str>,
    /// The module answered and was set up before: losing that is a reset.
    set_up_before: bool,
    /// The last round failed: the next check sets up again instead of only checking.
    healthy: bool,
    /// A check went unanswered and the module is being looked for again.
    lost_contact: bool,
    noise: u32,
    last_check: Option<Instant>,
}

impl Setup {
    /// Starts probing at `now`.
    pub fn new(options: Options, now: Instant) -> Self {
        let wanted = Wanted {
            same_code_delay: options.same_code_delay,
            baud_divisor: registers::baud_divisor(options.baud).unwrap_or(0x001A),
        };
        let baud = options
            .probe
            .first()
            .copied()
            .unwrap_or(options.fallback_baud);
        let mut setup = Setup {
            options,
            wanted,
            parser: ReplyParser::default(),
            phase: Phase::Off,
            pending: None,
            queued: None,
            quiet_until: None,
            out: VecDeque::new(),
            baud,
            written: Vec::new(),
            set_up_before: false,
            healthy: false,
            lost_contact: false,
            noise: 0,
            last_check: None,
        };
        setup.probe(0, now);
        setup
    }

    /// The speed the port should be at.
    pub fn baud(&self) -> u32 {
        self.baud
    }

    /// Whether the module holds every setting the gate needs.
    pub fn is_configured(&self) -> bool {
        self.healthy && matches!(self.phase, Phase::Idle(_))
    }

    /// Feeds one received byte; returns it if it belongs to the scanned text.
    pub fn input(&mut self, byte: u8, now: Instant) -> Option<u8> {
        if self.phase == Phase::Off {
            return Some(byte);
        }
        match self.parser.push(byte) {
            Parsed::Text(b) => {
                if !matches!(b, 0x20..=0x7E | b'\r' | b'\n' | b'\t') {
                    self.noise += 1;
                    self.on_noise(now);
                }
                Some(b)
            }
            Parsed::Pending => None,
            Parsed::Garbled => {
                self.noise += 1;
                self.on_noise(now);
                None
            }
            Parsed::Reply(reply) => {
                self.on_reply(reply.data, now);
                None
            }
        }
    }

    /// What the shell should do next.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When [`Setup::handle_timeout`] is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let pending = self.pending.as_ref().map(|p| p.deadline);
        let queued = self.queued.as_ref().and(self.quiet_until);
        let idle = match self.phase {
            Phase::Idle(at) => Some(at),
            _ => None,
        };
        [pending, queued, idle].into_iter().flatten().min()
    }

    /// Advances timers to `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.quiet_until.is_some_and(|t| now >= t) {
            self.quiet_until = None;
            if let Some((job, command)) = self.queued.take() {
                self.transmit(job, command, 1, now);
            }
        }
        if let Some(p) = self.pending.as_ref().filter(|p| now >= p.deadline) {
            let (job, command, attempt) = (p.job, p.command.clone(), p.attempt);
            self.pending = None;
            if attempt < ATTEMPTS {
                self.transmit(job, command, attempt + 1, now);
            } else {
                self.gave_up(job, now);
            }
        }
        if let Phase::Idle(at) = self.phase {
            if now >= at && self.pending.is_none() {
                self.check(now);
            }
        }
    }

    fn on_noise(&mut self, now: Instant) {
        if self.noise >= NOISE_BURST
            && self.pending.is_none()
            && matches!(self.phase, Phase::Idle(_))
            && self
                .last_check
                .is_none_or(|t| now.saturating_duration_since(t) >= NOISE_CHECK_GAP)
        {
            self.check(now);
        }
    }

    fn check(&mut self, now: Instant) {
        self.noise = 0;
        self.last_check = Some(now);
        if self.healthy {
            self.phase = Phase::Configure;
            self.send(
                Job::Check,
                Command::Read {
                    addr: SETTING_CODES.addr,
                    count: 1,
                },
                now,
            );
        } else {
            self.probe(0, now);
        }
    }

    fn probe(&mut self, i: usize, now: Instant) {
        let Some(&baud) = self.options.probe.get(i) else {
            return;
        };
        self.phase = Phase::Probe(i);
        self.switch_baud(baud);
        self.send(
            Job::Probe,
            Command::Read {
                addr: registers::MODE.addr,
                count: 1,
            },
            now,
        );
    }

    fn switch_baud(&mut self, baud: u32) {
        if baud != self.baud {
            self.baud = baud;
            self.out.push_back(Output::Baud(baud));
        }
    }

    fn read(&mut self, i: usize, now: Instant) {
        match SETTINGS.get(i) {
            Some(s) => self.send(
                Job::Read(i),
                Command::Read {
                    addr: s.addr,
                    count: s.count,
                },
                now,
            ),
            None if self.written.is_empty() => self.configured(now),
            None => self.send(Job::Save, Command::Save, now),
        }
    }

    fn configured(&mut self, now: Instant) {
        if self.lost_contact && !self.written.is_empty() {
            // Answering only after a new probe, with settings lost: it reset.
            self.out.push_back(Output::Event(Event::Reset));
        }
        self.out.push_back(Output::Event(Event::Configured {
            baud: self.baud,
            written: std::mem::take(&mut self.written),
        }));
        self.set_up_before = true;
        self.healthy = true;
        self.lost_contact = false;
        self.phase = Phase::Idle(now + CHECK_EVERY);
    }

    fn on_reply(&mut self, data: Vec<u8>, now: Instant) {
        // A reply with nothing outstanding is a late answer to an earlier attempt.
        let Some(pending) = self.pending.take() else {
            return;
        };
        if data.len() != pending.command.reply_len() {
            // An ACK where register values were asked for, or the other way round: a late
            // answer to an earlier command. The command's own answer is still to come.
            self.pending = Some(pending);
            return;
        }
        if pending.attempt > 1 {
            // The attempt before may still be answered: let the line go quiet first.
            self.quiet_until = Some(now + REPLY_TIMEOUT);
        }
        match pending.job {
            Job::Probe => {
                self.out
                    .push_back(Output::Event(Event::Found { baud: self.baud }));
                self.start_configure(now);
            }
            Job::Check if registers::setting_codes_closed(data[0]) => {
                self.phase = Phase::Idle(now + CHECK_EVERY);
            }
            Job::Check => {
                self.out.push_back(Output::Event(Event::Reset));
                self.start_configure(now);
            }
            Job::Read(i) => {
                let setting = SETTINGS[i];
                let value = self.wanted.value(setting, &data);
                if value == data {
                    self.read(i + 1, now);
                } else {
                    self.send(
                        Job::Write(i),
                        Command::Write {
                            addr: setting.addr,
                            data: value,
                        },
                        now,
                    );
                }
            }
            Job::Write(i) => {
                let setting = SETTINGS[i];
                self.written.push(setting.name);
                if setting == registers::BAUD {
                    // The module answered at the old speed and listens at the new one now.
                    self.switch_baud(self.options.baud);
                }
                self.read(i + 1, now);
            }
            Job::Save => self.configured(now),
        }
    }

    fn start_configure(&mut self, now: Instant) {
        self.phase = Phase::Configure;
        self.written.clear();
        self.read(0, now);
    }

    fn gave_up(&mut self, job: Job, now: Instant) {
        match (job, self.phase) {
            (Job::Probe, Phase::Probe(i)) if i + 1 < self.options.probe.len() => {
                self.probe(i + 1, now)
            }
            (Job::Probe, _) if self.set_up_before => {
                // A module that answered before went quiet: read where it was, look again
                // at the next check.
                self.switch_baud(self.options.baud);
                self.out.push_back(Output::Event(Event::Failed {
                    what: "answer at any speed",
                }));
                self.healthy = false;
                self.phase = Phase::Idle(now + CHECK_EVERY);
            }
            (Job::Probe, _) => {
                self.switch_baud(self.options.fallback_baud);
                self.out.push_back(Output::Event(Event::NoAnswer {
                    baud: self.options.fallback_baud,
                }));
                self.phase = Phase::Off;
            }
            (Job::Check, _) => {
                // Silent at our speed: it may have reset to another one.
                self.healthy = false;
                self.lost_contact = true;
                self.probe(0, now);
            }
            (Job::Read(i) | Job::Write(i), _) => self.failed(SETTINGS[i], now),
            (Job::Save, _) => self.failed(Setting::new(0, 0, "save to EEPROM"), now),
        }
    }

    fn failed(&mut self, setting: Setting, now: Instant) {
        self.out
            .push_back(Output::Event(Event::Failed { what: setting.name }));
        self.healthy = false;
        self.written.clear();
        self.phase = Phase::Idle(now + CHECK_EVERY);
    }

    fn send(&mut self, job: Job, command: Command, now: Instant) {
        if self.quiet_until.is_some_and(|t| now < t) {
            self.queued = Some((job, command));
        } else {
            self.quiet_until = None;
            self.transmit(job, command, 1, now);
        }
    }

    fn transmit(&mut self, job: Job, command: Command, attempt: u8, now: Instant) {
        // Whatever part of a reply is held belongs to an earlier attempt.
        self.parser.reset();
        self.out
            .push_back(Output::Send(command.encode(self.options.crc)));
        self.pending = Some(Pending {
            job,
            command,
            attempt,
            deadline: now + REPLY_TIMEOUT,
        });
    }
}

#[cfg(test)]
mod tests;
