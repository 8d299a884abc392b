// The plugin host against real plugin modules: the hello example and fixtures built to be refused or to fail.
#include "audit/audit_log.h"
#include "calendar/company_calendar.h"
#include "config/settings.h"
#include "auth/access.h"
#include "events/event_bus.h"
#include "http/dispatcher.h"
#include "http/router.h"
#include "jobs/scheduler.h"
#include "plugin_host/plugin_host.h"
#include "store/core_schema.h"
#include "store/database.h"
#include "store/migrations.h"
#include "support/calendar_2026.h"
#include "support/test_support.h"

#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <thread>

namespace annex::plugin_host {
namespace {

using test::TempDir;

class PluginHostTest : public testing::Test {
 protected:
  void SetUp() override {
    db_ = test::migrated_database(test::Backend::kSqlite, dir_);
    ASSERT_TRUE(db_);
    events_ = std::make_unique<events::EventBus>(*db_);
    scheduler_ = std::make_unique<jobs::Scheduler>(1);
    ids_ = std::make_unique<auth::IdentityStore>(*db_);
    authorizer_ = std::make_unique<auth::Authorizer>(*ids_, auth::RoleCatalog::defaults());
    audit_ = std::make_unique<audit::AuditLog>(*db_, nullptr);
    // The Chinese 2026 calendar, on a clock the tests move by writing clock_file_.
    config::Settings settings;
    std::ofstream(dir_.str() + "/annex.json") << R"({"calendar":)" << test::kChina2026Calendar << "}";
    ASSERT_TRUE(config::load_settings({dir_.str() + "/annex.json", {}, {}}, settings).empty());
    settings.calendar.test_clock_file = clock_file_ = dir_.str() + "/now";
    calendar_ = std::make_unique<calendar::CompanyCalendar>(settings.calendar);
    scheduler_->set_calendar(calendar_.get());
    HostParts parts;
    parts.db = db_.get();
    parts.calendar = calendar_.get();
    parts.router = &router_;
    parts.events = events_.get();
    parts.scheduler = scheduler_.get();
    parts.authorizer = authorizer_.get();
    parts.audit = audit_.get();
    host_ = std::make_unique<PluginHost>(parts);
  }

  // A plugin directory holding links to the named modules ("hello" from the build, the rest from the fixtures).
  std::string plugin_dir(const std::vector<std::string>& names) {
    auto d = dir_.path() / ("plugins-" + std::to_string(++dirs_));
    std::filesystem::create_directories(d);
    for (const auto& n : names) {
      std::string src = n == "hello" ? test::build_path("lib/annex/plugins/hello.so")
                                     : std::string(ANNEX_FIXTURE_PLUGIN_DIR) + "/" + n + ".so";
      std::filesystem::create_symlink(src, d / (n + ".so"));
    }
    return d.string();
  }

  void load(const std::vector<std::string>& names, std::map<std::string, Poco::JSON::Object::Ptr> config = {}) {
    host_->load({plugin_dir(names)}, config, {});
    host_->start_all();
  }

  PluginInfo info(const std::string& id) {
    for (const auto& p : host_->plugins()) {
      if (p.id == id) return p;
    }
    ADD_FAILURE() << "no plugin " << id;
    return {};
  }

  http::HttpResponse get(const std::string& path) {
    http::HttpRequest req;
    req.method = "GET";
    req.path = path;
    req.request_id = "t";
    http::HttpResponse resp;
    dispatcher_.dispatch(req, resp);
    return resp;
  }

  // Moves the host clock to `instant` (RFC 3339).
  void set_clock(const std::string& instant) { std::ofstream(clock_file_) << instant << "\n"; }

  TempDir dir_;
  std::string clock_file_;
  std::unique_ptr<calendar::CompanyCalendar> calendar_;
  int dirs_ = 0;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<events::EventBus> events_;
  std::unique_ptr<jobs::Scheduler> scheduler_;
  http::Router router_;
  http::Dispatcher dispatcher_{router_};
  std::unique_ptr<auth::IdentityStore> ids_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<PluginHost> host_;
};

TEST_F(PluginHostTest, StartsHelloAndServesItsRoutes) {
  load({"hello"});
  EXPECT_EQ(info("org.annex.hello").state, "started");
  EXPECT_EQ(get("/api/v1/hello/greetings").status, 200);
  EXPECT_EQ(get("/api/v1/hello/greetings/999").status, 404);
}

TEST_F(PluginHostTest, APluginWrittenInPlainCWorks) {
  load({"c_plugin"});
  EXPECT_EQ(info("org.annex.test.cplugin").state, "started");
  http::HttpResponse resp = get("/api/v1/c-plugin");
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body, R"({"language":"C"})");
}

TEST_F(PluginHostTest, APluginBuiltForAnOlderAbiMinorStillLoads) {
  ASSERT_GT(ANNEX_ABI_MINOR, 0);
  load({"abi_1_0", "hello"});
  EXPECT_EQ(info("org.annex.test.abi-1-0").state, "started") << info("org.annex.test.abi-1-0").error;
  EXPECT_EQ(info("org.annex.test.abi-1-0").abi, "1.0");
  EXPECT_EQ(get("/api/v1/abi-1-0").status, 200);
  EXPECT_EQ(info("org.annex.hello").state, "started");
}

TEST_F(PluginHostTest, RefusesAnotherAbiMajorWithFoundAndExpectedVersions) {
  load({"abi_major", "hello"});
  PluginInfo p = info("org.annex.test.abi-major");
  EXPECT_EQ(p.state, "refused");
  EXPECT_NE(p.error.find("built for plugin ABI 2." + std::to_string(ANNEX_ABI_MINOR)), std::string::npos) << p.error;
  EXPECT_NE(p.error.find("this host speaks ABI " + std::to_string(ANNEX_ABI_MAJOR) + "."), std::string::npos) << p.error;
  EXPECT_EQ(info("org.annex.hello").state, "started");
}

TEST_F(PluginHostTest, RefusesANewerAbiMinor) {
  load({"abi_minor"});
  PluginInfo p = info("org.annex.test.abi-minor");
  EXPECT_EQ(p.state, "refused");
  EXPECT_NE(p.error.find("ABI 1.99"), std::string::npos) << p.error;
  EXPECT_NE(p.error.find("newer than this host's"), std::string::npos) << p.error;
}

TEST_F(PluginHostTest, RefusesAServiceTheHostDoesNotProvide) {
  load({"missing_service", "newer_service"});
  PluginInfo missing = info("org.annex.test.missing-service");
  EXPECT_EQ(missing.state, "refused");
  EXPECT_NE(missing.error.find("annex.teleport@1, which this host does not provide"), std::string::npos) << missing.error;
  PluginInfo newer = info("org.annex.test.newer-service");
  EXPECT_EQ(newer.state, "refused");
  EXPECT_NE(newer.error.find("annex.db@2"), std::string::npos) << newer.error;
  EXPECT_NE(newer.error.find("it provides annex.db@1"), std::string::npos) << newer.error;
}

TEST_F(PluginHostTest, HandsOutOnlyDeclaredServices) {
  load({"undeclared_service"});
  PluginInfo p = info("org.annex.test.undeclared");
  EXPECT_EQ(p.state, "refused");
  EXPECT_NE(p.error.find("uses service annex.db@1 without listing it under \"uses\""), std::string::npos) << p.error;
  EXPECT_NE(p.error.find("annex.db@1 is not available"), std::string::npos) << p.error;
}

TEST_F(PluginHostTest, AnOfflineProbeRefusesAnUndeclaredServiceAndLeavesTheRestReady) {
  http::Router router;
  jobs::Scheduler scheduler(1);
  HostParts parts;
  parts.router = &router;
  parts.scheduler = &scheduler;
  PluginHost offline(parts);
  offline.load({plugin_dir({"undeclared_service", "hello", "c_plugin"})}, {}, {});
  offline.probe();
  for (const auto& p : offline.plugins()) {
    if (p.id == "org.annex.test.undeclared") {
      EXPECT_EQ(p.state, "refused");
      EXPECT_NE(p.error.find("annex.db@1"), std::string::npos) << p.error;
    } else {
      EXPECT_EQ(p.state, "ready") << p.id << ": " << p.error;
    }
  }
  EXPECT_TRUE(router.routes().empty()) << "the probe withdraws what the plugins registered";
}

TEST_F(PluginHostTest, RefusesACyclicRequirement) {
  load({"cycle_a", "cycle_b", "hello"});
  for (const char* id : {"org.annex.test.cycle-a", "org.annex.test.cycle-b"}) {
    PluginInfo p = info(id);
    EXPECT_EQ(p.state, "refused") << id;
    EXPECT_NE(p.error.find("dependency cycle"), std::string::npos) << p.error;
  }
  EXPECT_EQ(info("org.annex.hello").state, "started");
}

TEST_F(PluginHostTest, RefusesMissingAndMismatchedRequirements) {
  load({"needs_absent", "needs_hello_v2", "hello"});
  EXPECT_EQ(info("org.annex.test.needs-absent").error,
            "requires org.annex.test.absent >=1.0.0, which is not installed");
  EXPECT_EQ(info("org.annex.test.needs-hello-v2").error,
            "requires org.annex.hello >=2.0.0 <3.0.0, but version 1.0.0 is installed");
}

TEST_F(PluginHostTest, StartsAPluginAfterWhatItRequires) {
  load({"needs_hello", "hello"});  // the directory lists needs_hello first
  const auto& order = host_->order();
  auto hello = std::find(order.begin(), order.end(), "org.annex.hello");
  auto dependant = std::find(order.begin(), order.end(), "org.annex.test.needs-hello");
  ASSERT_NE(hello, order.end());
  ASSERT_NE(dependant, order.end());
  EXPECT_LT(hello, dependant);
  EXPECT_EQ(info("org.annex.test.needs-hello").state, "started");
}

TEST_F(PluginHostTest, AFailedStartIsReportedItsRoutesWithdrawnAndOthersRun) {
  load({"fails_start", "hello"});
  PluginInfo p = info("org.annex.test.fails-start");
  EXPECT_EQ(p.state, "failed");
  EXPECT_NE(p.error.find("the widget server is unreachable"), std::string::npos) << p.error;
  EXPECT_EQ(get("/api/v1/fails-start").status, 404);
  EXPECT_EQ(get("/api/v1/hello/greetings").status, 200);
}

TEST_F(PluginHostTest, TheFieldAtFaultOfACreateFailureTravelsApartFromTheMessage) {
  // One plugin built with this SDK (set_error_field), one built for ABI 1.2 (the "field=" prefix of old).
  load({"create_fails_field", "abi_1_2_field", "hello"});
  for (const char* id : {"org.annex.test.create-fails-field", "org.annex.test.abi-1-2-field"}) {
    PluginInfo p = info(id);
    EXPECT_EQ(p.state, "failed") << id;
    EXPECT_EQ(p.error, "create failed (status 1): severities must not be empty") << id;
    EXPECT_EQ(p.error_field, "severities") << id;
  }
  EXPECT_EQ(info("org.annex.hello").state, "started");
  EXPECT_EQ(info("org.annex.hello").error_field, "");
}

TEST_F(PluginHostTest, ANotRunningPluginKeepsTheInstanceNotReady) {
  load({"fails_start", "hello"});
  EXPECT_EQ(host_->not_running(), std::vector<std::string>{"org.annex.test.fails-start"});
}

TEST_F(PluginHostTest, ALibraryThatIsNotAPluginIsReported) {
  load({"not_a_plugin", "hello"});
  bool found = false;
  for (const auto& p : host_->plugins()) {
    if (p.path.find("not_a_plugin") != std::string::npos) {
      found = true;
      EXPECT_EQ(p.state, "refused");
      EXPECT_NE(p.error.find("does not export annex_plugin_query_v1"), std::string::npos) << p.error;
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(PluginHostTest, InvalidConfigurationFailsThePluginNamingTheKey) {
  auto config = Poco::JSON::Parser().parse(R"({"tick_seconds":0})").extract<Poco::JSON::Object::Ptr>();
  load({"hello"}, {{"org.annex.hello", config}});
  PluginInfo p = info("org.annex.hello");
  EXPECT_EQ(p.state, "failed");
  EXPECT_NE(p.error.find("plugins.org.annex.hello.tick_seconds: must be at least 1"), std::string::npos) << p.error;
  EXPECT_EQ(p.error_field, "plugins.org.annex.hello.tick_seconds");
}

TEST_F(PluginHostTest, StoppingRemovesEveryRouteThePluginRegistered) {
  load({"hello", "c_plugin"});
  ASSERT_EQ(get("/api/v1/c-plugin").status, 200);
  host_->stop_all();
  EXPECT_EQ(get("/api/v1/c-plugin").status, 404);
  EXPECT_EQ(get("/api/v1/hello/greetings").status, 404);
  EXPECT_TRUE(router_.routes().empty());
  EXPECT_EQ(info("org.annex.hello").state, "stopped");
}

TEST_F(PluginHostTest, ASecondCopyOfAPluginIsRefusedAndTheFirstRuns) {
  std::string a = plugin_dir({"hello"});
  std::string b = plugin_dir({"hello"});
  host_->load({a, b}, {}, {});
  host_->start_all();
  int started = 0, refused = 0;
  for (const auto& p : host_->plugins()) {
    started += p.state == "started";
    refused += p.state == "refused" && p.error.find("is also provided by") != std::string::npos;
  }
  EXPECT_EQ(started, 1);
  EXPECT_EQ(refused, 1);
}


// ---- services plugins provide each other -------------------------------------------------------------------

TEST_F(PluginHostTest, APluginUsesTheServiceOfThePluginItRequires) {
  load({"counts", "counter"});  // the directory lists the user first
  EXPECT_EQ(info("org.annex.test.counter").state, "started");
  EXPECT_EQ(info("org.annex.test.counts").state, "started") << info("org.annex.test.counts").error;
  EXPECT_EQ(info("org.annex.test.counter").provides, std::vector<std::string>{"org.annex.test.counter@1"});
  http::HttpResponse first = get("/api/v1/counts/next");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, R"({"next":1})");
  EXPECT_EQ(get("/api/v1/counts/next").body, R"({"next":2})");
}

TEST_F(PluginHostTest, AProviderStopsAfterThePluginsThatUseItAndServesThemUntilThen) {
  std::string log = (dir_.path() / "counts.log").string();
  setenv("ANNEX_TEST_COUNTS_LOG", log.c_str(), 1);
  load({"counter", "counts"});
  ASSERT_EQ(get("/api/v1/counts/next").status, 200);
  host_->stop_all();
  unsetenv("ANNEX_TEST_COUNTS_LOG");
  std::ifstream in(log);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "stop: status 0 next 2");  // the user stopped first, and its provider still answered
  EXPECT_EQ(info("org.annex.test.counter").state, "stopped");
  EXPECT_EQ(info("org.annex.test.counts").state, "stopped");
}

TEST_F(PluginHostTest, APluginWhoseServiceProviderIsMissingOrFailedIsRefusedSayingWhy) {
  load({"counts"});
  EXPECT_EQ(info("org.annex.test.counts").state, "refused");
  EXPECT_EQ(info("org.annex.test.counts").error,
            "uses service org.annex.test.counter@1, which neither the host nor any installed plugin provides");
}

TEST_F(PluginHostTest, APluginIsRefusedWhenTheProviderOfItsServiceFailsToStart) {
  auto config = Poco::JSON::Parser().parse(R"({"fail":true})").extract<Poco::JSON::Object::Ptr>();
  load({"counter", "counts"}, {{"org.annex.test.counter", config}});
  EXPECT_EQ(info("org.annex.test.counter").state, "failed");
  PluginInfo counts = info("org.annex.test.counts");
  EXPECT_EQ(counts.state, "failed");
  EXPECT_NE(counts.error.find("requires org.annex.test.counter, which did not start"), std::string::npos) << counts.error;
  EXPECT_NE(counts.error.find("the counter is broken"), std::string::npos) << counts.error;
  EXPECT_EQ(get("/api/v1/counts/next").status, 404);
}

TEST_F(PluginHostTest, UsingAPluginServiceWithoutRequiringItsProviderIsRefused) {
  load({"counter", "counts_unrequired"});
  EXPECT_EQ(info("org.annex.test.counts-unrequired").state, "refused");
  EXPECT_EQ(info("org.annex.test.counts-unrequired").error,
            "uses service org.annex.test.counter@1 of plugin org.annex.test.counter without listing "
            "org.annex.test.counter under \"requires\"");
  EXPECT_EQ(info("org.annex.test.counter").state, "started");
}

TEST_F(PluginHostTest, APluginThatOffersNoTableForAServiceItDeclaresFails) {
  load({"provides_nothing", "hello"});
  PluginInfo p = info("org.annex.test.provides-nothing");
  EXPECT_EQ(p.state, "failed");
  EXPECT_NE(p.error.find("declares service org.annex.test.nothing@1 under \"provides\" but offered no table"),
            std::string::npos) << p.error;
  EXPECT_EQ(info("org.annex.hello").state, "started");
}

TEST_F(PluginHostTest, APluginMayNotReadAnotherPluginsTables) {
  load({"counter", "counts"});
  http::HttpResponse resp = get("/api/v1/counts/peek");
  EXPECT_EQ(resp.status, 403);
  EXPECT_NE(resp.body.find("counter_values is a table of plugin org.annex.test.counter"), std::string::npos) << resp.body;
}

}  // namespace
}  // namespace annex::plugin_host

namespace annex::plugin_host {
namespace {

TEST_F(PluginHostTest, ACalendarJobRunsOnTheThirdWorkingDayByTheHostClock) {
  // National Day holidays 1–7 October 2026; the 3rd working day is the make-up Saturday, 10 October.
  set_clock("2026-10-09T12:00:00+08:00");
  load({"calendar_job"});
  ASSERT_EQ(info("org.annex.test.calendar-job").state, "started") << info("org.annex.test.calendar-job").error;
  scheduler_->start();
  set_clock("2026-10-10T08:59:59+08:00");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(get("/api/v1/test/calendar-job/runs").body, R"({"runs":[]})") << "not before 09:00 in Shanghai";
  set_clock("2026-10-10T09:00:00+08:00");
  EXPECT_TRUE(test::eventually([&] { return get("/api/v1/test/calendar-job/runs").body == R"({"runs":["2026-10-10"]})"; }))
      << get("/api/v1/test/calendar-job/runs").body;
  // A clock moved past November's 3rd working day (the 4th) runs the job once, on the day the clock shows.
  set_clock("2026-11-20T10:00:00+08:00");
  EXPECT_TRUE(test::eventually([&] {
    return get("/api/v1/test/calendar-job/runs").body == R"({"runs":["2026-10-10","2026-11-20"]})";
  })) << get("/api/v1/test/calendar-job/runs").body;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(get("/api/v1/test/calendar-job/runs").body, R"({"runs":["2026-10-10","2026-11-20"]})") << "once, not twice";
  scheduler_->stop();
}

TEST_F(PluginHostTest, APluginAsksTheCalendarServiceInTheCompanysTimeZone) {
  set_clock("2026-01-31T16:30:00Z");
  load({"calendar_job"});
  auto answers = Poco::JSON::Parser().parse(get("/api/v1/test/calendar-job/answers").body).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(answers->getValue<std::string>("today"), "2026-02-01") << "00:30 on 1 February in Shanghai";
  EXPECT_EQ(answers->getValue<std::string>("now"), "2026-01-31T16:30:00Z");
  EXPECT_EQ(answers->getValue<int>("offset"), 8 * 3600);
  EXPECT_EQ(answers->getValue<std::string>("third_working_day_of_february"), "2026-02-04");
  EXPECT_FALSE(answers->getValue<bool>("twentieth")) << "February 2026 has 16 working days";
  EXPECT_TRUE(answers->getValue<bool>("sunday_4_jan_works"));
  EXPECT_EQ(answers->getValue<int>("between_feb"), 16);
  EXPECT_EQ(answers->getValue<std::string>("midnight_1_feb"), "2026-01-31T16:00:00Z");
  EXPECT_EQ(answers->getValue<std::string>("refused_field"), "year");
}

}  // namespace
}  // namespace annex::plugin_host
