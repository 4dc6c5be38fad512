//! Integration tests: the real `gatehouse-gate` binary, a real pty as its scanner, and a stub
//! server that speaks the gate API contract of `credential::api::gate`.

mod crash;
mod emergency;
mod gm65;
mod gm65_emulator;
mod lanes;
mod passes;
mod reachable;
mod support;
mod unplug;
mod watchdog;
