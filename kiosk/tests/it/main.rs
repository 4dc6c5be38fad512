//! Integration tests: the kiosk on port 0 against a stub server, printing to a file.

#[allow(dead_code)]
#[path = "../../src/printer/escpos_reader.rs"]
mod escpos_reader;

mod browser;
mod decode;
mod fake_printer;
mod flows;
mod kiosk;
mod messages;
mod muster;
mod permit;
mod process;
mod rare_chars;
mod scanner;
mod touch;
mod usb_printer;
