//! Sign, verify, text encoding and QR rendering of a worker card.

use criterion::{Criterion, criterion_group, criterion_main};
use gatehouse_credential::{KeyRing, Kind, Qr, encode_unsigned};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let signer = gatehouse_test_support::signer();
    let mut ring = KeyRing::new();
    ring.insert_signer(&signer);
    let claims = gatehouse_test_support::claims(123_456, Kind::Worker, Some(1));
    let text = signer.issue(&claims).unwrap();
    c.bench_function("encode claims (17 bytes)", |b| {
        b.iter(|| encode_unsigned(signer.key_id(), black_box(&claims)).unwrap())
    });
    c.bench_function("sign + base45 (issue)", |b| {
        b.iter(|| signer.issue(black_box(&claims)).unwrap())
    });
    c.bench_function("verify (decode + check signature)", |b| {
        b.iter(|| ring.verify(black_box(&text)).unwrap())
    });
    c.bench_function("reject forged (bad signature)", |b| {
        let mut forged = text.clone();
        forged.replace_range(10..11, if &text[10..11] == "A" { "B" } else { "A" });
        b.iter(|| ring.verify(black_box(&forged)).unwrap_err())
    });
    c.bench_function("render QR to SVG", |b| {
        b.iter(|| Qr::new(black_box(&text)).unwrap().to_svg(6))
    });
    c.bench_function("render QR to PNG", |b| {
        b.iter(|| Qr::new(black_box(&text)).unwrap().to_png(6).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
