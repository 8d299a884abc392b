// Clients of the outside systems the connector tests talk to, as those systems' own users would change them:
// Tryton over JSON-RPC as its administrator, the OData server over plain HTTP as user `sync`; and a count
// straight from annexd's store.
#pragma once

#include "support/test_support.h"

#include "store/sql.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <Poco/Base64Encoder.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace annex::test {

using nlohmann::json;

inline std::string tryton_url() {
  const char* file = std::getenv("ANNEX_TEST_TRYTON_URL_FILE");
  std::string url;
  if (file != nullptr) {
    std::ifstream in(file);
    std::getline(in, url);
  }
  return url;
}

// A JSON-RPC client for setting up and checking the Tryton side, as its own users would change it.
class Tryton {
 public:
  explicit Tryton(std::string url) : url_(std::move(url)) {
    base_ = url_.substr(0, url_.find('/', url_.find("//") + 2));
    path_ = url_.substr(base_.size());
    login();
  }
  json call(const std::string& method, json params) {
    params.push_back({{"company", 1}, {"language", "en"}});
    return post(method, params, true);
  }
  // A call with more context: a wizard's records ({"active_model", "active_id", "active_ids"}).
  json call_with(const std::string& method, json params, const json& more_context) {
    json context = {{"company", 1}, {"language", "en"}};
    context.update(more_context);
    params.push_back(context);
    return post(method, params, true);
  }
  // A read while Annex may be writing the same records (Tryton refuses a read of lines deleted meanwhile):
  // null instead of a failure, for a check that polls.
  json poll(const std::string& method, json params) {
    params.push_back({{"company", 1}, {"language", "en"}});
    return post(method, params, true, false);
  }

 private:
  void login() {
    json r = post("common.db.login", json::array({"admin", {{"password", "admin"}}, "en"}), false);
    std::ostringstream encoded;
    Poco::Base64Encoder b64(encoded);
    b64.rdbuf()->setLineLength(0);
    b64 << "admin:" << r[0].get<int64_t>() << ":" << r[1].get<std::string>();
    b64.close();
    session_ = "Session " + encoded.str();
  }
  json post(const std::string& method, const json& params, bool auth, bool must_succeed = true) {
    std::map<std::string, std::string> headers = {{"Content-Type", "application/json"}};
    if (auth) headers["Authorization"] = session_;
    HttpResult r = http_call(base_, "POST", path_, json({{"id", 1}, {"method", method}, {"params", params}}).dump(), headers);
    if (r.status == 401 && auth) {  // this client's session went too
      login();
      headers["Authorization"] = session_;
      r = http_call(base_, "POST", path_, json({{"id", 1}, {"method", method}, {"params", params}}).dump(), headers);
    }
    json body = json::parse(r.body, nullptr, false);
    if (must_succeed) {
      EXPECT_TRUE(body.is_object() && !body.contains("error")) << method << ": " << r.status << " " << r.body;
    }
    return body.is_object() ? body.value("result", json(nullptr)) : json(nullptr);
  }
  std::string url_, base_, path_, session_;
};

inline std::filesystem::path odata_state() {
  const char* file = std::getenv("ANNEX_TEST_ODATA_URL_FILE");
  return file == nullptr ? std::filesystem::path() : std::filesystem::path(file).parent_path();
}

inline std::string basic(const std::string& user, const std::string& password) {
  std::ostringstream encoded;
  Poco::Base64Encoder b64(encoded);
  b64.rdbuf()->setLineLength(0);
  b64 << user << ":" << password;
  b64.close();
  return "Basic " + encoded.str();
}

// The service as its own users change it: plain HTTP calls as user `sync`.
class Service {
 public:
  explicit Service(std::string v4_root) : root_(std::move(v4_root)) {
    base_ = root_.substr(0, root_.find('/', root_.find("//") + 2));
    path_ = root_.substr(base_.size());
  }
  HttpResult call(const std::string& method, const std::string& path, const json& body = nullptr, const std::string& if_match = "") const {
    std::map<std::string, std::string> headers = {{"Authorization", basic("sync", "sync-secret")}, {"Accept", "application/json"}};
    if (!body.is_null()) headers["Content-Type"] = "application/json";
    if (!if_match.empty()) headers["If-Match"] = if_match;
    return http_call(base_, method, path_ + path, body.is_null() ? "" : body.dump(), headers);
  }
  json get(const std::string& path) const {
    HttpResult r = call("GET", path);
    return r.status == 200 ? json::parse(r.body, nullptr, false) : json(nullptr);
  }
  json partner(const std::string& key) const { return get("api-business-partner/A_BusinessPartner('" + key + "')?$expand=to_CustomerCompany"); }
  int64_t count(const std::string& set_path, const std::string& prefix) const {
    HttpResult r = call("GET", set_path + "/$count?$filter=startswith(" + key_of(set_path) + ",'" + prefix + "')");
    return r.status == 200 ? std::stoll(r.body) : -1;
  }
  // Changes a partner as a user of the ERP would: with the ETag just read.
  void change_partner(const std::string& key, const json& changes) const {
    json now = partner(key);
    ASSERT_TRUE(now.is_object()) << key;
    HttpResult r = call("PATCH", "api-business-partner/A_BusinessPartner('" + key + "')", changes, now["@odata.etag"].get<std::string>());
    ASSERT_EQ(r.status, 200) << r.body;
  }
  // Creates partners through $batch: each group of `group` is one atomicity group, so its rows share a timestamp.
  void create_partners(const std::string& prefix, int n, int group) const {
    for (int at = 0; at < n; at += group) {
      json requests = json::array();
      for (int i = at; i < std::min(n, at + group); ++i) {
        requests.push_back({{"id", std::to_string(i)}, {"atomicityGroup", "g"}, {"method", "POST"}, {"url", "A_BusinessPartner"},
                            {"headers", {{"content-type", "application/json"}}},
                            {"body", {{"BusinessPartner", prefix + std::to_string(i)}, {"BusinessPartnerCategory", "2"},
                                      {"BusinessPartnerFullName", "Partner " + std::to_string(i)}, {"BusinessPartnerGrouping", "BP02"}}}});
      }
      HttpResult r = call("POST", "api-business-partner/$batch", json({{"requests", requests}}));
      ASSERT_EQ(r.status, 200) << r.body;
      ASSERT_EQ(r.body.find("\"status\":4"), std::string::npos) << r.body;
    }
  }
  const std::string& root() const { return root_; }

 private:
  static std::string key_of(const std::string& set_path) {
    if (set_path.find("A_BusinessPartner") != std::string::npos) return "BusinessPartner";
    if (set_path.find("A_CostCenter") != std::string::npos) return "CostCenter";
    return "Product";
  }
  std::string root_, base_, path_;
};

inline int64_t count_in(const Annexd& d, const std::string& sql) {
  auto db = d.open_store();
  store::Lease lease(*db);
  return store::run(lease.session(), sql, {}).rows.at(0).at(0).i;
}

}  // namespace annex::test
