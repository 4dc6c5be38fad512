//! End-to-end tests of Gatehouse: the deploy files, then stories across the real programs.
//!
//! Stories that need a program skip with a notice while that program does not answer its
//! contract (ready line on stdout); set `GATEHOUSE_E2E_REQUIRE=1` to make that a failure.

mod deploy;
mod system;
