// Scheduler — recurring jobs that plugins register. Each job runs every `interval` counted from the end of its
// previous run, or at the times of a calendar schedule (company time zone, host clock), never overlapping itself,
// on a small pool of worker threads so a slow job does not delay others.
#pragma once

#include "calendar/company_calendar.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace annex::cluster {
class Leases;
}

namespace annex::jobs {

// Returns true on success; false with *error to log a failed run.
using JobFn = std::function<bool(std::string* error)>;

class Scheduler {
 public:
  explicit Scheduler(int workers = 2);
  ~Scheduler();

  // Registers a job. Returns "" or why it was refused (duplicate name, zero interval).
  std::string schedule(const std::string& owner, const std::string& name, std::chrono::seconds interval,
                       std::chrono::seconds initial_delay, JobFn fn);
  // The calendar (and its clock) calendar jobs follow; set it before scheduling one. It must outlive the scheduler.
  void set_calendar(const calendar::CompanyCalendar* calendar);
  // Registers a calendar job: it runs at the first time of `when` on the host clock after now, then at each next
  // time (once, however many times a moved clock skips). Returns "" or why it was refused.
  std::string schedule_calendar(const std::string& owner, const std::string& name, const calendar::Schedule& when,
                                JobFn fn);
  // Keeps calendar jobs' last runs in the file `path` between starts, so that a job whose time passed while the
  // host was not running (after its last run, or after it was first scheduled) runs once as soon as it is
  // scheduled again. Call it before scheduling calendar jobs; without it a missed time is not made up.
  void set_run_record(std::string path);
  // Runs `owner`'s job `name` as soon as a worker is free, unless it is running. False when no such job.
  bool trigger(const std::string& owner, const std::string& name);
  // Shares the jobs with every scheduler on the same database (several daemons on one PostgreSQL): each tick
  // of a job then runs once among them. An interval job's next time is kept in the database (lease
  // "job-due:OWNER/NAME", held until then), a calendar job's time is claimed once ("job:OWNER/NAME@TIME"), and
  // a running job holds "job:OWNER/NAME", renewed while it runs. Each scheduler looks at its interval jobs at
  // least every kSharedLook: a daemon killed mid-run, or one that took a trigger and died, leaves the job to
  // another once the leases have expired. A trigger makes the job due for all of them. Call before scheduling.
  static constexpr std::chrono::seconds kSharedLook{15};
  void share(cluster::Leases* leases);
  // Removes `owner`'s jobs, waiting for their running instances to finish.
  void remove_owner(const std::string& owner);

  void start();
  void stop();

  struct JobInfo {
    std::string owner, name;
    uint64_t runs = 0, failures = 0;
    std::string last_error;
  };
  std::vector<JobInfo> jobs() const;

 private:
  struct Job {
    std::string owner, name;
    std::chrono::seconds interval;
    JobFn fn;
    std::chrono::steady_clock::time_point next_run;  // interval jobs; a calendar job: only when triggered
    std::optional<calendar::Schedule> when;           // a calendar job
    calendar::Instant due{};                           // its next time on the host clock
    calendar::Instant due_from{};                      // the host clock when `due` was worked out
    std::string claimed;  // shared: the calendar time's lease this run claimed
    bool running = false;
    bool queued = false;
    bool removed = false;
    uint64_t runs = 0, failures = 0;
    std::string last_error;
  };

  std::string add(std::shared_ptr<Job> job);
  void tick_loop();
  void worker_loop();

  mutable std::mutex mutex_;
  std::condition_variable wake_;       // the ticker: a job is due or the schedule changed
  std::condition_variable work_;       // the workers: the queue has a job
  std::condition_variable finished_;   // a run ended (for remove_owner)
  void save_run_record();  // with mutex_ held

  // Whether this daemon runs the tick of `job` that is due (always, unless shared); with how long to wait when not.
  bool claim_tick(Job& job, std::optional<std::chrono::milliseconds>* wait);

  const calendar::CompanyCalendar* calendar_ = nullptr;
  cluster::Leases* leases_ = nullptr;
  std::string record_path_;
  std::map<std::string, calendar::Instant> last_runs_;  // "owner\tname" → the end of its last run (host clock)
  std::vector<std::shared_ptr<Job>> jobs_;
  std::deque<std::shared_ptr<Job>> queue_;
  int worker_count_;
  bool running_ = false;
  std::thread ticker_;
  std::vector<std::thread> workers_;
};

}  // namespace annex::jobs
