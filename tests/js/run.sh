#!/usr/bin/env bash
# The npm neo4j-driver (pinned in package.json and package-lock.json) against the built
# server (called by scripts/test): installs it with `npm ci`, then runs bolt.test.mjs.
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$(cd ../.. && pwd)"
if ! command -v npm >/dev/null; then
    echo "the JavaScript driver tests need Node.js and npm" >&2
    exit 1
fi
npm ci --no-audit --no-fund --silent
NEREID_BIN="${NEREID_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/nereid}" node --test bolt.test.mjs
