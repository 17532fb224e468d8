# Shared by run-app.sh and test.sh: find what is missing on a Debian/Ubuntu machine and install
# it (as root, or with sudo), or stop with the exact command to run.
# shellcheck shell=bash

GALLA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GALLA_CACHE="${GALLA_CACHE:-$HOME/.cache/galla}"
GALLA_TOOLS="$GALLA_CACHE/tools"

# What building and running the desktop app needs (Tauri 2 on WebKitGTK, the keychain).
RUN_PACKAGES=(build-essential pkg-config libssl-dev libwebkit2gtk-4.1-dev libjavascriptcoregtk-4.1-dev
  libsoup-3.0-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev
  gnome-keyring libsecret-tools dbus-x11 xvfb imagemagick)
# What the tests add: WebKit's WebDriver, a Python venv for the independent SQLCipher reader.
TEST_PACKAGES=(webkit2gtk-driver python3 python3-venv postgresql openssl curl)

say() { printf '\033[1m==> [%s] %s\033[0m\n' "$(date +%T)" "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || printf '%s ' "$p"
  done
}

ensure_packages() {
  command -v dpkg-query >/dev/null || die "this script supports Debian and Ubuntu; install the packages in scripts/lib.sh by hand"
  local missing
  missing=$(missing_packages "$@")
  [ -z "$missing" ] && return 0
  say "installing system packages: $missing"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then sudo="sudo"
    else die "missing system packages; run:  sudo apt-get update && sudo apt-get install -y $missing"; fi
  fi
  # shellcheck disable=SC2086
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null \
    || die "apt-get failed; run:  sudo apt-get update && sudo apt-get install -y $missing"
}

ensure_rust() {
  command -v cargo >/dev/null || die "Rust is missing; install it with:  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y && . \"\$HOME/.cargo/env\""
  local v
  v=$(rustc --version | awk '{print $2}')
  [ "$(printf '%s\n1.90.0\n' "$v" | sort -V | head -1)" = "1.90.0" ] || die "Rust $v is too old (need 1.90+); run:  rustup update stable"
}

ensure_node() {
  # Only when missing: a Node from NodeSource bundles npm and conflicts with Debian's npm package.
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    ensure_packages nodejs npm
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js $(node --version) is too old (need 20+). Install Node 20 from NodeSource:  curl -fsSL https://deb.nodesource.com/setup_20.x | sudo -E bash - && sudo apt-get install -y nodejs"
}

# Install from the lock file when it changed since the last install. `npm install` rather than
# `npm ci`: with npm's omit-lockfile-registry-resolved setting (as on our build machines) the lock
# lists other platforms' optional packages only by name, which `npm ci` refuses as out of sync.
ensure_npm_deps() {
  local dir="$1" stamp="$1/node_modules/.galla-lock"
  if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
    say "installing npm packages in ${dir#"$GALLA_ROOT"/}"
    (cd "$dir" && npm install --no-fund --no-audit --loglevel=error) || die "npm install failed in $dir"
    cp "$dir/package-lock.json" "$stamp"
  fi
}

build_ui() {
  ensure_npm_deps "$GALLA_ROOT/ui"
  say "building the UI"
  (cd "$GALLA_ROOT/ui" && npm run --silent build >/dev/null) || die "the UI build failed (cd ui && npm run build)"
}

# Is a Secret Service answering on the current session bus?
secret_service_running() {
  [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || return 1
  dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
    org.freedesktop.DBus.Peer.Ping >/dev/null 2>&1
}
