#include "config/settings.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <fstream>

namespace annex::config {
namespace {

std::string write(const test::TempDir& dir, const std::string& text) {
  std::string path = dir.str() + "/annex.json";
  std::ofstream(path) << text;
  return path;
}

TEST(Settings, DefaultsAloneAreValid) {
  Settings s;
  EXPECT_TRUE(load_settings({}, s).empty());
  EXPECT_EQ(s.http.port, 8080);
  EXPECT_EQ(s.database_dialect(), "sqlite");
  EXPECT_EQ(s.sqlite_path(), "annex-data/annex.db");
}

TEST(Settings, FileThenEnvironmentThenFlags) {
  test::TempDir dir;
  SettingsSources src;
  src.config_file = write(dir, R"({"listen":"0.0.0.0:9000","http":{"threads":8},"database":{"pool_size":3},
                                  "plugins":{"org.annex.hello":{"salutation":"Hi"}}})");
  src.env = {{"ANNEX_HTTP_THREADS", "12"}, {"ANNEX_UNRELATED", "x"}};
  src.overrides = {{"listen", "127.0.0.1:9100"}};
  Settings s;
  ASSERT_TRUE(load_settings(src, s).empty());
  EXPECT_EQ(s.http.host, "127.0.0.1");
  EXPECT_EQ(s.http.port, 9100);
  EXPECT_EQ(s.http.threads, 12);
  EXPECT_EQ(s.database.pool_size, 3);
  ASSERT_TRUE(s.plugin_config.count("org.annex.hello"));
  EXPECT_EQ(s.plugin_config["org.annex.hello"]->getValue<std::string>("salutation"), "Hi");
}

TEST(Settings, SetReachesAPluginWhoseIdHasDots) {
  test::TempDir dir;
  SettingsSources src;
  src.config_file = write(dir, R"({"plugins":{"org.annex.hello":{"salutation":"Hi","tick_seconds":5}}})");
  src.overrides = {{"plugins.org.annex.hello.salutation", "Good morning"},
                   {"plugins.org.annex.pipeline.follow_up_days", "7"},
                   {"plugins.org.annex.pipeline.lead_sources", R"(["web","fair"])"}};
  Settings s;
  auto errors = load_settings(src, s);
  ASSERT_TRUE(errors.empty()) << errors.front().key << ": " << errors.front().message;
  auto hello = s.plugin_config["org.annex.hello"];
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->getValue<std::string>("salutation"), "Good morning");
  EXPECT_EQ(hello->getValue<int>("tick_seconds"), 5) << "keys the flag does not name keep the file's values";
  auto pipeline = s.plugin_config["org.annex.pipeline"];
  ASSERT_TRUE(pipeline);
  EXPECT_EQ(pipeline->getValue<int>("follow_up_days"), 7);
  EXPECT_EQ(pipeline->getArray("lead_sources")->size(), 2u);
}

TEST(Settings, SetOfAPluginKeyWithoutAnIdIsRefusedNamingIt) {
  SettingsSources src;
  src.overrides = {{"plugins.salutation", "Hi"}};
  Settings s;
  auto errors = load_settings(src, s);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "plugins.salutation");
  EXPECT_NE(errors[0].message.find("plugins.<id>.<key>"), std::string::npos) << errors[0].message;
}

TEST(Settings, NamesTheOffendingKey) {
  test::TempDir dir;
  SettingsSources src;
  src.config_file = write(dir, R"({"http":{"threads":"many","colour":"blue"},"listen":"nowhere","database":{"url":"mysql://x"}})");
  Settings s;
  auto errors = load_settings(src, s);
  std::map<std::string, std::string> by_key;
  for (auto& e : errors) by_key[e.key] = e.message;
  EXPECT_NE(by_key["http.threads"].find("must be an integer"), std::string::npos);
  EXPECT_EQ(by_key["http.colour"], "unknown key");
  EXPECT_NE(by_key["listen"].find("HOST:PORT"), std::string::npos);
  EXPECT_NE(by_key["database.url"].find("sqlite: or postgresql://"), std::string::npos);
}

TEST(Settings, EnvironmentErrorsSayWhereTheValueCameFrom) {
  SettingsSources src;
  src.env = {{"ANNEX_HTTP_MAX_BODY_BYTES", "-5"}};
  Settings s;
  auto errors = load_settings(src, s);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "http.max_body_bytes");
  EXPECT_NE(errors[0].message.find("ANNEX_HTTP_MAX_BODY_BYTES"), std::string::npos);
}

TEST(Settings, TheUploadCeilingDefaultsToTenMebibytesAndIsChecked) {
  {
    Settings s;
    EXPECT_TRUE(load_settings({}, s).empty());
    EXPECT_EQ(s.blobs.max_bytes, 10 << 20);
  }
  test::TempDir dir;
  SettingsSources src;
  src.config_file = write(dir, R"({"blobs":{"max_bytes":2048}})");
  Settings s;
  EXPECT_TRUE(load_settings(src, s).empty());
  EXPECT_EQ(s.blobs.max_bytes, 2048);
  for (const char* bad : {"0", "-1", "ten", "2147483648"}) {
    SettingsSources refused;
    refused.overrides = {{"blobs.max_bytes", bad}};
    Settings r;
    auto errors = load_settings(refused, r);
    ASSERT_EQ(errors.size(), 1u) << bad;
    EXPECT_EQ(errors[0].key, "blobs.max_bytes");
  }
}

TEST(Settings, TlsNeedsBothCertificateAndKey) {
  SettingsSources src;
  src.overrides = {{"http.tls_cert", "/nonexistent/cert.pem"}};
  Settings s;
  auto errors = load_settings(src, s);
  ASSERT_FALSE(errors.empty());
  bool together = false, unreadable = false;
  for (auto& e : errors) {
    together |= e.message.find("given together") != std::string::npos;
    unreadable |= e.key == "http.tls_cert" && e.message.find("cannot read") != std::string::npos;
  }
  EXPECT_TRUE(together);
  EXPECT_TRUE(unreadable);
}

TEST(Settings, MalformedJsonIsReportedWithTheFile) {
  test::TempDir dir;
  SettingsSources src;
  src.config_file = write(dir, "{\"listen\": ");
  Settings s;
  auto errors = load_settings(src, s);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("not valid JSON"), std::string::npos);
}

}  // namespace
}  // namespace annex::config
