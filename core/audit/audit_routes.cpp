#include "audit/audit_routes.h"

#include "clock/utc.h"
#include "http/api_error.h"
#include "http/json_body.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <sstream>

namespace annex::audit {
namespace {

using Poco::JSON::Object;

int64_t int_param(const http::HttpRequest& req, const char* name, int64_t fallback, int64_t min, int64_t max) {
  std::string text;
  if (!req.query_param(name, &text)) return fallback;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min || v > max) {
    throw http::ApiError::bad_request(std::string(name) + " must be a whole number from " + std::to_string(min) +
                                          " to " + std::to_string(max),
                                      name);
  }
  return v;
}

// The instant `name` in the stored form ("2026-11-23T14:00:00Z"), so that it compares with `at` as text.
std::string time_param(const http::HttpRequest& req, const char* name) {
  std::string text;
  if (!req.query_param(name, &text)) return {};
  std::optional<std::time_t> t = clock::parse_instant(text);
  if (!t) {
    throw http::ApiError::unprocessable(std::string(name) + " must be an RFC 3339 time like 2026-11-23T14:00:00Z", name);
  }
  return clock::utc_iso(*t);
}


}  // namespace

void register_audit_routes(http::Router& router, store::Database& db, AuditLog& log) {
  auto add = [&router](const char* method, const char* path, const char* permission, const char* summary,
                       http::Handler handler) {
    http::add_route(router, "annex.core", method, path, permission, summary, std::move(handler));
  };
  add("GET", "/api/v1/audit", kAuditRead,
      "Audit entries, oldest first (?object=TYPE/ID, object_type, object_id, principal, from, to, after_seq, limit)",
      [&log](http::HttpRequest& req, http::HttpResponse& resp) {
        Query q;
        req.query_param("object_type", &q.object_type);
        req.query_param("object_id", &q.object_id);
        // ?object=TYPE/ID (or just an id) names one object.
        std::string object;
        if (req.query_param("object", &object)) {
          size_t slash = object.rfind('/');
          if (slash == std::string::npos) {
            q.object_id = object;
          } else {
            q.object_type = object.substr(0, slash);
            q.object_id = object.substr(slash + 1);
          }
        }
        req.query_param("principal", &q.principal);
        q.from = time_param(req, "from");
        q.to = time_param(req, "to");
        q.after_seq = int_param(req, "after_seq", 0, 0, INT64_MAX);
        q.limit = static_cast<int>(int_param(req, "limit", 100, 1, 1000));
        nlohmann::json list = nlohmann::json::array();
        std::vector<Entry> entries = log.query(q);
        for (const auto& e : entries) {
          list.push_back({{"seq", e.seq},
                          {"at", e.at},
                          {"principal", e.principal},
                          {"action", e.action},
                          {"object_type", e.object_type},
                          {"object_id", e.object_id},
                          {"before", nlohmann::json::parse(e.before_json, nullptr, false)},
                          {"after", nlohmann::json::parse(e.after_json, nullptr, false)},
                          {"hash", e.hash}});
        }
        nlohmann::json out = {{"items", list}};
        out["next_after_seq"] = entries.size() == static_cast<size_t>(q.limit) ? nlohmann::json(entries.back().seq) : nlohmann::json(nullptr);
        resp.body = out.dump();
      });
  add("GET", "/api/v1/audit/export", kAuditRead, "The whole audit log as JSON Lines, for offline verification",
      [&log](http::HttpRequest&, http::HttpResponse& resp) {
        std::ostringstream out;
        log.export_jsonl(out);
        resp.content_type = "application/x-ndjson";
        resp.set_header("Content-Disposition", "attachment; filename=\"annex-audit.jsonl\"");
        resp.body = out.str();
      });
  add("GET", "/api/v1/audit/verify", kAuditVerify, "Recompute the audit chain and check its signed checkpoints",
      [&log, &db](http::HttpRequest&, http::HttpResponse& resp) {
        VerifyReport r = verify(db, log.signer());
        Object::Ptr out = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
        out->set("ok", r.ok);
        out->set("entries", r.entries);
        out->set("checkpoints", r.checkpoints);
        out->set("first_bad_seq", r.ok ? Poco::Dynamic::Var() : Poco::Dynamic::Var(r.first_bad_seq));
        out->set("problem", http::nullable(r.problem));
        resp.body = http::to_json(out);
      });
  add("GET", "/api/v1/audit/public-key", kAuditRead, "The Ed25519 public key that signs the checkpoints (PEM)",
      [&log](http::HttpRequest&, http::HttpResponse& resp) {
        if (log.signer() == nullptr) throw http::ApiError::not_found("this daemon signs no checkpoints");
        resp.content_type = "application/x-pem-file";
        resp.body = log.signer()->public_pem();
      });
}

}  // namespace annex::audit
