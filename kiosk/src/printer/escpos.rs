//! ESC/POS encoding of a ticket: a pure function from [`Ticket`] to the printer's bytes.
//!
//! Text is sent in the printer's Chinese mode (`FS &`) as GB18030, which leaves ASCII as
//! single bytes. The QR code is either the printer's native `GS ( k` symbol (model 2, level M),
//! so the credential text travels byte for byte and the printer draws it, or — for firmware
//! without `GS ( k` — a `GS v 0` raster image of the same symbol drawn here.

use super::glyphs::{Bits, RasterFont, outside_gbk};
use gatehouse_credential::Qr;

/// QR module size in printer dots. At 203 dpi (8 dots/mm) a version-5 code (37 modules) is
/// 222 dots ≈ 27.8 mm wide, 270 dots ≈ 33.8 mm with its 4-module quiet zone: inside the
/// 25–35 mm that 58 mm paper (384 dots) and the gates' scanners both suit.
pub const QR_MODULE_DOTS: u8 = 6;

/// Lines fed (`ESC d`) at the default line spacing (`ESC 2`) after the last text: at least
/// 5 × 3.75 mm (the smallest default spacing, 30 dots at 203 dpi) ≈ 19 mm, 21 mm where the
/// default is 1/6 inch — past the tear bar or the cutter, so a slip's end never comes out on
/// the next one.
pub const FEED_LINES_BEFORE_CUT: u8 = 5;

/// How the QR code reaches the paper.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QrMode {
    /// The printer draws it from the data (`GS ( k`, functions 165–181).
    #[default]
    Native,
    /// A bit image drawn by the kiosk (`GS v 0`), for firmware without `GS ( k`.
    Raster,
}

/// What the printer model can do, from the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrintSettings {
    /// How the QR code is printed.
    pub qr: QrMode,
    /// Whether the model has an auto-cutter (otherwise the slip is torn off at the bar).
    pub cutter: bool,
}

impl Default for PrintSettings {
    fn default() -> Self {
        PrintSettings {
            qr: QrMode::Native,
            cutter: true,
        }
    }
}

/// What one printed slip says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ticket {
    /// Printed large and centred at the top (the estate's name).
    pub heading: String,
    /// The kind of slip, e.g. "访客通行证 VISITOR PASS".
    pub title: String,
    /// The credential text, exactly as issued: the QR code's payload (none on a list slip).
    pub credential: Option<String>,
    /// Lines printed under the QR code, left aligned.
    pub lines: Vec<String>,
}

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;
const FS: u8 = 0x1C;
const LF: u8 = 0x0A;

/// The printer's byte stream for `ticket`: initialise, Chinese mode, heading, QR, text, feed,
/// and a cut when the model has a cutter.
pub fn render(ticket: &Ticket, settings: &PrintSettings) -> Vec<u8> {
    render_with(ticket, settings, None)
}

/// As [`render`]; with a `font`, a line holding a character outside GBK is drawn by the kiosk
/// and sent as a `GS v 0` image, so a rare name character never comes out garbled.
pub fn render_with(
    ticket: &Ticket,
    settings: &PrintSettings,
    font: Option<&RasterFont>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(&[ESC, b'@']); // initialise
    out.extend_from_slice(&[FS, b'&']); // Chinese (GB18030) mode
    out.extend_from_slice(&[ESC, b'a', 1]); // centre
    out.extend_from_slice(&[GS, b'!', 0x11]); // double width and height
    text_line(&mut out, &ticket.heading);
    out.extend_from_slice(&[GS, b'!', 0x00]);
    text_line(&mut out, &ticket.title);
    out.push(LF);
    if let Some(credential) = &ticket.credential {
        match settings.qr {
            QrMode::Native => qr(&mut out, credential.as_bytes()),
            QrMode::Raster => raster_qr(&mut out, credential),
        }
        out.push(LF);
    }
    out.extend_from_slice(&[ESC, b'a', 0]); // left
    for line in &ticket.lines {
        match font {
            Some(font) if line.chars().any(outside_gbk) && font.covers(line) => {
                raster(&mut out, &font.draw_line(line));
            }
            _ => text_line(&mut out, line),
        }
    }
    out.extend_from_slice(&[FS, b'.']); // leave Chinese mode
    out.extend_from_slice(&[ESC, b'2']); // default line spacing, so the feed's length is known
    out.extend_from_slice(&[ESC, b'd', FEED_LINES_BEFORE_CUT]);
    if settings.cutter {
        out.extend_from_slice(&[GS, b'V', 1]); // partial cut, no further feed
    }
    out
}

/// The real-time status query `DLE EOT n`: 1 printer, 2 offline cause, 3 error cause, 4 paper.
pub const fn status_query(n: u8) -> [u8; 3] {
    [0x10, 0x04, n]
}

/// The real-time paper-sensor query, `DLE EOT 4`.
pub const PAPER_STATUS_QUERY: [u8; 3] = status_query(4);

/// The real-time offline-cause query, `DLE EOT 2`.
pub const OFFLINE_CAUSE_QUERY: [u8; 3] = status_query(2);

/// What the printer says about its readiness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaperStatus {
    /// Paper present.
    Ok,
    /// The roll is nearly used up; printing still works.
    NearEnd,
    /// No paper: nothing can be printed.
    Out,
    /// The cover is open (`DLE EOT 2` bit 2): nothing can be printed until it is closed.
    CoverOpen,
    /// No answer, or an error state: the printer is off, unplugged or needs a person.
    Offline,
    /// Not asked: the printer is configured as one that never answers status.
    Unchecked,
}

/// Whether `b` has the fixed bits every `DLE EOT` answer has: bits 1 and 4 set, 0 and 7 clear.
fn is_status_byte(b: u8) -> bool {
    b & 0b1001_0011 == 0b0001_0010
}

impl PaperStatus {
    /// Decodes the answer to `DLE EOT 4`: bits 2–3 report paper near-end, bits 5–6 paper end.
    /// Anything without the fixed bits is not a status byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        if !is_status_byte(b) {
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

    /// Decodes the answers to `DLE EOT 2` (offline cause: bit 2 cover open, bit 5 stopped at
    /// paper end, bit 6 an error) and `DLE EOT 4` (paper sensor) into one status; the cover
    /// comes first because a closed cover is what the desk must fix before anything else.
    pub fn from_bytes(offline_cause: u8, paper: u8) -> Option<Self> {
        if !is_status_byte(offline_cause) {
            return None;
        }
        let paper = Self::from_byte(paper)?;
        Some(if offline_cause & 0b0000_0100 != 0 {
            PaperStatus::CoverOpen
        } else if offline_cause & 0b0010_0000 != 0 || paper == PaperStatus::Out {
            PaperStatus::Out
        } else if offline_cause & 0b0100_0000 != 0 {
            PaperStatus::Offline
        } else {
            paper
        })
    }

    /// Whether a slip can be printed now.
    pub fn can_print(self) -> bool {
        matches!(
            self,
            PaperStatus::Ok | PaperStatus::NearEnd | PaperStatus::Unchecked
        )
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

/// `GS v 0`: the QR code (level M, quiet zone included) as a 1-bit image, `QR_MODULE_DOTS` a
/// module. Rows of `ceil(width / 8)` bytes, most significant bit leftmost, 1 = black.
fn raster_qr(out: &mut Vec<u8>, credential: &str) {
    let Ok(code) = Qr::new(credential) else {
        // A credential always fits (the server checked); if not, print no code rather than a
        // wrong one: the screen still shows the pass.
        tracing::error!("credential does not fit a QR code; slip printed without it");
        return;
    };
    let image = code.to_image(u32::from(QR_MODULE_DOTS));
    let (width, height) = (image.width() as usize, image.height() as usize);
    let row_bytes = width.div_ceil(8);
    let mut rows = Vec::with_capacity(row_bytes * height);
    for y in 0..height {
        for chunk in 0..row_bytes {
            let mut byte = 0u8;
            for bit in 0..8 {
                let x = chunk * 8 + bit;
                if x < width && image.get_pixel(x as u32, y as u32).0[0] < 128 {
                    byte |= 0x80 >> bit;
                }
            }
            rows.push(byte);
        }
    }
    raster(
        out,
        &Bits {
            width: width as u32,
            height: height as u32,
            rows,
        },
    );
}

/// `GS v 0` (normal density) with the image's rows.
fn raster(out: &mut Vec<u8>, image: &Bits) {
    out.extend_from_slice(&[GS, b'v', b'0', 0]);
    out.extend_from_slice(&le16(image.width.div_ceil(8) as usize));
    out.extend_from_slice(&le16(image.height as usize));
    out.extend_from_slice(&image.rows);
}

fn le16(n: usize) -> [u8; 2] {
    [(n & 0xFF) as u8, ((n >> 8) & 0xFF) as u8]
}

#[cfg(test)]
mod tests {
    use super::super::escpos_reader::{Event, read};
    use super::*;

    fn ticket() -> Ticket {
        Ticket {
            heading: "翠湖花园".into(),
            title: "访客通行证 VISITOR PASS".into(),
            credential: Some("NCF:8A$9K6Q3-B.LFGO+12 %*/".into()),
            lines: vec!["姓名 Name: 张*明".into(), "单元 Unit: 2-1203".into()],
        }
    }

    #[test]
    fn starts_with_init_then_chinese_mode_and_ends_with_a_cut() {
        let bytes = render(&ticket(), &PrintSettings::default());
        assert_eq!(&bytes[..4], &[0x1B, 0x40, 0x1C, 0x26]);
        let printout = read(&bytes).unwrap();
        assert!(matches!(printout.events.last(), Some(Event::Cut { .. })));
    }

    #[test]
    fn the_independent_reader_finds_the_text_and_the_exact_qr_payload() {
        let t = ticket();
        let printout = read(&render(&t, &PrintSettings::default())).unwrap();
        let text = printout.text();
        for needle in ["翠湖花园", "访客通行证 VISITOR PASS", "张*明", "2-1203"] {
            assert!(text.contains(needle), "{needle} missing from {text}");
        }
        let qrs = printout.printed_qr();
        assert_eq!(qrs.len(), 1);
        assert_eq!(qrs[0].payload, t.credential.unwrap().as_bytes());
        assert_eq!(qrs[0].model, Some(2));
        assert_eq!(qrs[0].error_correction, Some(b'M'));
    }

    #[test]
    fn chinese_text_is_gb18030_inside_chinese_mode() {
        let bytes = render(&ticket(), &PrintSettings::default());
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
        let printout = read(&render(&t, &PrintSettings::default())).unwrap();
        let inits = printout
            .events
            .iter()
            .filter(|e| matches!(e, Event::Init))
            .count();
        assert_eq!(inits, 1);
        assert!(printout.text().contains("evil @ V name"));
    }

    #[test]
    fn the_slip_feeds_past_the_tear_bar_and_cuts_only_with_a_cutter() {
        let with = read(&render(&ticket(), &PrintSettings::default())).unwrap();
        let n = with.events.len();
        assert_eq!(
            &with.events[n - 3..],
            &[
                Event::DefaultLineSpacing,
                Event::FeedLines(FEED_LINES_BEFORE_CUT),
                Event::Cut { partial: true }
            ]
        );
        // At the smallest default line spacing (30 dots at 203 dpi = 3.75 mm).
        assert!(f64::from(FEED_LINES_BEFORE_CUT) * 30.0 / 8.0 >= 15.0);
        let settings = PrintSettings {
            cutter: false,
            ..PrintSettings::default()
        };
        let without = read(&render(&ticket(), &settings)).unwrap();
        assert!(
            !without
                .events
                .iter()
                .any(|e| matches!(e, Event::Cut { .. }))
        );
        assert_eq!(
            without.events.last(),
            Some(&Event::FeedLines(FEED_LINES_BEFORE_CUT))
        );
    }

    #[test]
    fn the_raster_qr_decodes_with_an_independent_decoder_to_the_credential() {
        let t = ticket();
        let settings = PrintSettings {
            qr: QrMode::Raster,
            ..PrintSettings::default()
        };
        let printout = read(&render(&t, &settings)).unwrap();
        assert!(printout.printed_qr().is_empty(), "no GS ( k in raster mode");
        let rasters = printout.rasters();
        assert_eq!(rasters.len(), 1);
        let r = rasters[0];
        assert!(r.width <= 384, "{} dots fit 58 mm paper", r.width);
        let img = image::GrayImage::from_fn(r.width as u32, r.height as u32, |x, y| {
            image::Luma([if r.black(x as usize, y as usize) {
                0
            } else {
                255
            }])
        });
        let mut prepared = rqrr::PreparedImage::prepare(img);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, content) = grids[0].decode().unwrap();
        assert_eq!(Some(content), t.credential);
    }

    #[test]
    fn cover_open_and_paper_end_come_from_dle_eot_2_and_4() {
        assert_eq!(PaperStatus::from_bytes(0x12, 0x12), Some(PaperStatus::Ok));
        assert_eq!(
            PaperStatus::from_bytes(0x16, 0x12),
            Some(PaperStatus::CoverOpen)
        );
        assert_eq!(PaperStatus::from_bytes(0x32, 0x12), Some(PaperStatus::Out));
        assert_eq!(PaperStatus::from_bytes(0x12, 0x72), Some(PaperStatus::Out));
        assert_eq!(
            PaperStatus::from_bytes(0x52, 0x12),
            Some(PaperStatus::Offline)
        );
        assert_eq!(
            PaperStatus::from_bytes(0x12, 0x1E),
            Some(PaperStatus::NearEnd)
        );
        assert_eq!(PaperStatus::from_bytes(0x00, 0x12), None);
        assert!(!PaperStatus::CoverOpen.can_print());
        assert!(PaperStatus::Unchecked.can_print());
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
