//! End-to-end stories live in `tests/it/` and spawn the real binaries.
