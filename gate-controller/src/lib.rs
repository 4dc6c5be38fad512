//! The Gatehouse gate controller: a serial QR scanner in, an offline decision by a pure core,
//! a door relay out, with a local journal and sync to the server.

pub mod app;
pub mod clock;
pub mod config;
pub mod core;
pub mod door;
pub mod door_loop;
pub mod gm65;
pub mod journal;
pub mod scanner;
pub mod status;
pub mod sync;
