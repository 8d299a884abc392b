#include "audit/audit_routes.h"

#include "audit/evidence_pack.h"
#include "clock/utc.h"
#include "errors/field_error.h"
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

// The objects of ?object_type=A&object_id=1&object_type=B&object_id=2: the n-th type goes with the n-th id.
std::vector<ObjectRef> object_params(const http::HttpRequest& req) {
  std::vector<std::string> types, ids;
  std::string_view rest = req.query;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string key, value;
    if (eq == std::string_view::npos || !http::url_decode(pair.substr(0, eq), &key, true)) continue;
    if (key != "object_type" && key != "object_id") continue;
    if (!http::url_decode(pair.substr(eq + 1), &value, true)) {
      throw http::ApiError::bad_request(key + " is not correctly URL-encoded", key);
    }
    (key == "object_type" ? types : ids).push_back(std::move(value));
  }
  if (types.empty()) throw http::ApiError::bad_request("name the objects: ?object_type=TYPE&object_id=ID, repeatable", "object_type");
  if (types.size() != ids.size()) {
    throw http::ApiError::bad_request("give one object_id for each object_type, in the same order",
                                      types.size() > ids.size() ? "object_id" : "object_type");
  }
  std::vector<ObjectRef> out;
  for (size_t i = 0; i < types.size(); ++i) {
    if (types[i].empty() || !http::valid_utf8(types[i])) {
      throw http::ApiError::bad_request("object_type must be non-empty UTF-8 text", "object_type");
    }
    if (ids[i].empty() || !http::valid_utf8(ids[i])) {
      throw http::ApiError::bad_request("object_id must be non-empty UTF-8 text", "object_id");
    }
    out.push_back(ObjectRef{types[i], ids[i]});
  }
  return out;
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
  add("GET", "/api/v1/audit/evidence", kAuditRead,
      "An evidence pack (ZIP) of the audit entries of the objects named by ?object_type=&object_id= (repeatable), "
      "verifiable offline",
      [&log](http::HttpRequest& req, http::HttpResponse& resp) {
        PackRequest request;
        request.principal = req.principal.id;
        request.objects = object_params(req);
        const ObjectRef& first = request.objects.front();
        request.title = request.objects.size() == 1 && first.type.size() + first.id.size() < 150
                            ? "Audit entries of " + first.type + "/" + first.id
                            : "Audit entries of " + std::to_string(request.objects.size()) + " objects";
        if (log.signer() == nullptr) throw http::ApiError::not_found("this daemon signs no checkpoints");
        Pack pack;
        try {
          pack = build_evidence_pack(log, request);
        } catch (const FieldError& e) {
          throw http::refusal(e);
        }
        resp.content_type = "application/zip";
        resp.set_header("Content-Disposition", "attachment; filename=\"annex-evidence-" + pack.id + ".zip\"");
        resp.body = std::move(pack.bytes);
      });
  add("GET", "/api/v1/audit/public-key", kAuditRead, "The Ed25519 public key that signs the checkpoints (PEM)",
      [&log](http::HttpRequest&, http::HttpResponse& resp) {
        if (log.signer() == nullptr) throw http::ApiError::not_found("this daemon signs no checkpoints");
        resp.content_type = "application/x-pem-file";
        resp.body = log.signer()->public_pem();
      });
}

}  // namespace annex::audit
