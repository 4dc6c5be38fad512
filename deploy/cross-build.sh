#!/usr/bin/env bash
# Cross-build Gatehouse for a 64-bit Raspberry Pi (aarch64-unknown-linux-gnu) on a Debian/Ubuntu
# x86_64 machine.
#
#   deploy/cross-build.sh                      # all three programs, release
#   deploy/cross-build.sh -p gatehouse-gate    # one program (the gate also gets --features rpi)
#   deploy/cross-build.sh --test -p gatehouse-gate   # run its unit tests under qemu-aarch64
#
# Installs what it needs once: the rustup target and the gcc-aarch64-linux-gnu linker
# (and qemu-user for --test). Binaries land in target/aarch64-unknown-linux-gnu/release/.
set -euo pipefail
cd "$(dirname "$0")/.."

target=aarch64-unknown-linux-gnu
packages=()
run_tests=0
while [ $# -gt 0 ]; do
  case "$1" in
    -p|--package) packages+=("${2:?}"); shift 2 ;;
    --test) run_tests=1; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cross-build: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ ${#packages[@]} -gt 0 ] || packages=(gatehouse-server gatehouse-gate gatehouse-kiosk)

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

rustup target list --installed | grep -qx "$target" || rustup target add "$target"
apt_install gcc-aarch64-linux-gnu libc6-dev-arm64-cross
[ "$run_tests" -eq 0 ] || apt_install qemu-user

# The linker for the final link, and the C compiler for bundled SQLite and ring/aws-lc.
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
# Tests run through qemu with the cross sysroot's loader and libc.
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"

for pkg in "${packages[@]}"; do
  features=()
  # On the Pi the gate drives real GPIO through rppal.
  [ "$pkg" = gatehouse-gate ] && features=(--features rpi)
  if [ "$run_tests" -eq 1 ]; then
    # Release, so the dependencies of a previous cross build are reused.
    cargo test --release --target "$target" -p "$pkg" "${features[@]}" --lib --bins
  else
    cargo build --release --target "$target" -p "$pkg" "${features[@]}"
    out="${CARGO_TARGET_DIR:-target}/$target/release/${pkg}"
    echo "cross-build: $out ($(du -h "$out" | cut -f1))"
  fi
done
