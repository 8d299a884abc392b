#!/usr/bin/env bash
# Configures and builds Annex into BUILD_DIR (default: build), with the tests unless ANNEX_BUILD_TESTS=OFF.
# Extra arguments go to cmake's configure step.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
jobs=${JOBS:-$(nproc)}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DANNEX_BUILD_TESTS="${ANNEX_BUILD_TESTS:-ON}" "$@" >/dev/null
cmake --build "$build" -j "$jobs"
