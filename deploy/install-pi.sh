#!/usr/bin/env bash
# Install Gatehouse on Raspberry Pi OS (Bookworm or later, 64-bit) — run as root on the Pi.
#
#   sudo ./install-pi.sh --role gate   [--bin-dir DIR] [--scanner-path ID_PATH | --scanner-serial SERIAL]
#   sudo ./install-pi.sh --role kiosk  [--bin-dir DIR] [--printer-path ID_PATH] [--kiosk-url URL]
#   sudo ./install-pi.sh --role server [--bin-dir DIR]
#
# --role may be given more than once (a kiosk Pi can also run the server in a small estate).
# Binaries come from --bin-dir (default: ../target/aarch64-unknown-linux-gnu/release, as left
# by deploy/cross-build.sh) unless the Debian packages are already installed.
# Existing files under /etc/gatehouse are never overwritten: re-running the script upgrades
# binaries, units and rules only.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
bin_dir="$here/../target/aarch64-unknown-linux-gnu/release"
roles=()
pins=()
kiosk_url=""

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
die() { echo "install-pi: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --role) roles+=("${2:?--role needs server, gate or kiosk}"); shift 2 ;;
    --bin-dir) bin_dir="${2:?}"; shift 2 ;;
    --scanner-path|--scanner-serial|--printer-path) pins+=("$1" "${2:?}"); shift 2 ;;
    --kiosk-url) kiosk_url="${2:?}"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage 2 ;;
  esac
done
[ ${#roles[@]} -gt 0 ] || usage 2
for role in "${roles[@]}"; do
  case "$role" in server|gate|kiosk) ;; *) die "unknown role '$role' (server, gate or kiosk)" ;; esac
done
# A bad pin value is refused before anything is touched.
[ ${#pins[@]} -eq 0 ] || bash "$here/udev/pin-rules.sh" "${pins[@]}" >/dev/null || exit 2
[ "$(id -u)" -eq 0 ] || die "run as root (sudo)"
arch="$(uname -m)"
[ "$arch" = aarch64 ] || echo "install-pi: warning: this is $arch, the binaries are built for aarch64" >&2

has_role() { local r; for r in "${roles[@]}"; do [ "$r" = "$1" ] && return 0; done; return 1; }
is_pi() { command -v raspi-config >/dev/null 2>&1; }

install_binary() {
  local name="$1"
  if [ -x "$bin_dir/$name" ]; then
    install -m 0755 "$bin_dir/$name" "/usr/bin/$name"
  elif [ -x "/usr/bin/$name" ]; then
    echo "install-pi: keeping installed /usr/bin/$name (no $bin_dir/$name)"
  else
    die "no $name in $bin_dir; run deploy/cross-build.sh or install the .deb"
  fi
}

install_config() {
  local program="$1"
  install -d -m 0755 /etc/gatehouse
  if [ ! -e "/etc/gatehouse/$program.toml" ]; then
    install -m 0640 -g "$2" "$here/config/$program.example.toml" "/etc/gatehouse/$program.toml"
    echo "install-pi: wrote /etc/gatehouse/$program.toml — edit it before starting"
  fi
}

# Users, groups, udev rules and units every role needs.
for role in "${roles[@]}"; do
  install -D -m 0644 "$here/sysusers/gatehouse-$role.conf" "/usr/lib/sysusers.d/gatehouse-$role.conf"
  systemd-sysusers "gatehouse-$role.conf"
  install -D -m 0644 "$here/OPERATIONS.md" "/usr/share/doc/gatehouse-$role/OPERATIONS.md"
done
install -D -m 0644 "$here/udev/99-gatehouse.rules" /etc/udev/rules.d/99-gatehouse.rules
# What this box is, for the rules above: a gate names its scanner, a kiosk its printer.
{
  echo "# Written by install-pi.sh: the roles of this box, read by 99-gatehouse.rules."
  echo "ENV{GATEHOUSE_BOX}=\"${roles[*]}\""
} >/etc/udev/rules.d/90-gatehouse-role.rules

local_rules=/etc/udev/rules.d/98-gatehouse-local.rules
if [ ${#pins[@]} -gt 0 ]; then
  pinned="$(bash "$here/udev/pin-rules.sh" "${pins[@]}")" || die "bad --scanner-path/--scanner-serial/--printer-path"
  printf '%s\n' "$pinned" >"$local_rules"
fi
udevadm control --reload || true
udevadm trigger --subsystem-match=tty --subsystem-match=usbmisc --subsystem-match=gpio || true

enable=()
reboot_needed=0
if has_role server; then
  install_binary gatehouse-server
  install -m 0644 "$here/systemd/gatehouse-server.service" /lib/systemd/system/
  # Nightly online backup of the database (deploy/OPERATIONS.md, "Backup and restore").
  install -m 0644 "$here/systemd/gatehouse-backup.service" "$here/systemd/gatehouse-backup.timer" /lib/systemd/system/
  install_config server gatehouse
  enable+=(gatehouse-server.service gatehouse-backup.timer)
fi

if has_role gate; then
  install_binary gatehouse-gate
  install -m 0644 "$here/systemd/gatehouse-gate.service" /lib/systemd/system/
  install_config gate gatehouse-gate
  if is_pi; then
    # The scanner's UART (ttyAMA0), no serial console, the relay's locked level from
    # power-on, the hardware watchdog. Re-run deploy/gate-boot-config.sh after editing [pins].
    "$here/gate-boot-config.sh" --config /etc/gatehouse/gate.toml
    reboot_needed=1
  fi
  enable+=(gatehouse-gate.service)
fi

if has_role kiosk; then
  install_binary gatehouse-kiosk
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq cage chromium fonts-noto-cjk curl >/dev/null
  install -m 0644 "$here/systemd/gatehouse-kiosk.service" /lib/systemd/system/
  install -m 0644 "$here/systemd/gatehouse-kiosk-session.service" /lib/systemd/system/
  install -D -m 0755 "$here/kiosk-session/kiosk-browser" /usr/lib/gatehouse/kiosk-browser
  install -D -m 0755 "$here/kiosk-session/kiosk-rotation" /usr/lib/gatehouse/kiosk-rotation
  # Chromium's managed policy: no DevTools, no printing dialog, no downloads, no pop-ups, and
  # only the kiosk's own origin (from --kiosk-url when given).
  origin="$(printf '%s' "${kiosk_url:-http://127.0.0.1:8090/}" | sed -E 's#^(https?://[^/]+).*#\1#')"
  install -d -m 0755 /etc/chromium/policies/managed
  sed "s#http://127.0.0.1:8090#$origin#" "$here/kiosk-session/chromium-policy.json" \
    >/etc/chromium/policies/managed/gatehouse-kiosk.json
  chmod 0644 /etc/chromium/policies/managed/gatehouse-kiosk.json
  install_config kiosk gatehouse-kiosk
  if [ -n "$kiosk_url" ]; then
    echo "GATEHOUSE_KIOSK_URL=$kiosk_url" >/etc/gatehouse/kiosk-session.env
  fi
  if is_pi; then
    # Screen blanking off: the kiosk does its own idle reset and dim attract screen.
    raspi-config nonint do_blanking 1
  fi
  # The screen belongs to cage on tty1, not to a desktop or a login prompt.
  systemctl disable --now getty@tty1.service lightdm.service 2>/dev/null || true
  systemctl set-default graphical.target
  enable+=(gatehouse-kiosk.service gatehouse-kiosk-session.service)
fi

# Time on the estate LAN (OPERATIONS.md): the server host serves NTP with chrony; gates and
# kiosks take their time from it with systemd-timesyncd. GATEHOUSE_NTP_SERVER overrides the
# host taken from the installed config; GATEHOUSE_LAN_NTP=no leaves the server's NTP alone.
estate_server_host() {
  local f url
  for f in /etc/gatehouse/gate.toml /etc/gatehouse/kiosk.toml; do
    [ -r "$f" ] || continue
    url="$(sed -n 's/^[[:space:]]*\(server\|server_url\)[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\2/p' "$f" | head -n1)"
    # http://host:8080/… → host (an IPv6 literal keeps its brackets off).
    url="${url#*://}"; url="${url%%/*}"
    case "$url" in \[*) url="${url#[}"; url="${url%%]*}" ;; *) url="${url%%:*}" ;; esac
    [ -n "$url" ] && { echo "$url"; return 0; }
  done
  return 1
}

setup_estate_time() {
  if has_role server && [ "${GATEHOUSE_LAN_NTP:-yes}" != no ]; then
    if ! command -v chronyd >/dev/null 2>&1; then
      # On Debian, chrony replaces systemd-timesyncd on this host.
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chrony >/dev/null
    fi
    install -D -m 0644 "$here/chrony/gatehouse-lan-ntp.conf" /etc/chrony/conf.d/gatehouse-lan-ntp.conf
    systemctl restart chrony.service || true
    echo "install-pi: this host serves NTP to the LAN (chrony, UDP port 123)."
  fi
  if { has_role gate || has_role kiosk; } && ! has_role server; then
    local host="${GATEHOUSE_NTP_SERVER:-}"
    [ -n "$host" ] || host="$(estate_server_host)" || true
    if [ -z "$host" ]; then
      echo "install-pi: no server in /etc/gatehouse/*.toml yet: set it, then re-run to point NTP at it" >&2
      return 0
    fi
    if [ -d /etc/systemd ] && systemctl cat systemd-timesyncd.service >/dev/null 2>&1; then
      install -d -m 0755 /etc/systemd/timesyncd.conf.d
      sed "s/@ESTATE_SERVER@/$host/" "$here/timesyncd/gatehouse-estate-ntp.conf" \
        >/etc/systemd/timesyncd.conf.d/gatehouse-estate-ntp.conf
      systemctl restart systemd-timesyncd.service || true
      echo "install-pi: NTP from $host (systemd-timesyncd)."
    else
      echo "install-pi: systemd-timesyncd is not installed: point this host's NTP client at $host" >&2
    fi
  fi
}
setup_estate_time

systemctl daemon-reload
systemctl enable "${enable[@]}"
echo "install-pi: installed ${enable[*]}."
echo "install-pi: edit /etc/gatehouse/*.toml, enrol the device (see OPERATIONS.md), then:"
echo "  systemctl start ${enable[*]}"
if [ "$reboot_needed" -eq 1 ]; then
  echo "install-pi: REBOOT NEEDED: the UART, serial console, relay pin and watchdog settings"
  echo "  take effect at the next boot. Edit [pins] in /etc/gatehouse/gate.toml first, re-run"
  echo "  $here/gate-boot-config.sh if you change the relay pin, then: sudo reboot"
fi
