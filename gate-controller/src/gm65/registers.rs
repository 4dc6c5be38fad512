//! The GM65 zone bits the gate sets (manual §9.7) and the value each should hold, computed
//! from what the module has so that bits the gate does not care about stay as the installer
//! left them.

/// One setting: the register(s) and how the wanted value follows from the current one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setting {
    /// First register.
    pub addr: u16,
    /// How many registers (1, or 2 for the baud rate).
    pub count: u8,
    /// What it is, for the log.
    pub name: &'static str,
}

impl Setting {
    /// `count` registers from `addr`.
    pub const fn new(addr: u16, count: u8, name: &'static str) -> Self {
        Setting { addr, count, name }
    }
}

/// 0x000D bits 1–0: output interface (00 serial; a module in USB-keyboard mode still
/// answers commands on the UART but sends its scans elsewhere).
pub const OUTPUT: Setting = Setting::new(0x000D, 1, "serial output");
/// 0x0000 bits 1–0: scan mode (00 manual, 01 command, 10 continuous, 11 sensor).
pub const MODE: Setting = Setting::new(0x0000, 1, "continuous mode");
/// 0x0003 bit 1: 1 closes setting barcodes; bit 0: 1 echoes a setting code's content.
pub const SETTING_CODES: Setting = Setting::new(0x0003, 1, "setting barcodes closed");
/// 0x0060: bits 6–5 tail (00 CR), bit 0 adds the tail; bits 4–1 add RF, prefix, Code ID,
/// suffix, any of which would change the credential's text.
pub const TAIL: Setting = Setting::new(0x0060, 1, "CR tail, nothing added");
/// 0x0013: bit 7 enables the same-code delay, bits 6–0 in 100 ms (0x85 = 0.5 s, 0xB2 = 5 s).
pub const SAME_CODE_DELAY: Setting = Setting::new(0x0013, 1, "same-code delay");
/// 0x002A (low) and 0x002B (high): bits 12–0 the baud-rate divisor, bits 15–13 reserved.
pub const BAUD: Setting = Setting::new(0x002A, 2, "baud rate");

/// What the gate sets, in order: the output interface first (nothing else matters while the
/// scans go to USB), the baud rate last (every later command is at the new speed).
pub const SETTINGS: [Setting; 6] = [OUTPUT, MODE, SETTING_CODES, TAIL, SAME_CODE_DELAY, BAUD];

/// The divisors of register 0x002A–0x002B (§9.7).
pub const BAUD_DIVISORS: [(u32, u16); 8] = [
    (1200, 0x09C4),
    (4800, 0x0271),
    (9600, 0x0139),
    (14400, 0x00D0),
    (19200, 0x009C),
    (38400, 0x004E),
    (57600, 0x0034),
    (115200, 0x001A),
];

/// The divisor for `baud`, if the module has one.
pub fn baud_divisor(baud: u32) -> Option<u16> {
    BAUD_DIVISORS
        .iter()
        .find(|(b, _)| *b == baud)
        .map(|(_, d)| *d)
}

/// The baud rate a divisor stands for.
pub fn baud_of(divisor: u16) -> Option<u32> {
    BAUD_DIVISORS
        .iter()
        .find(|(_, d)| *d == divisor & 0x1FFF)
        .map(|(b, _)| *b)
}

/// What the gate wants the module to hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wanted {
    /// Register 0x0013 as a whole.
    pub same_code_delay: u8,
    /// The divisor for the baud rate the gate reads at.
    pub baud_divisor: u16,
}

impl Wanted {
    /// The value `setting` should hold, given what it holds now (`current.len()` is
    /// `setting.count`).
    pub fn value(&self, setting: Setting, current: &[u8]) -> Vec<u8> {
        let cur = current.first().copied().unwrap_or(0);
        match setting.addr {
            0x000D => vec![cur & !0x03],
            0x0000 => vec![(cur & !0x03) | 0x02],
            0x0003 => vec![(cur & !0x03) | 0x02],
            0x0060 => vec![(cur & 0x80) | 0x01],
            0x0013 => vec![self.same_code_delay],
            _ => {
                let [hi, lo] = self.baud_divisor.to_be_bytes();
                let reserved = current.get(1).copied().unwrap_or(0) & 0xE0;
                vec![lo, reserved | hi]
            }
        }
    }
}

/// Whether 0x0003 says setting barcodes are closed: a module that reset to its factory
/// settings has them open again.
pub fn setting_codes_closed(value: u8) -> bool {
    value & 0x02 != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wanted_values_keep_the_bits_the_gate_does_not_own() {
        let w = Wanted {
            same_code_delay: 0x85,
            baud_divisor: baud_divisor(115200).unwrap(),
        };
        // LED, sound, aim and light as left; manual mode becomes continuous.
        assert_eq!(w.value(MODE, &[0xD4]), vec![0xD6]);
        assert_eq!(w.value(MODE, &[0xD7]), vec![0xD6]);
        // USB keyboard → serial, encodings kept.
        assert_eq!(w.value(OUTPUT, &[0x3D]), vec![0x3C]);
        // Closed without echo; the HID query cycle (bits 7–2) kept.
        assert_eq!(w.value(SETTING_CODES, &[0x01]), vec![0x02]);
        assert_eq!(w.value(SETTING_CODES, &[0x7F]), vec![0x7E]);
        assert!(!setting_codes_closed(0x01) && setting_codes_closed(0x02));
        // CRLF with a prefix and Code ID → CR only.
        assert_eq!(w.value(TAIL, &[0x2D]), vec![0x01]);
        assert_eq!(w.value(SAME_CODE_DELAY, &[0x00]), vec![0x85]);
        // 9600 (0x0139) → 115200 (0x001A), low byte first, reserved bits kept.
        assert_eq!(w.value(BAUD, &[0x39, 0x01]), vec![0x1A, 0x00]);
        assert_eq!(w.value(BAUD, &[0x39, 0xE1]), vec![0x1A, 0xE0]);
        assert_eq!(baud_of(0x0139), Some(9600));
        assert_eq!(baud_of(0xE01A), Some(115200));
    }
}
