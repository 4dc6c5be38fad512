//! End-to-end tests of Gatehouse: the deploy files, each program against its process contract,
//! then stories across the real programs.
//!
//! Stories whose server endpoints do not exist yet skip with a NOTICE; set
//! `GATEHOUSE_E2E_REQUIRE=1` to make a skip a failure.

mod clock;
mod demo;
mod deploy;
mod programs;
mod renovation;
mod stories;
