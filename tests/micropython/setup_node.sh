#!/usr/bin/env bash
# Installs the MicroPython WebAssembly runtime (npm) that tests/micropython runs the firmware in.
# Exits 1 with the reason when it cannot (no npm, no registry): the MicroPython check then skips.
set -euo pipefail
cd "$(dirname "$0")"
if [ -f node_modules/@micropython/micropython-webassembly-pyscript/package.json ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "setup_node.sh: npm not found: the MicroPython check will skip (install Node.js and npm to run it)" >&2
  exit 1
fi
npm install --no-audit --no-fund --silent >/dev/null 2>&1 || npm install --no-audit --no-fund
