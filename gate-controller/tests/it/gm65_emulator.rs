//! A GM65-S module on the master side of a pty, built from its user manual (§9): 256 zone
//! bits in RAM and in EEPROM, read (0x07), write (0x08) and save (0x09) commands checked by
//! CRC-16 or `AB CD`, no reply to a bad CRC or an unknown or incomplete command (400 ms), an
//! ACK at the old speed for a baud-rate write, a reset that reloads RAM from EEPROM. It knows
//! the speed the gate set from the slave side's termios (read through the master: Linux
//! answers a pty master's termios ioctls with its slave's): at any other speed, what each side
//! sends arrives as noise. Scans go out only in serial-output mode, with the tail 0x0060 asks.

use gatehouse_gate::gm65::frame::{ACK, crc16};
use gatehouse_gate::gm65::registers::baud_of;
use serialport::{SerialPort, TTYPort};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The zone bits of a module as it leaves the factory, as far as the manual says: manual
/// mode with LED, sound, aim and light on (§3.3), setting barcodes open and not echoed
/// (§1.5), serial output, same-code delay off, CR tail allowed, 9600 baud (0x0139).
pub fn factory() -> [u8; 256] {
    let mut z = [0u8; 256];
    z[0x00] = 0xD4;
    z[0x03] = 0x00;
    z[0x0D] = 0x00;
    z[0x13] = 0x00;
    z[0x2A] = 0x39;
    z[0x2B] = 0x01;
    z[0x60] = 0x01;
    z[0xE0] = 0x05;
    z[0xE2] = 0x78;
    z
}

/// How the module misbehaves.
#[derive(Clone, Debug, Default)]
pub struct Quirks {
    /// It never answers a command (a scanner of another kind, or TX not wired).
    pub mute: bool,
    /// The ACK of the first write comes this late.
    pub slow_first_ack: Option<Duration>,
    /// Before answering command number N (1-based), a visitor's scan goes out.
    pub scan_before_reply: Option<(usize, String)>,
}

/// What the module holds and has seen.
#[derive(Debug)]
pub struct State {
    /// Zone bits in RAM.
    pub ram: [u8; 256],
    /// Zone bits in EEPROM.
    pub eeprom: [u8; 256],
    /// Valid commands received, as (type, address, data).
    pub commands: Vec<(u8, u16, Vec<u8>)>,
    /// The speed the gate's side was at when the last byte arrived.
    pub host_baud: Option<u32>,
    quirks: Quirks,
    writes_acked: usize,
}

impl State {
    /// The module's own speed, from its RAM.
    pub fn baud(&self) -> u32 {
        baud_of(u16::from_le_bytes([self.ram[0x2A], self.ram[0x2B]])).unwrap_or(9600)
    }

    /// How many saves to EEPROM it received.
    pub fn saves(&self) -> usize {
        self.commands.iter().filter(|c| c.0 == 0x09).count()
    }

    /// The addresses it was told to write.
    pub fn writes(&self) -> Vec<u16> {
        self.commands
            .iter()
            .filter(|c| c.0 == 0x08)
            .map(|c| c.1)
            .collect()
    }
}

/// A running emulator; dropping it stops it.
pub struct Gm65 {
    state: Arc<Mutex<State>>,
    out: Arc<Mutex<TTYPort>>,
    /// The path the gate opens.
    pub path: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Gm65 {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Gm65 {
    /// A module whose EEPROM (and RAM, as after power-on) holds `eeprom`.
    pub fn start(eeprom: [u8; 256], quirks: Quirks) -> Gm65 {
        let (master, slave) = crate::support::pty_pair();
        let path = slave.name().unwrap();
        // The gate opens the slave by its path (and locks it).
        drop(slave);
        let state = Arc::new(Mutex::new(State {
            ram: eeprom,
            eeprom,
            commands: Vec::new(),
            host_baud: None,
            quirks,
            writes_acked: 0,
        }));
        let mut reader = master.try_clone_native().unwrap();
        reader.set_timeout(Duration::from_millis(20)).unwrap();
        let out = Arc::new(Mutex::new(master));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, out, stop) = (state.clone(), out.clone(), stop.clone());
            std::thread::spawn(move || run(reader, &state, &out, &stop))
        };
        Gm65 {
            state,
            out,
            path,
            stop,
            thread: Some(thread),
        }
    }

    /// What the module holds and has seen.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// A visitor holds a code in front of the module.
    pub fn scan(&self, text: &str) {
        let bytes = {
            let s = self.state();
            if s.ram[0x0D] & 0x03 != 0 {
                // USB keyboard or virtual COM: nothing on the UART.
                return;
            }
            let mut bytes = text.as_bytes().to_vec();
            bytes.extend_from_slice(tail(s.ram[0x60]));
            bytes
        };
        send(&self.state, &self.out, &bytes);
    }

    /// A second handle on the master side, for the gate harness.
    pub fn master(&self) -> TTYPort {
        self.out.lock().unwrap().try_clone_native().unwrap()
    }

    /// A brown-out or a re-seated cable: RAM is reloaded from EEPROM.
    pub fn reset(&self) {
        let mut s = self.state();
        s.ram = s.eeprom;
    }

    /// Someone scanned the manual's "Reset" setting code: factory values, saved.
    pub fn factory_reset(&self) {
        let mut s = self.state();
        s.ram = factory();
        s.eeprom = s.ram;
    }
}

fn tail(reg: u8) -> &'static [u8] {
    if reg & 0x01 == 0 {
        return b"";
    }
    match (reg >> 5) & 0x03 {
        0 => b"\r",
        1 => b"\r\n",
        2 => b"\t",
        _ => b"",
    }
}

/// What the gate's side reads of `bytes` sent at the module's speed: the same bytes if the
/// speeds match, noise (never text, never a terminator) otherwise.
fn send(state: &Mutex<State>, out: &Mutex<TTYPort>, bytes: &[u8]) {
    let module = state.lock().unwrap().baud();
    let host = host_baud(out);
    let wire: Vec<u8> = if host == module {
        bytes.to_vec()
    } else {
        bytes.iter().map(|b| 0x80 | (b ^ 0x55)).collect()
    };
    out.lock().unwrap().write_all(&wire).unwrap();
}

/// The speed the gate's side set: the slave's termios, through the master.
fn host_baud(master: &Mutex<TTYPort>) -> u32 {
    master.lock().unwrap().baud_rate().unwrap()
}

fn run(mut reader: TTYPort, state: &Mutex<State>, out: &Mutex<TTYPort>, stop: &AtomicBool) {
    let mut held: Vec<u8> = Vec::new();
    let mut started = Instant::now();
    let mut buf = [0u8; 64];
    let mut received = 0usize;
    while !stop.load(Ordering::SeqCst) {
        let n = match reader.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => 0,
            Err(_) => {
                // EIO while nobody has the slave open (before the gate opens it).
                std::thread::sleep(Duration::from_millis(10));
                0
            }
        };
        if !held.is_empty() && started.elapsed() > Duration::from_millis(400) {
            // §9.2: a command not complete 400 ms after 7E 00 is unknown.
            held.clear();
        }
        if n == 0 {
            continue;
        }
        let host = host_baud(out);
        let module = {
            let mut s = state.lock().unwrap();
            s.host_baud = Some(host);
            s.baud()
        };
        if host != module {
            // Noise at the module's speed: nothing it could take for a command.
            held.clear();
            continue;
        }
        for &b in &buf[..n] {
            if held.is_empty() {
                if b != 0x7E {
                    continue;
                }
                started = Instant::now();
            }
            held.push(b);
            if held.len() == 2 && held[1] != 0x00 {
                held.clear();
                continue;
            }
            let Some(total) = frame_len(&held) else {
                continue;
            };
            if held.len() < total {
                continue;
            }
            let frame = std::mem::take(&mut held);
            received += 1;
            execute(&frame, received, state, out);
        }
    }
}

/// The full length of the command whose first bytes are `held`, once it is known.
fn frame_len(held: &[u8]) -> Option<usize> {
    let (kind, len) = (*held.get(2)?, *held.get(3)?);
    Some(match kind {
        0x08 => 6 + usize::from(len) + 2,
        _ => 9,
    })
}

fn execute(frame: &[u8], number: usize, state: &Mutex<State>, out: &Mutex<TTYPort>) {
    let body = &frame[2..frame.len() - 2];
    let check = &frame[frame.len() - 2..];
    if check != [0xAB, 0xCD] && check != crc16(body).to_be_bytes() {
        return; // §9: a bad CRC gets no reply.
    }
    let (kind, addr) = (body[0], u16::from_be_bytes([body[2], body[3]]));
    let data = body[4..].to_vec();
    let (reply, delay, scan) = {
        let mut s = state.lock().unwrap();
        if s.quirks.mute {
            return;
        }
        s.commands.push((kind, addr, data.clone()));
        let scan = match &s.quirks.scan_before_reply {
            Some((n, text)) if *n == number => Some(text.clone()),
            _ => None,
        };
        let mut delay = None;
        let reply = match kind {
            0x07 => {
                let count = match data[0] {
                    0 => 256,
                    n => usize::from(n),
                };
                let start = usize::from(addr);
                let values: Vec<u8> = (start..start + count).map(|a| s.ram[a % 256]).collect();
                let mut body = vec![0x00, data[0]];
                body.extend_from_slice(&values);
                let mut reply = vec![0x02, 0x00];
                reply.extend_from_slice(&body);
                reply.extend_from_slice(&crc16(&body).to_be_bytes());
                reply
            }
            0x08 => {
                for (i, v) in data.iter().enumerate() {
                    s.ram[(usize::from(addr) + i) % 256] = *v;
                }
                if s.writes_acked == 0 {
                    delay = s.quirks.slow_first_ack;
                }
                s.writes_acked += 1;
                ACK.to_vec()
            }
            0x09 if data == [0x00] => {
                s.eeprom = s.ram;
                ACK.to_vec()
            }
            _ => return,
        };
        (reply, delay, scan)
    };
    if let Some(text) = scan {
        let mut bytes = text.into_bytes();
        bytes.push(b'\r');
        send(state, out, &bytes);
    }
    if let Some(d) = delay {
        std::thread::sleep(d);
    }
    // Replies go out at the speed the command came in at: a baud-rate write is acknowledged
    // at the old speed.
    out.lock().unwrap().write_all(&reply).unwrap();
}
