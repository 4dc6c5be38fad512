//! Text lines drawn by the kiosk, for characters the printer's own font lacks.
//!
//! Chinese-market receipt printers carry a GB2312 or GBK font; a rare name character outside
//! GBK (GB18030's four-byte range: CJK extension A and beyond, e.g. 䶮) comes out as "?" or as
//! a wrong glyph. Such a line is drawn here from a system font at the printer's own Chinese
//! glyph height (24 dots) and sent as a `GS v 0` bit image.

use ab_glyph::{Font, FontVec, PxScale, ScaleFont, point};
use std::path::Path;

/// Height of a drawn line in dots: the printers' 24 × 24 Chinese font, so a drawn line sits
/// among the printed ones at the same size.
pub const LINE_DOTS: u32 = 24;
/// Printable width of 58 mm paper at 203 dpi.
pub const PAPER_DOTS: u32 = 384;

/// Where Debian and Raspberry Pi OS put a font with CJK extension A, and which face of the
/// collection is Simplified Chinese (fonts-noto-cjk: JP, KR, SC, TC…).
const SYSTEM_FONTS: &[(&str, u32)] = &[
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
];

/// A 1-bit image, rows of `width.div_ceil(8)` bytes, most significant bit leftmost, 1 = black:
/// the layout of `GS v 0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bits {
    /// Width in dots.
    pub width: u32,
    /// Height in dots.
    pub height: u32,
    /// The rows.
    pub rows: Vec<u8>,
}

/// A font that can draw text lines for the printer.
pub struct RasterFont {
    font: FontVec,
}

impl std::fmt::Debug for RasterFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RasterFont")
    }
}

/// Why a font could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FontError {
    /// The file could not be read.
    #[error("font {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a font (or has no face at that index).
    #[error("font {path}: not a usable font face {index}")]
    Invalid {
        /// The file.
        path: String,
        /// The face in the collection.
        index: u32,
    },
}

impl RasterFont {
    /// Loads face `index` of the font (collection) at `path`.
    pub fn load(path: &Path, index: u32) -> Result<Self, FontError> {
        let shown = path.display().to_string();
        let data = std::fs::read(path).map_err(|source| FontError::Read {
            path: shown.clone(),
            source,
        })?;
        let font = FontVec::try_from_vec_and_index(data, index)
            .map_err(|_| FontError::Invalid { path: shown, index })?;
        Ok(RasterFont { font })
    }

    /// The first system CJK font found, if any.
    pub fn system() -> Option<Self> {
        SYSTEM_FONTS
            .iter()
            .find_map(|(path, index)| Self::load(Path::new(path), *index).ok())
    }

    /// Whether every character of `text` has a glyph in this font.
    pub fn covers(&self, text: &str) -> bool {
        text.chars()
            .filter(|c| !c.is_whitespace())
            .all(|c| self.font.glyph_id(c).0 != 0)
    }

    /// Draws `text` on one line [`LINE_DOTS`] high, clipped to the paper's width.
    pub fn draw_line(&self, text: &str) -> Bits {
        // One em per line, as the printer's 24 × 24 font; ab_glyph scales by ascent − descent.
        let upem = self.font.units_per_em().unwrap_or(1000.0);
        let scale = PxScale::from(LINE_DOTS as f32 * self.font.height_unscaled() / upem);
        let scaled = self.font.as_scaled(scale);
        // The ideographic em box runs from 0.88 em above the baseline to 0.12 em below it.
        let baseline = LINE_DOTS as f32 * 0.88;
        let mut x = 0.0f32;
        let mut glyphs = Vec::new();
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            glyphs.push(id.with_scale_and_position(scale, point(x, baseline)));
            x += scaled.h_advance(id);
        }
        let width = (x.ceil() as u32).clamp(8, PAPER_DOTS);
        let row_bytes = width.div_ceil(8) as usize;
        let mut rows = vec![0u8; row_bytes * LINE_DOTS as usize];
        for glyph in glyphs {
            let Some(outline) = self.font.outline_glyph(glyph) else {
                continue; // a space
            };
            let bounds = outline.px_bounds();
            outline.draw(|gx, gy, coverage| {
                let px = bounds.min.x as i64 + i64::from(gx);
                let py = bounds.min.y as i64 + i64::from(gy);
                if coverage >= 0.5
                    && (0..i64::from(width)).contains(&px)
                    && (0..i64::from(LINE_DOTS)).contains(&py)
                {
                    let (px, py) = (px as usize, py as usize);
                    rows[py * row_bytes + px / 8] |= 0x80 >> (px % 8);
                }
            });
        }
        Bits {
            width,
            height: LINE_DOTS,
            rows,
        }
    }
}

/// Whether a printer font that stops at GBK lacks `c`: GB18030 needs four bytes for it, or it
/// is one of the CJK extension A characters (䶮, 䲟…) that GB18030 put on two-byte codes GBK
/// left to private use, or a private-use character.
pub fn outside_gbk(c: char) -> bool {
    let mut buf = [0u8; 4];
    let (bytes, _, _) = encoding_rs::GB18030.encode(c.encode_utf8(&mut buf));
    bytes.len() == 4
        || ('\u{3400}'..='\u{4DBF}').contains(&c)
        || ('\u{E000}'..='\u{F8FF}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_characters_print_as_text_and_rarer_ones_do_not() {
        for c in ['张', '伟', '丽', '堃', '喆', 'A', '·'] {
            assert!(!outside_gbk(c), "{c}");
        }
        // 䶮: extension A on a GBK private-use code; 𠮷: extension B, four bytes.
        for c in ['䶮', '㛃', '𠮷', '\u{E000}'] {
            assert!(outside_gbk(c), "{c}");
        }
    }
}
