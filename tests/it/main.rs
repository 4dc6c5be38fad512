//! End-to-end tests of Gatehouse: the deploy files, each program against its process contract,
//! then stories across the real programs.

mod bad_input;
mod clock;
mod demo;
mod deploy;
mod emergency;
mod goods;
mod programs;
mod renovation;
mod stories;
