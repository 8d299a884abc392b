// HttpServer — Poco's TCPServer with annexd's own HTTP connections in front of the Dispatcher: HTTP/1.1 with keep-alive, or HTTPS when a
// certificate and key are configured. Poco serves each open connection on one pool thread for as long as it
// stays open, so the pool is the server's own and sized from configuration (http.threads).
#pragma once

#include "http/dispatcher.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace Poco {
class ThreadPool;
namespace Net {
class TCPServer;
class TCPServerConnectionFactory;
}
}  // namespace Poco

namespace annex::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  int threads = 64;
  int max_queued = 512;
  int64_t max_body_bytes = 1 << 20;
  bool keep_alive = true;
  int keep_alive_timeout_s = 15;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, Dispatcher& dispatcher);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving. Throws std::runtime_error naming the address (or the TLS file) on failure.
  void start();
  // Stops accepting, lets in-flight requests finish for up to `grace`, then closes what is left.
  // Returns false when some request was still running a moment after that: its thread is abandoned, not joined.
  [[nodiscard]] bool stop(std::chrono::seconds grace);

  uint16_t port() const noexcept { return bound_port_; }
  bool secure() const noexcept { return !options_.tls_cert.empty(); }
  // "http://127.0.0.1:8080" or "https://…"
  std::string base_url() const;

 private:
  ServerOptions options_;
  Dispatcher& dispatcher_;
  std::unique_ptr<Poco::ThreadPool> pool_;
  std::unique_ptr<Poco::Net::TCPServer> server_;
  Poco::Net::TCPServerConnectionFactory* factory_ = nullptr;  // owned by server_
  uint16_t bound_port_ = 0;
};

}  // namespace annex::http
