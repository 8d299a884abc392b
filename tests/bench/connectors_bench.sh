#!/usr/bin/env bash
# HTTP connector benchmark (not a test): N parties (default 10,000) pushed from Annex to each real peer — Tryton
# over JSON-RPC, the OData service through $batch — and pulled back into a fresh Annex, compared in the same run
# with the fastest plain client of that peer (batch calls straight from a script: plain_tryton.py,
# plain_odata.js) doing the same work with the same batch and page sizes. Goal: Annex at least 80% of the plain
# client's rate, so the peer, not Annex, is the limit.
#
# The peers slow down as their tables grow, and the machine is shared: Annex and the plain client take turns,
# ROUNDS times (default 3, the first in each round alternating), and the medians are compared.
#   tests/bench/connectors_bench.sh [BUILD_DIR] [N] [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
n=${2:-10000}
rounds=${3:-3}
[ -x "$build/bin/annexctl" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }

work=$(mktemp -d /tmp/annex-connectors-bench.XXXXXX)
cleanup() {
  "$root/tests/support/odata_down.sh" "$work/odata" >/dev/null 2>&1
  "$root/tests/support/tryton_down.sh" "$work/tryton" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

echo "starting the peers (Tryton, the OData service)…"
"$root/tests/support/tryton_up.sh" "$work/tryton"
"$root/tests/support/odata_up.sh" "$work/odata"
tryton=$(cat "$work/tryton/url")
odata=$(cat "$work/odata/url")
run=$(( $(date +%s) % 900 + 100 ))  # three digits: with a letter and six, an OData key's 10 characters
tryton_batch=500 odata_chunk=100

# The configuration of Annex's round with codes starting PREFIX.
configure() {
  cat >"$work/annex-$1.json" <<JSON
{"sync": {"connections": {
  "tryton": {"connector": "tryton",
    "settings": {"url": "$tryton", "login": "admin", "password": "admin",
      "streams": {"parties": {"model": "party.party", "fields": ["code", "name"], "key_field": "code",
                              "domain": [["code", "like", "$1%"]]}}},
    "streams": {"parties": {"entity": "parties", "direction": "both", "remote_id": "id", "version_field": "changed_at",
      "page_size": $tryton_batch, "sector_id": "hq", "owner_login": "bench", "fields": {"code": "code", "name": "name"},
      "system_of_record": {"default": "annex"}}}},
  "s4": {"connector": "odata",
    "settings": {"url": "$odata", "user": "sync", "password": "sync-secret", "batch_size": $odata_chunk,
      "streams": {"partners": {"service": "api-business-partner", "entity_set": "A_BusinessPartner", "key": ["BusinessPartner"],
        "fields": ["BusinessPartnerFullName"], "filter": "startswith(BusinessPartner,'$1')",
        "create_defaults": {"BusinessPartnerCategory": "2"}}}},
    "streams": {"partners": {"entity": "parties", "direction": "both", "remote_id": "_id", "version_field": "_etag",
      "page_size": $odata_chunk, "sector_id": "hq", "owner_login": "bench",
      "fields": {"code": "BusinessPartner", "name": "BusinessPartnerFullName"}, "system_of_record": {"default": "annex"}}}}}}}
JSON
}

ctl() { "$build/bin/annexctl" --plugin-dir "$build/lib/annex/plugins" --data-dir "$@"; }

# A store with N parties coded PREFIX000000…, each queued for CONNECTION/STREAM, as N creates by users would
# leave them.
seed() {
  local dir=$1 prefix=$2 conn=$3 stream=$4
  ctl "$dir" user create bench --role system-admin --sector hq >/dev/null
  python3 - "$dir/annex.db" "$n" "$prefix" "$conn" "$stream" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); n = int(sys.argv[2]); prefix, conn, stream = sys.argv[3:6]
owner = db.execute("SELECT id FROM annex_users WHERE login = 'bench'").fetchone()[0]
now = "2026-01-01T00:00:00Z"
db.executemany("INSERT INTO annex_md_parties (id, code, name, kind, status, sector_id, owner_id, version, created_at, updated_at)"
               " VALUES (?, ?, ?, 'customer', 'active', 'hq', ?, 1, ?, ?)",
               [("md_bench%06d" % i, "%s%06d" % (prefix, i), "Bench Customer %d" % i, owner, now, now) for i in range(n)])
db.execute("INSERT INTO annex_sync_outbox (connection, stream, entity, record_id, idempotency_key, state, attempts, next_attempt_at, created_at)"
           " SELECT ?, ?, 'parties', id, ? || '/' || id || '/1', 'pending', 0, '2000-01-01T00:00:00Z', ? FROM annex_md_parties", (conn, stream, conn, now))
db.commit()
PY
}

# The rate of CONNECTION's push run in DIR, through annexctl (no daemon: its push job would start on its own).
annex_push() {
  local dir=$1 conn=$2
  ctl "$dir" sync run "$conn" | tee "$dir.push.log" | sed -n "s|^$conn/[a-z]* push: .*(\([0-9,]*\)/s).*|\1|p" | tr -d , | tail -1
}

# The rate of CONNECTION's pull into DIR through a running annexd, as a deployment would run it: the daemon keeps
# its connections (a Tryton login costs a few hundred milliseconds, once), so the run is what is measured.
annex_pull() {
  local dir=$1 conn=$2 pid base token runs
  ctl "$dir" user create bench --role system-admin --sector hq >/dev/null
  "$build/bin/annexd" --data-dir "$dir" --listen 127.0.0.1:0 --plugin-dir "$build/lib/annex/plugins" --log-level warn \
    >"$dir.out" 2>"$dir.err" &
  pid=$!
  for _ in $(seq 1 200); do grep -q "listening on" "$dir.out" 2>/dev/null && break; sleep 0.05; done
  base=$(sed -n 's/^annexd listening on //p' "$dir.out")
  token=$(ctl "$dir" token create bench 2>/dev/null)
  api() { curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
  api -X POST "$base/api/v1/sync/connections/$conn/check" >/dev/null
  api -X POST "$base/api/v1/sync/connections/$conn/runs" -d '{}' >/dev/null
  sleep 0.2
  while api "$base/api/v1/sync/runs?connection=$conn" | grep -q '"status":"running"'; do sleep 0.1; done
  runs=$(api "$base/api/v1/sync/runs?connection=$conn")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  python3 -c 'import json, sys
run = [r for r in json.load(sys.stdin)["items"] if r["direction"] == "pull"][0]
assert run["created"] == int(sys.argv[1]), run
print(run["read"] * 1000 // max(1, run["duration_ms"]))' "$n" <<<"$runs"
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

declare -A got
letters=(A B C D E F G H I) plain_letters=(P Q R S T U V W X)
for (( r = 0; r < rounds; r++ )); do
  annex=${letters[$r]}$run plain=${plain_letters[$r]}$run
  configure "$annex"
  export ANNEX_CONFIG="$work/annex-$annex.json"
  round="$work/round-$r"
  mkdir -p "$round"
  for peer in tryton s4; do
    if [ "$peer" = tryton ]; then stream=parties; else stream=partners; fi
    seed "$round/out-$peer" "$annex" "$peer" "$stream"
    plain_run() {
      if [ "$peer" = tryton ]; then
        python3 "$root/tests/bench/plain_tryton.py" "$tryton" admin admin "$plain" "$n" "$tryton_batch" "$tryton_batch"
      else
        node "$root/tests/bench/plain_odata.js" "${odata}api-business-partner/" sync sync-secret "$plain" "$n" "$odata_chunk"
      fi
    }
    annex_run() {
      echo "push $(annex_push "$round/out-$peer" "$peer")"
      echo "pull $(annex_pull "$round/in-$peer" "$peer")"
    }
    # Whoever goes second meets a bigger table: the first turn alternates.
    if (( r % 2 == 0 )); then p=$(plain_run); a=$(annex_run); else a=$(annex_run); p=$(plain_run); fi
    for what in push pull; do
      got[$peer/plain/$what]+=" $(sed -n "s/^$what //p" <<<"$p")"
      got[$peer/annex/$what]+=" $(sed -n "s/^$what //p" <<<"$a")"
    done
    echo "round $((r + 1)) $peer: plain $(tr '\n' ' ' <<<"$p")| Annex $(tr '\n' ' ' <<<"$a")"
  done
done

echo "annexd $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?') on $(nproc) cores; $n parties, medians of $rounds rounds (records/s)"
for peer in tryton s4; do
  line="$peer"
  for what in push pull; do
    a=$(median <<<"${got[$peer/annex/$what]}") p=$(median <<<"${got[$peer/plain/$what]}")
    line+=$(printf "   %s: Annex %6s, plain client %6s (%3s%%) [Annex%s; plain%s]" "$what" "$a" "$p" "$(( a * 100 / p ))" \
            "${got[$peer/annex/$what]}" "${got[$peer/plain/$what]}")
  done
  echo "$line"
done
