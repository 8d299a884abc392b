#!/usr/bin/env bash
# Stops (without removing) or restarts, on the same port, the PostgreSQL that pg_up.sh STATE_DIR started: for
# tests where the database goes away in the middle of a run and comes back.
#   pg_pause.sh STATE_DIR stop|start
set -euo pipefail
state=${1:?usage: pg_pause.sh STATE_DIR stop|start}
data=$(cat "$state/pgdata_dir")
port=$(sed -n 's|.*:\([0-9]*\)/.*|\1|p' "$state/url")
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
as_pg=()
[ "$(id -u)" = 0 ] && as_pg=(runuser -u postgres --)
case "${2:?stop or start}" in
  stop) "${as_pg[@]}" "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null ;;
  start) "${as_pg[@]}" "$bin/pg_ctl" -D "$data" -w -t 60 -l "$(dirname "$data")/server.log" \
           -o "-p $port -k $(dirname "$data") -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" start >/dev/null ;;
esac
