#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with its own unlocked gnome-keyring, HOME and
# XDG_RUNTIME_DIR, so tests exercise a real Secret Service without touching the user's keyring.
# Usage: scripts/keyring-session.sh COMMAND [ARGS...]
set -euo pipefail
if [ -z "${GALLA_KEYRING_SESSION:-}" ]; then
  export GALLA_KEYRING_SESSION=outer
  exec dbus-run-session -- "$0" "$@"
fi
# cargo and rustup find themselves through HOME unless told; pin them before HOME moves.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
session_dir=$(mktemp -d /tmp/galla-keyring.XXXXXX)
trap 'rm -rf "$session_dir"' EXIT
export HOME="$session_dir/home" XDG_RUNTIME_DIR="$session_dir/run"
export XDG_DATA_HOME="$HOME/.local/share" XDG_CONFIG_HOME="$HOME/.config"
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
# A throwaway keyring password: this keyring lives and dies with this session.
echo -n "galla-test-keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
export GALLA_KEYRING_SESSION=inner
"$@"
