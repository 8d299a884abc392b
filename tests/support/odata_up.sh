#!/usr/bin/env bash
# Starts a private OData peer (SAP CAP, OData V4 and V2; installed from the npm registry on first use) for the
# tests and writes its V4 root to STATE_DIR/url. The peer writes node_modules/ and .run/ beside its scripts, so
# its folder is copied into STATE_DIR/peer and started there; its data is kept in STATE_DIR/peer.db, so a test
# can stop it and start it again (odata_up.sh STATE_DIR --restart: same port, same data) without losing records.
#   odata_up.sh STATE_DIR [--restart] [--peer NAME] [--modules-from DIR]      odata_down.sh STATE_DIR
# --peer names another peer in tests/peers/ (default sapcap) whose models are served by sapcap's scripts and
# packages; --modules-from takes node_modules/ from a peer folder already installed from the same lockfile.
set -euo pipefail
mkdir -p "${1:?usage: odata_up.sh STATE_DIR [--restart] [--peer NAME] [--modules-from DIR]}/peer"
state=$(cd "$1" && pwd)
shift
restart=0 peer=sapcap modules_from=
while [ $# -gt 0 ]; do
  case "$1" in
    --restart) restart=1 ;;
    --peer) peer=${2:?--peer NAME}; shift ;;
    --modules-from) modules_from=${2:?--modules-from DIR}; shift ;;
    *) echo "odata_up: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
here=$(cd "$(dirname "$0")" && pwd)
peers="$here/../peers"
if [ "$restart" = 1 ]; then
  set -a; . "$state/start.env"; set +a
else
  "$here/odata_down.sh" "$state" >/dev/null 2>&1 || true
  # The sources are refreshed; node_modules/ stays from an earlier run, and npm ci renews it when the lock changes.
  find "$state/peer" -mindepth 1 -maxdepth 1 ! -name node_modules -exec rm -rf {} +
  if [ "$peer" = sapcap ]; then
    (cd "$peers/sapcap" && tar --exclude=node_modules --exclude=.run -cf - .) | (cd "$state/peer" && tar -xf -)
    ready_path='api-business-partner/$metadata'
  else
    (cd "$peers/sapcap" && tar -cf - up.sh down.sh server.js package.json package-lock.json) | (cd "$state/peer" && tar -xf -)
    (cd "$peers/$peer" && tar --exclude=node_modules --exclude=.run -cf - .) | (cd "$state/peer" && tar -xf -)
    ready_path=$(cat "$peers/$peer/ready_path")
  fi
  chmod -R u+w "$state/peer"
  if [ ! -d "$state/peer/node_modules" ] && [ -n "$modules_from" ] && [ -d "$modules_from/node_modules" ] &&
     cmp -s "$modules_from/package-lock.json" "$state/peer/package-lock.json"; then
    cp -al "$modules_from/node_modules" "$state/peer/node_modules"  # the same lockfile: the same packages, linked
  fi
  rm -f "$state/peer.db"
  PORT=$(node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')
  cat >"$state/start.env" <<VARS
PORT=$PORT
DB_FILE=$state/peer.db
READY_PATH='$ready_path'
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
