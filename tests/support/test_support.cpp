#include "support/test_support.h"

#include "store/core_schema.h"
#include "store/migrations.h"
#include "store/sql.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace annex::test {
namespace {

std::string random_suffix() {
  static std::mt19937_64 rng{std::random_device{}()};
  static std::mutex m;
  std::lock_guard lock(m);
  std::ostringstream s;
  s << std::hex << rng();
  return s.str();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Spawns `program` with `args`, stdout and stderr appended to the given files. Returns the pid.
int spawn(const std::string& program, const std::vector<std::string>& args, const std::string& out_file,
          const std::string& err_file, const std::map<std::string, std::string>& env,
          const std::string& in_file = "/dev/null") {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in_file.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<std::string> argv_store{program};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    if (!env.count(name)) env_store.push_back(entry);
  }
  for (const auto& [k, v] : env) env_store.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + program + ": " + std::strerror(rc));
  return pid;
}

}  // namespace

TempDir::TempDir() {
  path_ = std::filesystem::temp_directory_path() / ("annex-test-" + random_suffix());
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string backend_name(Backend b) { return b == Backend::kSqlite ? "SQLite" : "PostgreSQL"; }

std::string backend_param_name(const testing::TestParamInfo<Backend>& info) { return backend_name(info.param); }

std::string postgres_url() {
  const char* file = std::getenv("ANNEX_TEST_PG_URL_FILE");
  std::string url;
  if (file != nullptr) {
    url = read_file(file);
    while (!url.empty() && (url.back() == '\n' || url.back() == ' ')) url.pop_back();
  }
  if (url.empty()) {
    const char* require = std::getenv("ANNEX_REQUIRE_PG");
    if (require != nullptr && std::string(require) == "1") {
      ADD_FAILURE() << "PostgreSQL is required (ANNEX_REQUIRE_PG=1) but ANNEX_TEST_PG_URL_FILE names no URL";
    }
  }
  return url;
}

bool fresh_database(Backend backend, const TempDir& dir, store::DatabaseOptions* out) {
  out->pool_size = 4;
  if (backend == Backend::kSqlite) {
    out->dialect = store::Dialect::kSqlite;
    out->target = (dir.path() / ("db-" + random_suffix() + ".sqlite")).string();
    return true;
  }
  std::string url = postgres_url();
  if (url.empty()) return false;
  std::string schema = "t_" + random_suffix();
  {
    soci::session admin(*soci::factory_postgresql(), store::to_keyword_conninfo(url));
    admin << "CREATE SCHEMA " + schema;
  }
  out->dialect = store::Dialect::kPostgresql;
  out->target = url + (url.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema;
  return true;
}

std::unique_ptr<store::Database> migrated_database(Backend backend, const TempDir& dir) {
  store::DatabaseOptions options;
  if (!fresh_database(backend, dir, &options)) return nullptr;
  auto db = std::make_unique<store::Database>(options);
  store::MigrationRunner runner(*db);
  runner.prepare();
  runner.apply(store::kCoreOwner, store::core_migrations(db->dialect()));
  return db;
}

std::string build_path(const std::string& relative) { return std::string(ANNEX_BUILD_DIR) + "/" + relative; }

std::string HttpResult::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string{} : it->second;
}

std::string fixture_dir(const TempDir& dir, const std::vector<std::string>& names) {
  auto d = dir.path() / "fixtures";
  std::filesystem::create_directories(d);
  for (const auto& n : names) {
    std::filesystem::create_symlink(std::string(ANNEX_FIXTURE_PLUGIN_DIR) + "/" + n + ".so", d / (n + ".so"));
  }
  return d.string();
}

HttpResult http_call(const std::string& base_url, const std::string& method, const std::string& path,
                     const std::string& body, const std::map<std::string, std::string>& headers,
                     const std::string& ca_file) {
  Poco::URI uri(base_url);
  std::unique_ptr<Poco::Net::HTTPClientSession> session;
  if (uri.getScheme() == "https") {
    static std::once_flag once;
    std::call_once(once, [] { Poco::Net::initializeSSL(); });
    Poco::Net::Context::Params params;
    params.caLocation = ca_file;
    params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    params.loadDefaultCAs = false;
    Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), context);
  } else {
    session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
  }
  session->setTimeout(Poco::Timespan(30, 0));
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  bool has_type = false;
  for (const auto& [k, v] : headers) {
    request.set(k, v);
    has_type |= Poco::icompare(k, "Content-Type") == 0;
  }
  if (!body.empty() && !has_type) request.setContentType("application/json");
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") request.setContentLength(body.size());
  session->sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  std::istream& in = session->receiveResponse(response);
  HttpResult result;
  result.status = response.getStatus();
  for (const auto& [k, v] : response) result.headers[Poco::toLower(k)] = v;
  Poco::StreamCopier::copyToString(in, result.body);
  return result;
}

Annexd::Annexd(Options options) {
  if (options.data_dir.empty()) {
    owned_dir_ = std::make_unique<TempDir>();
    data_dir_ = owned_dir_->str();
  } else {
    data_dir_ = options.data_dir;
  }
  std::filesystem::create_directories(data_dir_);
  log_file_ = data_dir_ + "/annexd.stderr";
  std::string out_file = data_dir_ + "/annexd.stdout";
  std::filesystem::remove(out_file);
  store_args_ = {"--data-dir", data_dir_};
  env_ = options.env;  // annexctl sees the daemon's configuration
  for (size_t i = 0; i + 1 < options.args.size(); ++i) {
    if (options.args[i] == "--database-url") store_args_ = {"--data-dir", data_dir_, "--database-url", options.args[i + 1]};
  }
  if (options.bootstrap_admin) admin_token_ = user_with_role("admin", "system-admin", "hq");
  std::vector<std::string> args = {"--data-dir", data_dir_, "--listen", "127.0.0.1:0"};
  if (options.plugin_dirs.empty()) options.plugin_dirs.push_back(build_path("lib/annex/plugins"));
  for (const auto& d : options.plugin_dirs) {
    args.push_back("--plugin-dir");
    args.push_back(d);
  }
  args.insert(args.end(), options.args.begin(), options.args.end());
  pid_ = spawn(build_path("bin/annexd"), args, out_file, log_file_, options.env);
  running_ = true;
  const std::string marker = "annexd listening on ";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string out = read_file(out_file);
    if (auto pos = out.find(marker); pos != std::string::npos && out.find('\n', pos) != std::string::npos) {
      base_url_ = out.substr(pos + marker.size(), out.find('\n', pos) - pos - marker.size());
      return;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      running_ = false;
      if (options.expect_start) ADD_FAILURE() << "annexd exited before listening; its log:\n" << log();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "annexd did not report listening within 30 s; its log:\n" << log();
}

Annexd::~Annexd() {
  if (running_) terminate();
}

HttpResult Annexd::call(const std::string& method, const std::string& path, const std::string& body,
                        const std::map<std::string, std::string>& headers) const {
  std::map<std::string, std::string> with_auth = headers;
  if (!admin_token_.empty() && !with_auth.count("Authorization")) with_auth["Authorization"] = "Bearer " + admin_token_;
  return http_call(base_url_, method, path, body, with_auth, ca_file);
}

HttpResult Annexd::anonymous(const std::string& method, const std::string& path, const std::string& body) const {
  return http_call(base_url_, method, path, body, {}, ca_file);
}

HttpResult Annexd::call_as(const std::string& token, const std::string& method, const std::string& path,
                           const std::string& body) const {
  return http_call(base_url_, method, path, body, {{"Authorization", "Bearer " + token}}, ca_file);
}

int Annexd::annexctl(const std::vector<std::string>& args, std::string* output, const std::string& stdin_text) const {
  std::vector<std::string> all = store_args_;
  all.insert(all.end(), args.begin(), args.end());
  return run_program(build_path("bin/annexctl"), all, output, env_, stdin_text);
}

std::unique_ptr<store::Database> Annexd::open_store() const {
  store::DatabaseOptions options;
  options.pool_size = 1;
  if (store_args_.size() == 4) {
    options.dialect = store::Dialect::kPostgresql;
    options.target = store_args_[3];
  } else {
    options.dialect = store::Dialect::kSqlite;
    options.target = data_dir_ + "/annex.db";
  }
  return std::make_unique<store::Database>(options);
}

void Annexd::sql(const std::string& statement) const {
  auto db = open_store();
  store::Lease lease(*db);
  store::run(lease.session(), statement, {});
}

std::string Annexd::user_with_role(const std::string& login, const std::string& role, const std::string& sector) const {
  std::string out;
  std::vector<std::string> create = {"user", "create", login, "--role", role};
  if (!sector.empty()) create.insert(create.end(), {"--sector", sector});
  if (annexctl(create, &out) != 0 && out.find("is taken") == std::string::npos) {
    ADD_FAILURE() << "annexctl user create failed: " << out;
    return {};
  }
  if (annexctl({"token", "create", login}, &out) != 0) {
    ADD_FAILURE() << "annexctl token create failed: " << out;
    return {};
  }
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("annex_pat_", 0) == 0) return line;
  }
  ADD_FAILURE() << "no token in annexctl output: " << out;
  return {};
}

void Annexd::kill_hard() {
  if (!running_) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  running_ = false;
}

void Annexd::signal(int sig) const {
  if (running_) ::kill(pid_, sig);
}

int Annexd::terminate(std::chrono::seconds timeout) {
  if (!running_) return -1;
  ::kill(pid_, SIGTERM);
  return wait_exit(timeout);
}

int Annexd::wait_exit(std::chrono::seconds timeout) {
  if (!running_) return -1;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      running_ = false;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  running_ = false;
  ADD_FAILURE() << "annexd did not stop within " << timeout.count() << " s of SIGTERM";
  return -1;
}

std::string Annexd::log() const { return read_file(log_file_); }

int run_program(const std::string& program, const std::vector<std::string>& args, std::string* output,
                const std::map<std::string, std::string>& env, const std::string& stdin_text) {
  TempDir dir;
  std::string out = dir.str() + "/out";
  std::string in = dir.str() + "/in";
  std::ofstream(in) << stdin_text;
  int pid = spawn(program, args, out, out, env, in);
  int status = 0;
  waitpid(pid, &status, 0);
  if (output != nullptr) *output = read_file(out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

}  // namespace annex::test
