//! Decoders we did not write: zbar (`zbarimg`) and rqrr, fed with images of what the printer
//! would put on paper.

use crate::escpos_reader::RasterImage;
use std::process::Command;

/// The PNG of a `GS v 0` image, dot for pixel.
pub fn raster_png(r: &RasterImage) -> Vec<u8> {
    let img = raster_gray(r);
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

pub fn raster_gray(r: &RasterImage) -> image::GrayImage {
    image::GrayImage::from_fn(r.width as u32, r.height as u32, |x, y| {
        image::Luma([if r.black(x as usize, y as usize) {
            0
        } else {
            255
        }])
    })
}

/// Decodes the one QR code in `png` with `zbarimg --raw`.
pub fn zbar(png: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("qr.png");
    std::fs::write(&file, png).unwrap();
    let out = Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(&file)
        .output()
        .expect("zbarimg (Debian package zbar-tools) is installed");
    assert!(out.status.success(), "zbarimg found no code: {out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    text.strip_suffix('\n').unwrap_or(&text).to_owned()
}

/// Decodes the one QR code in `img` with rqrr.
pub fn rqrr(img: image::GrayImage) -> String {
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().unwrap().1
}
