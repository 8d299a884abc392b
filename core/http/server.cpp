#include "http/server.h"

#include "http/api_error.h"
#include "http/request_reader.h"
#include "log/logging.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <istream>
#include <sstream>
#include <mutex>
#include <optional>
#include <random>
#include <set>
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

// The head every answer carries, and its body: none at all (no Content-Length either) for 204 and 304, whose
// framing has no body, so that a keep-alive client reads the next answer where it starts.
// The client may still be sending a body that was refused (413, or an upload turned away). Closing with its bytes
// unread would make the kernel reset the connection, and the client could lose the answer with it: read and drop
// what it sends for a moment (at most 8 MiB, waiting at most 1 s for each piece), then let the connection close.
void linger(Poco::Net::HTTPServerRequest& in) {
  auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&in);
  if (impl == nullptr) return;
  try {
    impl->socket().setReceiveTimeout(Poco::Timespan(1, 0));
    std::istream& body = in.stream();
    char buffer[16384];
    int64_t dropped = 0;
    while (dropped < (8 << 20) && body.read(buffer, sizeof buffer).gcount() > 0) dropped += body.gcount();
  } catch (...) {
    // A timeout or a reset: the connection closes either way.
  }
}

void send(Poco::Net::HTTPServerResponse& out, const std::string& request_id, bool head_only, bool secure,
          const HttpResponse& response) {
  const bool bodyless = response.status == 204 || response.status == 304;
  out.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(response.status));
  if (!bodyless) out.setContentType(response.content_type);
  out.set("X-Request-Id", request_id);
  out.set("X-Content-Type-Options", "nosniff");
  out.set("X-Frame-Options", "DENY");
  out.set("Referrer-Policy", "no-referrer");
  out.set("Cache-Control", "no-store");
  out.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  if (secure) out.set("Strict-Transport-Security", "max-age=31536000");
  for (const auto& [name, value] : response.headers) out.set(name, value);
  if (bodyless) {
    out.send();
    return;
  }
  if (response.stream_body) {
    out.setContentLength64(static_cast<Poco::Int64>(response.stream_length));
    if (head_only) {
      out.send();
      return;
    }
    std::ostream& body = out.send();
    try {
      response.stream_body(body);
      body.flush();
    } catch (const std::exception& e) {
      // The head is gone already: all that is left is to cut the body short, which the client sees against
      // Content-Length, and to close the connection.
      spdlog::error("streaming a response body failed: {}", e.what());
      out.setKeepAlive(false);
    }
    return;
  }
  out.setContentLength64(static_cast<Poco::Int64>(response.body.size()));
  if (head_only) {
    out.send();
    return;
  }
  out.send().write(response.body.data(), static_cast<std::streamsize>(response.body.size())).flush();
}

class ExchangeHandler : public Poco::Net::HTTPRequestHandler {
 public:
  ExchangeHandler(Dispatcher& dispatcher, const ServerOptions& options, bool secure)
      : dispatcher_(dispatcher), options_(options), secure_(secure) {}

  void handleRequest(Poco::Net::HTTPServerRequest& in, Poco::Net::HTTPServerResponse& out) override {
    HttpRequest request;
    HttpResponse response;
    const std::string client_id = in.get("X-Request-Id", "");
    request.request_id = valid_request_id(client_id) ? client_id : new_request_id();
    log::RequestScope scope(request.request_id);
    request.remote_address = in.clientAddress().host().toString();
    request.tls = secure_;
    auto started = std::chrono::steady_clock::now();

    ReadOutcome outcome = read_head(in, request, response);
    const bool streamed = outcome == ReadOutcome::kOk && dispatcher_.streams_body(request.method, request.path);
    if (streamed) {
      // The dispatcher streams it into the blob store, under the route's limit, once the caller is let in: a
      // client waiting on "Expect: 100-continue" is asked for the body only then, so a refusal costs it nothing.
      thread_local std::istringstream nothing;
      nothing.clear();
      request.body_stream = has_body(in) ? &in.stream() : &nothing;
      if (in.getExpectContinue()) request.ask_for_body = [&out] { out.sendContinue(); };
    } else if (outcome == ReadOutcome::kOk) {
      if (in.getExpectContinue()) out.sendContinue();
      outcome = read_body(in, in.stream(), options_.max_body_bytes, request, response);
    }
    if (outcome == ReadOutcome::kOk) {
      dispatcher_.dispatch(request, response);
      if (streamed && !request.body_consumed) out.setKeepAlive(false);  // the rest of the body is still unread
    } else {
      dispatcher_.unmatched().record(response.status, 0);
      // The body was not read to its end: the connection cannot carry another request.
      out.setKeepAlive(false);
    }
    send(out, request.request_id, request.method == "HEAD", secure_, response);
    const bool body_unread = outcome == ReadOutcome::kBodyTooLarge || (streamed && !request.body_consumed);
    if (body_unread && !out.getKeepAlive() && !in.getExpectContinue()) linger(in);  // one that waits on 100 sends nothing
    if (spdlog::should_log(spdlog::level::debug)) {
      spdlog::debug("{} {} {} {:.3f}ms", request.method, request.path, response.status,
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
    }
  }

 private:
  Dispatcher& dispatcher_;
  const ServerOptions& options_;
  bool secure_;
};

class ExchangeConnection;

// Makes a connection per accepted socket, and stops them all (see HttpServer::stop).
class ConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
 public:
  ConnectionFactory(Dispatcher& dispatcher, const ServerOptions& options, bool secure,
                    Poco::Net::HTTPServerParams::Ptr params)
      : dispatcher_(dispatcher), options_(options), secure_(secure), params_(std::move(params)) {}
  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override;

  // With `abort`, shuts every connection down at once; otherwise each after the request it is serving.
  void stop_all(bool abort);
  void enrol(ExchangeConnection* c) {
    std::lock_guard lock(mutex_);
    open_.insert(c);
  }
  void leave(ExchangeConnection* c) {
    std::lock_guard lock(mutex_);
    open_.erase(c);
  }

  Dispatcher& dispatcher_;
  const ServerOptions& options_;
  const bool secure_;
  const Poco::Net::HTTPServerParams::Ptr params_;

 private:
  std::mutex mutex_;
  std::set<ExchangeConnection*> open_;
};

// Poco's HTTPServerConnection, with annexd's answers where Poco's parser refuses a request: a request line or
// header it cannot read (a bare CR, a header past Poco's limits, garbage), a Content-Length that is not a
// number, or a version other than HTTP/1.x get a 400 in the one error shape with an X-Request-Id — where Poco
// would answer a bare 400, or close the connection without a word — and the connection then closes.
class ExchangeConnection : public Poco::Net::TCPServerConnection {
 public:
  ExchangeConnection(const Poco::Net::StreamSocket& socket, ConnectionFactory& factory)
      : TCPServerConnection(socket), factory_(factory) {
    factory_.enrol(this);
  }
  ~ExchangeConnection() override { factory_.leave(this); }

  void run() override {
    Poco::Net::HTTPServerParams::Ptr params = factory_.params_;
    const std::string server = params->getSoftwareVersion();
    ExchangeHandler handler(factory_.dispatcher_, factory_.options_, factory_.secure_);
    Poco::Net::HTTPServerSession session(socket(), params);
    try {
      while (!stopped_ && session.hasMoreRequests()) {
        std::lock_guard lock(mutex_);
        if (stopped_) break;
        Poco::Net::HTTPServerResponseImpl response(session);
        std::optional<Poco::Net::HTTPServerRequestImpl> request;
        try {
          request.emplace(response, session, params.get());
        } catch (const Poco::Net::NoMessageException&) {
          break;  // the client closed the connection between requests
        } catch (const Poco::Exception& e) {
          // A timeout or reset while the head arrived leaves no one to answer.
          if (session.networkException() == nullptr) refuse(session, e);
          break;
        }
        const std::string& version = request->getVersion();
        if (version != Poco::Net::HTTPMessage::HTTP_1_1 && version != Poco::Net::HTTPMessage::HTTP_1_0) {
          refuse(session, "the request line is not HTTP/1.1 (nor 1.0)", "version");
          break;
        }
        response.setDate(Poco::Timestamp());
        response.setVersion(version);
        response.setKeepAlive(!stopped_ && params->getKeepAlive() && request->getKeepAlive() && session.canKeepAlive());
        if (!server.empty()) response.set("Server", server);
        handler.handleRequest(*request, response);
        session.setKeepAlive(params->getKeepAlive() && response.getKeepAlive() && session.canKeepAlive());
      }
    } catch (const Poco::Exception& e) {
      spdlog::debug("connection ended: {}", e.displayText());
    }
  }

  // Stops this connection: at once with `abort`; otherwise now if it is idle between requests, or after the
  // request it is serving (which then answers with Connection: close). Never waits for that request: one that
  // never ends must not hold up a shutdown.
  void stop(bool abort) {
    stopped_ = true;
    std::unique_lock lock(mutex_, std::try_to_lock);
    if (!abort && !lock.owns_lock()) return;
    try {
      socket().shutdown();
    } catch (...) {
    }
  }

 private:
  void refuse(Poco::Net::HTTPServerSession& session, const Poco::Exception& e) {
    const bool length = dynamic_cast<const Poco::SyntaxException*>(&e) != nullptr;  // only Content-Length is parsed
    refuse(session, length ? "Content-Length is not a number" : "the request cannot be read: " + e.message(),
           length ? "Content-Length" : "");
  }

  void refuse(Poco::Net::HTTPServerSession& session, const std::string& message, const std::string& field) {
    HttpResponse answer;
    set_error(answer, 400, message, field);
    const std::string id = new_request_id();
    log::RequestScope scope(id);
    factory_.dispatcher_.unmatched().record(400, 0);
    try {
      spdlog::info("refused an unreadable request from {}: {}", session.clientAddress().toString(), message);
      {
        Poco::Net::HTTPServerResponseImpl out(session);
        out.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
        out.setKeepAlive(false);
        send(out, id, false, factory_.secure_, answer);
      }
      session.setKeepAlive(false);
      // What the client sent past the error is read and dropped, briefly (at most 1 MB for 2 s), so that closing
      // the connection with unread data does not reset it before the client has read the answer.
      socket().shutdownSend();
      socket().setReceiveTimeout(Poco::Timespan(1, 0));
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      char sink[4096];
      for (int total = 0; total < (1 << 20) && std::chrono::steady_clock::now() < deadline;) {
        int got = socket().receiveBytes(sink, sizeof sink);
        if (got <= 0) break;
        total += got;
      }
    } catch (const Poco::Exception&) {
      // The client is gone or does not read: nothing more to do.
    }
  }

  ConnectionFactory& factory_;
  std::mutex mutex_;
  std::atomic<bool> stopped_{false};
};

Poco::Net::TCPServerConnection* ConnectionFactory::createConnection(const Poco::Net::StreamSocket& socket) {
  return new ExchangeConnection(socket, *this);
}

void ConnectionFactory::stop_all(bool abort) {
  std::lock_guard lock(mutex_);
  for (ExchangeConnection* c : open_) c->stop(abort);
}

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
  factory_ = new ConnectionFactory(dispatcher_, options_, secure(), params);
  server_ = std::make_unique<Poco::Net::TCPServer>(factory_, *pool_, *socket, params);  // owns the factory
  server_->start();
}

bool HttpServer::stop(std::chrono::seconds grace) {
  if (!server_) return true;
  // Stop accepting; idle connections close at once, busy ones after the request they serve.
  server_->stop();
  auto* connections = static_cast<ConnectionFactory*>(factory_);
  connections->stop_all(false);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (server_->currentConnections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (server_->currentConnections() > 0) {
    spdlog::warn("{} connections still open after {}s; closing them", server_->currentConnections(), grace.count());
    connections->stop_all(true);
  }
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
