//! GM65 serial command frames (manual §9): building commands, CRC-16/XMODEM, and parsing the
//! module's replies out of a byte stream that also carries scanned text.

/// The first two bytes of every command.
pub const COMMAND_HEAD: [u8; 2] = [0x7E, 0x00];
/// The first two bytes of every reply.
pub const REPLY_HEAD: [u8; 2] = [0x02, 0x00];
/// The reply to a successful write or save.
pub const ACK: [u8; 7] = [0x02, 0x00, 0x00, 0x01, 0x00, 0x33, 0x31];
/// Written in place of the CRC, the module skips the check (§9.1).
pub const NO_CRC: [u8; 2] = [0xAB, 0xCD];

/// CRC-16/XMODEM (polynomial 0x1021, initial value 0, MSB first, no final XOR), as the
/// manual's `crc_cal_by_bit` computes it over the bytes after the head.
pub fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0u16, |mut crc, &byte| {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
        crc
    })
}

/// A command the gate sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Read `count` (1–255) zone bits from `addr` (type 0x07).
    Read {
        /// First register.
        addr: u16,
        /// How many.
        count: u8,
    },
    /// Write `data` (1–255 bytes) from `addr` upwards (type 0x08).
    Write {
        /// First register.
        addr: u16,
        /// The values, lowest address first.
        data: Vec<u8>,
    },
    /// Save the zone bits from RAM to EEPROM (type 0x09, data 0x00).
    Save,
}

impl Command {
    /// The frame, with a real CRC (`crc = true`) or `AB CD`.
    pub fn encode(&self, crc: bool) -> Vec<u8> {
        let mut body = match self {
            Command::Read { addr, count } => {
                let [hi, lo] = addr.to_be_bytes();
                vec![0x07, 0x01, hi, lo, *count]
            }
            Command::Write { addr, data } => {
                let [hi, lo] = addr.to_be_bytes();
                // One length byte: the setup never writes more than two registers at once.
                let len = u8::try_from(data.len()).unwrap_or(u8::MAX);
                let mut body = vec![0x08, len, hi, lo];
                body.extend_from_slice(&data[..usize::from(len)]);
                body
            }
            Command::Save => vec![0x09, 0x01, 0x00, 0x00, 0x00],
        };
        let check = if crc {
            crc16(&body).to_be_bytes()
        } else {
            NO_CRC
        };
        let mut frame = COMMAND_HEAD.to_vec();
        frame.append(&mut body);
        frame.extend_from_slice(&check);
        frame
    }

    /// The length of a well-formed reply's data: the register values of a read, one `00`
    /// for a write or save.
    pub fn reply_len(&self) -> usize {
        match self {
            Command::Read { count, .. } => usize::from(*count),
            Command::Write { .. } | Command::Save => 1,
        }
    }
}

/// A complete reply with a good CRC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The type byte (0x00: success, the only one the manual defines).
    pub kind: u8,
    /// The data: register values of a read, `[0x00]` for a write or save.
    pub data: Vec<u8>,
}

impl Reply {
    /// Whether this is the acknowledgement of a write or save.
    pub fn is_ack(&self) -> bool {
        self.kind == 0 && self.data == [0x00]
    }
}

/// What one byte fed to the [`ReplyParser`] turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Not part of a reply: the byte belongs to the scanned text.
    Text(u8),
    /// Held as part of a reply still arriving.
    Pending,
    /// A reply is complete.
    Reply(Reply),
    /// Bytes held as a reply turned out not to be one (bad CRC, unknown type or length);
    /// they are dropped.
    Garbled,
}

/// The most register values a reply may carry: the setup reads at most two at once.
pub const MAX_DATA: usize = 2;

/// Splits a stream into replies and everything else. A reply starts with `02 00`, which
/// never occurs in scanned text (printable characters and a CR/LF/TAB tail), so a scan that
/// arrives while a command waits for its answer is told apart and handed on.
#[derive(Debug, Default)]
pub struct ReplyParser {
    held: Vec<u8>,
}

impl ReplyParser {
    /// Feeds one byte.
    pub fn push(&mut self, byte: u8) -> Parsed {
        match self.held.len() {
            0 if byte == REPLY_HEAD[0] => {
                self.held.push(byte);
                Parsed::Pending
            }
            0 => Parsed::Text(byte),
            1 if byte != REPLY_HEAD[1] => {
                // Resynchronise: a lone 02 is line noise (text never holds it) and is dropped;
                // the byte after it is looked at afresh.
                self.held.clear();
                self.push(byte)
            }
            // Only type 00 is defined, and the setup never reads more than MAX_DATA values:
            // anything else is noise, not a reply to wait for.
            2 if byte != 0x00 => self.garbled(),
            3 if byte == 0 || usize::from(byte) > MAX_DATA => self.garbled(),
            _ => {
                self.held.push(byte);
                self.complete()
            }
        }
    }

    /// Whether part of a reply is held.
    pub fn in_reply(&self) -> bool {
        !self.held.is_empty()
    }

    /// Drops a partial reply (its sender took too long).
    pub fn reset(&mut self) {
        self.held.clear();
    }

    fn garbled(&mut self) -> Parsed {
        self.held.clear();
        Parsed::Garbled
    }

    fn complete(&mut self) -> Parsed {
        // head(2) type(1) len(1) data(len) crc(2)
        if self.held.len() < 4 {
            return Parsed::Pending;
        }
        let len = usize::from(self.held[3]);
        if self.held.len() < 4 + len + 2 {
            return Parsed::Pending;
        }
        let body = &self.held[2..4 + len];
        let got = u16::from_be_bytes([self.held[4 + len], self.held[5 + len]]);
        let parsed = if crc16(body) == got {
            Parsed::Reply(Reply {
                kind: body[0],
                data: body[2..].to_vec(),
            })
        } else {
            Parsed::Garbled
        };
        self.held.clear();
        parsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(bytes: &[u8]) -> Vec<Parsed> {
        let mut p = ReplyParser::default();
        bytes
            .iter()
            .map(|b| p.push(*b))
            .filter(|r| *r != Parsed::Pending)
            .collect()
    }

    #[test]
    fn the_manuals_examples_reproduce() {
        // §9.2: read one zone bit at 0x000A.
        assert_eq!(
            Command::Read {
                addr: 0x000A,
                count: 1
            }
            .encode(true),
            [0x7E, 0x00, 0x07, 0x01, 0x00, 0x0A, 0x01, 0xEE, 0x8A]
        );
        // §9.3: write 0x3E at 0x000A.
        assert_eq!(
            Command::Write {
                addr: 0x000A,
                data: vec![0x3E]
            }
            .encode(true),
            [0x7E, 0x00, 0x08, 0x01, 0x00, 0x0A, 0x3E, 0x4C, 0xCF]
        );
        // §9.4: save to EEPROM.
        assert_eq!(
            Command::Save.encode(true),
            [0x7E, 0x00, 0x09, 0x01, 0x00, 0x00, 0x00, 0xDE, 0xC8]
        );
        // The ACK's CRC and the read reply's (§9.2: 0x3E read back, `E4 AC`).
        assert_eq!(crc16(&ACK[2..5]), 0x3331);
        assert_eq!(crc16(&[0x00, 0x01, 0x3E]), 0xE4AC);
        // The 115200-baud write public drivers send, without a CRC.
        assert_eq!(
            Command::Write {
                addr: 0x002A,
                data: vec![0x1A, 0x00]
            }
            .encode(false),
            [0x7E, 0x00, 0x08, 0x02, 0x00, 0x2A, 0x1A, 0x00, 0xAB, 0xCD]
        );
    }

    #[test]
    fn replies_are_told_apart_from_text_around_them() {
        let mut stream = b"AB".to_vec();
        stream.extend_from_slice(&ACK);
        stream.extend_from_slice(b"C\r");
        stream.extend_from_slice(&[0x02, 0x00, 0x00, 0x01, 0x3E, 0xE4, 0xAC]);
        assert_eq!(
            parse_all(&stream),
            vec![
                Parsed::Text(b'A'),
                Parsed::Text(b'B'),
                Parsed::Reply(Reply {
                    kind: 0,
                    data: vec![0x00]
                }),
                Parsed::Text(b'C'),
                Parsed::Text(b'\r'),
                Parsed::Reply(Reply {
                    kind: 0,
                    data: vec![0x3E]
                }),
            ]
        );
    }

    #[test]
    fn noise_is_dropped_and_the_parser_resynchronises_on_02_00() {
        let mut stream = vec![0x02, 0x00, 0x00, 0x01, 0x00, 0x11, 0x22];
        stream.extend_from_slice(&[0x02, b'X']);
        stream.extend_from_slice(&[0x02, 0x00, 0x00, 0xC8, b'Y']);
        stream.extend_from_slice(&[0x02, 0x02, 0x00, 0x00, 0x01, 0x00, 0x33, 0x31]);
        assert_eq!(
            parse_all(&stream),
            vec![
                Parsed::Garbled,
                // A lone 02 is dropped, the text after it kept.
                Parsed::Text(b'X'),
                // A length no setup reply has: not waited for.
                Parsed::Garbled,
                Parsed::Text(b'Y'),
                // 02 02 00 …: the second 02 starts the reply.
                Parsed::Reply(Reply {
                    kind: 0,
                    data: vec![0x00]
                }),
            ]
        );
    }
}
