//! Any text given to the verifier is either rejected with a typed error or verifies; it never
//! panics. The ring trusts a fixed key so that well-formed inputs reach signature checking.
#![no_main]

use gatehouse_credential::{KeyId, KeyRing, Signer};
use libfuzzer_sys::fuzz_target;

fn ring() -> &'static KeyRing {
    static RING: std::sync::OnceLock<KeyRing> = std::sync::OnceLock::new();
    RING.get_or_init(|| {
        let mut ring = KeyRing::new();
        ring.insert_signer(&Signer::from_seed(KeyId::new(1).unwrap(), [0x11; 32]));
        ring
    })
}

fuzz_target!(|data: &[u8]| {
    let ring = ring();
    // Raw bytes as text (what a serial line could carry) ...
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ring.verify(text);
    }
    // ... and as the binary behind a well-formed base45 text, to reach the signature check.
    let _ = ring.verify(&base45::encode(data));
});
