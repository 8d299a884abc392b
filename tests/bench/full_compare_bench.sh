#!/usr/bin/env bash
# Full-compare benchmark (not a test): the second OData peer (tests/peers/merchandise, stock SAP CAP) holds N
# departments (default 1,000,000) — an entity set with neither a change time nor an ETag, so every run reads it
# whole — and annexd pulls them into its SQLite store twice: the first run creates every cost centre, the second
# finds each unchanged by its content digest and applies nothing. annexd's resident memory is sampled throughout.
# Goal: RSS under 150 MB in both runs (a page at a time, whatever N).
#   tests/bench/full_compare_bench.sh [BUILD_DIR] [N] [PAGE]
# MODULES_FROM=DIR takes the peer's node_modules from a peer folder already installed (build/tests/odata/peer).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
n=${2:-1000000}
page=${3:-1000}
[ -x "$build/bin/annexd" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }

work=$(mktemp -d /tmp/annex-full-compare-bench.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; "$root/tests/support/odata_down.sh" "$work/merch" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT

echo "starting the merchandise OData peer…"
"$root/tests/support/odata_up.sh" "$work/merch" --peer merchandise ${MODULES_FROM:+--modules-from "$MODULES_FROM"}
odata=$(cat "$work/merch/url")
# The rows go straight into the peer's database (through OData they would take the better part of an hour).
python3 - "$work/merch/peer.db" "$n" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); n = int(sys.argv[2])
db.execute("DELETE FROM merch_Departments")
db.executemany("INSERT INTO merch_Departments (DeptCode, DeptName, Manager, Closed) VALUES (?, ?, ?, ?)",
               (("D%07d" % i, "Department %d" % i, "Manager %d" % (i % 977), i % 10 == 0) for i in range(n)))
db.commit()
PY

cat >"$work/annex.json" <<JSON
{"sync": {"connections": {"shop": {"connector": "odata",
  "settings": {"url": "$odata", "user": "sync", "password": "sync-secret", "timeout_s": 60,
    "streams": {"departments": {"service": "merchandise", "entity_set": "Departments", "key": ["DeptCode"],
                                "changed_field": "", "if_match": false}}},
  "streams": {"departments": {"entity": "cost_centres", "remote_id": "_id", "page_size": $page,
    "fields": {"code": "DeptCode", "name": "DeptName",
               "status": {"from": "Closed", "as": "boolean", "values": {"true": "inactive", "false": "active"}}}}}}}}}
JSON
export ANNEX_CONFIG="$work/annex.json"
"$build/bin/annexctl" --data-dir "$work/data" user create bench --role system-admin --sector hq >/dev/null
token=$("$build/bin/annexctl" --data-dir "$work/data" token create bench 2>/dev/null)
"$build/bin/annexd" --data-dir "$work/data" --listen 127.0.0.1:0 --plugin-dir "$build/lib/annex/plugins" --log-level warn \
  >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 1 200); do grep -q "listening on" "$work/out" 2>/dev/null && break; sleep 0.05; done
base=$(sed -n 's/^annexd listening on //p' "$work/out")
api() { curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }

# Runs one pull of the departments, sampling annexd's RSS; prints "seconds max_rss_kb".
pull() {
  local started max=0 rss
  started=$(( $(date +%s%N) / 1000000 ))
  api -X POST "$base/api/v1/sync/connections/shop/runs" -d '{"stream": "departments"}' >/dev/null
  sleep 0.5
  while :; do
    rss=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status)
    [ "$rss" -gt "$max" ] && max=$rss
    if ! api "$base/api/v1/sync/runs?connection=shop" | grep -q '"status":"running"'; then break; fi
    sleep 0.2
  done
  echo "$(( $(date +%s%N) / 1000000 - started )) $max"
}

echo "annexd $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?') on $(nproc) cores; $n departments, pages of $page"
for round in first second; do
  read -r ms rss <<<"$(pull)"
  last=$(api "$base/api/v1/sync/runs?connection=shop" | python3 -c 'import json,sys; r=json.load(sys.stdin)["items"][0]; print(r["status"], r["read"], r["created"], r["updated"], r["unchanged"], r.get("error") or "")')
  read -r status read created updated unchanged error <<<"$last"
  echo "$round run: $status; read $read, created $created, updated $updated, unchanged $unchanged in $ms ms" \
       "— $(( read * 1000 / (ms > 0 ? ms : 1) )) records/s; annexd RSS at most $(( rss / 1024 )) MB ${error:+($error)}"
done
held=$(sqlite3 "$work/data/annex.db" "SELECT COUNT(*) FROM annex_md_cost_centres" 2>/dev/null || echo '?')
echo "Annex holds $held cost centres"
