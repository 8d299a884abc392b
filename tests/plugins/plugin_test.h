// What the business plugins' end-to-end tests share: annexd with a plugin's configuration on SQLite or
// PostgreSQL, and calls as a user's token with JSON bodies.
#pragma once

#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <string>

namespace annex::test {

class PluginTest : public testing::TestWithParam<Backend> {
 protected:
  using json = nlohmann::json;

  // Starts annexd on the test's backend with `config_json` as its configuration file, with the build's plugins
  // and those in `more_plugin_dirs`.
  void start(const std::string& config_json, const std::vector<std::string>& more_plugin_dirs = {}) {
    std::ofstream(dir_.path() / "annex.json") << config_json;
    Annexd::Options o;
    if (!more_plugin_dirs.empty()) {
      o.plugin_dirs = {build_path("lib/annex/plugins")};
      o.plugin_dirs.insert(o.plugin_dirs.end(), more_plugin_dirs.begin(), more_plugin_dirs.end());
    }
    o.env = {{"ANNEX_CONFIG", (dir_.path() / "annex.json").string()}};
    if (GetParam() == Backend::kPostgresql) {
      store::DatabaseOptions db;
      if (!fresh_database(Backend::kPostgresql, dir_, &db)) GTEST_SKIP() << "no PostgreSQL for this run";
      o.args = {"--database-url", db.target};
    }
    o.data_dir = (dir_.path() / "data").string();
    options_ = o;
    d_ = std::make_unique<Annexd>(o);
  }
  // Starts annexd again on the same data directory and database (after a stop or a kill).
  void restart() {
    d_.reset();
    d_ = std::make_unique<Annexd>(options_);
  }

  // The body of `r`, failing the test unless its status is `status`.
  static std::string must(const HttpResult& r, int status) {
    EXPECT_EQ(r.status, status) << r.body;
    return r.body;
  }
  std::string me(const std::string& token) { return json::parse(d_->call_as(token, "GET", "/api/v1/auth/me").body)["id"]; }

  HttpResult as(const std::string& token, const std::string& method, const std::string& path, const json& body = nullptr,
                std::map<std::string, std::string> headers = {}) {
    headers["Authorization"] = "Bearer " + token;
    if (!body.is_null()) headers["Content-Type"] = "application/json";
    return http_call(d_->base_url(), method, path, body.is_null() ? "" : body.dump(), headers);
  }

  // Stores `copies` copies of the opportunity `id` straight into the table, for sums over many rows.
  void copy_opportunity(const std::string& id, int copies) {
    const std::string columns = "name, party_id, lead_id, sector_id, owner_id, amount, currency, expected_close, stage, probability,"
                                " probability_set, forecast_category, status, lost_reason, closed_on, last_activity_on, created_at, updated_at, version";
    d_->sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + std::to_string(copies) +
            ") INSERT INTO pipeline_opportunities (id, " + columns + ") SELECT o.id || '-' || CAST(n.i AS TEXT), o." +
            std::regex_replace(columns, std::regex(", "), ", o.") + " FROM pipeline_opportunities o CROSS JOIN n WHERE o.id = '" + id + "'");
  }

  TempDir dir_;
  Annexd::Options options_;
  std::unique_ptr<Annexd> d_;
};

}  // namespace annex::test
