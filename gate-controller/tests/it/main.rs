//! Integration tests: the real binary through a real pty.
