//! The files an installer puts on real machines: systemd units, udev rules, scripts, configs.

use gatehouse_e2e::process::{Launch, Running};
use gatehouse_e2e::programs::Program;
use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

fn tool_exists(name: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

const UNITS: [&str; 6] = [
    "gatehouse-server.service",
    "gatehouse-gate.service",
    "gatehouse-kiosk.service",
    "gatehouse-kiosk-session.service",
    "gatehouse-backup.service",
    "gatehouse-backup.timer",
];

/// The value of `key=` in a unit file's text, every occurrence.
fn unit_values<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    text.lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .collect()
}

/// Runs `systemd-analyze verify` on a copy of `unit` whose executables point at stand-ins, so
/// that the check does not depend on the programs being installed in /usr.
fn verify_unit(unit_text: &str, name: &str, dir: &Path) -> (bool, String) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let mut text = unit_text.to_owned();
    for exe in [
        "gatehouse-server",
        "gatehouse-gate",
        "gatehouse-kiosk",
        "cage",
    ] {
        let stand_in = bin.join(exe);
        std::fs::copy("/bin/true", &stand_in).unwrap();
        text = text.replace(
            &format!("/usr/bin/{exe} "),
            &format!("{} ", stand_in.display()),
        );
    }
    for script in ["kiosk-browser", "kiosk-rotation"] {
        let stand_in = bin.join(script);
        std::fs::copy("/bin/true", &stand_in).unwrap();
        text = text.replace(
            &format!("/usr/lib/gatehouse/{script}"),
            &stand_in.display().to_string(),
        );
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // `Unit sysinit.target not found` comes from verifying outside a booted system; anything
    // else on stderr (unknown keys, bad values, missing binaries) is a finding.
    let findings: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.contains("sysinit.target not found"))
        .collect();
    (
        out.status.success() && findings.is_empty(),
        findings.join("\n"),
    )
}

#[test]
fn systemd_units_pass_systemd_analyze_verify() {
    if !tool_exists("systemd-analyze") {
        eprintln!("NOTICE: systemd-analyze is not installed; unit files not verified");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for name in UNITS {
        let text = std::fs::read_to_string(deploy_dir().join("systemd").join(name)).unwrap();
        let (ok, findings) = verify_unit(&text, name, tmp.path());
        assert!(ok, "{name}: systemd-analyze verify found:\n{findings}");
    }
    // The check can fail: a misspelt directive is reported.
    let broken = "[Service]\nExecStart=/usr/bin/gatehouse-gate --config x\nRestrat=always\n";
    let (ok, findings) = verify_unit(broken, "broken.service", tmp.path());
    assert!(!ok && findings.contains("Restrat"), "{findings}");
}

#[test]
fn program_units_are_notify_services_restarted_sandboxed_and_unprivileged() {
    for name in &UNITS[..3] {
        let text = std::fs::read_to_string(deploy_dir().join("systemd").join(name)).unwrap();
        for (key, want) in [
            ("Type", "notify"),
            ("Restart", "on-failure"),
            ("ProtectSystem", "strict"),
            ("NoNewPrivileges", "yes"),
            ("PrivateTmp", "yes"),
            ("ProtectHome", "yes"),
        ] {
            assert_eq!(unit_values(&text, key), vec![want], "{name}: {key}");
        }
        let user = unit_values(&text, "User");
        assert!(
            matches!(user.as_slice(), [u] if u.starts_with("gatehouse")),
            "{name}: User={user:?}"
        );
        let state = unit_values(&text, "StateDirectory");
        assert_eq!(state.len(), 1, "{name}: one StateDirectory");
        assert!(
            unit_values(&text, "CapabilityBoundingSet") == vec![""],
            "{name}: no capabilities"
        );
    }
}

#[test]
fn gate_unit_reaches_gpio_and_serial_and_stops_with_a_signal_it_catches() {
    let text =
        std::fs::read_to_string(deploy_dir().join("systemd/gatehouse-gate.service")).unwrap();
    assert_eq!(
        unit_values(&text, "SupplementaryGroups"),
        vec!["gpio dialout"]
    );
    // The gate catches SIGTERM to lock the relay; SIGKILL must only follow after a grace time.
    assert_eq!(unit_values(&text, "KillSignal"), vec!["SIGTERM"]);
    assert_eq!(unit_values(&text, "KillMode"), vec!["mixed"]);
    let allowed = unit_values(&text, "DeviceAllow").join(" ");
    assert!(
        allowed.contains("gpiomem") && allowed.contains("char-ttyAMA"),
        "{allowed}"
    );
}

#[test]
fn kiosk_session_runs_chromium_in_cage_with_touch_safe_flags_and_restarts() {
    let unit =
        std::fs::read_to_string(deploy_dir().join("systemd/gatehouse-kiosk-session.service"))
            .unwrap();
    assert_eq!(unit_values(&unit, "Restart"), vec!["always"]);
    let exec = unit_values(&unit, "ExecStart").join(" ");
    assert!(exec.starts_with("/usr/bin/cage "), "{exec}");
    let browser =
        std::fs::read_to_string(deploy_dir().join("kiosk-session/kiosk-browser")).unwrap();
    for flag in [
        "--kiosk",
        "--app=",
        "--noerrdialogs",
        "--disable-session-crashed-bubble",
        "--disable-component-update",
        "--overscroll-history-navigation=0",
        "--disable-pinch",
        "--touch-events=enabled",
    ] {
        assert!(browser.contains(flag), "kiosk-browser lacks {flag}");
    }
    let install = std::fs::read_to_string(deploy_dir().join("install-pi.sh")).unwrap();
    assert!(
        install.contains("do_blanking 1"),
        "screen blanking is turned off"
    );
}

#[test]
fn udev_rules_name_the_scanner_and_printer_and_open_gpio_to_its_group() {
    let text = std::fs::read_to_string(deploy_dir().join("udev/99-gatehouse.rules")).unwrap();
    let rules: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    for rule in &rules {
        // Every clause is KEY op "value" with a known operator.
        for clause in rule.split(", ") {
            let op = ["==", "!=", "+=", "="]
                .into_iter()
                .find(|op| clause.contains(op))
                .unwrap_or_else(|| panic!("no operator in {clause:?} of {rule:?}"));
            let (_, value) = clause.split_once(op).unwrap();
            assert!(
                value.starts_with('"') && value.ends_with('"') && value.len() >= 2,
                "unquoted value in {clause:?}"
            );
        }
    }
    let with = |needle: &str| rules.iter().filter(|r| r.contains(needle)).count();
    assert!(with("SYMLINK+=\"gatehouse-scanner\"") >= 1);
    assert!(with("SYMLINK+=\"gatehouse-printer\"") >= 1);
    assert!(with("GROUP=\"gpio\"") >= 2, "gpiomem and gpiochip");
    assert!(with("GROUP=\"dialout\"") >= 1);
}

#[test]
fn shell_scripts_are_shellcheck_clean_and_parse() {
    let scripts = [
        "install-pi.sh",
        "cross-build.sh",
        "kiosk-session/kiosk-browser",
        "kiosk-session/kiosk-rotation",
    ];
    for s in scripts {
        let path = deploy_dir().join(s);
        let text = std::fs::read_to_string(&path).unwrap();
        let shell = if text.starts_with("#!/usr/bin/env bash") {
            "bash"
        } else {
            "sh"
        };
        let out = Command::new(shell).arg("-n").arg(&path).output().unwrap();
        assert!(
            out.status.success(),
            "{s}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if !tool_exists("shellcheck") {
        eprintln!("NOTICE: shellcheck is not installed; scripts only syntax-checked");
        return;
    }
    for s in scripts {
        let out = Command::new("shellcheck")
            .arg(deploy_dir().join(s))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{s}:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn install_script_refuses_unknown_roles_before_touching_the_system() {
    let out = Command::new("bash")
        .arg(deploy_dir().join("install-pi.sh"))
        .args(["--role", "toaster"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown role 'toaster'"), "{stderr}");
}

/// Every key set or shown (commented out) in an example config, as `section.key`.
fn example_keys(text: &str) -> Vec<String> {
    let mut section = String::new();
    let mut keys = Vec::new();
    for line in text.lines() {
        let line = line.trim().trim_start_matches('#').trim();
        if line.starts_with('[') && line.ends_with(']') {
            section = format!("{}.", line.trim_matches(|c| c == '[' || c == ']'));
        } else if let Some((key, _)) = line.split_once(" = ")
            && !key.contains(' ')
        {
            keys.push(format!("{section}{key}"));
        }
    }
    keys
}

/// Parses an example with every commented-out option switched on, so the documented
/// alternatives are checked too.
fn uncommented(text: &str) -> String {
    text.lines()
        .map(|l| match l.strip_prefix('#') {
            Some(rest)
                if rest.starts_with('[')
                    || rest
                        .split_once(" = ")
                        .is_some_and(|(k, _)| !k.contains(' ')) =>
            {
                rest
            }
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn example_configs_are_valid_toml_and_name_only_keys_their_program_reads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // The gate's `[[keys]]` entries are the credential crate's `PublicKeyInfo`.
    for (example, source, also) in [
        ("server.example.toml", "server/src/config.rs", None),
        ("kiosk.example.toml", "kiosk/src/config.rs", None),
        (
            "gate.example.toml",
            "gate-controller/src/config.rs",
            Some("credential/src/keys.rs"),
        ),
    ] {
        let path = deploy_dir().join("config").join(example);
        let Ok(text) = std::fs::read_to_string(&path) else {
            panic!("{example} is missing");
        };
        toml::from_str::<toml::Table>(&text).unwrap_or_else(|e| panic!("{example}: {e}"));
        toml::from_str::<toml::Table>(&uncommented(&text))
            .unwrap_or_else(|e| panic!("{example} with every option on: {e}"));
        // The program parses its config with serde and refuses unknown keys; every key the
        // example shows must be a field name in the program's config source.
        let Ok(mut config_rs) = std::fs::read_to_string(root.join(source)) else {
            eprintln!("NOTICE: {source} not there yet; {example} checked as TOML only");
            continue;
        };
        if let Some(also) = also {
            config_rs += &std::fs::read_to_string(root.join(also)).unwrap();
        }
        for key in example_keys(&text) {
            let field = key.rsplit('.').next().unwrap();
            assert!(
                config_rs.contains(&format!("{field}:"))
                    || config_rs.contains(&format!("\"{field}\"")),
                "{example}: `{key}` is not read by {source}"
            );
        }
    }
}

#[test]
fn sysusers_files_create_every_user_and_group_the_units_run_as() {
    if !tool_exists("systemd-sysusers") {
        eprintln!("NOTICE: systemd-sysusers is not installed; sysusers files not checked");
        return;
    }
    for (conf, units) in [
        ("gatehouse-server.conf", &["gatehouse-server.service"][..]),
        ("gatehouse-gate.conf", &["gatehouse-gate.service"][..]),
        (
            "gatehouse-kiosk.conf",
            &["gatehouse-kiosk.service", "gatehouse-kiosk-session.service"][..],
        ),
    ] {
        // An empty root: every user and group the file needs is "created" in the dry run.
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        for f in ["passwd", "group", "shadow", "gshadow"] {
            std::fs::write(root.path().join("etc").join(f), "").unwrap();
        }
        let out = Command::new("systemd-sysusers")
            .arg(format!("--root={}", root.path().display()))
            .arg("--dry-run")
            .arg(
                deploy_dir()
                    .join("sysusers")
                    .join(conf)
                    .canonicalize()
                    .unwrap(),
            )
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{conf}: {stderr}");
        for unit in units {
            let text = std::fs::read_to_string(deploy_dir().join("systemd").join(unit)).unwrap();
            for user in unit_values(&text, "User") {
                assert!(
                    stderr.contains(&format!("Creating user '{user}'")),
                    "{conf} lacks user {user} of {unit}:\n{stderr}"
                );
            }
            for groups in unit_values(&text, "SupplementaryGroups") {
                for group in groups.split_whitespace() {
                    assert!(
                        stderr.contains(&format!("Creating group '{group}'")),
                        "{conf} lacks group {group} of {unit}:\n{stderr}"
                    );
                }
            }
        }
    }
}

/// Runs `program` with `args` until it prints its ready line or exits (at most 10 s); the
/// ready line's presence and its stderr.
fn run_briefly(program: Program, args: &[&std::ffi::OsStr]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let launch = Launch::new(program, &log).args(args.iter().copied());
    match Running::start(launch) {
        Ok(running) => {
            let _ = running.terminate(std::time::Duration::from_secs(10));
            (true, std::fs::read_to_string(&log).unwrap_or_default())
        }
        Err(e) => (false, e.to_string()),
    }
}

#[test]
fn example_configs_get_past_their_programs_own_config_parsers() {
    let config_dir = deploy_dir().join("config");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let os = |s: &str| std::ffi::OsString::from(s);

    // The server's example runs as it is, with the address and data dir overridden by flags.
    let server = config_dir.join("server.example.toml");
    let (ready, log) = run_briefly(
        Program::Server,
        &[
            &os("--config"),
            server.as_os_str(),
            &os("--listen"),
            &os("127.0.0.1:0"),
            &os("--data-dir"),
            data.as_os_str(),
        ],
    );
    assert!(ready, "server refused its example config:\n{log}");

    // The gate and kiosk examples name real hardware (GPIO, /dev/gatehouse-*), which this
    // machine lacks: they may stop after parsing, but never with a parse error of the file.
    for (program, example, extra) in [
        (
            Program::Gate,
            "gate.example.toml",
            vec![
                os("--data-dir"),
                data.clone().into_os_string(),
                os("--status-listen"),
                os("127.0.0.1:0"),
            ],
        ),
        (
            Program::Kiosk,
            "kiosk.example.toml",
            vec![
                os("--listen"),
                os("127.0.0.1:0"),
                os("--server-url"),
                os("http://127.0.0.1:9"),
            ],
        ),
    ] {
        let text = std::fs::read_to_string(config_dir.join(example)).unwrap();
        for (variant, body) in [
            ("as shipped", text.clone()),
            ("every option on", uncommented(&text)),
        ] {
            let path = tmp.path().join(example);
            std::fs::write(&path, body).unwrap();
            let mut args: Vec<&std::ffi::OsStr> =
                vec![std::ffi::OsStr::new("--config"), path.as_os_str()];
            args.extend(extra.iter().map(|a| a.as_os_str()));
            let (_, log) = run_briefly(program, &args);
            let parse_error = format!("config file {}", path.display());
            assert!(
                !log.contains(&parse_error),
                "{example} ({variant}) does not parse:\n{log}"
            );
        }
    }
}

#[test]
fn kiosk_browser_waits_for_the_kiosk_then_starts_chromium_on_its_url_with_a_fresh_profile() {
    use std::io::{Read, Write};
    let tmp = tempfile::tempdir().unwrap();
    // A stand-in Chromium that records its arguments.
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let args_file = tmp.path().join("args");
    let fake = bin.join("chromium");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > {}\n",
            args_file.display()
        ),
    )
    .unwrap();
    let exec = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755);
    std::fs::set_permissions(&fake, exec).unwrap();
    // The kiosk backend comes up only after a second.
    let port = gatehouse_e2e::system::free_port().unwrap();
    let server = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(1));
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = conn.read(&mut buf);
        conn.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .unwrap();
    });
    let runtime = tmp.path().join("run");
    std::fs::create_dir(&runtime).unwrap();
    std::fs::create_dir(runtime.join("gatehouse-chromium")).unwrap();
    std::fs::write(runtime.join("gatehouse-chromium/Local State"), "stale").unwrap();
    let url = format!("http://127.0.0.1:{port}/");
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let out = Command::new(deploy_dir().join("kiosk-session/kiosk-browser"))
        .env("PATH", path)
        .env("GATEHOUSE_KIOSK_URL", &url)
        .env("XDG_RUNTIME_DIR", &runtime)
        .output()
        .unwrap();
    server.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let args = std::fs::read_to_string(&args_file).unwrap();
    let args: Vec<&str> = args.lines().collect();
    assert!(args.contains(&format!("--app={url}").as_str()), "{args:?}");
    assert!(
        args.contains(&"--kiosk") && args.contains(&"--disable-pinch"),
        "{args:?}"
    );
    assert!(
        !runtime.join("gatehouse-chromium/Local State").exists(),
        "the old profile (crash bubble state) is removed"
    );
}

#[test]
fn program_units_rate_ok_in_systemd_analyze_security() {
    if !tool_exists("systemd-analyze") {
        eprintln!("NOTICE: systemd-analyze is not installed; sandboxing not rated");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for name in &UNITS[..3] {
        let text = std::fs::read_to_string(deploy_dir().join("systemd").join(name)).unwrap();
        let exe = format!("/usr/bin/{} ", name.trim_end_matches(".service"));
        let path = tmp.path().join(name);
        std::fs::write(&path, text.replace(&exe, "/bin/true ")).unwrap();
        // Exposure is rated 0.0 (locked down) to 10.0 (unprotected); the threshold is in tenths.
        let out = Command::new("systemd-analyze")
            .args(["security", "--offline=true", "--threshold=20"])
            .arg(&path)
            .output()
            .unwrap();
        let rating = String::from_utf8_lossy(&out.stdout);
        let last = rating.lines().last().unwrap_or_default().to_owned();
        assert!(out.status.success(), "{name} is exposed above 2.0: {last}");
    }
}

#[test]
fn gate_unit_lets_the_gate_ask_the_kernel_whether_ntp_synchronised_the_clock() {
    // The gate's default NTP source is adjtimex(2) with modes = 0; a unit whose filter denies
    // it would have the gate killed (SIGSYS) or refused. systemd itself says what the filter lets through.
    let text =
        std::fs::read_to_string(deploy_dir().join("systemd/gatehouse-gate.service")).unwrap();
    assert!(
        !unit_values(&text, "ProtectClock").contains(&"yes"),
        "ProtectClock=yes refuses even a read-only adjtimex"
    );
    if !tool_exists("systemd-analyze") {
        eprintln!("NOTICE: systemd-analyze is not installed; the syscall filter is not decoded");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("gatehouse-gate.service");
    std::fs::write(
        &path,
        text.replace("/usr/bin/gatehouse-gate ", "/bin/true "),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true"])
        .arg(&path)
        .output()
        .unwrap();
    let rating = String::from_utf8_lossy(&out.stdout);
    let clock = rating
        .lines()
        .find(|l| l.contains("SystemCallFilter=~@clock"))
        .unwrap_or_else(|| panic!("no @clock line in:\n{rating}"));
    assert!(clock.contains("adjtimex is allowed"), "{clock}");
    assert!(
        rating.contains("Service processes cannot change the system clock"),
        "no CAP_SYS_TIME:\n{rating}"
    );
}
