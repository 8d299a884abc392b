#!/usr/bin/env bash
# Starts a private Tryton 6.0 (Debian's packages; installed by the peer script when missing) for the tests and
# writes its JSON-RPC URL to STATE_DIR/url. tryton_down.sh STATE_DIR stops it.
#   tryton_up.sh STATE_DIR
set -euo pipefail
state=${1:?usage: tryton_up.sh STATE_DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$state"
"$here/tryton_down.sh" "$state" >/dev/null 2>&1 || true
for attempt in 1 2 3 4 5; do
  port=$(( 30000 + (RANDOM % 20000) ))
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue  # taken
  if "$here/../peers/tryton/up.sh" "$state/instance" "$port" tryton >"$state/up.log" 2>&1; then
    echo "http://127.0.0.1:$port/tryton/" >"$state/url"
    echo "$here/../peers/tryton" >"$state/peer"  # for tests that stop and start it
    exit 0
  fi
done
echo "tryton_up: could not start Tryton; see $state/up.log" >&2
tail -30 "$state/up.log" >&2
exit 1
