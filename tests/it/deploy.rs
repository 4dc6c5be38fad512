//! The files an installer puts on real machines: systemd units, udev rules, scripts, configs.

use gatehouse_e2e::process::{Launch, Running};
use gatehouse_e2e::programs::Program;
use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

fn tool_exists(name: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Fails the (ignored by default) test that runs it when `name` is missing.
pub(crate) fn require_tool(name: &str) {
    assert!(
        tool_exists(name),
        "{name} is not installed: this test needs it"
    );
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
pub(crate) fn unit_values<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
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
#[ignore = "needs systemd-analyze (Debian package systemd)"]
fn systemd_units_pass_systemd_analyze_verify() {
    require_tool("systemd-analyze");
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
    // A Pi 5 maps /dev/gpiomem0 (RP1): without it the gate fails to start and restarts forever.
    for device in ["/dev/gpiomem rw", "/dev/gpiomem0 rw", "char-gpiochip rw"] {
        assert!(
            unit_values(&text, "DeviceAllow").contains(&device),
            "DeviceAllow={device} missing: {allowed}"
        );
    }
    // Nothing delays the start: a box without network or scanner is locked and observable at
    // once (the gate retries both itself).
    for key in ["After", "Wants", "Requires", "BindsTo"] {
        for value in unit_values(&text, key) {
            assert!(
                !value.contains("network-online") && !value.contains(".device"),
                "{key}={value}"
            );
        }
    }
    // A stalled gate is killed and restarted; the gate pets the watchdog from its door loop.
    assert_eq!(unit_values(&text, "WatchdogSec"), vec!["10s"]);
    assert_eq!(unit_values(&text, "Type"), vec!["notify"]);
    assert_eq!(unit_values(&text, "NotifyAccess"), vec!["main"]);
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
#[ignore = "needs shellcheck (Debian package shellcheck)"]
fn shell_scripts_are_shellcheck_clean_and_parse() {
    let scripts = [
        "install-pi.sh",
        "gate-boot-config.sh",
        "cross-build.sh",
        "kiosk-session/kiosk-browser",
        "kiosk-session/kiosk-rotation",
        "udev/pin-rules.sh",
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
    require_tool("shellcheck");
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
        let mut config_rs =
            std::fs::read_to_string(root.join(source)).unwrap_or_else(|e| panic!("{source}: {e}"));
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

/// The field names of every struct a config source deserialises (`#[derive(… Deserialize …)]`
/// with named fields): the keys its TOML file may hold.
fn deserialised_fields(source: &str) -> Vec<String> {
    let mut fields = Vec::new();
    for item in source.split("#[derive(").skip(1) {
        let (derives, rest) = item.split_once(")]").unwrap_or_default();
        let Some(body) = rest
            .split_once("struct ")
            .filter(|(before, _)| {
                before
                    .lines()
                    .all(|l| l.trim().is_empty() || l.trim().starts_with("#[") || l.trim() == "pub")
            })
            .and_then(|(_, s)| s.split_once('{'))
            .map(|(_, body)| body.split("\n}").next().unwrap_or_default())
        else {
            continue;
        };
        if !derives.contains("Deserialize") {
            continue;
        }
        for line in body.lines() {
            let line = line.strip_prefix("    ").unwrap_or_default();
            let line = line.strip_prefix("pub ").unwrap_or(line);
            if let Some((name, _)) = line.split_once(": ")
                && !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                fields.push(name.to_owned());
            }
        }
    }
    fields
}

#[test]
fn example_configs_name_every_option_their_program_reads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (example, source) in [
        ("server.example.toml", "server/src/config.rs"),
        ("kiosk.example.toml", "kiosk/src/config.rs"),
        ("gate.example.toml", "gate-controller/src/config.rs"),
    ] {
        let text = std::fs::read_to_string(deploy_dir().join("config").join(example)).unwrap();
        let fields = deserialised_fields(&std::fs::read_to_string(root.join(source)).unwrap());
        assert!(fields.len() > 5, "{source}: {fields:?}");
        // Set (`key = …`), shown commented out, or at least named in a comment.
        let missing: Vec<&String> = fields
            .iter()
            .filter(|f| {
                !text
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .any(|w| w == f.as_str())
            })
            .collect();
        assert!(
            missing.is_empty(),
            "{example} says every option is listed, but not {missing:?} ({source})"
        );
    }
}

#[test]
#[ignore = "needs systemd-sysusers (Debian package systemd)"]
fn sysusers_files_create_every_user_and_group_the_units_run_as() {
    require_tool("systemd-sysusers");
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
    // The page is the last argument, not `--app=`: Chromium given `--kiosk --app=URL` under
    // Wayland exits at once.
    assert_eq!(args.last(), Some(&url.as_str()), "{args:?}");
    assert!(!args.iter().any(|a| a.starts_with("--app")), "{args:?}");
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
#[ignore = "needs systemd-analyze (Debian package systemd)"]
fn program_units_rate_ok_in_systemd_analyze_security() {
    require_tool("systemd-analyze");
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
#[ignore = "needs systemd-analyze (Debian package systemd)"]
fn gate_unit_lets_the_gate_ask_the_kernel_whether_ntp_synchronised_the_clock() {
    // The gate's default NTP source is adjtimex(2) with modes = 0; a unit whose filter denies
    // it would have the gate killed (SIGSYS) or refused. systemd itself says what the filter lets through.
    let text =
        std::fs::read_to_string(deploy_dir().join("systemd/gatehouse-gate.service")).unwrap();
    assert!(
        !unit_values(&text, "ProtectClock").contains(&"yes"),
        "ProtectClock=yes refuses even a read-only adjtimex"
    );
    require_tool("systemd-analyze");
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

/// Runs deploy/gate-boot-config.sh on a fake root holding a Bookworm boot partition.
fn gate_boot_config(root: &Path, gate_toml: &str) -> std::process::Output {
    std::fs::create_dir_all(root.join("etc/gatehouse")).unwrap();
    std::fs::write(root.join("etc/gatehouse/gate.toml"), gate_toml).unwrap();
    Command::new("bash")
        .arg(deploy_dir().join("gate-boot-config.sh"))
        .arg("--root")
        .arg(root)
        .output()
        .unwrap()
}

#[test]
fn gate_boot_config_sets_uart_console_relay_level_and_watchdog_in_a_fake_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let boot = root.join("boot/firmware");
    std::fs::create_dir_all(&boot).unwrap();
    // As Raspberry Pi OS Bookworm ships them.
    let config_txt = "dtparam=audio=on\ncamera_auto_detect=1\n\n[cm4]\notg_mode=1\n\n[all]\n";
    std::fs::write(boot.join("config.txt"), config_txt).unwrap();
    std::fs::write(
        boot.join("cmdline.txt"),
        "console=serial0,115200 console=tty1 root=PARTUUID=3e2d-02 rootfstype=ext4 fsck.repair=yes rootwait\n",
    )
    .unwrap();

    // The example config: relay on BCM 17, a relay board that switches on high.
    let example = std::fs::read_to_string(deploy_dir().join("config/gate.example.toml")).unwrap();
    let out = gate_boot_config(root, &example);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("REBOOT NEEDED"), "{stdout}");
    let config = std::fs::read_to_string(boot.join("config.txt")).unwrap();
    assert!(
        config.starts_with(config_txt),
        "the image's own lines are kept:\n{config}"
    );
    let lines: Vec<&str> = config.lines().collect();
    // The model filter (`[all]`, `[pi5]`, …) a line of ours is under.
    let filter = |l: &str| {
        let at = lines
            .iter()
            .rposition(|x| *x == l)
            .unwrap_or_else(|| panic!("{l}:\n{config}"));
        *lines[..at]
            .iter()
            .rev()
            .find(|x| x.starts_with('['))
            .unwrap()
    };
    // The [cm4] filter is closed before our lines, which hold for every model …
    assert_eq!(filter("dtoverlay=disable-bt"), "[all]");
    assert_eq!(filter("enable_uart=1"), "[all]");
    // … except uart0, which only a Pi 5 needs; the relay line is back under [all], holding
    // the relay low (its locked level).
    assert_eq!(filter("dtparam=uart0=on"), "[pi5]");
    assert_eq!(filter("gpio=17=op,dl"), "[all]");
    let cmdline = std::fs::read_to_string(boot.join("cmdline.txt")).unwrap();
    assert_eq!(
        cmdline,
        "console=tty1 root=PARTUUID=3e2d-02 rootfstype=ext4 fsck.repair=yes rootwait\n"
    );
    let watchdog =
        std::fs::read_to_string(root.join("etc/systemd/system.conf.d/gatehouse-watchdog.conf"))
            .unwrap();
    assert!(
        watchdog.contains("[Manager]\nRuntimeWatchdogSec=10s\n"),
        "{watchdog}"
    );

    // Run again for an active-low board on BCM 4: one block, the new level.
    let gate = "data_dir = \"/var/lib/gatehouse-gate\"\n[pins]\nbackend = \"rpi\"\nrelay = 4 # lock\nrelay_active_low = true\n";
    let out = gate_boot_config(root, gate);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = std::fs::read_to_string(boot.join("config.txt")).unwrap();
    assert_eq!(
        config
            .matches("gatehouse-gate (gate-boot-config.sh)")
            .count(),
        1
    );
    assert!(
        config.contains("\ngpio=4=op,dh\n") && !config.contains("gpio=17"),
        "{config}"
    );

    // No relay pin configured: refused, nothing changed.
    let out = gate_boot_config(root, "[pins]\nbackend = \"sim\"\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("[pins] relay"));
    assert_eq!(
        std::fs::read_to_string(boot.join("config.txt")).unwrap(),
        config
    );
}

/// One device of a mocked sysfs in umockdev's record format: its path, then its properties
/// (`E:`), attributes (`A:`) and links (`L:`), one a line.
/// A device with a node in /dev has its name and numbers first.
struct Mock {
    path: &'static str,
    node: Option<Node>,
    lines: &'static [&'static str],
}

/// A device node: `/dev/<name>`, its major and minor numbers and its subsystem.
struct Node {
    name: &'static str,
    major: u16,
    minor: u16,
    subsystem: &'static str,
}

impl Mock {
    /// A device with no node of its own (a parent: a bus device, interface or driver port).
    const fn plain(path: &'static str, lines: &'static [&'static str]) -> Mock {
        Mock {
            path,
            node: None,
            lines,
        }
    }

    /// A device with the node `/dev/<name>` (`name` may hold a folder, as `usb/lp0`).
    const fn node(
        path: &'static str,
        name: &'static str,
        (major, minor): (u16, u16),
        subsystem: &'static str,
    ) -> Mock {
        Mock {
            path,
            node: Some(Node {
                name,
                major,
                minor,
                subsystem,
            }),
            lines: &[],
        }
    }

    fn record(&self) -> String {
        let mut lines = Vec::new();
        if let Some(Node {
            name,
            major,
            minor,
            subsystem,
        }) = &self.node
        {
            lines.extend([
                format!("N: {name}"),
                format!("E: DEVNAME=/dev/{name}"),
                format!("E: MAJOR={major}"),
                format!("E: MINOR={minor}"),
                format!("E: SUBSYSTEM={subsystem}"),
                format!("A: dev={major}:{minor}"),
            ]);
        }
        lines.extend(self.lines.iter().map(|l| (*l).to_owned()));
        format!("P: {}\n{}\n\n", self.path, lines.join("\n"))
    }
}

/// The sysfs of a box as umockdev records it, the parents after their children.
fn umockdev_record(devices: &[Mock]) -> String {
    devices.iter().map(Mock::record).collect()
}

/// Runs `udevadm test --action=add` for each of `syspaths`, in order, with our rules and a
/// role file saying `box_roles`, over a umockdev testbed bind-mounted on /sys inside a private
/// mount namespace (udevadm test really creates links: /dev and /run are fresh tmpfs there).
/// Returns the `/dev/gatehouse-*` links and where they point, and udevadm's output.
fn udev_links(
    box_roles: &str,
    devices: &[Mock],
    syspaths: &[&str],
) -> (Vec<(String, String)>, String) {
    udev_links_pinned(box_roles, &[], devices, syspaths)
}

/// [`udev_links`] with the `98-gatehouse-local.rules` that `udev/pin-rules.sh` writes for
/// `pins` (e.g. `["--scanner-serial", "A10K3BBB"]`).
fn udev_links_pinned(
    box_roles: &str,
    pins: &[&str],
    devices: &[Mock],
    syspaths: &[&str],
) -> (Vec<(String, String)>, String) {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::create_dir_all(dir.path().join("empty")).unwrap();
    std::fs::copy(
        deploy_dir().join("udev/99-gatehouse.rules"),
        rules.join("99-gatehouse.rules"),
    )
    .unwrap();
    // As install-pi.sh writes it.
    std::fs::write(
        rules.join("90-gatehouse-role.rules"),
        format!("ENV{{GATEHOUSE_BOX}}=\"{box_roles}\"\n"),
    )
    .unwrap();
    // The groups the rules name, as sysusers creates them on the box.
    let mut group = std::fs::read_to_string("/etc/group").unwrap();
    for g in ["gpio", "dialout", "lp"] {
        if !group.lines().any(|l| l.starts_with(&format!("{g}:"))) {
            group.push_str(&format!("{g}:x:{}:\n", 900 + g.len()));
        }
    }
    std::fs::write(dir.path().join("group"), group).unwrap();
    if !pins.is_empty() {
        let out = Command::new("bash")
            .arg(deploy_dir().join("udev/pin-rules.sh"))
            .args(pins)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        std::fs::write(rules.join("98-gatehouse-local.rules"), out.stdout).unwrap();
    }
    let record = dir.path().join("box.umockdev");
    std::fs::write(&record, umockdev_record(devices)).unwrap();
    let script = r#"
set -e
d="$1"; shift
mount --bind "$UMOCKDEV_DIR/sys" /sys
mount -t tmpfs tmpfs /dev
mount -t tmpfs tmpfs /run
mount --bind "$d/rules" /etc/udev/rules.d
for r in /usr/lib/udev/rules.d /lib/udev/rules.d; do [ -d "$r" ] && mount --bind "$d/empty" "$r"; done
mount --bind "$d/group" /etc/group
# umockdev's /sys is a tmpfs, not sysfs.
export SYSTEMD_DEVICE_VERIFY_SYSFS=0
# The device nodes, as devtmpfs makes them before udev runs (udev ranks a shared link's
# claimants only among devices whose node exists).
for syspath in "$@"; do
  name=$(sed -n 's/^DEVNAME=//p' "$syspath/uevent"); name=${name#/dev/}; mm=$(cat "$syspath/dev")
  mkdir -p "/dev/$(dirname "$name")"
  mknod "/dev/$name" c "${mm%%:*}" "${mm##*:}"
done
for syspath in "$@"; do
  echo "=== $syspath"
  udevadm test --action=add "$syspath" 2>&1
done
echo "=== links"
for l in /dev/gatehouse-*; do [ -L "$l" ] && echo "LINK $l $(readlink "$l")"; done
true
"#;
    let out = Command::new("umockdev-run")
        .arg("-d")
        .arg(&record)
        // Without umockdev's preload: /sys itself is the testbed here, and the shell must see
        // the /dev that udevadm writes.
        .args([
            "--",
            "env",
            "-u",
            "LD_PRELOAD",
            "unshare",
            "-m",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .arg(dir.path())
        .args(syspaths)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    let links = text
        .lines()
        .filter_map(|l| l.strip_prefix("LINK /dev/"))
        .map(|l| {
            let (name, target) = l.split_once(' ').unwrap();
            (name.to_owned(), target.to_owned())
        })
        .collect();
    (links, text)
}

fn links(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

const PI4_MINI_UART: Mock = Mock::node(
    "/devices/platform/soc/fe215040.serial/tty/ttyS0",
    "ttyS0",
    (4, 64),
    "tty",
);
const PI4_MINI_UART_PARENT: Mock = Mock::plain(
    "/devices/platform/soc/fe215040.serial",
    &[
        "E: DRIVER=bcm2835-aux-uart",
        "E: SUBSYSTEM=platform",
        "L: driver=../../../../bus/platform/drivers/bcm2835-aux-uart",
    ],
);
const PI4_PL011: Mock = Mock::node(
    "/devices/platform/soc/fe201000.serial/tty/ttyAMA0",
    "ttyAMA0",
    (204, 64),
    "tty",
);
const PI4_PL011_PARENT: Mock = Mock::plain(
    "/devices/platform/soc/fe201000.serial",
    &[
        "E: DRIVER=uart-pl011",
        "E: SUBSYSTEM=amba",
        "L: driver=../../../../bus/amba/drivers/uart-pl011",
    ],
);
const PI5_UART0: Mock = Mock::node(
    "/devices/platform/axi/1000120000.pcie/1f00030000.serial/tty/ttyAMA0",
    "ttyAMA0",
    (204, 64),
    "tty",
);
const PI5_UART0_PARENT: Mock = Mock::plain(
    "/devices/platform/axi/1000120000.pcie/1f00030000.serial",
    &["E: DRIVER=uart-pl011", "E: SUBSYSTEM=amba"],
);
const PI5_DEBUG_UART: Mock = Mock::node(
    "/devices/platform/axi/107d001000.serial/tty/ttyAMA10",
    "ttyAMA10",
    (204, 74),
    "tty",
);
const PI5_DEBUG_UART_PARENT: Mock = Mock::plain(
    "/devices/platform/axi/107d001000.serial",
    &["E: DRIVER=uart-pl011", "E: SUBSYSTEM=amba"],
);
const PI5_GPIOMEM: Mock = Mock::node(
    "/devices/platform/axi/1000120000.pcie/1f000d0000.gpio/rpi-gpiomem/gpiomem0",
    "gpiomem0",
    (239, 0),
    "rpi-gpiomem",
);
const PI5_GPIOMEM_PARENT: Mock = Mock::plain(
    "/devices/platform/axi/1000120000.pcie/1f000d0000.gpio",
    &["E: DRIVER=rpi-gpiomem", "E: SUBSYSTEM=platform"],
);
/// A CH340 USB-serial dongle (1a86:7523) on a Pi 4's USB.
const CH340_TTY: Mock = Mock::node(
    "/devices/platform/scb/fd500000.pcie/usb1/1-1/1-1.2/1-1.2:1.0/ttyUSB0/tty/ttyUSB0",
    "ttyUSB0",
    (188, 0),
    "tty",
);
const CH340_PORT: Mock = Mock::plain(
    "/devices/platform/scb/fd500000.pcie/usb1/1-1/1-1.2/1-1.2:1.0/ttyUSB0",
    &["E: DRIVER=ch341-uart", "E: SUBSYSTEM=usb-serial"],
);
const CH340_INTERFACE: Mock = Mock::plain(
    "/devices/platform/scb/fd500000.pcie/usb1/1-1/1-1.2/1-1.2:1.0",
    &[
        "E: DEVTYPE=usb_interface",
        "E: DRIVER=ch341",
        "E: SUBSYSTEM=usb",
        "A: bInterfaceClass=ff",
    ],
);
const CH340_DEVICE: Mock = Mock::plain(
    "/devices/platform/scb/fd500000.pcie/usb1/1-1/1-1.2",
    &[
        "E: DEVTYPE=usb_device",
        "E: SUBSYSTEM=usb",
        "A: idVendor=1a86",
        "A: idProduct=7523",
        "A: manufacturer=QinHeng Electronics",
    ],
);
/// A PL2303 adapter (067b:2303): not one of the scanner dongles.
const PL2303_TTY: Mock = Mock::node(
    "/devices/platform/scb/fd500000.pcie/usb1/1-1/1-1.3/1-1.3:1.0/ttyUSB1/tty/ttyUSB1",
    "ttyUSB1",
    (188, 1),
    "tty",
);
const PL2303_PORT: Mock = Mock::plain(
    "/devices/platform/scb/fd500000.pcie/usb1/1-1/1-1.3/1-1.3:1.0/ttyUSB1",
    &["E: DRIVER=pl2303", "E: SUBSYSTEM=usb-serial"],
);
const PL2303_INTERFACE: Mock = Mock::plain(
    "/devices/platform/scb/fd500000.pcie/usb1/1-1/1-1.3/1-1.3:1.0",
    &["E: DEVTYPE=usb_interface", "E: SUBSYSTEM=usb"],
);
const PL2303_DEVICE: Mock = Mock::plain(
    "/devices/platform/scb/fd500000.pcie/usb1/1-1/1-1.3",
    &[
        "E: DEVTYPE=usb_device",
        "E: SUBSYSTEM=usb",
        "A: idVendor=067b",
        "A: idProduct=2303",
    ],
);
/// A receipt printer in USB CDC ACM mode.
const CDC_PRINTER_TTY: Mock = Mock::node(
    "/devices/platform/scb/fd500000.pcie/usb1/1-1/1-1.4/1-1.4:1.0/tty/ttyACM0",
    "ttyACM0",
    (166, 0),
    "tty",
);
const CDC_PRINTER_INTERFACE: Mock = Mock::plain(
    "/devices/platform/scb/fd500000.pcie/usb1/1-1/1-1.4/1-1.4:1.0",
    &[
        "E: DEVTYPE=usb_interface",
        "E: DRIVER=cdc_acm",
        "E: SUBSYSTEM=usb",
        "A: bInterfaceClass=02",
    ],
);
const CDC_PRINTER_DEVICE: Mock = Mock::plain(
    "/devices/platform/scb/fd500000.pcie/usb1/1-1/1-1.4",
    &[
        "E: DEVTYPE=usb_device",
        "E: SUBSYSTEM=usb",
        "A: idVendor=0483",
        "A: idProduct=5740",
    ],
);
/// A USB printer-class receipt printer (usblp).
const USBLP: Mock = Mock::node(
    "/devices/platform/scb/fd500000.pcie/usb1/1-1/1-1.1/1-1.1:1.0/usbmisc/lp0",
    "usb/lp0",
    (180, 0),
    "usbmisc",
);
const USBLP_INTERFACE: Mock = Mock::plain(
    "/devices/platform/scb/fd500000.pcie/usb1/1-1/1-1.1/1-1.1:1.0",
    &[
        "E: DEVTYPE=usb_interface",
        "E: DRIVER=usblp",
        "E: SUBSYSTEM=usb",
        "A: bInterfaceClass=07",
    ],
);
const USBLP_DEVICE: Mock = Mock::plain(
    "/devices/platform/scb/fd500000.pcie/usb1/1-1/1-1.1",
    &[
        "E: DEVTYPE=usb_device",
        "E: SUBSYSTEM=usb",
        "A: idVendor=0416",
        "A: idProduct=5011",
    ],
);

#[test]
#[ignore = "needs umockdev-run, udevadm and unshare -m (Debian packages umockdev, udev)"]
fn udev_names_the_gpio_uart_by_pi_model_and_never_the_pi5_debug_port() {
    // Pi 4 with Bluetooth on: the GPIO UART is the mini UART, ttyS0.
    let (got, log) = udev_links(
        "gate",
        &[PI4_MINI_UART, PI4_MINI_UART_PARENT],
        &["/sys/class/tty/ttyS0"],
    );
    assert_eq!(got, links(&[("gatehouse-scanner", "ttyS0")]), "{log}");
    // Pi 4 with disable-bt: the PL011, ttyAMA0.
    let (got, log) = udev_links(
        "gate",
        &[PI4_PL011, PI4_PL011_PARENT],
        &["/sys/class/tty/ttyAMA0"],
    );
    assert_eq!(got, links(&[("gatehouse-scanner", "ttyAMA0")]), "{log}");
    // Pi 5: uart0 is the scanner, in either order, never the debug connector; gpiomem0 goes
    // to group gpio.
    let pi5 = [
        PI5_UART0,
        PI5_UART0_PARENT,
        PI5_DEBUG_UART,
        PI5_DEBUG_UART_PARENT,
        PI5_GPIOMEM,
        PI5_GPIOMEM_PARENT,
    ];
    for order in [
        ["/sys/class/tty/ttyAMA10", "/sys/class/tty/ttyAMA0"],
        ["/sys/class/tty/ttyAMA0", "/sys/class/tty/ttyAMA10"],
    ] {
        let (got, log) = udev_links("gate", &pi5, &order);
        assert_eq!(got, links(&[("gatehouse-scanner", "ttyAMA0")]), "{log}");
    }
    let (_, log) = udev_links(
        "gate",
        &pi5,
        &["/sys/devices/platform/axi/1000120000.pcie/1f000d0000.gpio/rpi-gpiomem/gpiomem0"],
    );
    assert!(
        log.contains("gpiomem0: /etc/udev/rules.d/99-gatehouse.rules"),
        "{log}"
    );
    assert!(log.contains("MODE 0660"), "{log}");
    // A box the installer has not given a role names nothing.
    let (got, log) = udev_links(
        "",
        &[PI4_PL011, PI4_PL011_PARENT],
        &["/sys/class/tty/ttyAMA0"],
    );
    assert_eq!(got, links(&[]), "{log}");
}

#[test]
#[ignore = "needs umockdev-run, udevadm and unshare -m (Debian packages umockdev, udev)"]
fn udev_prefers_a_known_usb_scanner_dongle_over_the_gpio_uart_whatever_the_order() {
    let gate = [
        PI4_PL011,
        PI4_PL011_PARENT,
        CH340_TTY,
        CH340_PORT,
        CH340_INTERFACE,
        CH340_DEVICE,
        PL2303_TTY,
        PL2303_PORT,
        PL2303_INTERFACE,
        PL2303_DEVICE,
    ];
    let (usb, uart, other) = (
        "/sys/class/tty/ttyUSB0",
        "/sys/class/tty/ttyAMA0",
        "/sys/class/tty/ttyUSB1",
    );
    for order in [[uart, usb, other], [usb, uart, other], [other, usb, uart]] {
        let (got, log) = udev_links("gate", &gate, &order);
        assert_eq!(
            got,
            links(&[("gatehouse-scanner", "ttyUSB0")]),
            "{order:?}\n{log}"
        );
    }
    // The same dongle on a kiosk is its serial printer; the GPIO UART its desk scanner.
    let (got, log) = udev_links("kiosk", &gate, &[usb, uart]);
    assert_eq!(
        got,
        links(&[
            ("gatehouse-printer", "ttyUSB0"),
            ("gatehouse-scanner", "ttyAMA0")
        ]),
        "{log}"
    );
}

#[test]
#[ignore = "needs umockdev-run, udevadm and unshare -m (Debian packages umockdev, udev)"]
fn udev_names_a_kiosks_cdc_or_usblp_printer_and_usblp_wins_when_both_are_there() {
    let kiosk = [
        CDC_PRINTER_TTY,
        CDC_PRINTER_INTERFACE,
        CDC_PRINTER_DEVICE,
        USBLP,
        USBLP_INTERFACE,
        USBLP_DEVICE,
    ];
    let (cdc, lp) = ("/sys/class/tty/ttyACM0", "/sys/class/usbmisc/lp0");
    let (got, log) = udev_links("kiosk", &kiosk, &[cdc]);
    assert_eq!(got, links(&[("gatehouse-printer", "ttyACM0")]), "{log}");
    for order in [[cdc, lp], [lp, cdc]] {
        let (got, log) = udev_links("kiosk", &kiosk, &order);
        assert_eq!(
            got,
            links(&[("gatehouse-printer", "usb/lp0")]),
            "{order:?}\n{log}"
        );
        assert!(
            log.contains("lp0: /etc/udev/rules.d/99-gatehouse.rules"),
            "{log}"
        );
    }
    // On a gate, a CDC ACM device is a scanner in virtual-COM mode.
    let (got, log) = udev_links("gate", &kiosk, &[cdc, lp]);
    assert_eq!(got, links(&[("gatehouse-scanner", "ttyACM0")]), "{log}");
}

/// A USB-serial adapter `vid:pid` (with its USB `serial`, if it has one) on hub port `port`
/// (e.g. `1-1.2`), its tty `ttyUSB<n>`: the tty, its usb-serial port, interface and device.
/// The tty carries the `ID_PATH` a Pi 4's udev computes for that port (path_id walks up to
/// the PCIe bridge, which this mock does not have).
fn usb_serial_adapter(port: &str, n: u8, vid: &str, pid: &str, serial: Option<&str>) -> Vec<Mock> {
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let device = format!("/devices/platform/scb/fd500000.pcie/usb1/1-1/{port}");
    let interface = format!("{device}/{port}:1.0");
    let tty = format!("ttyUSB{n}");
    let mut device_lines = vec![
        "E: DEVTYPE=usb_device",
        "E: SUBSYSTEM=usb",
        leak(format!("A: idVendor={vid}")),
        leak(format!("A: idProduct={pid}")),
    ];
    if let Some(serial) = serial {
        device_lines.push(leak(format!("A: serial={serial}")));
    }
    let id_path = format!(
        "E: ID_PATH=platform-fd500000.pcie-pci-0000:01:00.0-usb-0:{}:1.0",
        port.trim_start_matches("1-")
    );
    vec![
        Mock {
            lines: Box::leak(vec![leak(id_path)].into_boxed_slice()),
            ..Mock::node(
                leak(format!("{interface}/{tty}/tty/{tty}")),
                leak(tty.clone()),
                (188, u16::from(n)),
                "tty",
            )
        },
        Mock::plain(
            leak(format!("{interface}/{tty}")),
            &["E: DRIVER=usb-serial-port", "E: SUBSYSTEM=usb-serial"],
        ),
        Mock::plain(
            leak(interface),
            &["E: DEVTYPE=usb_interface", "E: SUBSYSTEM=usb"],
        ),
        Mock::plain(leak(device), Box::leak(device_lines.into_boxed_slice())),
    ]
}

#[test]
#[ignore = "needs umockdev-run, udevadm and unshare -m (Debian packages umockdev, udev)"]
fn udev_names_the_pinned_one_of_two_identical_scanner_dongles_whatever_the_order() {
    let (usb0, usb1) = ("/sys/class/tty/ttyUSB0", "/sys/class/tty/ttyUSB1");
    // Two FTDI adapters (0403:6001), told apart by their USB serial numbers.
    let mut ftdi = usb_serial_adapter("1-1.2", 0, "0403", "6001", Some("A10K3AAA"));
    ftdi.extend(usb_serial_adapter(
        "1-1.3",
        1,
        "0403",
        "6001",
        Some("A10K3BBB"),
    ));
    for order in [[usb0, usb1], [usb1, usb0]] {
        let pins = ["--scanner-serial", "A10K3BBB"];
        let (got, log) = udev_links_pinned("gate", &pins, &ftdi, &order);
        assert_eq!(
            got,
            links(&[("gatehouse-scanner", "ttyUSB1")]),
            "{order:?}\n{log}"
        );
    }
    // Two CH340 adapters (1a86:7523, no serial number), told apart by the USB port.
    let mut ch340 = usb_serial_adapter("1-1.2", 0, "1a86", "7523", None);
    ch340.extend(usb_serial_adapter("1-1.3", 1, "1a86", "7523", None));
    for order in [[usb0, usb1], [usb1, usb0]] {
        let pins = [
            "--scanner-path",
            "platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.2:1.0",
        ];
        let (got, log) = udev_links_pinned("gate", &pins, &ch340, &order);
        assert_eq!(
            got,
            links(&[("gatehouse-scanner", "ttyUSB0")]),
            "{order:?}\n{log}"
        );
    }
    // A value that would break out of the rule's match string is refused.
    let out = Command::new("bash")
        .arg(deploy_dir().join("udev/pin-rules.sh"))
        .args(["--scanner-path", "x\", GROUP=\"root"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
