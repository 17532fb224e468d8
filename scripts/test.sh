#!/usr/bin/env bash
# The second README command: install what is missing, then run every test Galla has.
#
#   scripts/test.sh
#
# Formatting and lints, the UI's type check and unit tests, all Rust tests against a real
# SQLCipher and a real gnome-keyring (in a private D-Bus session), and the end-to-end test of
# the real desktop app through tauri-driver + WebKitWebDriver under Xvfb.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$GALLA_ROOT"

ensure_packages "${RUN_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
ensure_rust
ensure_node
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt

# In CI, keep cargo's build outside the fresh clone so later runs reuse it.
if [ -n "${CI:-}" ] && [ -z "${CARGO_TARGET_DIR:-}" ]; then
  export CARGO_TARGET_DIR="$GALLA_CACHE/target"
fi
target="${CARGO_TARGET_DIR:-$GALLA_ROOT/target}"

# An independent SQLCipher 4 implementation for the file-format test.
venv="$GALLA_TOOLS/venv"
if ! "$venv/bin/python" -c 'import sqlcipher3' 2>/dev/null; then
  say "setting up the Python venv with sqlcipher3-binary"
  python3 -m venv "$venv" && "$venv/bin/pip" install -q sqlcipher3-binary || die "could not install sqlcipher3-binary into $venv"
fi
export GALLA_PYTHON="$venv/bin/python"

# WebDriver bridge for the desktop app.
export PATH="$GALLA_TOOLS/cargo/bin:$PATH"
if ! command -v tauri-driver >/dev/null; then
  say "installing tauri-driver"
  cargo install tauri-driver --locked --root "$GALLA_TOOLS/cargo" -q || die "cargo install tauri-driver failed"
fi

build_ui
say "UI: type check and unit tests"
(cd ui && npm run --silent check && npm test --silent)

say "Rust: formatting and lints"
cargo fmt --all -- --check || die "cargo fmt found unformatted code (run: cargo fmt --all)"
cargo clippy --workspace --all-targets --locked -- -D warnings

say "Rust: all tests (real SQLCipher, real gnome-keyring)"
scripts/keyring-session.sh cargo test --workspace --locked

say "End to end: the real desktop app under Xvfb"
ensure_npm_deps "$GALLA_ROOT/tests/e2e"
export GALLA_DESKTOP_BIN="$target/debug/galla-desktop" GALLA_CLI_BIN="$target/debug/galla-cli"
export GALLA_E2E_CLOUD_BIN="$target/debug/galla-e2e-cloud"
# The specs drive the app and the CLI, and start a cloud with a shop on it for the join spec.
# Each binary is named: `--bin` selects only the named targets, so a package without one in the
# list would be left as an earlier build made it (an app one migration short once came of that).
cargo build --locked -p galla-desktop -p galla-cli -p galla-tests \
  --bin galla-desktop --bin galla-cli --bin galla-e2e-cloud
(cd tests/e2e && xvfb-run -a -s "-screen 0 1366x768x24" "$GALLA_ROOT/scripts/keyring-session.sh" npm test --silent)
# The specs end each app's process group; anything still running here is a runner defect, and
# would keep this script waiting, so say so and end it.
if pkill -KILL -f "^$GALLA_DESKTOP_BIN" 2>/dev/null; then
  echo "warning: an end-to-end app outlived its spec and was killed" >&2
fi
say "all tests passed"
