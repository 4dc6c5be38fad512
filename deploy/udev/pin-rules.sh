#!/usr/bin/env bash
# Prints 98-gatehouse-local.rules: the device roles pinned to one physical USB port (ID_PATH,
# as `udevadm info -q property -n /dev/ttyUSB0 | grep ID_PATH=` shows it) or to one adapter's
# USB serial number (FTDI and CP210x adapters have one; CH340 adapters do not). A pinned device
# holds its link (priority 100) over every other candidate, so with two adapters of the same
# kind the one you pinned is the scanner whichever was plugged in or found first.
#
#   pin-rules.sh [--scanner-path ID_PATH] [--scanner-serial SERIAL] [--printer-path ID_PATH]
#
# Used by install-pi.sh; prints nothing when nothing is pinned.
set -euo pipefail

scanner_path="" scanner_serial="" printer_path=""
die() { echo "pin-rules: $*" >&2; exit 2; }
# Values go inside a udev match string: no quotes, spaces, globs or escapes.
checked() { [[ "$2" =~ ^[A-Za-z0-9:._+-]+$ ]] || die "$1 '$2': use only letters, digits and : . _ + -"; echo "$2"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --scanner-path) scanner_path="$(checked "$1" "${2:?}")"; shift 2 ;;
    --scanner-serial) scanner_serial="$(checked "$1" "${2:?}")"; shift 2 ;;
    --printer-path) printer_path="$(checked "$1" "${2:?}")"; shift 2 ;;
    *) die "unknown argument: $1" ;;
  esac
done
[ -n "$scanner_path$scanner_serial$printer_path" ] || exit 0

echo "# Written by install-pi.sh: pins the device roles to physical ports or adapters."
echo 'ACTION=="remove", GOTO="gatehouse_local_end"'
if [ -n "$scanner_path$printer_path" ]; then
  # The port's path, even on an image whose own rules do not compute it for this device.
  echo 'SUBSYSTEM=="tty|usbmisc", ENV{ID_PATH}=="", IMPORT{builtin}="path_id"'
fi
[ -z "$scanner_path" ] || echo "SUBSYSTEM==\"tty\", ENV{ID_PATH}==\"$scanner_path\", ENV{GATEHOUSE_ROLE}=\"scanner\", OPTIONS+=\"link_priority=100\""
[ -z "$scanner_serial" ] || echo "SUBSYSTEM==\"tty\", ATTRS{serial}==\"$scanner_serial\", ENV{GATEHOUSE_ROLE}=\"scanner\", OPTIONS+=\"link_priority=100\""
[ -z "$printer_path" ] || echo "SUBSYSTEM==\"tty|usbmisc\", ENV{ID_PATH}==\"$printer_path\", ENV{GATEHOUSE_ROLE}=\"printer\", OPTIONS+=\"link_priority=100\""
echo 'LABEL="gatehouse_local_end"'
