#include "jobs/scheduler.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

namespace annex::jobs {
namespace {

TEST(Scheduler, RunsAJobRepeatedlyAtItsInterval) {
  Scheduler s(2);
  std::atomic<int> runs{0};
  ASSERT_EQ(s.schedule("org.t", "tick", std::chrono::seconds(1), std::chrono::seconds(0), [&](std::string*) {
    ++runs;
    return true;
  }), "");
  s.start();
  EXPECT_TRUE(test::eventually([&] { return runs >= 2; }, std::chrono::seconds(5)));
  s.stop();
}

TEST(Scheduler, RunsOfOneJobNeverOverlap) {
  Scheduler s(2);
  std::atomic<int> inside{0}, max_inside{0}, runs{0};
  s.schedule("org.t", "slow", std::chrono::seconds(1), std::chrono::seconds(0), [&](std::string*) {
    int now = ++inside;
    max_inside = std::max(max_inside.load(), now);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    --inside;
    ++runs;
    return true;
  });
  s.start();
  for (int i = 0; i < 5; ++i) s.trigger("org.t", "slow");
  EXPECT_TRUE(test::eventually([&] { return runs >= 2; }, std::chrono::seconds(5)));
  EXPECT_EQ(max_inside.load(), 1);
  s.stop();
}

TEST(Scheduler, AFailureIsRecordedAndTheJobRunsAgain) {
  Scheduler s(1);
  std::atomic<int> runs{0};
  s.schedule("org.t", "flaky", std::chrono::seconds(1), std::chrono::seconds(0), [&](std::string* error) {
    ++runs;
    *error = "peer unreachable";
    return false;
  });
  s.start();
  EXPECT_TRUE(test::eventually([&] { return runs >= 2; }, std::chrono::seconds(5)));
  s.stop();
  auto jobs = s.jobs();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_GE(jobs[0].failures, 2u);
  EXPECT_EQ(jobs[0].last_error, "peer unreachable");
}

TEST(Scheduler, RemoveOwnerWaitsForTheRunningJob) {
  Scheduler s(1);
  std::atomic<bool> started{false}, finished{false};
  s.schedule("org.t", "long", std::chrono::seconds(60), std::chrono::seconds(0), [&](std::string*) {
    started = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    finished = true;
    return true;
  });
  s.start();
  ASSERT_TRUE(test::eventually([&] { return started.load(); }));
  s.remove_owner("org.t");
  EXPECT_TRUE(finished) << "remove_owner returned while the job was still running";
  EXPECT_TRUE(s.jobs().empty());
  s.stop();
}

TEST(Scheduler, RefusesDuplicatesAndZeroIntervals) {
  Scheduler s(1);
  auto fn = [](std::string*) { return true; };
  EXPECT_EQ(s.schedule("org.t", "a", std::chrono::seconds(5), std::chrono::seconds(0), fn), "");
  EXPECT_NE(s.schedule("org.t", "a", std::chrono::seconds(5), std::chrono::seconds(0), fn), "");
  EXPECT_EQ(s.schedule("org.u", "a", std::chrono::seconds(5), std::chrono::seconds(0), fn), "");
  EXPECT_NE(s.schedule("org.t", "b", std::chrono::seconds(0), std::chrono::seconds(0), fn), "");
}

TEST(Scheduler, ACalendarTimeMissedWhileTheHostWasDownRunsOnceWhenScheduledAgain) {
  test::TempDir dir;
  std::string clock = dir.str() + "/now", record = dir.str() + "/calendar-jobs.tsv";
  calendar::CalendarConfig config;
  config.time_zone = "Asia/Shanghai";
  config.test_clock_file = clock;
  calendar::CompanyCalendar company(config);
  calendar::Schedule first_of_month{calendar::Schedule::Kind::kMonthlyDay, 1, std::chrono::hours{1}};
  std::atomic<int> runs{0};
  auto run_for_a_while = [&] {
    Scheduler s(1);
    s.set_calendar(&company);
    s.set_run_record(record);
    ASSERT_EQ(s.schedule_calendar("org.t", "statements", first_of_month, [&](std::string*) {
      ++runs;
      return true;
    }), "");
    s.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(1300));
    s.stop();
  };
  std::ofstream(clock) << "2026-01-15T12:00:00+08:00";
  run_for_a_while();
  EXPECT_EQ(runs.load(), 0);
  std::ofstream(clock) << "2026-02-10T12:00:00+08:00";  // 1 February 01:00 passed while it was down
  run_for_a_while();
  EXPECT_EQ(runs.load(), 1) << "made up once";
  run_for_a_while();
  EXPECT_EQ(runs.load(), 1) << "the make-up run was recorded";
  std::ofstream(clock) << "2026-04-02T12:00:00+08:00";  // 1 March and 1 April passed
  run_for_a_while();
  EXPECT_EQ(runs.load(), 2) << "once, however many times passed";
}

TEST(Scheduler, AJobFirstScheduledAfterItsTimeDoesNotRunForTheTimeBeforeIt) {
  test::TempDir dir;
  std::string clock = dir.str() + "/now";
  calendar::CalendarConfig config;
  config.test_clock_file = clock;
  calendar::CompanyCalendar company(config);
  std::ofstream(clock) << "2026-02-10T12:00:00Z";
  Scheduler s(1);
  s.set_calendar(&company);
  s.set_run_record(dir.str() + "/calendar-jobs.tsv");
  std::atomic<int> runs{0};
  ASSERT_EQ(s.schedule_calendar("org.t", "new", {calendar::Schedule::Kind::kMonthlyDay, 1, std::chrono::hours{1}},
                                [&](std::string*) { return ++runs > 0; }), "");
  s.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  s.stop();
  EXPECT_EQ(runs.load(), 0);
}

TEST(Scheduler, ACalendarJobFollowsTheClockSetBack) {
  test::TempDir dir;
  std::string clock = dir.str() + "/now";
  calendar::CalendarConfig config;
  config.test_clock_file = clock;
  calendar::CompanyCalendar company(config);
  std::ofstream(clock) << "2026-12-02T12:00:00Z";
  Scheduler s(1);
  s.set_calendar(&company);
  std::atomic<int> runs{0};
  ASSERT_EQ(s.schedule_calendar("org.t", "first", {calendar::Schedule::Kind::kMonthlyDay, 1, std::chrono::hours{1}},
                                [&](std::string*) { return ++runs > 0; }), "");
  s.start();
  std::ofstream(clock) << "2026-10-01T00:59:59Z";  // set back: the next time is 1 October 01:00 again
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  EXPECT_EQ(runs.load(), 0);
  std::ofstream(clock) << "2026-10-01T01:00:00Z";
  EXPECT_TRUE(test::eventually([&] { return runs.load() == 1; }, std::chrono::seconds(5)));
  s.stop();
}

}  // namespace
}  // namespace annex::jobs
