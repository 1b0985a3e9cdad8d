#!/usr/bin/env bash
# Browser end-to-end tests of the console (called by scripts/test). Installs what it needs:
# Debian's chromium when missing (as root or with sudo), playwright-core (npm ci). Skips, with
# a message, only when no browser can be installed. Also checks that the committed
# console/dist is what the sources build to.
set -euo pipefail
cd "$(dirname "$0")"
HERE="$(pwd)"
ROOT="$(cd ../.. && pwd)"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y chromium || { apt-get update && apt-get install -y chromium; } || true
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo apt-get install -y chromium || { sudo apt-get update && sudo apt-get install -y chromium; } || true
    fi
fi
if [ ! -x "$CHROMIUM" ]; then
    echo "SKIP browser tests: no $CHROMIUM and it cannot be installed here (needs root or sudo for apt-get)"
    exit 0
fi
if ! command -v npm >/dev/null; then
    echo "browser tests need Node.js and npm" >&2
    exit 1
fi

echo "==> console/dist matches the sources"
(cd "$ROOT/console" && npm ci --no-audit --no-fund --silent && npx vite build --outDir "$HERE/output/dist-check" --emptyOutDir >/dev/null)
diff -r "$ROOT/console/dist" "$HERE/output/dist-check" || {
    echo "console/dist is stale: run 'npm ci && npm run build' in console/ and commit dist/" >&2
    exit 1
}

echo "==> browser tests (playwright-core + $CHROMIUM)"
npm ci --no-audit --no-fund --silent
NEREID_BIN="${NEREID_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/nereid}" CHROMIUM="$CHROMIUM" node --test console.test.mjs
