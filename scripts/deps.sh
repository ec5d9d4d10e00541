#!/usr/bin/env bash
# Installs what building, running and testing Worktrace needs on Debian/Ubuntu, skipping what is
# already there. Called by `make run` and `make test`; safe to run again.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# System packages: X11 and D-Bus for the sensors, Xvfb/openbox/xdotool/xterm for the real-display
# tests, PostgreSQL for the server tests, WebKitGTK (+ its WebDriver) for the desktop app,
# Chromium for the dashboard's browser test and with Firefox ESR for the download-history test, Node.js and npm for building the UI, mingw-w64 and
# Wine for building the Windows programs and running their tests, Python (with venv) for the
# schemathesis run over the server's OpenAPI document (scripts/schemathesis.sh), curl for the
# download-origin test (it notes a download's address as browsers do), strace for the test that
# an upload is answered only after its log was synced, poppler-utils for reading the departure
# report's PDF back (its text, and its first page as a picture), wixl and msitools for building
# the Windows installer (scripts/package-msi.sh) and osslsigncode for signing it, dpkg-dev for
# the Linux packages (scripts/package-deb.sh), rpm for their RPM builds (scripts/package-rpm.sh),
# debootstrap for the clean Debian root they are tested in, minisign for signing the agent releases the update tests install,
# 7-Zip for the 7z archives the lineage tests pack,
# and HAProxy for the load balancer in front of the server nodes in the multi-node test.
packages=(
  build-essential pkg-config libssl-dev libdbus-1-dev
  libxcb1-dev libxcb-screensaver0-dev
  xvfb xdotool openbox xterm x11-utils imagemagick xclip
  dbus dbus-x11 gnome-keyring libsecret-tools keyutils fonts-dejavu-core
  postgresql
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev webkit2gtk-driver
  clang
  chromium firefox-esr
  cups-daemon cups-client
  gcc-mingw-w64-x86-64 wine wine64 wixl msitools osslsigncode
  python3 python3-venv 7zip
  curl strace poppler-utils debootstrap dpkg-dev rpm minisign haproxy
)
# Node.js: Debian's package when there is none at all (the UI needs Node.js 20.19 or newer).
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Rust targets: the Windows programs built and tested under Wine (gnu), and the compile checks
# of the Windows (msvc) and macOS modules.
if command -v rustup >/dev/null 2>&1; then
  installed=$(rustup target list --installed)
  for t in x86_64-pc-windows-msvc x86_64-pc-windows-gnu aarch64-apple-darwin; do
    grep -qx "$t" <<<"$installed" || rustup target add "$t"
  done
  rustup component list --installed | grep -q '^clippy' || rustup component add clippy
  rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
  # tauri-driver bridges WebDriver to the desktop app for its end-to-end test.
  if ! command -v tauri-driver >/dev/null 2>&1; then
    echo "deps: installing tauri-driver (about 1.5 min)"
    cargo install tauri-driver --version '^2' --locked
  fi
  # cargo-deny checks licences, duplicate versions and sources (`make deny`); deny.toml is written
  # for this version's format.
  if ! command -v cargo-deny >/dev/null 2>&1; then
    echo "deps: installing cargo-deny (about 3 min)"
    cargo install cargo-deny --version '0.20.2' --locked
  fi
else
  echo "deps: rustup not found; install Rust from your distribution or rustup first" >&2
  exit 1
fi

# The UI's build tools (Vite 8) need Node.js 20.19 or newer.
node_version=$(node -p 'process.versions.node' 2>/dev/null || echo 0)
IFS=. read -r major minor _ <<<"$node_version"
if [ "$major" -lt 20 ] || { [ "$major" -eq 20 ] && [ "$minor" -lt 19 ]; }; then
  echo "deps: Node.js $node_version is too old for the UI build; install Node.js 20.19+ or 22 (for example from NodeSource) and run make again" >&2
  exit 1
fi
