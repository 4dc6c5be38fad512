#!/usr/bin/env bash
# Boot settings a gate Pi needs, from the firmware on (Raspberry Pi OS Bookworm or later):
#
#   sudo ./gate-boot-config.sh [--config /etc/gatehouse/gate.toml] [--root /]
#
# - the GPIO 14/15 UART for the scanner as ttyAMA0: dtoverlay=disable-bt and hciuart off on a
#   Pi 3/4/400/Zero 2 W, dtparam=uart0=on on a Pi 5 (never ttyAMA10, the Pi 5 debug port);
# - no login console on that UART (console=serial0/ttyAMA0/ttyS0 removed from cmdline.txt);
# - the relay pin driven to its locked level by the firmware (gpio=N=op,dh|dl), from [pins]
#   relay and relay_active_low in the gate config, so the door stays locked while the Pi boots;
# - the hardware watchdog run by systemd (RuntimeWatchdogSec=), so a hung Pi reboots.
#
# Re-run it after changing [pins]: it replaces its own block in config.txt. The settings take
# effect at the next reboot. --root writes into another root (an SD card's mounted image).
set -euo pipefail

root=/
config=""

die() { echo "gate-boot-config: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root="${2:?--root needs a directory}"; shift 2 ;;
    --config) config="${2:?--config needs a file}"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
root="${root%/}"
[ -n "$config" ] || config="$root/etc/gatehouse/gate.toml"
[ -r "$config" ] || die "cannot read the gate config $config"

# Bookworm keeps the boot partition at /boot/firmware, older images at /boot.
boot="$root/boot/firmware"
[ -e "$boot/config.txt" ] || boot="$root/boot"
[ -e "$boot/config.txt" ] || die "no config.txt in $root/boot/firmware or $root/boot"

# One key of the [pins] table: `key = value`, comments and quotes stripped.
pins_value() {
  awk -v key="$1" '
    /^[[:space:]]*\[/ { in_pins = ($0 ~ /^[[:space:]]*\[pins\][[:space:]]*(#.*)?$/); next }
    in_pins {
      line = $0; sub(/#.*/, "", line)
      if (match(line, "^[[:space:]]*" key "[[:space:]]*=")) {
        value = substr(line, RLENGTH + 1); gsub(/[[:space:]"]/, "", value); print value; exit
      }
    }' "$config"
}

relay="$(pins_value relay)"
case "$relay" in
  ''|*[!0-9]*) die "[pins] relay is not set to a BCM pin number in $config" ;;
esac
[ "$relay" -le 27 ] || die "[pins] relay = $relay is not a header GPIO (0-27)"
active_low="$(pins_value relay_active_low)"
# Locked means the relay coil is off: a low pin for a board that switches on high, a high
# pin for an active-low board.
case "${active_low:-false}" in
  true) level=dh ;;
  false) level=dl ;;
  *) die "[pins] relay_active_low must be true or false, not '$active_low'" ;;
esac

begin="# >>> gatehouse-gate (gate-boot-config.sh) >>>"
end="# <<< gatehouse-gate <<<"
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
awk -v b="$begin" -v e="$end" '$0 == b { skip = 1 } !skip { print } $0 == e { skip = 0 }' \
  "$boot/config.txt" >"$tmp"
{
  echo "$begin"
  echo "[all]"
  echo "# The scanner on GPIO 14/15: the PL011 UART as ttyAMA0 (Bluetooth off on a Pi 3/4/400/Zero 2 W)."
  echo "enable_uart=1"
  echo "dtoverlay=disable-bt"
  echo "[pi5]"
  echo "# Pi 5: uart0 (ttyAMA0) on GPIO 14/15; ttyAMA10 is the debug connector."
  echo "dtparam=uart0=on"
  echo "[all]"
  echo "# The door relay held in its locked level from power-on (relay_active_low = ${active_low:-false})."
  echo "gpio=$relay=op,$level"
  echo "$end"
} >>"$tmp"
cat "$tmp" >"$boot/config.txt"

# The kernel's console off the scanner's UART; the rest of the line is kept as it is.
if [ -e "$boot/cmdline.txt" ]; then
  sed -E -i 's/(^| )console=(serial0|serial1|ttyAMA0|ttyS0)(,[0-9a-zA-Z]+)?( |$)/\1/g; s/  +/ /g; s/ $//' \
    "$boot/cmdline.txt"
fi

# The Bluetooth UART attach service has nothing to attach to with disable-bt.
systemctl --root="${root:-/}" disable hciuart.service >/dev/null 2>&1 || true
if [ -z "$root" ]; then
  systemctl disable --now serial-getty@ttyAMA0.service serial-getty@serial0.service >/dev/null 2>&1 || true
fi

# The Pi's hardware watchdog (bcm2835, at most 15 s), fed by systemd.
install -d -m 0755 "$root/etc/systemd/system.conf.d"
cat >"$root/etc/systemd/system.conf.d/gatehouse-watchdog.conf" <<'CONF'
# Written by gatehouse gate-boot-config.sh: a hung Pi is reset by its hardware watchdog.
[Manager]
RuntimeWatchdogSec=10s
RebootWatchdogSec=2min
CONF

echo "gate-boot-config: UART (ttyAMA0), serial console off, gpio=$relay=op,$level, watchdog 10 s."
echo "gate-boot-config: REBOOT NEEDED: these settings take effect at the next boot (sudo reboot)."
