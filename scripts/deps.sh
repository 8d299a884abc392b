#!/usr/bin/env bash
# Installs the Debian packages Annex needs, only those missing. Usage: scripts/deps.sh [runtime|test]
#   runtime: what building and running annexd needs (Node.js and npm build its web application)
#   test:    that, plus what the test suite needs (PostgreSQL, clang and libc++, openssl, binutils, Chromium for the
#            browser tests)
set -euo pipefail
what=${1:-runtime}

runtime=(cmake ninja-build g++ make pkg-config libpoco-dev libsoci-dev libspdlog-dev libfmt-dev libboost-dev
         libboost-program-options-dev libssl-dev libpq-dev libsqlite3-dev nlohmann-json3-dev unixodbc-dev
         odbc-postgresql libsqliteodbc libhowardhinnant-date-dev tzdata)
testing=(libgtest-dev libgmock-dev postgresql clang libc++-dev libc++abi-dev openssl binutils wrk curl python3 chromium haproxy)

packages=("${runtime[@]}")
[ "$what" = test ] && packages+=("${testing[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The web application builds with Node.js 18.19 or later and npm, the OData peer of the tests runs on them: the
# machine's own when it has them (they need not come from Debian's packages), else Debian's.
if ! { command -v node && command -v npm; } >/dev/null 2>&1; then missing+=(nodejs npm); fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
