#!/usr/bin/env bash
# Stops what deploy/cluster_up.sh STATE_DIR started: HAProxy, the daemons, and the private PostgreSQL if any.
set -uo pipefail
state=${1:?usage: cluster_down.sh STATE_DIR}
[ -f "$state/haproxy.pid" ] && kill "$(cat "$state/haproxy.pid")" 2>/dev/null
for pidfile in "$state"/d*/pid; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
done
[ -d "$state/pg" ] && "$(cd "$(dirname "$0")/.." && pwd)/tests/support/pg_down.sh" "$state/pg" >/dev/null 2>&1
exit 0
