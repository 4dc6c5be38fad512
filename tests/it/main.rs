//! End-to-end tests of Gatehouse: the deploy files, the docs against the code, each program
//! against its process contract, then stories across the real programs.

mod bad_input;
mod clock;
mod demo;
mod deploy;
mod docs;
mod emergency;
mod flags;
mod goods;
mod kiosk_messages;
mod kiosk_session;
mod monitor;
mod programs;
mod renovation;
mod stories;
