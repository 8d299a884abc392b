#include "config/settings.h"
#include "support/calendar_2026.h"
#include "support/test_support.h"

#include <annex/calendar.hpp>

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

// The first problem load_settings finds in a file whose "calendar" section is `section`.
SettingsError calendar_problem(const std::string& section) {
  test::TempDir dir;
  SettingsSources src;
  src.config_file = write(dir, R"({"calendar":)" + section + "}");
  Settings s;
  auto errors = load_settings(src, s);
  if (errors.empty()) return {"", "accepted"};
  return errors.front();
}

TEST(Settings, CalendarDefaultsToWeekendsOnlyInUtc) {
  Settings s;
  ASSERT_TRUE(load_settings({}, s).empty());
  EXPECT_EQ(s.calendar.time_zone, "UTC");
  EXPECT_EQ(s.calendar.weekend, (std::set<unsigned>{0, 6}));
  EXPECT_TRUE(s.calendar.holidays.empty());
  EXPECT_TRUE(s.calendar.working_days.empty());
  EXPECT_TRUE(s.calendar.test_clock_file.empty()) << "the test clock is never on by default";
}

TEST(Settings, ReadsTheChinese2026CalendarWithNamesAndMakeUpDays) {
  test::TempDir dir;
  SettingsSources src;
  src.config_file = write(dir, std::string(R"({"calendar":)") + test::kChina2026Calendar + "}");
  Settings s;
  auto errors = load_settings(src, s);
  ASSERT_TRUE(errors.empty()) << errors.front().key << ": " << errors.front().message;
  EXPECT_EQ(s.calendar.time_zone, "Asia/Shanghai");
  EXPECT_EQ(s.calendar.holidays.size(), 33u);
  EXPECT_EQ(s.calendar.holidays.at(*calendar::parse_date("2026-10-01")), "National Day");
  EXPECT_EQ(s.calendar.holidays.at(*calendar::parse_date("2026-10-02")), "");
  EXPECT_EQ(s.calendar.working_days.size(), 6u);
}

TEST(Settings, RefusesAnUnknownTimeZoneNamingTheKey) {
  SettingsError e = calendar_problem(R"({"time_zone":"Asia/Atlantis"})");
  EXPECT_EQ(e.key, "calendar.time_zone");
  EXPECT_NE(e.message.find("Asia/Atlantis"), std::string::npos) << e.message;
  SettingsSources src;
  src.overrides = {{"calendar.time_zone", "Mars/Olympus"}};
  Settings s;
  auto errors = load_settings(src, s);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "calendar.time_zone");
}

TEST(Settings, RefusesABadCalendarDateNamingItsPlace) {
  EXPECT_EQ(calendar_problem(R"({"years":{"2026":{"holidays":["2026-01-01","2026-02-30"]}}})").key,
            "calendar.years.2026.holidays[1]");
  EXPECT_EQ(calendar_problem(R"({"years":{"2026":{"holidays":[{"date":"2026-1-1","name":"x"}]}}})").key,
            "calendar.years.2026.holidays[0]");
  EXPECT_EQ(calendar_problem(R"({"years":{"2026":{"working_days":["2027-01-02"]}}})").key,
            "calendar.years.2026.working_days[0]") << "a date outside its year";
  EXPECT_EQ(calendar_problem(R"({"years":{"2026":{"holidays":["2026-01-01","2026-01-01"]}}})").key,
            "calendar.years.2026.holidays[1]") << "listed twice";
  EXPECT_EQ(calendar_problem(R"({"years":{"26":{"holidays":[]}}})").key, "calendar.years.26");
  EXPECT_EQ(calendar_problem(R"({"years":{"2026":{"holydays":[]}}})").key, "calendar.years.2026.holydays");
  EXPECT_EQ(calendar_problem(R"({"weekend":["saturday","sundae"]})").key, "calendar.weekend");
  EXPECT_EQ(calendar_problem(R"({"colour":"blue"})").key, "calendar.colour");
}

TEST(Settings, RefusesAMakeUpDayThatIsNotAWeekendDay) {
  SettingsError e = calendar_problem(R"({"years":{"2026":{"working_days":["2026-01-04","2026-01-05"]}}})");
  EXPECT_EQ(e.key, "calendar.years.2026.working_days[1]");
  EXPECT_NE(e.message.find("2026-01-05 is a monday"), std::string::npos) << e.message;
  // With a Friday–Saturday weekend, a Sunday is no make-up day but a Friday is.
  EXPECT_EQ(calendar_problem(R"({"weekend":["friday","saturday"],"years":{"2026":{"working_days":["2026-01-04"]}}})").key,
            "calendar.years.2026.working_days[0]");
  EXPECT_EQ(calendar_problem(R"({"weekend":["friday","saturday"],"years":{"2026":{"working_days":["2026-01-02"]}}})").message,
            "accepted");
}

TEST(Settings, RefusesADayThatIsBothAHolidayAndAMakeUpDay) {
  SettingsError e = calendar_problem(R"({"years":{"2026":{"holidays":["2026-01-03"],"working_days":["2026-01-03"]}}})");
  EXPECT_EQ(e.key.rfind("calendar.years.2026.", 0), 0u) << e.key;
  EXPECT_NE(e.message.find("both a holiday and a make-up working day"), std::string::npos) << e.message;
}

}  // namespace
}  // namespace annex::config
