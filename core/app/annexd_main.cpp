// annexd — the Annex daemon.
#include "app/cli.h"
#include "app/daemon.h"
#include "log/logging.h"
#include "plugin_host/plugin_host.h"

#include <boost/program_options.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace po = boost::program_options;

namespace {

// Validates the configuration, including each installed plugin's section against its schema. Exit code 0 or 2.
int check_config(const annex::config::Settings& settings) {
  annex::plugin_host::PluginHost host({});
  host.load(annex::app::effective_plugin_dirs(settings), settings.plugin_config, settings.disabled_plugins);
  int bad = 0;
  for (const auto& p : host.plugins()) {
    if (p.state == "failed" && p.error.rfind("invalid configuration", 0) == 0) {
      std::cerr << "annexd: config: " << p.error.substr(std::string("invalid configuration: ").size()) << "\n";
      ++bad;
    } else if (p.state == "refused") {
      std::cerr << "annexd: warning: " << p.error << "\n";
    }
  }
  for (const auto& w : host.warnings()) std::cerr << "annexd: warning: " << w << "\n";
  if (bad > 0) return 2;
  std::cout << "annexd: configuration is valid\n";
  return 0;
}

// Tells systemd (Type=notify: $NOTIFY_SOCKET, a datagram socket) how the service stands; nothing without it.
// A few lines of the protocol rather than libsystemd: annexd needs only these two messages.
void notify_service_manager(const std::string& state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') return;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::string where = path;
  if (where.size() >= sizeof(address.sun_path)) return;
  std::memcpy(address.sun_path, where.data(), where.size());
  if (where[0] == '@') address.sun_path[0] = '\0';  // an abstract socket
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + where.size());
  if (::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&address), length) < 0) {
    spdlog::warn("could not tell the service manager \"{}\": {}", state.substr(0, state.find('\n')), std::strerror(errno));
  }
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  annex::app::CommonFlags flags;
  bool check = false;
  po::options_description options("annexd — the Annex daemon\n\nUsage: annexd [options]\n\nOptions");
  annex::app::add_common_options(options, flags);
  options.add_options()
      ("check-config", po::bool_switch(&check), "validate the configuration and exit (0 valid, 2 invalid)")
      ("help-config", "list every configuration key and its environment variable")
      ("version", "print the version")
      ("help,h", "this help");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "annexd: " << e.what() << "\nTry annexd --help\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << options << "\nEvery option can also be set in the configuration file or as ANNEX_* variables;"
                            " see --help-config.\n";
    return 0;
  }
  if (vm.count("help-config")) {
    std::cout << "Configuration keys (file key, environment variable):\n" << annex::config::describe_keys();
    return 0;
  }
  if (vm.count("version")) {
    std::cout << "annexd " << annex::app::version() << " (plugin ABI " << ANNEX_ABI_MAJOR << "." << ANNEX_ABI_MINOR
              << ")\n";
    return 0;
  }

  annex::config::Settings settings;
  if (!annex::app::load_settings_from(flags, settings, std::cerr, "annexd")) return 2;
  try {
    annex::log::init(settings.log.level, settings.log.json_file);
  } catch (const std::exception& e) {
    std::cerr << "annexd: config: log.json_file: " << e.what() << "\n";
    return 2;
  }
  if (check) return check_config(settings);

  // Signals are taken by sigwait on this thread; every thread started after this inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  annex::app::Daemon daemon(settings);
  try {
    daemon.start();
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    std::cerr << "annexd: cannot start: " << e.what() << "\n";
    return 1;
  }
  std::cout << "annexd listening on " << daemon.base_url() << std::endl;
  notify_service_manager("READY=1\nSTATUS=serving on " + daemon.base_url());
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received {}", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  notify_service_manager("STOPPING=1");
  if (int drain = daemon.settings().shutdown_drain_s; drain > 0) {
    // Still serving while the balancer notices /readyz; a second signal cuts the wait short.
    daemon.drain();
    timespec wait{drain, 0};
    if (sigtimedwait(&signals, nullptr, &wait) > 0) spdlog::info("a second signal: shutting down now");
  }
  daemon.stop();
  return 0;
}
