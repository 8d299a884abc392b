#!/usr/bin/env bash
# Stops the PostgreSQL that pg_up.sh STATE_DIR started and removes its cluster.
set -uo pipefail
state=${1:?usage: pg_down.sh STATE_DIR}
[ -f "$state/pgdata_dir" ] || exit 0
data=$(cat "$state/pgdata_dir")
if [ -f "$data/postmaster.pid" ]; then
  pid=$(head -n 1 "$data/postmaster.pid")
  kill -INT "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
fi
rm -rf "$(dirname "$data")" "$state/url" "$state/pgdata_dir"
exit 0
