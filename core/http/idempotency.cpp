#include "http/idempotency.h"

#include "clock/utc.h"
#include "crypto/digest.h"
#include "http/api_error.h"
#include "store/database.h"
#include "store/sql.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <strings.h>

namespace annex::http {

using store::Param;

void Idempotency::handle(HttpRequest& request, HttpResponse& response, const std::function<void()>& handler) {
  const std::string* key = request.header("Idempotency-Key");
  if (request.method != "POST" || key == nullptr || !request.principal.authenticated()) {
    handler();
    return;
  }
  if (key->empty() || key->size() > 255 ||
      std::any_of(key->begin(), key->end(), [](char c) { return c < 0x21 || c > 0x7e; })) {
    throw ApiError(400, "bad_request", "Idempotency-Key is 1 to 255 visible ASCII characters", "Idempotency-Key");
  }
  // The request a key stands for: method, path, query and body (an upload's body by the hash of its file).
  std::string fingerprint = crypto::sha256_hex(request.method + " " + request.path + "?" + request.query + "\n" +
                                               (request.upload ? "upload " + request.upload->sha256 : request.body));
  {
    store::Lease lease(db_);
    std::string now = clock::utc_now();  // a Param holds a view: the text must outlive the statement
    Param p[] = {Param::text(request.principal.id), Param::text(*key), Param::text(fingerprint), Param::text(now)};
    int64_t claimed = store::run(lease.session(),
                                 "INSERT INTO annex_idempotency (principal_id, idem_key, fingerprint, state, created_at)"
                                 " VALUES (?, ?, ?, 'running', ?) ON CONFLICT (principal_id, idem_key) DO NOTHING",
                                 p)
                          .affected;
    if (claimed == 0) {
      // A claim left running by a process that died is abandoned after five minutes and may be taken again.
      std::string stale = clock::utc_now(-300);
      Param r[] = {Param::text(request.principal.id), Param::text(*key), Param::text(stale)};
      store::run(lease.session(),
                 "DELETE FROM annex_idempotency WHERE principal_id = ? AND idem_key = ? AND state = 'running' AND created_at < ?", r);
      claimed = store::run(lease.session(),
                           "INSERT INTO annex_idempotency (principal_id, idem_key, fingerprint, state, created_at)"
                           " VALUES (?, ?, ?, 'running', ?) ON CONFLICT (principal_id, idem_key) DO NOTHING",
                           p)
                    .affected;
    }
    if (claimed == 0) {
      Param q[] = {Param::text(request.principal.id), Param::text(*key)};
      auto rs = store::run(lease.session(),
                           "SELECT fingerprint, state, status, headers, body FROM annex_idempotency"
                           " WHERE principal_id = ? AND idem_key = ?",
                           q);
      if (rs.rows.empty()) throw ApiError(409, "conflict", "a request with this Idempotency-Key was just forgotten; retry", "Idempotency-Key");
      const auto& row = rs.rows[0];
      if (row[0].s != fingerprint) {
        throw ApiError(422, "unprocessable", "this Idempotency-Key was used for a different request", "Idempotency-Key");
      }
      if (row[1].s != "done") {
        throw ApiError(409, "conflict", "a request with this Idempotency-Key is still in progress", "Idempotency-Key");
      }
      response.status = static_cast<int>(row[2].i);
      nlohmann::json headers = nlohmann::json::parse(row[3].s, nullptr, false);
      if (headers.is_object()) {
        for (const auto& [name, value] : headers.items()) {
          if (!value.is_string()) continue;
          if (name == "Content-Type") response.content_type = value.get<std::string>();
          else response.set_header(name, value.get<std::string>());
        }
      }
      response.set_header("Idempotent-Replayed", "true");
      response.body = row[4].s;
      return;
    }
  }
  auto forget = [&] {
    store::Lease lease(db_);
    Param p[] = {Param::text(request.principal.id), Param::text(*key)};
    store::run(lease.session(), "DELETE FROM annex_idempotency WHERE principal_id = ? AND idem_key = ?", p);
  };
  try {
    handler();
  } catch (...) {
    forget();
    throw;
  }
  // Only successes are kept, and never an answer that carries a secret (Cache-Control: no-store).
  bool secret = false;
  for (const auto& [name, value] : response.headers) {
    if (strcasecmp(name.c_str(), "Cache-Control") == 0 && value.find("no-store") != std::string::npos) secret = true;
  }
  if (response.status < 200 || response.status >= 300 || secret) {
    forget();
    return;
  }
  nlohmann::json headers = nlohmann::json::object();
  for (const auto& [name, value] : response.headers) headers[name] = value;
  headers["Content-Type"] = response.content_type;
  std::string headers_text = headers.dump();
  try {
    store::Lease lease(db_);
    Param p[] = {Param::integer(response.status), Param::text(headers_text), Param::text(response.body),
                 Param::text(request.principal.id), Param::text(*key)};
    store::run(lease.session(),
               "UPDATE annex_idempotency SET state = 'done', status = ?, headers = ?, body = ? WHERE principal_id = ? AND idem_key = ?", p);
  } catch (const std::exception& e) {
    // The change itself is made: answer it. A retry meanwhile sees the claim running, until it is abandoned.
    spdlog::warn("idempotency: the answer to key {} of {} was not kept: {}", *key, request.principal.id, e.what());
  }
}

int64_t Idempotency::purge(int hours) {
  store::Lease lease(db_);
  std::string before = clock::utc_now(-static_cast<int64_t>(hours) * 3600);
  Param p[] = {Param::text(before)};
  return store::run(lease.session(), "DELETE FROM annex_idempotency WHERE created_at < ?", p).affected;
}

}  // namespace annex::http
