// What the HTTP connectors share, on top of the SDK and Poco's HTTP client: a kept-alive connection to one host
// (HTTPS verified against the system's store or a configured CA, a timeout, TCP_NODELAY), a pull's next page
// read ahead, and Base64 for credentials. Header-only; it includes nothing of the core.
#pragma once

#include <annex/sdk.hpp>

#include <Poco/Base64Encoder.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <future>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

namespace annex_connectors {

inline std::string base64(const std::string& text) {
  std::ostringstream encoded;
  Poco::Base64Encoder b64(encoded);
  b64.rdbuf()->setLineLength(0);
  b64 << text;
  b64.close();
  return encoded.str();
}

// The TLS context of a connection: certificates verified by default, against the system's store or `ca_file`.
inline Poco::Net::Context::Ptr tls_context(const std::string& ca_file, bool verify) {
  return new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", ca_file,
                                verify ? Poco::Net::Context::VERIFY_STRICT : Poco::Net::Context::VERIFY_NONE, 9, ca_file.empty());
}

struct HttpAnswer {
  int status = 0;
  std::string text;
  std::string etag;
  std::string content_type;
  std::string date;  // the Date header: the service's clock when it answered ("" when it sends none)
};

// One kept-alive connection to the host of `base` (http or https). Not for use by two threads at once.
class KeptAliveHttp {
 public:
  // `label` names the peer in errors ("Tryton at erp.example:443").
  KeptAliveHttp(Poco::URI base, Poco::Net::Context::Ptr tls, int timeout_s, std::string label)
      : base_(std::move(base)), tls_(std::move(tls)), timeout_s_(timeout_s), label_(std::move(label)) {}

  // Sends one request; throws annex::Error (UNAVAILABLE) when the peer cannot be reached or does not answer. A
  // connection the peer closed while idle fails the next request: a `repeatable` one is sent again once, on a
  // new connection.
  HttpAnswer send(const std::string& method, const std::string& path, const std::string& body,
                  const std::map<std::string, std::string>& headers, bool repeatable) {
    for (int attempt = 0;; ++attempt) {
      const bool reused = session_ != nullptr;
      try {
        if (!session_) {
          if (base_.getScheme() == "https") session_ = std::make_unique<Poco::Net::HTTPSClientSession>(base_.getHost(), base_.getPort(), tls_);
          else session_ = std::make_unique<Poco::Net::HTTPClientSession>(base_.getHost(), base_.getPort());
          session_->setTimeout(Poco::Timespan(timeout_s_, 0));
          session_->setKeepAlive(true);
        }
        Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
        request.setKeepAlive(true);
        for (const auto& [k, v] : headers) request.set(k, v);
        if (!body.empty() || method == "POST" || method == "PATCH" || method == "MERGE" || method == "PUT") {
          if (!request.has("Content-Type")) request.setContentType("application/json");
          request.setContentLength(static_cast<std::streamsize>(body.size()));
        }
        std::ostream& out = session_->sendRequest(request);
        // Poco writes the head and the body apart: with Nagle's algorithm the body would wait for the head's
        // delayed ACK (tens of milliseconds a request). Set on the connected socket (Poco may have renewed it).
        session_->socket().setNoDelay(true);
        out << body;
        Poco::Net::HTTPResponse response;
        std::istream& in = session_->receiveResponse(response);
        HttpAnswer answer;
        Poco::StreamCopier::copyToString(in, answer.text);
        answer.status = static_cast<int>(response.getStatus());
        answer.etag = response.get("ETag", "");
        answer.content_type = response.getContentType();
        answer.date = response.get("Date", "");
        return answer;
      } catch (const Poco::Net::SSLException& e) {
        session_.reset();
        throw annex::Error(ANNEX_ERR_UNAVAILABLE, "TLS with " + base_.getHost() + ": " + e.displayText());
      } catch (const Poco::TimeoutException&) {
        session_.reset();
        throw annex::Error(ANNEX_ERR_UNAVAILABLE, label_ + " did not answer within " + std::to_string(timeout_s_) + " s");
      } catch (const Poco::Exception& e) {
        session_.reset();
        if (reused && repeatable && attempt == 0) continue;
        throw annex::Error(ANNEX_ERR_UNAVAILABLE, label_ + ": " + e.displayText());
      }
    }
  }

 private:
  Poco::URI base_;
  Poco::Net::Context::Ptr tls_;
  int timeout_s_;
  std::string label_;
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
};

// Work started ahead on another thread — a pull's next page, fetched on a connection of its own while the current
// one is turned into records and stored — kept for the read that asks for it by the same key. One at a time:
// starting waits for the one before (it may still be using that connection).
template <typename T>
class ReadAhead {
 public:
  template <typename Fn>
  void start(std::string key, Fn fn) {
    if (pending_.valid()) pending_.wait();
    key_ = std::move(key);
    pending_ = std::async(std::launch::async, std::move(fn));
  }

  // What was started under `key`, once done; nothing when something else, or nothing, was started.
  std::optional<T> take(const std::string& key) {
    if (!pending_.valid()) return std::nullopt;
    T result = pending_.get();
    if (key != key_) return std::nullopt;
    return result;
  }

 private:
  std::future<T> pending_;  // its destructor waits for the work
  std::string key_;
};

}  // namespace annex_connectors
