#!/usr/bin/env bash
# Stops the OData peer that odata_up.sh STATE_DIR started (its data stays until the next odata_up.sh).
set -uo pipefail
state=${1:?usage: odata_down.sh STATE_DIR}
[ -x "$state/peer/down.sh" ] && "$state/peer/down.sh"
exit 0
