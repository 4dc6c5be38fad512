//! ESC/POS encoding of a ticket: a pure function from [`Ticket`] to the printer's bytes.
//!
//! Text is sent in the printer's Chinese mode (`FS &`) as GB18030, which leaves ASCII as
//! single bytes; the QR code uses the printer's native `GS ( k` symbol (model 2, level M), so
//! the credential text travels byte for byte and the printer draws it.

/// QR module size in printer dots. At 203 dpi (8 dots/mm) a version-5 code (37 modules) is
/// 222 dots ≈ 27.8 mm wide, 270 dots ≈ 33.8 mm with its 4-module quiet zone: inside the
/// 25–35 mm that 58 mm paper (384 dots) and the gates' scanners both suit.
pub const QR_MODULE_DOTS: u8 = 6;

/// Lines fed before the cut, so the last text clears the cutter.
const FEED_BEFORE_CUT: u8 = 4;

/// What one printed slip says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ticket {
    /// Printed large and centred at the top (the estate's name).
    pub heading: String,
    /// The kind of slip, e.g. "访客通行证 VISITOR PASS".
    pub title: String,
    /// The credential text, exactly as issued: the QR code's payload.
    pub credential: String,
    /// Lines printed under the QR code, left aligned.
    pub lines: Vec<String>,
}

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;
const FS: u8 = 0x1C;
const LF: u8 = 0x0A;

/// The printer's byte stream for `ticket`: initialise, Chinese mode, heading, QR, text, cut.
pub fn render(ticket: &Ticket) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(&[ESC, b'@']); // initialise
    out.extend_from_slice(&[FS, b'&']); // Chinese (GB18030) mode
    out.extend_from_slice(&[ESC, b'a', 1]); // centre
    out.extend_from_slice(&[GS, b'!', 0x11]); // double width and height
    text_line(&mut out, &ticket.heading);
    out.extend_from_slice(&[GS, b'!', 0x00]);
    text_line(&mut out, &ticket.title);
    out.push(LF);
    qr(&mut out, ticket.credential.as_bytes());
    out.push(LF);
    out.extend_from_slice(&[ESC, b'a', 0]); // left
    for line in &ticket.lines {
        text_line(&mut out, line);
    }
    out.extend_from_slice(&[FS, b'.']); // leave Chinese mode
    out.extend_from_slice(&[GS, b'V', 66, FEED_BEFORE_CUT]); // feed and partial cut
    out
}

/// The real-time paper-sensor query, `DLE EOT 4`.
pub const PAPER_STATUS_QUERY: [u8; 3] = [0x10, 0x04, 0x04];

/// What the roll-paper sensor says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaperStatus {
    /// Paper present.
    Ok,
    /// The roll is nearly used up; printing still works.
    NearEnd,
    /// No paper: nothing can be printed.
    Out,
    /// No answer: the printer is off, unplugged or busy with an error.
    Offline,
}

impl PaperStatus {
    /// Decodes the answer to `DLE EOT 4`: bit 1 and bit 4 are fixed 1 and bit 0, bit 7 fixed 0;
    /// bits 2–3 report paper near-end, bits 5–6 paper end. Anything else is not a status byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        if b & 0b1001_0011 != 0b0001_0010 {
            return None;
        }
        Some(if b & 0b0110_0000 != 0 {
            PaperStatus::Out
        } else if b & 0b0000_1100 != 0 {
            PaperStatus::NearEnd
        } else {
            PaperStatus::Ok
        })
    }

    /// Whether a slip can be printed now.
    pub fn can_print(self) -> bool {
        matches!(self, PaperStatus::Ok | PaperStatus::NearEnd)
    }
}

fn text_line(out: &mut Vec<u8>, text: &str) {
    // A control character in a name must not become a printer command.
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let (bytes, _, _) = encoding_rs::GB18030.encode(&clean);
    out.extend_from_slice(&bytes);
    out.push(LF);
}

fn qr(out: &mut Vec<u8>, data: &[u8]) {
    // GS ( k: pL pH count the bytes after them (cn fn and parameters).
    let gs_k = |out: &mut Vec<u8>, params: &[u8]| {
        let len = params.len();
        out.extend_from_slice(&[GS, b'(', b'k', (len & 0xFF) as u8, (len >> 8) as u8]);
        out.extend_from_slice(params);
    };
    gs_k(out, &[49, 65, 50, 0]); // fn 165: model 2
    gs_k(out, &[49, 67, QR_MODULE_DOTS]); // fn 167: module size
    gs_k(out, &[49, 69, 49]); // fn 169: error correction M
    let mut store = vec![49, 80, 48]; // fn 180: store data in the symbol area
    store.extend_from_slice(data);
    gs_k(out, &store);
    gs_k(out, &[49, 81, 48]); // fn 181: print the stored symbol
}

#[cfg(test)]
mod tests {
    use super::super::escpos_reader::{Event, read};
    use super::*;

    fn ticket() -> Ticket {
        Ticket {
            heading: "翠湖花园".into(),
            title: "访客通行证 VISITOR PASS".into(),
            credential: "NCF:8A$9K6Q3-B.LFGO+12 %*/".into(),
            lines: vec!["姓名 Name: 张*明".into(), "单元 Unit: 2-1203".into()],
        }
    }

    #[test]
    fn starts_with_init_then_chinese_mode_and_ends_with_a_cut() {
        let bytes = render(&ticket());
        assert_eq!(&bytes[..4], &[0x1B, 0x40, 0x1C, 0x26]);
        let printout = read(&bytes).unwrap();
        assert!(matches!(printout.events.last(), Some(Event::Cut { .. })));
    }

    #[test]
    fn the_independent_reader_finds_the_text_and_the_exact_qr_payload() {
        let t = ticket();
        let printout = read(&render(&t)).unwrap();
        let text = printout.text();
        for needle in ["翠湖花园", "访客通行证 VISITOR PASS", "张*明", "2-1203"] {
            assert!(text.contains(needle), "{needle} missing from {text}");
        }
        let qrs = printout.printed_qr();
        assert_eq!(qrs.len(), 1);
        assert_eq!(qrs[0].payload, t.credential.as_bytes());
        assert_eq!(qrs[0].model, Some(2));
        assert_eq!(qrs[0].error_correction, Some(b'M'));
    }

    #[test]
    fn chinese_text_is_gb18030_inside_chinese_mode() {
        let bytes = render(&ticket());
        // 张 is D5 C5 in GB2312/GB18030.
        assert!(bytes.windows(2).any(|w| w == [0xD5, 0xC5]));
        let printout = read(&bytes).unwrap();
        for ev in &printout.events {
            if let Event::Text { text, chinese_mode } = ev
                && !text.is_ascii()
            {
                assert!(chinese_mode, "{text} printed outside Chinese mode");
            }
        }
    }

    #[test]
    fn a_version_5_code_is_25_to_35_mm_wide_on_58_mm_paper() {
        let dots_per_mm = 203.0 / 25.4;
        let modules = 37.0;
        let bare = modules * f64::from(QR_MODULE_DOTS) / dots_per_mm;
        let quiet = (modules + 8.0) * f64::from(QR_MODULE_DOTS) / dots_per_mm;
        assert!((25.0..=35.0).contains(&bare), "{bare} mm");
        assert!((25.0..=35.0).contains(&quiet), "{quiet} mm");
        assert!((modules + 8.0) * f64::from(QR_MODULE_DOTS) <= 384.0);
    }

    #[test]
    fn control_characters_in_text_cannot_inject_commands() {
        let mut t = ticket();
        t.lines = vec!["evil\u{1b}@\u{1d}V\u{0}name".into()];
        let printout = read(&render(&t)).unwrap();
        let inits = printout
            .events
            .iter()
            .filter(|e| matches!(e, Event::Init))
            .count();
        assert_eq!(inits, 1);
        assert!(printout.text().contains("evil @ V name"));
    }

    #[test]
    fn paper_status_bits_follow_the_command_reference() {
        assert_eq!(PaperStatus::from_byte(0x12), Some(PaperStatus::Ok));
        assert_eq!(PaperStatus::from_byte(0x1E), Some(PaperStatus::NearEnd));
        assert_eq!(PaperStatus::from_byte(0x72), Some(PaperStatus::Out));
        assert_eq!(PaperStatus::from_byte(0x7E), Some(PaperStatus::Out));
        assert_eq!(PaperStatus::from_byte(0xFF), None);
        assert_eq!(PaperStatus::from_byte(0x00), None);
        assert!(!PaperStatus::Out.can_print());
        assert!(PaperStatus::NearEnd.can_print());
    }
}
