//! An emulated USB receipt printer on a Unix socket, as the kiosk sees a usblp device: a
//! character stream with no tty ioctls (ENOTTY) and no fsync (EINVAL), bidirectional. The
//! printer side reads the ESC/POS stream, answers `DLE EOT 2` and `DLE EOT 4` as the command
//! reference says (even while out of paper: they are real-time commands), and — like a real
//! printer — keeps data received while it cannot print in its buffer and prints it once the
//! paper is back.

use crate::escpos_reader;
use gatehouse_kiosk::printer::port::{PrinterPort, UsbPrinter};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the printer reports and what came out of it.
#[derive(Default)]
pub struct Paper {
    /// `DLE EOT 4` answer.
    pub sensor: u8,
    /// `DLE EOT 2` answer.
    pub offline_cause: u8,
    /// Whether it answers status at all (a unidirectional clone does not).
    pub answers: bool,
    /// Bytes that reached the paper.
    pub printed: Vec<u8>,
    /// Bytes received while it could not print, waiting in its buffer.
    pub held: Vec<u8>,
}

/// Paper present, cover closed (fixed bits only).
pub const READY: u8 = 0x12;
/// `DLE EOT 4`: paper end sensor, bits 5–6.
pub const PAPER_END: u8 = 0x72;
/// `DLE EOT 2`: cover open (bit 2).
pub const COVER_OPEN: u8 = 0x16;
/// `DLE EOT 2`: stopped at paper end (bit 5).
pub const STOPPED_PAPER_END: u8 = 0x32;

#[derive(Clone)]
pub struct FakePrinter {
    pub paper: Arc<Mutex<Paper>>,
    stop: Arc<AtomicBool>,
}

impl FakePrinter {
    /// A printer and the kiosk's backend for it. Each open by the kiosk gets a fresh link
    /// (as a replugged device would); the printer serves the newest.
    pub fn start(answers: bool) -> (FakePrinter, Box<dyn PrinterPort>) {
        let paper = Arc::new(Mutex::new(Paper {
            sensor: READY,
            offline_cause: READY,
            answers,
            ..Paper::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (links, incoming) = mpsc::channel::<UnixStream>();
        let fake = FakePrinter {
            paper: paper.clone(),
            stop: stop.clone(),
        };
        std::thread::spawn(move || serve(paper, stop, incoming));
        let links = Mutex::new(links);
        let port = UsbPrinter::with_opener("fake-usblp", move || {
            let (kiosk_end, printer_end) = UnixStream::pair()?;
            kiosk_end.set_nonblocking(true)?;
            links
                .lock()
                .unwrap()
                .send(printer_end)
                .map_err(|_| std::io::Error::other("printer gone"))?;
            Ok(kiosk_end)
        })
        .write_timeout(Duration::from_secs(3));
        (fake, Box::new(port))
    }

    pub fn set(&self, f: impl FnOnce(&mut Paper)) {
        f(&mut self.paper.lock().unwrap());
    }

    /// The roll is refilled and the cover closed: what it held comes out now.
    pub fn refill(&self) {
        let mut p = self.paper.lock().unwrap();
        p.sensor = READY;
        p.offline_cause = READY;
        let held = std::mem::take(&mut p.held);
        p.printed.extend(held);
    }

    pub fn printed(&self) -> Vec<u8> {
        self.paper.lock().unwrap().printed.clone()
    }

    pub fn held(&self) -> Vec<u8> {
        self.paper.lock().unwrap().held.clone()
    }
}

impl Drop for FakePrinter {
    fn drop(&mut self) {
        if Arc::strong_count(&self.stop) == 2 {
            self.stop.store(true, Ordering::Relaxed);
        }
    }
}

fn serve(paper: Arc<Mutex<Paper>>, stop: Arc<AtomicBool>, incoming: mpsc::Receiver<UnixStream>) {
    let mut link: Option<UnixStream> = None;
    let mut pending = Vec::new();
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        while let Ok(newer) = incoming.try_recv() {
            newer
                .set_read_timeout(Some(Duration::from_millis(20)))
                .unwrap();
            link = Some(newer);
            pending.clear();
        }
        let Some(l) = link.as_mut() else {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        let n = match l.read(&mut buf) {
            Ok(0) => {
                link = None;
                continue;
            }
            Ok(n) => n,
            Err(_) => continue,
        };
        pending.extend_from_slice(&buf[..n]);
        let mut p = paper.lock().unwrap();
        // A real-time query at the end of whole commands: answer it at once, whatever
        // print data came with it in the same read.
        while let [.., 0x10, 0x04, n] = pending[..] {
            let before = &pending[..pending.len() - 3];
            if !before.is_empty() && escpos_reader::read(before).is_err() {
                break;
            }
            pending.truncate(pending.len() - 3);
            let answer = match n {
                2 => p.offline_cause,
                4 => p.sensor,
                _ => READY,
            };
            if p.answers {
                let _ = l.write_all(&[answer]);
            }
        }
        if pending.is_empty() {
            continue;
        }
        // Print data once it forms whole commands (a read may split a command).
        match escpos_reader::read(&pending) {
            Ok(_) => {
                let can_print = p.sensor & 0x60 == 0 && p.offline_cause & 0x24 == 0;
                let data = std::mem::take(&mut pending);
                if can_print {
                    p.printed.extend(data);
                } else {
                    p.held.extend(data);
                }
            }
            Err(e) if e.what.contains("stream ends inside") => {}
            Err(_) => {
                // Not ESC/POS: a real printer would print it as garbage; keep it visible.
                let data = std::mem::take(&mut pending);
                p.printed.extend(data);
            }
        }
    }
}
