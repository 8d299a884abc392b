#!/usr/bin/env bash
# Installs the Debian packages Annex needs, only those missing. Usage: scripts/deps.sh [runtime|test]
#   runtime: what building and running annexd needs
#   test:    that, plus what the test suite needs (PostgreSQL, clang and libc++, openssl, binutils, Node.js for the OData peer)
set -euo pipefail
what=${1:-runtime}

runtime=(cmake ninja-build g++ make pkg-config libpoco-dev libsoci-dev libspdlog-dev libfmt-dev libboost-dev
         libboost-program-options-dev libssl-dev libpq-dev libsqlite3-dev nlohmann-json3-dev unixodbc-dev
         odbc-postgresql libsqliteodbc)
testing=(libgtest-dev libgmock-dev postgresql clang libc++-dev libc++abi-dev openssl binutils wrk curl python3 nodejs npm)

packages=("${runtime[@]}")
[ "$what" = test ] && packages+=("${testing[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
