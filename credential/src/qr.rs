//! QR rendering of credential text: SVG for screens, PNG for files, Unicode for terminals.
//!
//! Always error-correction level M with a 4-module quiet zone; credential text is all base45,
//! so the encoder uses alphanumeric mode and a version-1 credential lands at version 5.

use image::{GrayImage, ImageFormat, Luma};
use qrcode::render::{svg, unicode};
use qrcode::{Color, EcLevel, QrCode, Version};
use std::io::Cursor;
use thiserror::Error;

/// Quiet zone around every rendering, in modules.
pub const QUIET_ZONE: u32 = 4;

/// Why a text could not be rendered.
#[derive(Debug, Error)]
pub enum QrError {
    /// Too long for any QR code at level M.
    #[error("text does not fit a QR code at level M: {0}")]
    TooLong(#[from] qrcode::types::QrError),
    /// The PNG encoder failed.
    #[error("could not encode PNG: {0}")]
    Png(#[from] image::ImageError),
}

/// A text encoded as a QR code at level M.
pub struct Qr {
    code: QrCode,
}

impl Qr {
    /// Encodes `text` at level M, in the smallest version that holds it.
    pub fn new(text: &str) -> Result<Self, QrError> {
        Ok(Qr {
            code: QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)?,
        })
    }

    /// The QR version (1–40).
    pub fn version(&self) -> i16 {
        match self.code.version() {
            Version::Normal(v) | Version::Micro(v) => v,
        }
    }

    /// Modules per side, without the quiet zone.
    pub fn width(&self) -> usize {
        self.code.width()
    }

    /// An SVG document, `module_px` pixels per module.
    pub fn to_svg(&self, module_px: u32) -> String {
        self.code
            .render::<svg::Color<'_>>()
            .quiet_zone(true)
            .module_dimensions(module_px, module_px)
            .build()
    }

    /// Terminal text: two module rows per line, with the quiet zone.
    pub fn to_terminal(&self) -> String {
        self.code
            .render::<unicode::Dense1x2>()
            .dark_color(unicode::Dense1x2::Light)
            .light_color(unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build()
    }

    /// A grayscale image, `module_px` pixels per module, with the quiet zone.
    pub fn to_image(&self, module_px: u32) -> GrayImage {
        let width = self.code.width() as u32;
        let side = (width + 2 * QUIET_ZONE) * module_px;
        let colors = self.code.to_colors();
        GrayImage::from_fn(side, side, |x, y| {
            let (mx, my) = (x / module_px, y / module_px);
            let inside = (QUIET_ZONE..QUIET_ZONE + width).contains(&mx)
                && (QUIET_ZONE..QUIET_ZONE + width).contains(&my);
            let dark = inside
                && colors[((my - QUIET_ZONE) * width + (mx - QUIET_ZONE)) as usize] == Color::Dark;
            Luma([if dark { 0 } else { 255 }])
        })
    }

    /// PNG bytes of [`Qr::to_image`].
    pub fn to_png(&self, module_px: u32) -> Result<Vec<u8>, QrError> {
        let mut out = Cursor::new(Vec::new());
        self.to_image(module_px)
            .write_to(&mut out, ImageFormat::Png)?;
        Ok(out.into_inner())
    }
}
