#!/usr/bin/env bash
# The first README command: install what is missing, build, and run the Galla till on this
# machine as a standalone shop (embedded encrypted store, keys in the OS keychain, no server).
#
#   scripts/run-app.sh
#
# On a desktop session the app uses your login keychain and your data folder. On a machine with
# no display or no keychain (a server, a container) it starts its own gnome-keyring and an Xvfb
# display; set GALLA_KEYRING_PASSWORD to keep that keyring (and so the shop) between runs,
# otherwise it runs as a throwaway demo. GALLA_SCREENSHOT=FILE saves a screenshot after start-up.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ensure_packages "${RUN_PACKAGES[@]}"
ensure_rust
ensure_node
build_ui
say "building the desktop app (release)"
(cd "$GALLA_ROOT" && cargo build --release --locked -p galla-desktop) || die "cargo build failed"
target="${CARGO_TARGET_DIR:-$GALLA_ROOT/target}"
app="$target/release/galla-desktop"

if secret_service_running && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${GALLA_SCREENSHOT:-}" ]; then
  say "starting Galla (keys in your session's keychain)"
  exec "$app"
fi

# Headless, or no keychain on this session: a private session bus with its own gnome-keyring.
if [ -n "${GALLA_KEYRING_PASSWORD:-}" ]; then
  keyring_home="$GALLA_CACHE/headless-home"
  export GALLA_DATA_DIR="${GALLA_DATA_DIR:-$keyring_home/.local/share/galla}"
  say "no desktop keychain: using a private gnome-keyring in $keyring_home (unlocked with GALLA_KEYRING_PASSWORD)"
else
  keyring_home=$(mktemp -d /tmp/galla-demo.XXXXXX)
  export GALLA_DATA_DIR="$keyring_home/shop"
  export GALLA_KEYRING_PASSWORD
  GALLA_KEYRING_PASSWORD=$(head -c 24 /dev/urandom | base64)
  say "no desktop keychain: demo mode. The shop and its keyring live in $keyring_home and cannot be"
  say "reopened after this run (the keyring's password is random). To keep a headless shop between"
  say "runs, set one:  GALLA_KEYRING_PASSWORD='...' scripts/run-app.sh"
fi
mkdir -p "$keyring_home/run" && chmod 700 "$keyring_home/run"

inner=$(cat <<'INNER'
set -euo pipefail
export HOME="$GALLA_KEYRING_HOME" XDG_RUNTIME_DIR="$GALLA_KEYRING_HOME/run"
export XDG_DATA_HOME="$HOME/.local/share"
printf '%s' "$GALLA_KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
unset GALLA_KEYRING_PASSWORD
echo "Galla is running on display $DISPLAY. Screenshot:  import -display $DISPLAY -window root galla.png" >&2
if [ -n "${GALLA_SCREENSHOT:-}" ]; then
  "$GALLA_APP" & pid=$!
  sleep "${GALLA_SCREENSHOT_DELAY:-6}"
  import -window root "$GALLA_SCREENSHOT" && echo "screenshot saved to $GALLA_SCREENSHOT" >&2
  wait "$pid"
else
  exec "$GALLA_APP"
fi
INNER
)
export GALLA_KEYRING_HOME="$keyring_home" GALLA_APP="$app"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec dbus-run-session -- bash -c "$inner"
else
  exec xvfb-run -a -s "-screen 0 1366x768x24" dbus-run-session -- bash -c "$inner"
fi
