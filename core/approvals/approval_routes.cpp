#include "approvals/approval_routes.h"

#include "auth/roles.h"
#include "http/api_error.h"
#include "http/json_body.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <tuple>

namespace annex::approvals {
namespace {

template <typename Fn>
void refusals_as_api_errors(Fn&& fn) {
  try {
    fn();
  } catch (const ApprovalError& e) {
    throw http::refusal(e);
  }
}

std::string items(const std::vector<std::string>& json_items) {
  std::string out = "{\"items\":[";
  for (size_t i = 0; i < json_items.size(); ++i) out += (i ? "," : "") + json_items[i];
  return out + "]}";
}

// The approval if the caller may see it; 404 otherwise.
Approval visible_approval(ApprovalService& service, const http::HttpRequest& req) {
  std::optional<Approval> a = service.get(req.path_params.at("id"));
  if (a && service.visible(*a, req.principal.id)) return *a;
  throw http::ApiError::not_found("no such approval");
}

}  // namespace

void register_approval_routes(http::Router& router, ApprovalService& service) {
  auto add = [&router](const char* method, const char* path, const char* summary, http::Handler handler) {
    http::add_route(router, "annex.core", method, path, auth::kAuthenticated, summary, std::move(handler));
  };
  add("GET", "/api/v1/approvals", "Approvals whose current step the caller may decide, directly or as a delegate",
      [&service](http::HttpRequest& req, http::HttpResponse& resp) {
        // A page of them, oldest first: `limit` (1–500, default 100) after the approval `after`; `total` counts all,
        // `next` is the cursor of the next page (null on the last).
        std::string text, after;
        long long limit = 100;
        if (req.query_param("limit", &text)) {
          char* end = nullptr;
          limit = std::strtoll(text.c_str(), &end, 10);
          if (text.empty() || *end != '\0' || limit < 1 || limit > 500) {
            throw http::ApiError::bad_request("limit is a whole number from 1 to 500", "limit");
          }
        }
        req.query_param("after", &after);
        std::vector<Approval> all = service.awaiting(req.principal.id);
        size_t from = 0;
        if (!after.empty()) {
          auto it = std::find_if(all.begin(), all.end(), [&](const Approval& a) { return a.id == after; });
          // An item decided since the page before is gone: start from the first one created after it.
          from = it != all.end() ? static_cast<size_t>(it - all.begin()) + 1 : all.size();
          if (it == all.end()) {
            if (std::optional<Approval> seen = service.get(after)) {
              from = static_cast<size_t>(std::find_if(all.begin(), all.end(), [&](const Approval& a) {
                       return std::tie(a.created_at, a.id) > std::tie(seen->created_at, seen->id);
                     }) - all.begin());
            }
          }
        }
        std::vector<std::string> out;
        size_t to = std::min(all.size(), from + static_cast<size_t>(limit));
        for (size_t i = from; i < to; ++i) out.push_back(approval_json(all[i]));
        std::string list = items(out);
        list.pop_back();  // the closing brace: total and next join the object
        list += ",\"total\":" + std::to_string(all.size()) + ",\"next\":" + (to < all.size() ? nlohmann::json(all[to - 1].id).dump() : "null") + "}";
        resp.body = list;
      });
  add("GET", "/api/v1/approvals/{id}", "One approval and its decisions",
      [&service](http::HttpRequest& req, http::HttpResponse& resp) {
        resp.body = approval_json(visible_approval(service, req));
      });
  add("POST", "/api/v1/approvals/{id}/decisions", "Approve, reject or return the current step",
      [&service](http::HttpRequest& req, http::HttpResponse& resp) {
        Poco::JSON::Object::Ptr body = http::parse_json_object(req);
        std::string decision = http::required_string(body, "decision", 20);
        std::string comment = http::optional_string(body, "comment", 2000);
        std::string on_behalf_of = http::optional_string(body, "on_behalf_of", 100);
        // The service answers 404, as for a missing one, for an approval beyond the caller's reach and beyond
        // that of anyone who delegated this chain to them.
        refusals_as_api_errors([&] {
          resp.body = approval_json(
              service.decide(nullptr, req.path_params.at("id"), req.principal.id, decision, comment, on_behalf_of));
        });
      });
  add("POST", "/api/v1/approvals/{id}/resubmit", "Start a new round after a return for changes (the submitter)",
      [&service](http::HttpRequest& req, http::HttpResponse& resp) {
        Approval a = visible_approval(service, req);
        refusals_as_api_errors([&] { resp.body = approval_json(service.resubmit(nullptr, a.id, req.principal.id)); });
      });
  add("GET", "/api/v1/approval-chains", "The configured approval chains",
      [&service](http::HttpRequest&, http::HttpResponse& resp) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& [id, chain] : service.chains()) {
          nlohmann::json steps = nlohmann::json::array();
          for (const auto& s : chain.steps) {
            nlohmann::json step = {{"name", s.name}, {"scope", s.item_sector ? "item-sector" : "any"},
                                   {"mode", s.all ? "all" : "any"}};
            if (!s.permission.empty()) step["permission"] = s.permission;
            if (!s.role.empty()) step["role"] = s.role;
            if (s.min_amount) step["min_amount"] = {{"amount", *s.min_amount}, {"currency", s.currency}};
            steps.push_back(step);
          }
          list.push_back({{"id", id}, {"steps", steps}});
        }
        resp.body = nlohmann::json({{"items", list}}).dump();
      });
  add("GET", "/api/v1/delegations", "Delegations the caller gave or received",
      [&service](http::HttpRequest& req, http::HttpResponse& resp) {
        std::vector<std::string> out;
        for (const auto& d : service.delegations_of(req.principal.id)) out.push_back(delegation_json(d));
        resp.body = items(out);
      });
  add("POST", "/api/v1/delegations", "Delegate one's approvals to someone, for some chains, for a time",
      [&service](http::HttpRequest& req, http::HttpResponse& resp) {
        Poco::JSON::Object::Ptr body = http::parse_json_object(req);
        std::string delegate = http::required_string(body, "delegate_id", 100);
        std::vector<std::string> chains;
        if (!body->has("chains") || body->getArray("chains").isNull()) {
          throw http::ApiError::bad_request("chains is required: an array of chain ids, or [\"*\"]", "chains");
        }
        for (const auto& c : *body->getArray("chains")) {
          if (!c.isString()) throw http::ApiError::bad_request("chains must hold strings", "chains");
          chains.push_back(c.extract<std::string>());
        }
        std::string from = http::optional_string(body, "valid_from", 40);
        std::string until = http::required_string(body, "valid_until", 40);
        refusals_as_api_errors([&] {
          resp.status = 201;
          resp.body = delegation_json(service.delegate(req.principal.id, delegate, chains, from, until));
        });
      });
  add("DELETE", "/api/v1/delegations/{id}", "End a delegation the caller gave",
      [&service](http::HttpRequest& req, http::HttpResponse& resp) {
        refusals_as_api_errors([&] { service.revoke_delegation(req.path_params.at("id"), req.principal.id); });
        resp.status = 204;
      });
}

}  // namespace annex::approvals
