#!/usr/bin/env bash
# Receipts benchmark (not a test): annexd on SQLite; C connections (default 16) upload 1 MB receipts (PNG bytes,
# each upload different, so every one is hashed, sniffed and stored) to the lines of K draft claims (default 256)
# for S seconds. Reports uploads/s, MB/s, latency and annexd's peak resident memory (VmHWM) over the run.
# Goal on a 2-core machine with wrk on the same machine: annexd's RSS under 150 MB.
#   tests/bench/receipts_bench.sh [BUILD_DIR] [CONNECTIONS] [SECONDS] [K]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
connections=${2:-16}
seconds=${3:-20}
claims=${4:-256}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
[ -x "$build/bin/annexd" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }

work=$(mktemp -d /tmp/annex-receipts-bench.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cat >"$work/annex.json" <<'JSON'
{"blobs": {"max_bytes": 2097152},
 "plugins": {"org.annex.expenses": {"categories": {"travel": {"gl_account": "6602"}}}}}
JSON
export ANNEX_CONFIG="$work/annex.json"
ctl() { "$build/bin/annexctl" --data-dir "$work/data" "$@"; }
ctl user create rep --role sales-rep --sector s1 >/dev/null
token=$(ctl token create rep 2>/dev/null)
"$build/bin/annexd" --data-dir "$work/data" --listen 127.0.0.1:0 --plugin-dir "$build/lib/annex/plugins" \
  --log-level warn --set http.threads=$((connections + 8)) >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 1 600); do grep -q "listening on" "$work/out" 2>/dev/null && break; sleep 0.05; done
url=$(sed -n 's/^annexd listening on //p' "$work/out")
[ -n "$url" ] || { cat "$work/err" >&2; exit 1; }

for _ in $(seq 1 "$claims"); do
  answer=$(curl -s -X POST -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
    -d '{"purpose":"travel","lines":[{"date":"2026-11-16","category":"travel","amount":{"amount":1000,"currency":"CNY"}}]}' \
    "$url/api/v1/expenses/claims")
  id=$(echo "$answer" | grep -o '"id":"ec_[^"]*"' | head -1 | cut -d'"' -f4 || true)
  [ -n "$id" ] || { echo "a draft claim is refused: $answer" >&2; exit 1; }
  echo "$id"
done >"$work/claims"
rss_before=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")

cat >"$work/upload.lua" <<LUA
-- Each wrk thread uploads to its own half of the claims, in turn, so no two uploads in flight meet on one claim.
local threads = 0
setup = function(thread) threads = threads + 1; thread:set("index", threads) end
local ids, n, index = {}, 0, 1
init = function(args) index = tonumber(wrk.thread:get("index")) end
for line in io.lines("$work/claims") do ids[#ids + 1] = line end
-- A PNG signature and header, then 1 MB of filler made distinct by the thread and a counter at the front.
local filler = string.rep("0123456789abcdef", 65536)
request = function()
  n = n + 1
  local half = math.floor(#ids / 2)
  local id = ids[(index - 1) * half + (n % half) + 1]
  local body = "\\137PNG\\r\\n\\26\\n\\0\\0\\0\\rIHDR" .. index .. "-" .. n .. filler
  return wrk.format("POST", "/api/v1/expenses/claims/" .. id .. "/lines/1/receipt",
                    {["Authorization"] = "Bearer $token", ["Content-Type"] = "image/png"}, body)
end
local told = false
response = function(status, headers, body)
  if status ~= 200 and not told then
    told = true
    io.stderr:write("first refusal: " .. status .. " " .. body .. "\\n")
  end
end
LUA
echo "annexd $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?') on $(nproc) cores; 1 MB receipts at $connections connections"
wrk -t2 -c"$connections" -d"${seconds}s" --latency --timeout 10s -s "$work/upload.lua" "$url" | tee "$work/wrk"
peak=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
rss_after=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
stored=$(sqlite3 "$work/data/annex.db" "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM annex_blobs" 2>/dev/null || echo "?")
rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk")
echo
echo "uploads: ${rps}/s (about $(awk -v r="$rps" 'BEGIN {printf "%.0f", r}') MB/s); blobs stored (count|bytes): $stored"
echo "annexd RSS: ${rss_before} kB before, ${rss_after} kB after, peak ${peak} kB — $(awk -v p="$peak" 'BEGIN { print (p < 150 * 1024) ? "meets" : "misses" }') the goal (< 150 MB)"
