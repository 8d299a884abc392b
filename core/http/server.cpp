#include "http/server.h"

#include "http/api_error.h"
#include "http/request_reader.h"
#include "log/logging.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

#include <spdlog/spdlog.h>

#include <chrono>
#include <istream>
#include <mutex>
#include <random>
#include <thread>

namespace annex::http {
namespace {

bool valid_request_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* digits = "0123456789abcdef";
  std::string id(16, '0');
  uint64_t v = rng();
  for (int i = 0; i < 16; ++i) id[i] = digits[(v >> (i * 4)) & 15];
  return id;
}

class ExchangeHandler : public Poco::Net::HTTPRequestHandler {
 public:
  ExchangeHandler(Dispatcher& dispatcher, const ServerOptions& options, bool secure, InFlight& in_flight)
      : dispatcher_(dispatcher), options_(options), secure_(secure), in_flight_(in_flight) {}

  void handleRequest(Poco::Net::HTTPServerRequest& in, Poco::Net::HTTPServerResponse& out) override {
    InFlight::Scope counted(in_flight_);
    // While shutting down, every answer closes its connection, so that draining leaves no idle ones behind.
    if (in_flight_.draining.load()) out.setKeepAlive(false);
    HttpRequest request;
    HttpResponse response;
    const std::string client_id = in.get("X-Request-Id", "");
    request.request_id = valid_request_id(client_id) ? client_id : new_request_id();
    log::RequestScope scope(request.request_id);
    request.remote_address = in.clientAddress().host().toString();
    auto started = std::chrono::steady_clock::now();

    ReadOutcome outcome = read_request(in, in.stream(), options_.max_body_bytes, request, response);
    if (outcome == ReadOutcome::kOk) {
      dispatcher_.dispatch(request, response);
    } else {
      dispatcher_.unmatched().record(response.status, 0);
      // The body was not read to its end: the connection cannot carry another request.
      out.setKeepAlive(false);
    }
    send(out, request, response);
    if (spdlog::should_log(spdlog::level::debug)) {
      spdlog::debug("{} {} {} {:.3f}ms", request.method, request.path, response.status,
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
    }
  }

 private:
  void send(Poco::Net::HTTPServerResponse& out, const HttpRequest& request, const HttpResponse& response) {
    out.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(response.status));
    out.setContentType(response.content_type);
    out.set("X-Request-Id", request.request_id);
    out.set("X-Content-Type-Options", "nosniff");
    out.set("X-Frame-Options", "DENY");
    out.set("Referrer-Policy", "no-referrer");
    out.set("Cache-Control", "no-store");
    out.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    if (secure_) out.set("Strict-Transport-Security", "max-age=31536000");
    for (const auto& [name, value] : response.headers) out.set(name, value);
    out.setContentLength64(static_cast<Poco::Int64>(response.body.size()));
    if (request.method == "HEAD") {
      out.send();
      return;
    }
    out.sendBuffer(response.body.data(), response.body.size());
  }

  Dispatcher& dispatcher_;
  const ServerOptions& options_;
  bool secure_;
  InFlight& in_flight_;
};

class HandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  HandlerFactory(Dispatcher& dispatcher, const ServerOptions& options, bool secure, InFlight& in_flight)
      : dispatcher_(dispatcher), options_(options), secure_(secure), in_flight_(in_flight) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new ExchangeHandler(dispatcher_, options_, secure_, in_flight_);
  }

 private:
  Dispatcher& dispatcher_;
  const ServerOptions& options_;
  bool secure_;
  InFlight& in_flight_;
};

}  // namespace

HttpServer::HttpServer(ServerOptions options, Dispatcher& dispatcher)
    : options_(std::move(options)), dispatcher_(dispatcher) {}

HttpServer::~HttpServer() {
  if (server_) (void)stop(std::chrono::seconds(0));
}

std::string HttpServer::base_url() const {
  std::string host = options_.host.find(':') != std::string::npos ? "[" + options_.host + "]" : options_.host;
  return std::string(secure() ? "https" : "http") + "://" + host + ":" + std::to_string(bound_port_);
}

void HttpServer::start() {
  Poco::Net::SocketAddress address;
  try {
    address = Poco::Net::SocketAddress(options_.host, options_.port);
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("cannot resolve listen address " + options_.host + ": " + e.displayText());
  }
  const int backlog = std::max(64, options_.max_queued);
  std::unique_ptr<Poco::Net::ServerSocket> socket;
  try {
    if (secure()) {
      static std::once_flag ssl_once;
      std::call_once(ssl_once, [] { Poco::Net::initializeSSL(); });
      Poco::Net::Context::Params params;
      params.privateKeyFile = options_.tls_key;
      params.certificateFile = options_.tls_cert;
      params.caLocation = options_.tls_ca;
      params.verificationMode = Poco::Net::Context::VERIFY_NONE;
      params.loadDefaultCAs = false;
      params.cipherList = "HIGH:!aNULL:!MD5:!RC4:!3DES";
      Poco::Net::Context::Ptr context;
      try {
        context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
      } catch (const Poco::Exception& e) {
        throw std::runtime_error("cannot use certificate " + options_.tls_cert + " with key " + options_.tls_key +
                                 ": " + e.displayText());
      }
      context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
      socket = std::make_unique<Poco::Net::SecureServerSocket>(address, backlog, context);
    } else {
      socket = std::make_unique<Poco::Net::ServerSocket>(address, backlog);
    }
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("cannot listen on " + address.toString() + ": " + e.displayText());
  }
  // Responses leave in two writes (head, then body); with Nagle's algorithm the body would wait for the ACK of
  // the head, which a delayed-ACK client holds back for up to 40 ms. Accepted sockets inherit TCP_NODELAY.
  socket->setNoDelay(true);
  bound_port_ = socket->address().port();

  pool_ = std::make_unique<Poco::ThreadPool>(std::min(options_.threads, 16), options_.threads + 2, 60);
  Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(options_.threads);
  params->setMaxQueued(options_.max_queued);
  params->setKeepAlive(options_.keep_alive);
  params->setKeepAliveTimeout(Poco::Timespan(options_.keep_alive_timeout_s, 0));
  params->setMaxKeepAliveRequests(0);  // unlimited
  params->setTimeout(Poco::Timespan(30, 0));
  params->setServerName("annexd");
  server_ = std::make_unique<Poco::Net::HTTPServer>(new HandlerFactory(dispatcher_, options_, secure(), in_flight_), *pool_,
                                                    *socket, params);
  server_->start();
}

bool HttpServer::stop(std::chrono::seconds grace) {
  if (!server_) return true;
  // Stop accepting, let the requests being handled finish (each answer now closes its connection), then close
  // every connection left: the idle keep-alive ones, and any request still running when the grace period ends.
  // (Poco's graceful stopAll(false) waits on each busy connection in turn and cannot then be cut short.)
  server_->stop();
  in_flight_.draining.store(true);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (in_flight_.count.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (int running = in_flight_.count.load(); running > 0) {
    spdlog::warn("{} requests still running after {}s; closing their connections", running, grace.count());
  }
  server_->stopAll(true);
  // Closing a connection ends its thread once the request in it returns. One that does not return within a
  // moment is stuck (a peer or a lock that never answers): its threads are left behind rather than waited for,
  // so that shutdown always ends.
  auto abandon_at = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (pool_->used() > 0 && std::chrono::steady_clock::now() < abandon_at) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (pool_->used() > 0) {
    spdlog::error("{} requests still running {}s after shutdown began; not waiting for them", pool_->used(),
                  grace.count() + 2);
    (void)server_.release();  // deliberately leaked: destroying them would join the stuck threads
    (void)pool_.release();
    return false;
  }
  pool_->joinAll();
  server_.reset();
  return true;
}

}  // namespace annex::http
