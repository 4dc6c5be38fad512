//! The lobby screen as deployed, run headless: the unit's cage command line with the rotation
//! the rotation script computes, the kiosk-browser wrapper as installed, and the kiosk program
//! (file printer) against a real server. wlroots' headless backend stands in for the panel, the
//! pixman renderer for the GPU, and `grim` (wlr-screencopy) takes the picture the panel would
//! show. A visitor then scans an invitation at the kiosk's scanner (a pty), and the pass's QR
//! code on the panel is read back by zbar's decoder from the picture.

use crate::deploy::{deploy_dir, require_tool, unit_values};
use gatehouse_credential::api::device::DeviceKind;
use gatehouse_e2e::estate::{unit_id, visited_unit};
use gatehouse_e2e::kiosk;
use gatehouse_e2e::process::Running;
use gatehouse_e2e::scanner::ScannerPty;
use gatehouse_e2e::system::System;
use image::{Rgb, RgbImage};
use serde_json::json;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// cage refuses to run as root; the session runs as an unprivileged user, as on the Pi.
const SCREEN_USER: &str = "nobody";

/// How long Chromium may take, on a loaded 2-core machine, from cage's start to the first full
/// frame of the welcome screen.
const FIRST_FRAME: Duration = Duration::from_secs(90);

/// The welcome screen's colours, from `kiosk/src/web/assets/app.css`.
const TOP_BAR: Rgb<u8> = Rgb([0x1f, 0x4e, 0x79]);
const PAGE: Rgb<u8> = Rgb([0xf4, 0xf6, 0xf8]);
const OFFLINE_BANNER: Rgb<u8> = Rgb([0xfd, 0xe7, 0xea]);
/// The top bar's CSS height.
const TOP_BAR_PX: u32 = 80;

/// cage and everything it started, stopped (the whole process group) when dropped.
struct Session {
    cage: Child,
}

impl Drop for Session {
    fn drop(&mut self) {
        let group = nix::unistd::Pid::from_raw(-(self.cage.id() as i32));
        let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGTERM);
        let _ = gatehouse_e2e::process::wait_timeout(&mut self.cage, Duration::from_secs(10));
        let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.cage.wait();
    }
}

/// Whether the test runs as root (the owner of `/proc/self` is the effective user).
fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The screen user's uid or gid (`flag` `-u` or `-g`), as `id` tells.
fn screen_user_id(flag: &str) -> u32 {
    let out = Command::new("id")
        .args([flag, SCREEN_USER])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// A directory the screen user owns (cage's runtime dir must be 0700 and its owner's).
fn user_dir(path: &Path) -> PathBuf {
    std::fs::create_dir_all(path).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).unwrap();
    if is_root() {
        let (uid, gid) = (screen_user_id("-u"), screen_user_id("-g"));
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    }
    path.to_path_buf()
}

/// `program` as the screen user when we are root, with only the environment given.
fn as_screen_user(program: &str, env: &[(&str, String)]) -> Command {
    let mut cmd = if is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid", SCREEN_USER, "--regid"])
            .arg(screen_user_id("-g").to_string())
            .args(["--clear-groups", "--", program]);
        c
    } else {
        Command::new(program)
    };
    cmd.env_clear().env("PATH", "/usr/local/bin:/usr/bin:/bin");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// The unit's `ExecStart=` as an argument list, with the rotation flags the rotation script
/// wrote to `cage.env` and the installed paths pointed at this tree.
fn cage_command_line(cage_env: &str) -> Vec<String> {
    let unit =
        std::fs::read_to_string(deploy_dir().join("systemd/gatehouse-kiosk-session.service"))
            .unwrap();
    let rotate = cage_env
        .lines()
        .find_map(|l| l.strip_prefix("GATEHOUSE_CAGE_ROTATE="))
        .expect("cage.env names GATEHOUSE_CAGE_ROTATE");
    let exec = unit_values(&unit, "ExecStart").join(" ");
    let wrapper = deploy_dir().join("kiosk-session/kiosk-browser");
    exec.split_whitespace()
        .flat_map(|word| match word {
            "$GATEHOUSE_CAGE_ROTATE" => rotate.split_whitespace().map(str::to_owned).collect(),
            "/usr/bin/cage" => vec!["cage".to_owned()],
            "/usr/lib/gatehouse/kiosk-browser" => vec![wrapper.display().to_string()],
            other => vec![other.to_owned()],
        })
        .collect()
}

fn near(a: Rgb<u8>, b: Rgb<u8>) -> bool {
    a.0.iter().zip(b.0).all(|(x, y)| x.abs_diff(y) <= 6)
}

/// The share of the pixels of row `y` (from `x0` to the right edge) that are `colour`.
fn row_share(img: &RgbImage, y: u32, x0: u32, colour: Rgb<u8>) -> f64 {
    let hits = (x0..img.width())
        .filter(|&x| near(*img.get_pixel(x, y), colour))
        .count();
    hits as f64 / f64::from(img.width() - x0)
}

/// Why `img` is not yet the welcome screen filling a `width` × `height` panel, if it is not.
fn not_welcome(img: &RgbImage, width: u32, height: u32) -> Option<String> {
    if (img.width(), img.height()) != (width, height) {
        return Some(format!("{}×{} picture", img.width(), img.height()));
    }
    // The top bar runs across the whole panel (the window is full-screen), above the text,
    // with nothing of Chromium's over it (its translate bubble once sat there).
    let bar = row_share(img, 3, 0, TOP_BAR);
    if bar < 0.99 {
        return Some(format!(
            "top bar colour on {:.0} % of its first row",
            bar * 100.0
        ));
    }
    // Below it, the page's own background, across the whole panel too.
    let page = row_share(img, TOP_BAR_PX + 6, 0, PAGE);
    if page < 0.99 {
        return Some(format!(
            "page colour on {:.0} % below the bar",
            page * 100.0
        ));
    }
    let pixels = || (TOP_BAR_PX..height).flat_map(|y| (0..width).map(move |x| (x, y)));
    if pixels().any(|(x, y)| near(*img.get_pixel(x, y), OFFLINE_BANNER)) {
        return Some("the out-of-service banner is up".into());
    }
    // The title and the four buttons: dark text and the buttons' blue on the page (about 4,000
    // and 14,000 pixels with Noto Sans CJK).
    let ink = pixels()
        .filter(|&(x, y)| img.get_pixel(x, y).0.iter().all(|&c| c < 0x60))
        .count();
    let blue = pixels()
        .filter(|&(x, y)| near(*img.get_pixel(x, y), TOP_BAR))
        .count();
    if ink < 1_500 || blue < 6_000 {
        return Some(format!("{ink} dark text pixels, {blue} button-blue pixels"));
    }
    None
}

#[test]
#[ignore = "needs cage, grim, chromium, zbarimg and CJK fonts (Debian packages cage, grim, chromium, zbar-tools, fonts-noto-cjk)"]
fn kiosk_session_as_deployed_shows_the_welcome_screen_on_a_portrait_panel_and_a_scannable_pass() {
    for tool in ["cage", "grim", "chromium", "setpriv", "zbarimg"] {
        require_tool(tool);
    }
    // The server and the kiosk program (file printer) with a scanner on a pty.
    let system = System::launch(&[], false).unwrap();
    let device = system
        .api
        .create_device(DeviceKind::Kiosk, "lobby kiosk", None)
        .unwrap();
    let launch = kiosk::launch(
        &system.kiosk_files,
        system.api.base(),
        "127.0.0.1:0",
        Some(&device.enrolment_token),
    )
    .unwrap();
    let mut scanner = ScannerPty::open().unwrap();
    let mut config = std::fs::OpenOptions::new()
        .append(true)
        .open(system.kiosk_files.config())
        .unwrap();
    std::io::Write::write_all(
        &mut config,
        format!(
            "\n[scanner]\nport = {:?}\n",
            scanner.slave_path().display().to_string()
        )
        .as_bytes(),
    )
    .unwrap();
    let kiosk_program = Running::start(launch).unwrap();
    let kiosk_url = format!("{}/", kiosk_program.url());
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();

    // The rotation script, as ExecStartPre= runs it, for a panel mounted portrait.
    let runtime = tmp.path().join("run");
    let out = Command::new(deploy_dir().join("kiosk-session/kiosk-rotation"))
        .env("GATEHOUSE_SCREEN_ROTATION", "90")
        .env("RUNTIME_DIRECTORY", &runtime)
        .env("GATEHOUSE_UDEV_RULES_DIR", tmp.path().join("rules"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let cage_env = std::fs::read_to_string(runtime.join("cage.env")).unwrap();
    let argv = cage_command_line(&cage_env);
    assert!(argv.contains(&"-r".to_owned()), "{argv:?}");

    let xdg = user_dir(&tmp.path().join("xdg"));
    let home = user_dir(&tmp.path().join("home"));
    let mut env = vec![
        ("XDG_RUNTIME_DIR", xdg.display().to_string()),
        ("HOME", home.display().to_string()),
        ("GATEHOUSE_KIOSK_URL", kiosk_url.clone()),
        ("WLR_BACKENDS", "headless".to_owned()),
        ("WLR_RENDERER", "pixman".to_owned()),
        ("WLR_LIBINPUT_NO_DEVICES", "1".to_owned()),
    ];
    // The unit's own environment (XDG_SESSION_TYPE=wayland), but the test's HOME and URL.
    let unit =
        std::fs::read_to_string(deploy_dir().join("systemd/gatehouse-kiosk-session.service"))
            .unwrap();
    for value in unit_values(&unit, "Environment") {
        if let Some((k, v)) = value.split_once('=')
            && !env.iter().any(|(key, _)| *key == k)
        {
            env.push((k, v.to_owned()));
        }
    }
    let log_path = tmp.path().join("cage.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let cage = as_screen_user(&argv[0], &env)
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .unwrap();
    let mut session = Session { cage };

    // A 1280×720 headless output turned 90°: a 720×1280 portrait picture.
    let (width, height) = (720, 1280);
    let mut grim_env = env.clone();
    grim_env.push(("WAYLAND_DISPLAY", "wayland-0".to_owned()));
    let picture = || -> Result<RgbImage, String> {
        if !xdg.join("wayland-0").exists() {
            return Err("no Wayland socket yet".into());
        }
        let shot = as_screen_user("grim", &grim_env).arg("-").output().unwrap();
        if !shot.status.success() {
            return Err(String::from_utf8_lossy(&shot.stderr).into_owned());
        }
        Ok(image::load_from_memory(&shot.stdout).unwrap().to_rgb8())
    };
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let welcome = wait_for_picture(&mut session, FIRST_FRAME, &log, || {
        let img = picture()?;
        not_welcome(&img, width, height).map_or(Ok(img), Err)
    });
    keep_picture("welcome", &welcome);

    // An invited visitor scans the invitation: the pass's QR code on the panel carries the
    // credential the kiosk printed.
    let estate = system.api.get("/api/v1/estate").unwrap();
    let unit_id = unit_id(&estate["units"], &visited_unit(), "id").unwrap();
    let invite = system
        .api
        .post(
            "/api/v1/invites",
            &json!({"name": "王芳", "unit_id": unit_id, "purpose": "探亲访友", "party_size": 1}),
        )
        .unwrap();
    scanner.scan(invite["code"].as_str().unwrap()).unwrap();
    let tmp_png = tmp.path().join("pass.png");
    let credential = wait_for_picture(&mut session, Duration::from_secs(30), &log, || {
        let img = picture()?;
        img.save(&tmp_png).unwrap();
        let out = Command::new("zbarimg")
            .args(["--raw", "-q"])
            .arg(&tmp_png)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if text.is_empty() {
            Err("no QR code on the panel yet".into())
        } else {
            keep_picture("pass", &img);
            Ok(text)
        }
    });
    assert_eq!(credential.len(), 122, "{credential}");
    let printed = kiosk::printed(&system.kiosk_files);
    assert!(
        printed
            .windows(credential.len())
            .any(|w| w == credential.as_bytes()),
        "the panel's QR is the credential on the slip"
    );
    drop(session);
    drop(kiosk_program);
    drop(system);
}

/// Polls `look` every half second until it gives a value; fails with its last answer and
/// cage's log after `within`, or as soon as cage exits.
fn wait_for_picture<T>(
    session: &mut Session,
    within: Duration,
    log: &dyn Fn() -> String,
    mut look: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(Some(status)) = session.cage.try_wait() {
            panic!("cage exited ({status}):\n{}", log());
        }
        let last = match look() {
            Ok(value) => return value,
            Err(why) => why,
        };
        assert!(
            Instant::now() < deadline,
            "not on the panel within {within:?}: {last}\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Keeps a picture in `$GATEHOUSE_SESSION_SHOTS`, when set, to look at.
fn keep_picture(name: &str, img: &RgbImage) {
    if let Ok(dir) = std::env::var("GATEHOUSE_SESSION_SHOTS") {
        img.save(Path::new(&dir).join(format!("session-{name}.png")))
            .unwrap();
    }
}
