//! The lobby screen as deployed, run headless: the unit's cage command line with the rotation
//! the rotation script computes, the kiosk-browser wrapper as installed, and the kiosk program
//! (file printer) against a real server. wlroots' headless backend stands in for the panel, the
//! pixman renderer for the GPU, and `grim` (wlr-screencopy) takes the picture the panel would
//! show.

use crate::deploy::{deploy_dir, require_tool, unit_values};
use gatehouse_e2e::system::System;
use image::{Rgb, RgbImage};
use std::os::unix::fs::PermissionsExt;
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
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && matches!(self.cage.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.cage.wait();
    }
}

/// A directory the screen user owns (cage's runtime dir must be 0700 and its owner's).
fn user_dir(path: &Path) -> PathBuf {
    std::fs::create_dir_all(path).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).unwrap();
    if nix::unistd::getuid().is_root() {
        let user = nix::unistd::User::from_name(SCREEN_USER).unwrap().unwrap();
        nix::unistd::chown(path, Some(user.uid), Some(user.gid)).unwrap();
    }
    path.to_path_buf()
}

/// `program` as the screen user when we are root, with only the environment given.
fn as_screen_user(program: &str, env: &[(&str, String)]) -> Command {
    let mut cmd = if nix::unistd::getuid().is_root() {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid",
            SCREEN_USER,
            "--regid",
            "nogroup",
            "--clear-groups",
            "--",
            program,
        ]);
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
#[ignore = "needs cage, grim, chromium and fonts-noto-cjk (Debian packages cage, grim, chromium, fonts-noto-cjk)"]
fn kiosk_session_as_deployed_shows_the_welcome_screen_on_a_portrait_panel() {
    for tool in ["cage", "grim", "chromium", "setpriv"] {
        require_tool(tool);
    }
    let system = System::launch(&[], true).unwrap();
    let kiosk_url = format!("{}/", system.kiosk_url().unwrap());
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
    let deadline = Instant::now() + FIRST_FRAME;
    let mut last = String::from("no picture yet");
    loop {
        if let Ok(Some(status)) = session.cage.try_wait() {
            panic!(
                "cage exited ({status}) before the welcome screen showed:\n{}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        if xdg.join("wayland-0").exists() {
            let shot = as_screen_user("grim", &grim_env).arg("-").output().unwrap();
            if shot.status.success() {
                let img = image::load_from_memory(&shot.stdout).unwrap().to_rgb8();
                match not_welcome(&img, width, height) {
                    None => {
                        // Where to keep the picture, to look at it.
                        if let Ok(path) = std::env::var("GATEHOUSE_SESSION_SHOT") {
                            img.save(Path::new(&path)).unwrap();
                        }
                        break;
                    }
                    Some(why) => last = why,
                }
            } else {
                last = String::from_utf8_lossy(&shot.stderr).into_owned();
            }
        }
        assert!(
            Instant::now() < deadline,
            "no welcome screen within {FIRST_FRAME:?}: {last}\n{}",
            std::fs::read_to_string(&log_path).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    drop(session);
    drop(system);
}
