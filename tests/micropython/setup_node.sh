#!/usr/bin/env bash
# Installs the MicroPython WebAssembly runtime (npm) that tests/micropython runs the firmware in.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -f node_modules/@micropython/micropython-webassembly-pyscript/package.json ]; then
  npm install --no-audit --no-fund --silent >/dev/null 2>&1 || npm install --no-audit --no-fund
fi
