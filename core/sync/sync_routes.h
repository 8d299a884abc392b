// The sync engine over HTTP, for operators (annex.sync.view, annex.sync.operate — neither reached by *.read).
#pragma once

#include "http/router.h"
#include "sync/engine.h"

#include <functional>

namespace annex::sync {

//   GET  /api/v1/sync/connections                  connections, streams, pending pushes
//   POST /api/v1/sync/connections/{name}/check     reach the remote with the credentials
//   POST /api/v1/sync/connections/{name}/runs      {"stream"?, "dry_run"?}: a dry run answers its report; a real
//                                                  run starts in the background (202) — follow it at /runs
//   GET  /api/v1/sync/runs?connection=             history, newest first, with counts and progress
//   GET  /api/v1/sync/runs/{id}                    one run (its diff, for a dry run)
//   GET  /api/v1/sync/dead-letters?connection=     records parked with the reason
//   POST /api/v1/sync/dead-letters/{seq}/replay    apply one again
// `start_run(connection, stream)` starts a background run of the connection's stream ("" for all its streams);
// false when it cannot.
void register_sync_routes(http::Router& router, SyncEngine& engine,
                          std::function<bool(const std::string&, const std::string&)> start_run);

nlohmann::json run_json(const RunReport& r);

}  // namespace annex::sync
