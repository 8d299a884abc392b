#include "jobs/scheduler.h"

#include "cluster/leases.h"
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
  cluster::Leases* leases = nullptr;
  {
    std::lock_guard lock(mutex_);
    leases = leases_;
  }
  if (leases != nullptr) {
    // First due after its initial delay among the daemons, unless one of them has run it before.
    job->next_run = std::chrono::steady_clock::now() + std::min<std::chrono::seconds>(initial_delay, kSharedLook);
    try {
      leases->seed("job-due:" + owner + "/" + name, initial_delay);
    } catch (const std::exception& e) {
      spdlog::warn("job {} of {}: its first time could not be shared with the other daemons: {}", name, owner, e.what());
    }
  }
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

namespace {

// A running job's lease: renewed every third of it while the job runs, taken over this long after a daemon died.
constexpr std::chrono::milliseconds kRunningLease{30000};
// A calendar job's time, once claimed, stays claimed longer than the longest schedule (a month), so that a daemon
// that starts late never makes up a time another one ran.
constexpr std::chrono::milliseconds kTimeClaim{std::chrono::hours(24 * 35)};

}  // namespace

void Scheduler::share(cluster::Leases* leases) {
  std::lock_guard lock(mutex_);
  leases_ = leases;
}

bool Scheduler::trigger(const std::string& owner, const std::string& name) {
  cluster::Leases* leases = nullptr;
  bool interval_job = false;
  {
    std::lock_guard lock(mutex_);
    auto it = std::find_if(jobs_.begin(), jobs_.end(), [&](auto& j) { return j->owner == owner && j->name == name; });
    if (it == jobs_.end()) return false;
    leases = leases_;
    interval_job = !(*it)->when;
  }
  // Due now for every daemon sharing the jobs, whichever takes it first.
  if (leases != nullptr && interval_job) {
    try {
      leases->expire("job-due:" + owner + "/" + name);
    } catch (const std::exception& e) {
      spdlog::warn("job {} of {}: could not be made due for the other daemons: {}", name, owner, e.what());
    }
  }
  std::lock_guard lock(mutex_);
  for (auto& j : jobs_) {
    if (j->owner == owner && j->name == name) {
      j->next_run = std::chrono::steady_clock::now();
      wake_.notify_all();
    }
  }
  return true;
}

bool Scheduler::claim_tick(Job& job, std::optional<std::chrono::milliseconds>* wait) {
  const std::string key = job.owner + "/" + job.name;
  std::chrono::milliseconds left{0};
  if (job.when) {
    // Triggered before its time: a run asked for, not the time's.
    if (calendar_->now() < job.due) return true;
    // This time of the calendar job, once among the daemons.
    job.claimed = "job:" + key + "@" + calendar::format_instant(job.due);
    return leases_->take(job.claimed, kTimeClaim);
  }
  // Held while it runs (its end holds it for the interval); a daemon killed mid-run lets it go soon.
  if (!leases_->take("job-due:" + key, kRunningLease, &left)) {
    *wait = left;  // another daemon ran it: due again when its lease ends
    return false;
  }
  return true;
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
    cluster::Leases* leases = leases_;
    lock.unlock();
    std::string error;
    bool ok = false;
    bool ran = true;
    std::optional<std::chrono::milliseconds> wait;  // a tick another daemon runs: when to look again
    std::optional<cluster::HeldLease> running;       // given back only once the next time is kept
    {
      log::RequestScope scope("job:" + job->name);
      try {
        if (leases != nullptr) {
          running.emplace(*leases, "job:" + job->owner + "/" + job->name, kRunningLease);
          ran = running->held() && claim_tick(*job, &wait);
          if (!running->held()) wait = running->left();
        }
        if (ran) ok = job->fn(&error);
      } catch (const std::exception& e) {
        error = e.what();  // the job's, or the database's that could not say whose tick it is: a failed run
      }
    }
    // An interval job is due again its interval after this run's end, for every daemon; a calendar time, once
    // run, stays claimed. Both as times held by no process, so that a restart of this daemon frees neither.
    if (ran && leases != nullptr) {
      try {
        if (!job->when) {
          leases->settle("job-due:" + job->owner + "/" + job->name, std::chrono::duration_cast<std::chrono::milliseconds>(job->interval));
        } else if (!job->claimed.empty()) {
          leases->settle(job->claimed, kTimeClaim);
        }
      } catch (const std::exception& e) {
        spdlog::warn("job {} of {}: its next time could not be kept for the other daemons: {}", job->name, job->owner, e.what());
      }
    }
    job->claimed.clear();
    running.reset();
    lock.lock();
    job->running = false;
    if (!ran) {
      if (!job->when) {
        auto again = std::clamp(wait.value_or(std::chrono::milliseconds(1000)), std::chrono::milliseconds(50),
                                std::chrono::duration_cast<std::chrono::milliseconds>(std::min<std::chrono::seconds>(job->interval, kSharedLook)));
        job->next_run = std::chrono::steady_clock::now() + again;
      } else {
        job->next_run = std::chrono::steady_clock::time_point::max();
        calendar::Instant now = calendar_->now();
        if (now >= job->due) {
          job->due = calendar_->next_due(*job->when, now);
          job->due_from = now;
        }
      }
      finished_.notify_all();
      wake_.notify_all();
      continue;
    }
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
      // Shared, it looks again sooner: the database says when it is next due (a trigger elsewhere, a daemon gone).
      job->next_run = std::chrono::steady_clock::now() + (leases != nullptr ? std::min<std::chrono::seconds>(job->interval, kSharedLook) : job->interval);
    }
    finished_.notify_all();
    wake_.notify_all();
  }
}

}  // namespace annex::jobs
