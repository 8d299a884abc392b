#!/usr/bin/env bash
# The reference deployment on loopback: N annexd (default 3) on one PostgreSQL and one audit signing key,
# behind HAProxy health-checking /readyz. Used by the tests; also a way to try it by hand.
#   deploy/cluster_up.sh STATE_DIR [N] [--database-url URL] [--build BUILD_DIR] [-- ANNEXD_FLAGS...]
#   deploy/cluster_up.sh STATE_DIR --restart I     stops daemon I (SIGTERM: drain, then stop) and starts it again
#   deploy/cluster_down.sh STATE_DIR
# Without --database-url it starts a private PostgreSQL (tests/support/pg_up.sh). It writes STATE_DIR/url (the
# HAProxy front), STATE_DIR/database_url, and per daemon STATE_DIR/dI/{port,pid,log,cmd}.
set -euo pipefail
state=${1:?usage: cluster_up.sh STATE_DIR [N] [--database-url URL] [--build BUILD_DIR] [-- ANNEXD_FLAGS...]}
mkdir -p "$state"
state=$(cd "$state" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
n=3 url= build="$root/build" restart=
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then n=$1; shift; fi
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --database-url) url=${2:?--database-url URL}; shift ;;
    --build) build=${2:?--build BUILD_DIR}; shift ;;
    --restart) restart=${2:?--restart I}; shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "cluster_up: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
command -v haproxy >/dev/null || { echo "cluster_up: haproxy is not installed (apt-get install haproxy)" >&2; exit 1; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

# Starts daemon I from its saved command and waits until it is ready.
start_daemon() {
  local d="$state/d$1"
  setsid bash "$d/cmd" >>"$d/log" 2>&1 </dev/null &
  echo $! >"$d/pid"
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$(cat "$d/port")/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$(cat "$d/pid")" 2>/dev/null || { echo "cluster_up: daemon $1 ended; see $d/log" >&2; tail -20 "$d/log" >&2; return 1; }
    sleep 0.1
  done
  echo "cluster_up: daemon $1 not ready within 60 s; see $d/log" >&2
  return 1
}

if [ -n "$restart" ]; then
  d="$state/d$restart"
  pid=$(cat "$d/pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { echo "cluster_up: daemon $restart did not stop within 60 s" >&2; exit 1; }
  start_daemon "$restart"
  exit 0
fi

"$here/cluster_down.sh" "$state" >/dev/null 2>&1 || true
if [ -z "$url" ]; then
  "$root/tests/support/pg_up.sh" "$state/pg" >/dev/null
  url=$(cat "$state/pg/url")
fi
echo "$url" >"$state/database_url"
# One signing key for the audit checkpoints, whichever daemon signs.
key="$state/audit-signing.key"
servers=""
for i in $(seq 1 "$n"); do
  d="$state/d$i"
  mkdir -p "$d"
  port=$(free_port)
  echo "$port" >"$d/port"
  {
    printf 'exec %q --listen 127.0.0.1:%s --data-dir %q --database-url %q --plugin-dir %q --set audit.signing_key=%q' \
      "$build/bin/annexd" "$port" "$d/data" "$url" "$build/lib/annex/plugins" "$key"
    printf ' %q' --set shutdown_drain_s=2 "${extra[@]}"
    printf '\n'
  } >"$d/cmd"
  servers+="    server d$i 127.0.0.1:$port check"$'\n'
done
# The first daemon creates the schema and the key before the others start.
start_daemon 1
for i in $(seq 2 "$n"); do start_daemon "$i"; done

front=$(free_port)
sed "s/\${ANNEX_FRONT}/127.0.0.1:$front/" "$here/haproxy.cfg" >"$state/haproxy.cfg"
printf '%s' "$servers" >>"$state/haproxy.cfg"
haproxy -c -q -f "$state/haproxy.cfg"
haproxy -D -p "$state/haproxy.pid" -f "$state/haproxy.cfg" >>"$state/haproxy.log" 2>&1
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$front/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
echo "http://127.0.0.1:$front" >"$state/url"
echo "cluster_up: $n annexd behind http://127.0.0.1:$front on $url"
