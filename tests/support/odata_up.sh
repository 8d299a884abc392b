#!/usr/bin/env bash
# Starts a private OData peer (SAP CAP, OData V4 and V2; installed from the npm registry on first use) for the
# tests and writes its V4 root to STATE_DIR/url. The peer writes node_modules/ and .run/ beside its scripts, so
# its folder is copied into STATE_DIR/peer and started there; its data is kept in STATE_DIR/peer.db, so a test
# can stop it and start it again (odata_up.sh STATE_DIR --restart: same port, same data) without losing records.
#   odata_up.sh STATE_DIR [--restart]      odata_down.sh STATE_DIR
set -euo pipefail
mkdir -p "${1:?usage: odata_up.sh STATE_DIR [--restart]}/peer"
state=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
if [ "${2:-}" = --restart ]; then
  set -a; . "$state/start.env"; set +a
else
  "$here/odata_down.sh" "$state" >/dev/null 2>&1 || true
  # The sources are refreshed; node_modules/ stays from an earlier run, and npm ci renews it when the lock changes.
  (cd "$here/../peers/sapcap" && tar --exclude=node_modules --exclude=.run -cf - .) | (cd "$state/peer" && tar -xf -)
  chmod -R u+w "$state/peer"
  rm -f "$state/peer.db"
  PORT=$(node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')
  cat >"$state/start.env" <<VARS
PORT=$PORT
DB_FILE=$state/peer.db

READY_TIMEOUT=120
VARS
  set -a; . "$state/start.env"; set +a
fi
if ! "$state/peer/up.sh" >"$state/up.log" 2>&1; then
  echo "odata_up: could not start the OData peer; see $state/up.log" >&2
  tail -30 "$state/up.log" >&2
  exit 1
fi
echo "http://127.0.0.1:$PORT/odata/v4/" >"$state/url"
