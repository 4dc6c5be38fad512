//! A name character outside GBK reaches the paper as a drawn image, not as a GB18030 code
//! that a GBK printer font garbles. The image the printer is sent is read back from the byte
//! stream and compared with the same character drawn by an independent rasteriser (FreeType,
//! through Python's PIL) from the same system font: the printed cell must match the right
//! character much better than a different one. What this proves: the printer receives the
//! shape of that character at the printer's 24-dot size; it does not prove any particular
//! printer model renders `GS v 0` (that is the ESC/POS standard's bit image, printed by every
//! model the docs list).

use crate::decode::raster_png;
use crate::escpos_reader::{Event, read};
use gatehouse_kiosk::printer::escpos::{PrintSettings, Ticket, render_with};
use gatehouse_kiosk::printer::glyphs::{LINE_DOTS, RasterFont};
use std::process::Command;

const NEEDS: &str =
    "needs fonts-noto-cjk and python3-pil (Debian packages fonts-noto-cjk, python3-pil)";
const FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
const FONT_FACE: u32 = 2; // Noto Sans CJK SC

/// Best overlap (intersection over union of black dots, shifts of ±3 dots) between the last
/// 24-dot cell of `png` and `ch` drawn by PIL with the same font, em = 24, baseline at 0.88 em.
fn pil_overlap(png: &[u8], ch: char) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("line.png");
    std::fs::write(&file, png).unwrap();
    let script = r#"
import sys
from PIL import Image, ImageDraw, ImageFont
line = Image.open(sys.argv[1]).convert("L")
w, h = line.size
cell = line.crop((w - 24, 0, w, 24))
font = ImageFont.truetype(sys.argv[2], size=24, index=int(sys.argv[3]))
ref = Image.new("L", (24, 24), 255)
ImageDraw.Draw(ref).text((0, 24 * 0.88), sys.argv[4], font=font, fill=0, anchor="ls")
a = [[cell.getpixel((x, y)) < 128 for x in range(24)] for y in range(24)]
b = [[ref.getpixel((x, y)) < 128 for x in range(24)] for y in range(24)]
best = 0.0
for dx in range(-3, 4):
    for dy in range(-3, 4):
        inter = union = 0
        for y in range(24):
            for x in range(24):
                p = a[y][x]
                q = 0 <= y + dy < 24 and 0 <= x + dx < 24 and b[y + dy][x + dx]
                inter += p and q
                union += p or q
        best = max(best, inter / union if union else 0.0)
print(best)
"#;
    // Debian's python3, the one python3-pil installs into.
    let out = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(script)
        .arg(&file)
        .arg(FONT)
        .arg(FONT_FACE.to_string())
        .arg(ch.to_string())
        .output()
        .expect("/usr/bin/python3 runs");
    assert!(out.status.success(), "PIL failed: {out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
#[ignore = "needs fonts-noto-cjk and python3-pil (Debian packages fonts-noto-cjk, python3-pil)"]
fn a_name_character_outside_gbk_is_printed_as_its_glyph_and_gbk_text_stays_text() {
    let font = RasterFont::load(std::path::Path::new(FONT), FONT_FACE).expect(NEEDS);
    // 䶮 (U+4DAE, CJK extension A, a given-name character) is four bytes in GB18030.
    let name_line = "姓名 Name: 刘*䶮";
    let ticket = Ticket {
        heading: "翠湖花园".into(),
        title: "访客通行证 VISITOR PASS".into(),
        credential: None,
        lines: vec![name_line.into(), "单元 Unit: 2-1203".into()],
    };
    let bytes = render_with(&ticket, &PrintSettings::default(), Some(&font));
    // GB18030 gives it FE 9F, a code GBK printer fonts leave to private use.
    let (code, _, _) = encoding_rs::GB18030.encode("䶮");
    assert!(
        !bytes.windows(code.len()).any(|w| w == code.as_ref()),
        "䶮's GB18030 code reached the printer as text"
    );
    let printout = read(&bytes).unwrap();
    // The other lines stay printer text.
    let text = printout.text();
    assert!(text.contains("单元 Unit: 2-1203"), "{text}");
    assert!(!text.contains("䶮"), "{text}");
    // The name line is a bit image in its place, 24 dots high like the printer's own font.
    let position = |pred: &dyn Fn(&Event) -> bool| printout.events.iter().position(pred);
    let raster_at =
        position(&|e| matches!(e, Event::Raster(r) if r.height == LINE_DOTS as usize)).unwrap();
    let unit_at =
        position(&|e| matches!(e, Event::Text { text, .. } if text.contains("单元"))).unwrap();
    assert!(raster_at < unit_at, "the name comes before the unit");
    let Event::Raster(image) = &printout.events[raster_at] else {
        unreachable!()
    };
    assert!(image.width <= 384, "fits 58 mm paper");
    let png = raster_png(image);
    let right = pil_overlap(&png, '䶮');
    let wrong = ['明', '龙', '鑫'].map(|c| pil_overlap(&png, c));
    println!("overlap with 䶮: {right:.2}; with 明 龙 鑫: {wrong:.2?}");
    assert!(right >= 0.6, "the printed cell is not 䶮 ({right:.2})");
    assert!(
        wrong.iter().all(|w| right > w + 0.2),
        "the printed cell matches another character as well ({right:.2} vs {wrong:.2?})"
    );
}

#[test]
#[ignore = "needs fonts-noto-cjk (Debian package fonts-noto-cjk)"]
fn without_a_rare_character_a_slip_has_no_drawn_text() {
    let font = RasterFont::load(std::path::Path::new(FONT), FONT_FACE).expect(NEEDS);
    let ticket = Ticket {
        heading: "翠湖花园".into(),
        title: "访客通行证 VISITOR PASS".into(),
        credential: None,
        lines: vec![
            "姓名 Name: 张*明".into(),
            "Valid until 2026-12-03 23:59".into(),
        ],
    };
    let with_font = render_with(&ticket, &PrintSettings::default(), Some(&font));
    assert_eq!(
        with_font,
        gatehouse_kiosk::printer::escpos::render(&ticket, &PrintSettings::default())
    );
    assert!(read(&with_font).unwrap().rasters().is_empty());
}
