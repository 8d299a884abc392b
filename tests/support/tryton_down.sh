#!/usr/bin/env bash
# Stops the Tryton that tryton_up.sh STATE_DIR started and forgets its database.
set -uo pipefail
state=${1:?usage: tryton_down.sh STATE_DIR}
here=$(cd "$(dirname "$0")" && pwd)
[ -d "$state/instance" ] && "$here/../peers/tryton/down.sh" "$state/instance" --purge
rm -f "$state/url"
exit 0
