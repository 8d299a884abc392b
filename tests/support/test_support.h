// Helpers the tests share: temporary directories, the databases under test (SQLite and a real PostgreSQL),
// a spawned annexd, and a small HTTP client.
#pragma once

#include "store/database.h"
#include "test_paths.h"

#include <gtest/gtest.h>

#include <functional>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace annex::test {

// A directory removed when the object goes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

enum class Backend { kSqlite, kPostgresql };
std::string backend_name(Backend b);
// For INSTANTIATE_TEST_SUITE_P name generators.
std::string backend_param_name(const testing::TestParamInfo<Backend>& info);

// The PostgreSQL the test fixture started (tests/support/pg_up.sh), as a libpq URI; "" when none.
// When ANNEX_REQUIRE_PG=1 and none is available, fails the calling test instead of letting it skip.
std::string postgres_url();

// Options for a fresh, empty database of `backend`: a new SQLite file in `dir`, or a new PostgreSQL schema
// (selected through the connection's search_path). Returns false when PostgreSQL is unavailable.
bool fresh_database(Backend backend, const TempDir& dir, store::DatabaseOptions* out);

// A fresh database of `backend` with the core's migrations applied; nullptr when PostgreSQL is unavailable.
std::unique_ptr<store::Database> migrated_database(Backend backend, const TempDir& dir);

// Path of a built binary or plugin directory, from the build tree.
std::string build_path(const std::string& relative);
// A PostgreSQL address taken apart (postgresql://USER@HOST:PORT/DB), as libpq and psqlODBC take it.
struct PgAddress {
  std::string user, host, port, db;
  static PgAddress parse(const std::string& url) {  // postgresql://USER@HOST:PORT/DB
    std::string rest = url.substr(url.find("://") + 3);
    PgAddress a;
    a.user = rest.substr(0, rest.find('@'));
    rest = rest.substr(rest.find('@') + 1);
    a.host = rest.substr(0, rest.find(':'));
    a.port = rest.substr(rest.find(':') + 1, rest.find('/') - rest.find(':') - 1);
    a.db = rest.substr(rest.find('/') + 1);
    return a;
  }
  std::string libpq() const { return "host=" + host + " port=" + port + " dbname=" + db + " user=" + user; }
  std::string odbc(const std::string& schema) const {
    return "DRIVER={PostgreSQL Unicode};SERVER=" + host + ";PORT=" + port + ";DATABASE=" + db + ";UID=" + user +
           ";ConnSettings=SET search_path TO " + schema + ";UseDeclareFetch=1;Fetch=1000";
  }
};
// A plugin directory under `dir` with links to the named fixture modules (tests/fixtures/plugins).
std::string fixture_dir(const TempDir& dir, const std::vector<std::string>& names);

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& lower_name) const;
};

// A minimal HTTP(S) client. `ca_file` set → HTTPS, verifying the server against that CA.
HttpResult http_call(const std::string& base_url, const std::string& method, const std::string& path,
                     const std::string& body = "", const std::map<std::string, std::string>& headers = {},
                     const std::string& ca_file = "");

// annexd as a child process on a free port, stopped (SIGTERM) when destroyed.
class Annexd {
 public:
  struct Options {
    std::vector<std::string> args;           // extra flags
    std::vector<std::string> plugin_dirs;    // default: the build tree's plugin directory
    std::map<std::string, std::string> env;  // extra environment
    std::string data_dir;                    // default: a fresh temporary directory
    bool expect_start = true;
    bool bootstrap_admin = true;             // create user "admin" (system-admin) and a token for it first
  };
  explicit Annexd(Options options);
  ~Annexd();

  const std::string& base_url() const { return base_url_; }
  const std::string& data_dir() const { return data_dir_; }
  // Calls as the bootstrap admin (unless `headers` has its own Authorization).
  HttpResult call(const std::string& method, const std::string& path, const std::string& body = "",
                  const std::map<std::string, std::string>& headers = {}) const;
  // Calls without credentials.
  HttpResult anonymous(const std::string& method, const std::string& path, const std::string& body = "") const;
  // Calls with `token` as the bearer.
  HttpResult call_as(const std::string& token, const std::string& method, const std::string& path,
                     const std::string& body = "") const;
  // Runs annexctl against this daemon's store; returns its exit code, output in *output.
  int annexctl(const std::vector<std::string>& args, std::string* output, const std::string& stdin_text = "") const;
  // Creates a user with `role` (in `sector`, or all) and returns a fresh API token for it.
  std::string user_with_role(const std::string& login, const std::string& role, const std::string& sector = "") const;
  const std::string& admin_token() const { return admin_token_; }
  // The daemon's store, opened directly (as someone with database access would), for setting up or tampering.
  std::unique_ptr<store::Database> open_store() const;
  // Runs one statement on the daemon's store.
  void sql(const std::string& statement) const;
  // Kills the process with SIGKILL, as a crash would, and waits for it.
  void kill_hard();
  // Sends `sig` without waiting (terminate() waits).
  void signal(int sig) const;
  // Waits for the process to end by itself; its exit code, or -1 (and it is killed) after `timeout`.
  int wait_exit(std::chrono::seconds timeout);
  // Sends SIGTERM and waits; returns the exit code.
  int terminate(std::chrono::seconds timeout = std::chrono::seconds(20));
  // Everything annexd wrote to stderr so far (its log).
  std::string log() const;
  std::string ca_file;  // for HTTPS daemons

 private:
  std::unique_ptr<TempDir> owned_dir_;
  std::string data_dir_;
  std::string base_url_;
  std::string log_file_;
  std::vector<std::string> store_args_;  // --data-dir / --database-url, for annexctl
  std::map<std::string, std::string> env_;
  std::string admin_token_;
  int pid_ = -1;
  bool running_ = false;
};

// Runs a program to completion; returns its exit code and fills *output with stdout and stderr.
int run_program(const std::string& program, const std::vector<std::string>& args, std::string* output,
                const std::map<std::string, std::string>& env = {}, const std::string& stdin_text = "");

// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace annex::test
