//! QR codes decode back to the exact credential with an independent decoder, at version ≤ 5.

use crate::{largest_claims, signer_and_ring};
use gatehouse_credential::{Kind, Qr};

fn decode_png(png: &[u8]) -> (String, usize) {
    let img = image::load_from_memory(png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "exactly one QR code in the image");
    let (meta, content) = grids[0].decode().unwrap();
    (content, meta.version.0)
}

#[test]
fn largest_credential_of_every_kind_is_version_5_at_m_and_decodes_exactly() {
    let (signer, ring) = signer_and_ring();
    for kind in Kind::ALL {
        let text = signer.issue(&largest_claims(kind)).unwrap();
        let qr = Qr::new(&text).unwrap();
        assert!(qr.version() <= 5, "{kind}: version {}", qr.version());
        assert_eq!(qr.width(), 37, "{kind}: version 5 is 37 modules wide");
        let (decoded, version) = decode_png(&qr.to_png(4).unwrap());
        assert_eq!(decoded, text, "{kind}");
        assert_eq!(version, 5);
        assert_eq!(ring.verify(&decoded).unwrap().claims.kind, kind);
    }
}

#[test]
fn svg_and_terminal_renderings_have_the_quiet_zone() {
    let (signer, _) = signer_and_ring();
    let text = signer.issue(&largest_claims(Kind::Visitor)).unwrap();
    let qr = Qr::new(&text).unwrap();
    let svg = qr.to_svg(6);
    assert!(svg.starts_with("<?xml") && svg.contains("<svg"));
    // (37 + 2·4) modules × 6 px.
    assert!(svg.contains("width=\"270\""), "{}", &svg[..200]);
    let term = qr.to_terminal();
    // Dense1x2 prints two module rows per line: (37 + 8) / 2 rounded up.
    assert_eq!(term.lines().count(), 23);
    assert_eq!(qr.to_image(1).width(), 45);
}
