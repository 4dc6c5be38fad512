//! An ESC/POS reader for tests, written from the command reference and sharing nothing with
//! the encoder: it walks a byte stream as a printer would and reports what would come out.
//! Any byte sequence it does not know is an error, so a test fails on a stray command.

/// One thing the printer does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// `ESC @`.
    Init,
    /// A run of printable text, decoded as the printer would in its current mode.
    Text {
        /// The characters (U+FFFD for a byte the mode cannot show).
        text: String,
        /// Whether Chinese mode (`FS &`) was on.
        chinese_mode: bool,
    },
    /// LF.
    LineFeed,
    /// `ESC a n`.
    Justify(u8),
    /// `GS ! n` or `ESC ! n`.
    CharSize(u8),
    /// `ESC d n`.
    FeedLines(u8),
    /// `ESC 2`: back to the default line spacing.
    DefaultLineSpacing,
    /// `GS v 0`: a raster bit image.
    Raster(RasterImage),
    /// A QR symbol printed (`GS ( k` fn 181) with the settings in force.
    QrPrinted(QrSymbol),
    /// `GS V`.
    Cut {
        /// Partial (true) or full.
        partial: bool,
    },
    /// `DLE EOT n`.
    StatusQuery(u8),
}

/// The QR settings and data in force when a symbol was printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QrSymbol {
    /// Model 1 or 2 (fn 165).
    pub model: Option<u8>,
    /// Module size in dots (fn 167).
    pub module_dots: Option<u8>,
    /// b'L', b'M', b'Q' or b'H' (fn 169).
    pub error_correction: Option<u8>,
    /// The stored data (fn 180).
    pub payload: Vec<u8>,
}

/// A `GS v 0` image as the printer would lay it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RasterImage {
    /// Dots across (8 per data byte of a row).
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Scale mode m (0 normal, 1 double width, 2 double height, 3 quadruple).
    pub mode: u8,
    /// One bool per dot, row by row; true = black.
    pub dots: Vec<bool>,
}

impl RasterImage {
    /// Whether the dot at (x, y) is black.
    pub fn black(&self, x: usize, y: usize) -> bool {
        self.dots[y * self.width + x]
    }
}

/// Everything a byte stream does.
#[derive(Debug, Default)]
pub struct Printout {
    /// In order.
    pub events: Vec<Event>,
}

impl Printout {
    /// The printed text, one line per LF.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for e in &self.events {
            match e {
                Event::Text { text, .. } => s.push_str(text),
                Event::LineFeed => s.push('\n'),
                _ => {}
            }
        }
        s
    }

    /// The QR symbols printed.
    pub fn printed_qr(&self) -> Vec<&QrSymbol> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::QrPrinted(q) => Some(q),
                _ => None,
            })
            .collect()
    }

    /// The raster images printed.
    pub fn rasters(&self) -> Vec<&RasterImage> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Raster(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    /// Whether the last thing the stream does is cut the paper.
    pub fn ends_with_cut(&self) -> bool {
        matches!(self.events.last(), Some(Event::Cut { .. }))
    }
}

/// Where reading stopped and why.
#[derive(Debug, PartialEq, Eq)]
pub struct ReadError {
    /// Byte offset.
    pub at: usize,
    /// What was wrong.
    pub what: String,
}

/// Reads a whole stream.
pub fn read(bytes: &[u8]) -> Result<Printout, ReadError> {
    let mut p = Reader {
        bytes,
        pos: 0,
        chinese: false,
        qr: QrSymbol::default(),
        out: Printout::default(),
    };
    p.run()?;
    Ok(p.out)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    chinese: bool,
    qr: QrSymbol,
    out: Printout,
}

impl Reader<'_> {
    fn err(&self, what: impl Into<String>) -> ReadError {
        ReadError {
            at: self.pos,
            what: what.into(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&[u8], ReadError> {
        if self.pos + n > self.bytes.len() {
            return Err(self.err(format!("stream ends inside a command (needs {n} bytes)")));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, ReadError> {
        Ok(self.take(1)?[0])
    }

    fn run(&mut self) -> Result<(), ReadError> {
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            match b {
                0x1B => {
                    self.pos += 1;
                    self.esc()?;
                }
                0x1D => {
                    self.pos += 1;
                    self.gs()?;
                }
                0x1C => {
                    self.pos += 1;
                    match self.byte()? {
                        0x26 => self.chinese = true,
                        0x2E => self.chinese = false,
                        other => return Err(self.err(format!("unknown FS {other:#04x}"))),
                    }
                }
                0x10 => {
                    self.pos += 1;
                    if self.byte()? != 0x04 {
                        return Err(self.err("unknown DLE command"));
                    }
                    let n = self.byte()?;
                    if !(1..=4).contains(&n) {
                        return Err(self.err(format!("DLE EOT {n} is not a status query")));
                    }
                    self.out.events.push(Event::StatusQuery(n));
                }
                0x0A => {
                    self.pos += 1;
                    self.out.events.push(Event::LineFeed);
                }
                0x0D => self.pos += 1,
                0x00..=0x1F | 0x7F => return Err(self.err(format!("stray control byte {b:#04x}"))),
                _ => self.text()?,
            }
        }
        Ok(())
    }

    fn esc(&mut self) -> Result<(), ReadError> {
        match self.byte()? {
            b'@' => {
                self.chinese = false;
                self.qr = QrSymbol::default();
                self.out.events.push(Event::Init);
            }
            b'a' => {
                let n = self.byte()?;
                let n = match n {
                    0 | b'0' => 0,
                    1 | b'1' => 1,
                    2 | b'2' => 2,
                    _ => return Err(self.err(format!("ESC a {n} out of range"))),
                };
                self.out.events.push(Event::Justify(n));
            }
            b'!' => {
                let n = self.byte()?;
                self.out.events.push(Event::CharSize(n));
            }
            b'd' => {
                let n = self.byte()?;
                self.out.events.push(Event::FeedLines(n));
            }
            b'2' => self.out.events.push(Event::DefaultLineSpacing),
            other => return Err(self.err(format!("unknown ESC {other:#04x}"))),
        }
        Ok(())
    }

    fn gs(&mut self) -> Result<(), ReadError> {
        match self.byte()? {
            b'!' => {
                let n = self.byte()?;
                self.out.events.push(Event::CharSize(n));
            }
            b'V' => {
                let m = self.byte()?;
                let partial = match m {
                    0 | 48 => false,
                    1 | 49 => true,
                    65 | 97 | 103 => {
                        self.byte()?;
                        false
                    }
                    66 | 98 | 104 => {
                        self.byte()?;
                        true
                    }
                    _ => return Err(self.err(format!("GS V {m} is not a cut"))),
                };
                self.out.events.push(Event::Cut { partial });
            }
            b'(' => {
                if self.byte()? != b'k' {
                    return Err(self.err("only GS ( k is known"));
                }
                let lo = usize::from(self.byte()?);
                let hi = usize::from(self.byte()?);
                let body = self.take(lo + 256 * hi)?.to_vec();
                self.symbol(&body)?;
            }
            b'v' => {
                if self.byte()? != b'0' {
                    return Err(self.err("only GS v 0 is known"));
                }
                let mode = self.byte()?;
                if !matches!(mode, 0..=3 | 48..=51) {
                    return Err(self.err(format!("GS v 0 mode {mode}")));
                }
                let x = usize::from(self.byte()?) + 256 * usize::from(self.byte()?);
                let y = usize::from(self.byte()?) + 256 * usize::from(self.byte()?);
                if x == 0 || y == 0 {
                    return Err(self.err("GS v 0 with an empty image"));
                }
                let data = self.take(x * y)?;
                let dots = data
                    .iter()
                    .flat_map(|byte| (0..8).map(move |bit| byte & (0x80 >> bit) != 0))
                    .collect();
                self.out.events.push(Event::Raster(RasterImage {
                    width: x * 8,
                    height: y,
                    mode: mode % 48,
                    dots,
                }));
            }
            other => return Err(self.err(format!("unknown GS {other:#04x}"))),
        }
        Ok(())
    }

    /// `GS ( k` with cn = 49 (QR code); `body` is cn fn and the parameters.
    fn symbol(&mut self, body: &[u8]) -> Result<(), ReadError> {
        let [cn, func, rest @ ..] = body else {
            return Err(self.err("GS ( k shorter than cn fn"));
        };
        if *cn != 49 {
            return Err(self.err(format!("GS ( k symbol type {cn} is not QR")));
        }
        match (func, rest) {
            (65, [n1, 0]) if (49..=51).contains(n1) => self.qr.model = Some(n1 - 48),
            (67, [n]) if (1..=16).contains(n) => self.qr.module_dots = Some(*n),
            (69, [n]) => {
                self.qr.error_correction = Some(match n {
                    48 => b'L',
                    49 => b'M',
                    50 => b'Q',
                    51 => b'H',
                    _ => return Err(self.err(format!("QR error level {n}"))),
                })
            }
            (80, [48, data @ ..]) => self.qr.payload = data.to_vec(),
            (81, [48]) => {
                if self.qr.payload.is_empty() {
                    return Err(self.err("QR printed with nothing stored"));
                }
                self.out.events.push(Event::QrPrinted(self.qr.clone()));
            }
            _ => return Err(self.err(format!("QR function {func} with {} bytes", rest.len()))),
        }
        Ok(())
    }

    fn text(&mut self) -> Result<(), ReadError> {
        let start = self.pos;
        while self.pos < self.bytes.len()
            && self.bytes[self.pos] >= 0x20
            && self.bytes[self.pos] != 0x7F
        {
            self.pos += 1;
        }
        let run = &self.bytes[start..self.pos];
        let text = if self.chinese {
            let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(run);
            if had_errors {
                return Err(ReadError {
                    at: start,
                    what: "text is not valid GB18030".into(),
                });
            }
            text.into_owned()
        } else {
            // Outside Chinese mode the printer uses a one-byte code page: only ASCII is certain.
            run.iter()
                .map(|&b| {
                    if b.is_ascii() {
                        char::from(b)
                    } else {
                        '\u{FFFD}'
                    }
                })
                .collect()
        };
        self.out.events.push(Event::Text {
            text,
            chinese_mode: self.chinese,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_hand_written_stream() {
        // Bytes typed from the command reference, not produced by the encoder.
        let mut s = vec![0x1B, 0x40, 0x1C, 0x26, 0xC4, 0xE3, 0xBA, 0xC3, 0x0A];
        s.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]);
        s.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31]);
        s.extend_from_slice(&[
            0x1D, 0x28, 0x6B, 0x06, 0x00, 0x31, 0x50, 0x30, b'A', b'B', b'C',
        ]);
        s.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]);
        s.extend_from_slice(&[0x1C, 0x2E, 0x1D, 0x56, 0x01]);
        let p = read(&s).unwrap();
        assert_eq!(p.text(), "你好\n");
        let qr = p.printed_qr();
        assert_eq!(qr[0].payload, b"ABC");
        assert_eq!(qr[0].model, Some(2));
        assert_eq!(qr[0].error_correction, Some(b'M'));
        assert!(p.ends_with_cut());
    }

    #[test]
    fn rejects_unknown_commands_and_truncation() {
        assert!(read(&[0x1B, 0x7A]).is_err());
        assert!(read(&[0x1D, 0x28, 0x6B, 0x10, 0x00, 0x31]).is_err());
        assert!(read(&[0x07]).is_err());
    }

    #[test]
    fn high_bytes_outside_chinese_mode_are_not_shown_as_chinese() {
        let p = read(&[0xC4, 0xE3, 0x0A]).unwrap();
        assert_eq!(p.text(), "\u{FFFD}\u{FFFD}\n");
    }
}
