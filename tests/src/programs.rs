//! Finding the program binaries: next to the running executable (the workspace's target dir),
//! or built on demand.

use crate::{HarnessError, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One of the three Gatehouse programs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    /// `gatehouse-server`.
    Server,
    /// `gatehouse-gate`.
    Gate,
    /// `gatehouse-kiosk`.
    Kiosk,
}

impl Program {
    /// Every program.
    pub const ALL: [Program; 3] = [Program::Server, Program::Gate, Program::Kiosk];

    /// The binary's (and package's) name.
    pub const fn binary(self) -> &'static str {
        match self {
            Program::Server => "gatehouse-server",
            Program::Gate => "gatehouse-gate",
            Program::Kiosk => "gatehouse-kiosk",
        }
    }

    /// The line prefix the program prints on stdout when it is ready; the URL follows.
    pub const fn ready_prefix(self) -> &'static str {
        match self {
            Program::Server => "gatehouse-server listening on ",
            Program::Gate => "gatehouse-gate status on ",
            Program::Kiosk => "gatehouse-kiosk listening on ",
        }
    }
}

/// The directory holding the workspace's binaries for the running profile: the directory of the
/// current executable, or its parent when it is a test binary in `deps/`.
/// `GATEHOUSE_BIN_DIR` overrides it.
pub fn bin_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("GATEHOUSE_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let exe =
        std::env::current_exe().map_err(HarnessError::io("locating the running executable"))?;
    let mut dir = exe
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    Ok(dir)
}

/// The path of `program`'s binary. The one next to the running executable is used only when it
/// is newer than every source file it is built from (a `cargo test --workspace` builds it
/// first); otherwise the programs are built with `cargo build --bins` into a separate target
/// dir (the running `cargo test` holds the lock on the main one), so a story never runs a
/// stale program.
pub fn binary(program: Program) -> Result<PathBuf> {
    let dir = bin_dir()?;
    let path = dir.join(program.binary());
    if std::env::var_os("GATEHOUSE_BIN_DIR").is_some() || is_fresh(&path, program) {
        return Ok(path);
    }
    let release = dir.file_name().is_some_and(|n| n == "release");
    let side_target = dir.join("e2e-programs");
    let built = side_target
        .join(if release { "release" } else { "debug" })
        .join(program.binary());
    // One build per test process: cargo itself decides what is out of date.
    static SIDE_BUILD: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    SIDE_BUILD
        .get_or_init(|| build_programs(Some(&side_target), release))
        .clone()
        .map_err(|message| HarnessError::MissingProgram {
            name: program.binary().into(),
            dir: dir.display().to_string(),
            message,
        })?;
    if built.is_file() {
        Ok(built)
    } else {
        Err(HarnessError::MissingProgram {
            name: program.binary().into(),
            dir: side_target.display().to_string(),
            message: "the build succeeded but produced no such binary".into(),
        })
    }
}

/// Whether `binary` exists and is newer than the sources of `program` and of the crates it uses.
fn is_fresh(binary: &Path, program: Program) -> bool {
    let Ok(built) = std::fs::metadata(binary).and_then(|m| m.modified()) else {
        return false;
    };
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."));
    let crate_dir = match program {
        Program::Server => "server",
        Program::Gate => "gate-controller",
        Program::Kiosk => "kiosk",
    };
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    for root in [crate_dir, "credential"] {
        for sub in ["src", "Cargo.toml"] {
            newest_mtime(&workspace.join(root).join(sub), &mut newest);
        }
    }
    newest_mtime(&workspace.join("Cargo.lock"), &mut newest);
    newest <= built
}

/// Raises `newest` to the modification time of `path` or of any file below it.
fn newest_mtime(path: &Path, newest: &mut std::time::SystemTime) {
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            newest_mtime(&entry.path(), newest);
        }
    } else if let Ok(t) = meta.modified() {
        *newest = (*newest).max(t);
    }
}

/// Runs `cargo build --bins` for the three programs in this workspace, into `target_dir` (or the
/// inherited one), in the release profile when `release`. The error is cargo's output.
pub fn build_programs(target_dir: Option<&Path>, release: bool) -> Result<(), String> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."));
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(workspace).args(["build", "--bins"]);
    if let Some(dir) = target_dir {
        cmd.env("CARGO_TARGET_DIR", dir);
    }
    for p in Program::ALL {
        cmd.args(["-p", p.binary()]);
    }
    if release {
        cmd.arg("--release");
    }
    let out = cmd.output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
