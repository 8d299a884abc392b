#include "jobs/scheduler.h"

#include "log/logging.h"

#include <annex/calendar.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace annex::jobs {

Scheduler::Scheduler(int workers) : worker_count_(std::max(1, workers)) {}

Scheduler::~Scheduler() { stop(); }

std::string Scheduler::schedule(const std::string& owner, const std::string& name, std::chrono::seconds interval,
                                std::chrono::seconds initial_delay, JobFn fn) {
  if (interval.count() < 1) return "job " + name + ": the interval must be at least 1 second";
  auto job = std::make_shared<Job>();
  job->owner = owner;
  job->name = name;
  job->interval = interval;
  job->fn = std::move(fn);
  job->next_run = std::chrono::steady_clock::now() + initial_delay;
  return add(std::move(job));
}

void Scheduler::set_calendar(const calendar::CompanyCalendar* calendar) {
  std::lock_guard lock(mutex_);
  calendar_ = calendar;
}

std::string Scheduler::schedule_calendar(const std::string& owner, const std::string& name,
                                         const calendar::Schedule& when, JobFn fn) {
  std::string problem = when.problem();
  if (!problem.empty()) return "job " + name + ": " + problem;
  auto job = std::make_shared<Job>();
  job->owner = owner;
  job->name = name;
  job->interval = std::chrono::seconds{0};
  job->when = when;
  job->fn = std::move(fn);
  job->next_run = std::chrono::steady_clock::time_point::max();
  {
    std::lock_guard lock(mutex_);
    if (calendar_ == nullptr) return "job " + name + ": this host keeps no company calendar for calendar jobs";
    calendar::Instant now = calendar_->now();
    job->due = calendar_->next_due(when, now);
    job->due_from = now;
    if (!record_path_.empty()) {
      auto [last, first_time] = last_runs_.emplace(owner + "\t" + name, now);
      std::optional<calendar::Instant> missed = calendar_->previous_due(when, now);
      if (!first_time && missed && *missed > last->second) {
        spdlog::info("job {} of {} missed its time {} while the host was not running: it runs now", name, owner,
                     calendar::format_instant(*missed));
        job->due = now;
      }
      if (first_time) save_run_record();
    }
  }
  return add(std::move(job));
}

void Scheduler::set_run_record(std::string path) {
  std::lock_guard lock(mutex_);
  record_path_ = std::move(path);
  last_runs_.clear();
  std::ifstream in(record_path_);
  std::string line;
  // One line per job: owner, name and the instant of its last run, tab-separated.
  while (std::getline(in, line)) {
    size_t tab = line.rfind('\t');
    if (tab == std::string::npos || line.find('\t') == tab) continue;
    if (auto at = calendar::parse_instant(line.substr(tab + 1))) last_runs_[line.substr(0, tab)] = *at;
  }
}

void Scheduler::save_run_record() {
  if (record_path_.empty()) return;
  std::string temporary = record_path_ + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    for (const auto& [job, at] : last_runs_) out << job << '\t' << calendar::format_instant(at) << '\n';
    if (!out) {
      spdlog::warn("cannot write the calendar jobs' last runs to {}", temporary);
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, record_path_, ec);
  if (ec) spdlog::warn("cannot write the calendar jobs' last runs to {}: {}", record_path_, ec.message());
}

std::string Scheduler::add(std::shared_ptr<Job> job) {
  if (job->name.empty()) return "a job needs a name";
  std::lock_guard lock(mutex_);
  for (const auto& j : jobs_) {
    if (j->owner == job->owner && j->name == job->name) return "job " + job->name + " is already scheduled by " + job->owner;
  }
  jobs_.push_back(std::move(job));
  wake_.notify_all();
  return {};
}

bool Scheduler::trigger(const std::string& owner, const std::string& name) {
  std::lock_guard lock(mutex_);
  for (auto& j : jobs_) {
    if (j->owner == owner && j->name == name) {
      j->next_run = std::chrono::steady_clock::now();
      wake_.notify_all();
      return true;
    }
  }
  return false;
}

void Scheduler::remove_owner(const std::string& owner) {
  std::unique_lock lock(mutex_);
  std::vector<std::shared_ptr<Job>> removed;
  for (auto& j : jobs_) {
    if (j->owner == owner) {
      j->removed = true;
      removed.push_back(j);
    }
  }
  jobs_.erase(std::remove_if(jobs_.begin(), jobs_.end(), [&](auto& j) { return j->owner == owner; }), jobs_.end());
  queue_.erase(std::remove_if(queue_.begin(), queue_.end(), [&](auto& j) { return j->owner == owner; }), queue_.end());
  // Wait for runs already in progress: the job's code belongs to a plugin that is about to stop.
  finished_.wait(lock, [&] {
    return std::none_of(removed.begin(), removed.end(), [](auto& j) { return j->running; });
  });
}

void Scheduler::start() {
  std::lock_guard lock(mutex_);
  if (running_) return;
  running_ = true;
  ticker_ = std::thread([this] { tick_loop(); });
  for (int i = 0; i < worker_count_; ++i) workers_.emplace_back([this] { worker_loop(); });
}

void Scheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!running_) return;
    running_ = false;
  }
  wake_.notify_all();
  work_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  for (auto& w : workers_) w.join();
  workers_.clear();
}

std::vector<Scheduler::JobInfo> Scheduler::jobs() const {
  std::lock_guard lock(mutex_);
  std::vector<JobInfo> out;
  for (const auto& j : jobs_) out.push_back({j->owner, j->name, j->runs, j->failures, j->last_error});
  return out;
}

void Scheduler::tick_loop() {
  std::unique_lock lock(mutex_);
  while (running_) {
    auto now = std::chrono::steady_clock::now();
    // Calendar jobs are due by the host clock, which a test may move at any moment: look at it every second.
    auto next = now + std::chrono::seconds(1);
    std::optional<calendar::Instant> host_now;
    for (auto& j : jobs_) {
      if (j->running || j->queued) continue;
      bool due = j->next_run <= now;
      if (j->when && !due) {
        if (!host_now) host_now = calendar_->now();
        // A clock set back (a test rewinding it) brings the job's next time back with it.
        if (*host_now < j->due_from) {
          j->due = calendar_->next_due(*j->when, *host_now);
          j->due_from = *host_now;
        }
        due = *host_now >= j->due;
      }
      if (due) {
        j->queued = true;
        queue_.push_back(j);
        work_.notify_one();
      } else {
        next = std::min(next, j->next_run);
      }
    }
    wake_.wait_until(lock, next);
  }
}

void Scheduler::worker_loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    work_.wait(lock, [this] { return !running_ || !queue_.empty(); });
    if (!running_) return;
    std::shared_ptr<Job> job = queue_.front();
    queue_.pop_front();
    job->queued = false;
    job->running = true;
    lock.unlock();
    std::string error;
    bool ok = false;
    {
      log::RequestScope scope("job:" + job->name);
      try {
        ok = job->fn(&error);
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    lock.lock();
    job->running = false;
    ++job->runs;
    if (!ok) {
      ++job->failures;
      job->last_error = error;
      spdlog::warn("job {} of {} failed: {}", job->name, job->owner, error);
    }
    if (job->when) {
      // The next time after both this one and now: a clock moved past several times runs the job once.
      job->next_run = std::chrono::steady_clock::time_point::max();
      calendar::Instant now = calendar_->now();
      if (now >= job->due) {
        job->due = calendar_->next_due(*job->when, now);
        job->due_from = now;
      }
      if (!record_path_.empty() && !job->removed) {
        last_runs_[job->owner + "\t" + job->name] = now;
        save_run_record();
      }
    } else {
      job->next_run = std::chrono::steady_clock::now() + job->interval;
    }
    finished_.notify_all();
    wake_.notify_all();
  }
}

}  // namespace annex::jobs
