// GET /api/v1/calendar against a running annexd configured with the Chinese 2026 calendar, the test clock moved
// through a file, and a calendar that does not hold refused at start-up naming its key.
#include "support/calendar_2026.h"
#include "support/test_support.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <fstream>

namespace annex::test {
namespace {

Poco::JSON::Object::Ptr json(const std::string& body) {
  return Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
}

std::string write_file(const TempDir& dir, const std::string& name, const std::string& text) {
  std::string path = dir.str() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(Calendar, AnySignedInUserReadsTheYearInTheCompanysTimeZone) {
  TempDir dir;
  std::string config = write_file(dir, "annex.json", std::string(R"({"calendar":)") + kChina2026Calendar + "}");
  std::string clock = write_file(dir, "now", "2026-01-31T16:30:00Z\n");
  Annexd::Options options;
  options.args = {"--config", config, "--set", "calendar.test_clock_file=" + clock};
  Annexd d(options);
  EXPECT_EQ(d.anonymous("GET", "/api/v1/calendar?year=2026").status, 401);
  std::string rep = d.user_with_role("rep", "sales-rep", "north");
  HttpResult r = d.call_as(rep, "GET", "/api/v1/calendar?year=2026");
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = json(r.body);
  EXPECT_EQ(body->getValue<std::string>("time_zone"), "Asia/Shanghai");
  EXPECT_EQ(body->getValue<std::string>("today"), "2026-02-01") << "the test clock, read in Shanghai";
  EXPECT_EQ(body->getArray("holidays")->getObject(0)->getValue<std::string>("date"), "2026-01-01");
  EXPECT_EQ(body->getArray("working_days")->getObject(0)->getValue<std::string>("date"), "2026-01-04");
  auto january = body->getArray("months")->getObject(0);
  EXPECT_EQ(january->getValue<std::string>("first_working_day"), "2026-01-04");
  EXPECT_EQ(body->getArray("months")->getObject(1)->getValue<int>("working_days"), 16);
  EXPECT_NE(d.log().find("calendar.test_clock_file is set"), std::string::npos) << "a test clock is never silent";

  std::ofstream(clock) << "2026-10-10T09:00:00+08:00\n";
  EXPECT_EQ(json(d.call_as(rep, "GET", "/api/v1/calendar?year=2027").body)->getValue<std::string>("today"), "2026-10-10");
  EXPECT_EQ(json(d.call_as(rep, "GET", "/api/v1/calendar?year=2027").body)->getArray("holidays")->size(), 0u);
}

TEST(Calendar, RefusesAMissingOrMalformedYearNamingIt) {
  Annexd d({});
  for (const char* query : {"", "?year=", "?year=26", "?year=2026a", "?year=0000", "?year=-2026"}) {
    HttpResult r = d.call("GET", std::string("/api/v1/calendar") + query);
    EXPECT_EQ(r.status, 400) << query;
    EXPECT_EQ(json(r.body)->getObject("error")->getValue<std::string>("field"), "year") << query << r.body;
  }
  auto body = json(d.call("GET", "/api/v1/calendar?year=2026").body);
  EXPECT_EQ(body->getValue<std::string>("time_zone"), "UTC") << "a fresh install: weekends only, in UTC";
  EXPECT_EQ(body->getArray("holidays")->size(), 0u);
  EXPECT_EQ(body->getValue<int>("working_days_in_year"), 261);
}

TEST(Calendar, AnnexdRefusesACalendarThatDoesNotHoldNamingTheKey) {
  TempDir dir;
  std::string out;
  std::string config = write_file(dir, "annex.json",
                                  R"({"calendar":{"time_zone":"Asia/Shanghai","years":{"2026":{"working_days":["2026-01-05"]}}}})");
  EXPECT_EQ(run_program(build_path("bin/annexd"), {"--config", config, "--check-config"}, &out), 2);
  EXPECT_NE(out.find("calendar.years.2026.working_days[0]"), std::string::npos) << out;
  EXPECT_EQ(run_program(build_path("bin/annexd"), {"--check-config", "--set", "calendar.time_zone=Nowhere/Else"}, &out), 2);
  EXPECT_NE(out.find("calendar.time_zone"), std::string::npos) << out;
}

TEST(Calendar, AnnexctlListsAPluginWithACalendarJobAsOk) {
  TempDir dir;
  std::string out;
  int rc = run_program(build_path("bin/annexctl"),
                       {"--data-dir", dir.str(), "--plugin-dir", fixture_dir(dir, {"calendar_job"}), "plugins", "list"}, &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("org.annex.test.calendar-job"), std::string::npos) << out;
}

}  // namespace
}  // namespace annex::test
