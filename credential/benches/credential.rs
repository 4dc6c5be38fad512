//! Sign, verify, text encoding and QR rendering of a worker card.

use criterion::{Criterion, criterion_group, criterion_main};
use gatehouse_credential::{
    BuildingScope, CardId, Claims, KeyId, KeyRing, Kind, Qr, ScheduleId, Signer, UtcMinute,
    ZoneClass, ZoneClasses, ZoneScope, encode_unsigned,
};
use std::hint::black_box;

fn claims() -> Claims {
    Claims {
        kind: Kind::Worker,
        card_id: CardId(123_456),
        not_before: UtcMinute(1_500_000),
        not_after: UtcMinute(1_631_480),
        schedule: ScheduleId::new(1),
        scope: ZoneScope {
            building: BuildingScope::One(2),
            floor_lo: 12,
            floor_hi: 12,
            classes: ZoneClasses::of(&[
                ZoneClass::Entrance,
                ZoneClass::Floor,
                ZoneClass::ServiceElevator,
            ]),
        },
    }
}

fn bench(c: &mut Criterion) {
    let signer = Signer::from_seed(KeyId::new(1).unwrap(), [42; 32]);
    let mut ring = KeyRing::new();
    ring.insert_signer(&signer);
    let claims = claims();
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
