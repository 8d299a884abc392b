#include "jobs/scheduler.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <atomic>

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

}  // namespace
}  // namespace annex::jobs
