#include "sync/sync_routes.h"

#include "http/api_error.h"

namespace annex::sync {
namespace {

using nlohmann::json;

constexpr const char* kView = "annex.sync.view";
constexpr const char* kOperate = "annex.sync.operate";

const ConnectionConfig& connection_of(SyncEngine& engine, const http::HttpRequest& req) {
  auto it = engine.connections().find(req.path_params.at("name"));
  if (it == engine.connections().end()) throw http::ApiError::not_found("no connection " + req.path_params.at("name"));
  return it->second;
}

}  // namespace

json run_json(const RunReport& r) {
  json j = {{"id", r.id},           {"connection", r.connection}, {"stream", r.stream},     {"direction", r.direction},
            {"dry_run", r.dry_run}, {"status", r.status},         {"started_at", r.started_at},
            {"read", r.read},       {"created", r.created},       {"updated", r.updated},   {"unchanged", r.unchanged},
            {"rejected", r.rejected}, {"duration_ms", r.duration_ms}};
  j["finished_at"] = r.finished_at.empty() ? json(nullptr) : json(r.finished_at);
  j["error"] = r.error.empty() ? json(nullptr) : json(r.error);
  j["daemon"] = r.daemon.empty() ? json(nullptr) : json(r.daemon);  // which annexd ran it, or runs it now
  if (r.dry_run) j["diff"] = r.diff;
  return j;
}

void register_sync_routes(http::Router& router, SyncEngine& engine,
                          std::function<bool(const std::string&, const std::string&)> start_run) {
  auto add = [&router](const char* method, const char* path, const char* permission, const char* summary,
                       http::Handler handler) {
    http::add_route(router, "annex.core", method, path, permission, summary, std::move(handler));
  };
  add("GET", "/api/v1/sync/connections", kView, "Sync connections, their streams and pending pushes",
      [&engine](http::HttpRequest&, http::HttpResponse& resp) {
        auto pending = engine.pending();
        auto idle = engine.idle_ticks();
        json list = json::array();
        for (const auto& [name, c] : engine.connections()) {
          json streams = json::array();
          for (const auto& [sname, s] : c.streams) {
            auto p = pending.find(name + "/" + sname);
            json stream = {{"name", sname}, {"direction", s.direction}, {"schedule_s", s.schedule_s},
                           {"pending_pushes", p == pending.end() ? 0 : p->second}};
            auto ticks = idle.find(name + "/" + sname);
            stream["idle_ticks"] = ticks == idle.end() ? 0 : ticks->second;
            if (s.entity != nullptr) stream["entity"] = s.entity->name;
            else stream["documents"] = s.documents;  // the plugin that owns the stream's documents
            streams.push_back(stream);
          }
          list.push_back({{"name", name}, {"connector", c.connector}, {"streams", streams}});
        }
        resp.body = json({{"items", list}}).dump();
      });
  add("POST", "/api/v1/sync/connections/{name}/check", kOperate, "Reach the remote system with the credentials",
      [&engine](http::HttpRequest& req, http::HttpResponse& resp) {
        const ConnectionConfig& c = connection_of(engine, req);
        std::string detail;
        std::string problem = engine.check(c.name, &detail);
        resp.status = problem.empty() ? 200 : 502;
        resp.body = json({{"ok", problem.empty()}, {"detail", problem.empty() ? detail : problem}}).dump();
      });
  add("POST", "/api/v1/sync/connections/{name}/runs", kOperate, "Run a connection's streams, or one (stream; dry_run: report only)",
      [&engine, start_run](http::HttpRequest& req, http::HttpResponse& resp) {
        const ConnectionConfig& c = connection_of(engine, req);
        json body = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
        if (!body.is_object()) throw http::ApiError::bad_request("the body must be a JSON object", "body");
        std::string stream = body.value("stream", std::string{});
        if (!stream.empty() && !c.streams.count(stream)) throw http::ApiError::unprocessable("no stream " + stream, "stream");
        if (body.value("dry_run", false)) {
          json runs = json::array();
          for (const auto& r : engine.run(c.name, stream, true)) runs.push_back(run_json(r));
          resp.body = json({{"items", runs}}).dump();
          return;
        }
        if (!start_run(c.name, stream)) throw http::ApiError(409, "conflict", "a run of " + c.name + " is in progress");
        resp.status = 202;
        resp.body = json({{"started", true}, {"follow", "/api/v1/sync/runs?connection=" + c.name}}).dump();
      });
  add("GET", "/api/v1/sync/connections/{name}/reconcile", kView,
      "Records that differ between Annex and the remote, field by field (?stream=)",
      [&engine](http::HttpRequest& req, http::HttpResponse& resp) {
        const ConnectionConfig& c = connection_of(engine, req);
        std::string stream;
        req.query_param("stream", &stream);
        try {
          resp.body = engine.reconcile(c.name, stream).dump();
        } catch (const std::exception& e) {
          throw http::ApiError(502, "bad_gateway", e.what());
        }
      });
  add("GET", "/api/v1/sync/runs", kView, "Sync runs, newest first", [&engine](http::HttpRequest& req, http::HttpResponse& resp) {
    std::string connection;
    req.query_param("connection", &connection);
    json list = json::array();
    for (const auto& r : engine.history(connection, 100)) list.push_back(run_json(r));
    resp.body = json({{"items", list}}).dump();
  });
  add("GET", "/api/v1/sync/runs/{id}", kView, "One sync run", [&engine](http::HttpRequest& req, http::HttpResponse& resp) {
    auto r = engine.run_report(req.path_params.at("id"));
    if (!r) throw http::ApiError::not_found("no such run");
    resp.body = run_json(*r).dump();
  });
  add("GET", "/api/v1/sync/dead-letters", kView, "Records parked with the reason",
      [&engine](http::HttpRequest& req, http::HttpResponse& resp) {
        std::string connection;
        req.query_param("connection", &connection);
        json list = json::array();
        for (const auto& d : engine.dead_letters(connection, false)) {
          list.push_back({{"seq", d.seq}, {"connection", d.connection}, {"stream", d.stream}, {"direction", d.direction},
                          {"record", json::parse(d.record, nullptr, false)}, {"reason", d.reason}, {"created_at", d.created_at}});
        }
        resp.body = json({{"items", list}}).dump();
      });
  add("POST", "/api/v1/sync/dead-letters/{seq}/replay", kOperate, "Apply a dead letter again",
      [&engine](http::HttpRequest& req, http::HttpResponse& resp) {
        int64_t seq = 0;
        try {
          seq = std::stoll(req.path_params.at("seq"));
        } catch (const std::exception&) {
          throw http::ApiError::bad_request("seq must be a number", "seq");
        }
        std::string problem = engine.replay(seq);
        if (!problem.empty()) throw http::ApiError::unprocessable(problem);
        resp.body = json({{"replayed", seq}}).dump();
      });
}

}  // namespace annex::sync
