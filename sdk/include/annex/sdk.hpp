// annex/sdk.hpp — the header-only C++20 layer over annex/plugin.h.
//
// It gives plugin authors RAII handles, typed helpers and a base class, and exports a plugin with one macro:
//
//     class HelloPlugin : public annex::Plugin {
//      public:
//       static constexpr const char* kId = "org.annex.hello";
//       static constexpr const char* kVersion = "1.0.0";
//       static constexpr const char* kManifest = R"({"name":"Hello","uses":["annex.db@1","annex.http@1"]})";
//       using annex::Plugin::Plugin;
//       void on_register() override {
//         host().http().route("GET", "/api/v1/hello", "", "Say hello",
//                             [](const annex::Request&, annex::Response& resp) { resp.body(R"({"hello":1})"); });
//       }
//     };
//     ANNEX_PLUGIN(HelloPlugin)
//
// Nothing from the C++ standard library crosses the binary boundary: every callback the host sees is a C
// trampoline that catches every exception and turns it into an annex_status. So a plugin built with another
// compiler or standard library than the host's still loads.
//
// Dates and instants from requests are parsed with annex/calendar.hpp (included here), the host's own strict
// parser: a plugin never parses them itself.
#ifndef ANNEX_SDK_HPP
#define ANNEX_SDK_HPP

#include <annex/calendar.hpp>
#include <annex/plugin.h>

#include <atomic>
#include <charconv>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace annex {

// ---------------------------------------------------------------------------------------------------------
// Strings, buffers and errors
// ---------------------------------------------------------------------------------------------------------

inline annex_str to_str(std::string_view s) noexcept { return annex_str{s.data(), s.size()}; }
inline std::string_view to_view(annex_str s) noexcept {
  return s.data == nullptr ? std::string_view{} : std::string_view{s.data, s.len};
}

// An annex_buffer that appends into a std::string the caller owns.
class StringSink {
 public:
  explicit StringSink(std::string& target) noexcept : buffer_{&target, &StringSink::append} {}
  annex_buffer* get() noexcept { return &buffer_; }

 private:
  static void append(void* owner, const char* data, size_t len) {
    try {
      static_cast<std::string*>(owner)->append(data, len);
    } catch (...) {
      // Out of memory: drop the text rather than let an exception cross the boundary.
    }
  }
  annex_buffer buffer_;
};

// Appends text to a buffer the other side owns. Safe with a null buffer.
inline void write(annex_buffer* out, std::string_view text) noexcept {
  if (out != nullptr && out->append != nullptr) out->append(out->owner_ptr, text.data(), text.size());
}

// The exception plugin code throws to report a failure with a status. `field` names the input at fault, so the
// host can answer {"error":{"code","message","field"}}. Trampolines turn it into a status and a message.
class Error : public std::exception {
 public:
  Error(annex_status code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}
  annex_status code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  const std::string& field() const noexcept { return field_; }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  annex_status code_;
  std::string message_;
  std::string field_;
};

// Throws Error(code, message from the host, the field it named) when `status` is not ANNEX_OK. A host service
// that refuses a field writes "field=<name>\n" before its message; this is the one place that reads it.
inline void check(annex_status status, const std::string& message) {
  if (status == ANNEX_OK) return;
  if (message.rfind("field=", 0) != 0) throw Error(status, message);
  size_t nl = message.find('\n');
  throw Error(status, nl == std::string::npos ? std::string{} : message.substr(nl + 1),
              message.substr(6, nl == std::string::npos ? std::string::npos : nl - 6));
}

namespace detail {
// The host's annex_host_api.set_error_field (ABI 1.3), taken from the host API at create(); the same function for
// every plugin of one host.
using ErrorFieldSetter = int32_t (*)(annex_buffer* err, annex_str field);
inline std::atomic<ErrorFieldSetter>& error_field_setter() noexcept {
  static std::atomic<ErrorFieldSetter> setter{nullptr};
  return setter;
}

// Hands the host the field at fault of the error being written into `err`, apart from the message. A buffer the
// host did not make for it (or no host yet) gets the older "field=<name>\n" prefix instead.
inline void write_field(annex_buffer* err, std::string_view field) noexcept {
  if (field.empty()) return;
  ErrorFieldSetter set = error_field_setter().load(std::memory_order_relaxed);
  if (set != nullptr && set(err, annex_str{field.data(), field.size()}) == 1) return;
  write(err, "field=");
  write(err, field);
  write(err, "\n");
}

// Runs `fn`, turning any exception into a status and a message in `err`. Used by every trampoline.
template <typename Fn>
annex_status guarded(annex_buffer* err, Fn&& fn) noexcept {
  try {
    fn();
    return ANNEX_OK;
  } catch (const Error& e) {
    write_field(err, e.field());
    write(err, e.message());
    return e.code() == ANNEX_OK ? ANNEX_ERR_INTERNAL : e.code();
  } catch (const std::exception& e) {
    write(err, e.what());
    return ANNEX_ERR_INTERNAL;
  } catch (...) {
    write(err, "unknown exception");
    return ANNEX_ERR_INTERNAL;
  }
}
}  // namespace detail

// ---------------------------------------------------------------------------------------------------------
// JSON text helpers. The SDK does not impose a JSON library; these cover writing simple documents.
// ---------------------------------------------------------------------------------------------------------

namespace detail {
// Length of the valid UTF-8 sequence starting at text[i], or 0 when there is none (overlong forms, surrogates
// and code points above U+10FFFF included).
inline size_t utf8_sequence(std::string_view text, size_t i) noexcept {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (len == 0 || i + len > text.size()) return 0;
  uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1fu) : len == 3 ? (c & 0x0fu) : (c & 0x07u);
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3fu);
  }
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}
}  // namespace detail

// Returns `s` escaped for the inside of a JSON string. Bytes that are not UTF-8 become U+FFFD, so the result
// is always valid JSON text whatever the input.
inline std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    const char* escaped = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : nullptr;
    if (escaped != nullptr) {
      out += escaped;
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
      ++i;
    } else if (size_t len = detail::utf8_sequence(s, i); len == 0) {
      out += "\\ufffd";
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

// Returns `s` as a JSON string literal, quotes included (see json_escape).
inline std::string json_quote(std::string_view s) { return "\"" + json_escape(s) + "\""; }

// ---------------------------------------------------------------------------------------------------------
// Database
// ---------------------------------------------------------------------------------------------------------

// A parameter value. Construct from integers, text, nullptr or (for non-money measures) double.
class Value {
 public:
  Value(std::nullptr_t) noexcept { v_.type = ANNEX_VALUE_NULL; }
  template <typename I, typename = std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>>>
  Value(I v) noexcept {
    v_.type = ANNEX_VALUE_INT;
    v_.i = static_cast<int64_t>(v);
  }
  Value(bool v) noexcept : Value(v ? 1 : 0) {}
  Value(double v) noexcept { v_.type = ANNEX_VALUE_DOUBLE; v_.d = v; }
  Value(std::string_view v) noexcept { v_.type = ANNEX_VALUE_TEXT; v_.s = to_str(v); }
  Value(const std::string& v) noexcept : Value(std::string_view(v)) {}
  Value(const char* v) noexcept : Value(std::string_view(v)) {}
  template <typename T>
  Value(const std::optional<T>& v) noexcept : Value(nullptr) {
    if (v) *this = Value(*v);
  }
  const annex_value& raw() const noexcept { return v_; }

 private:
  annex_value v_{};
};

// The current row of a result set, read by column index.
class Row {
 public:
  Row(const annex_db_v1* db, const annex_rows* rows) noexcept : db_(db), rows_(rows) {}
  bool is_null(size_t column) const { return db_->rows_get(rows_, column).type == ANNEX_VALUE_NULL; }
  int64_t integer(size_t column) const {
    annex_value v = db_->rows_get(rows_, column);
    if (v.type == ANNEX_VALUE_INT) return v.i;
    if (v.type == ANNEX_VALUE_TEXT) return std::stoll(std::string(to_view(v.s)));
    if (v.type == ANNEX_VALUE_DOUBLE) return static_cast<int64_t>(v.d);
    return 0;
  }
  double real(size_t column) const {
    annex_value v = db_->rows_get(rows_, column);
    return v.type == ANNEX_VALUE_DOUBLE ? v.d : v.type == ANNEX_VALUE_INT ? static_cast<double>(v.i) : 0.0;
  }
  std::string text(size_t column) const {
    annex_value v = db_->rows_get(rows_, column);
    if (v.type == ANNEX_VALUE_TEXT || v.type == ANNEX_VALUE_BLOB) return std::string(to_view(v.s));
    if (v.type == ANNEX_VALUE_INT) return std::to_string(v.i);
    return {};
  }
  // The column's text without a copy, valid until the next call to Rows::next(); empty for a NULL or a number.
  std::string_view view(size_t column) const {
    annex_value v = db_->rows_get(rows_, column);
    return v.type == ANNEX_VALUE_TEXT || v.type == ANNEX_VALUE_BLOB ? to_view(v.s) : std::string_view{};
  }
  std::optional<std::string> optional_text(size_t column) const {
    if (is_null(column)) return std::nullopt;
    return text(column);
  }
  std::optional<int64_t> optional_integer(size_t column) const {
    if (is_null(column)) return std::nullopt;
    return integer(column);
  }
  size_t column_count() const { return db_->rows_column_count(rows_); }
  std::string_view column_name(size_t column) const { return to_view(db_->rows_column_name(rows_, column)); }

 private:
  const annex_db_v1* db_;
  const annex_rows* rows_;
};

// An owned result set. Iterate with next(); free on destruction.
class Rows {
 public:
  Rows(const annex_db_v1* db, annex_rows* rows, int64_t affected) noexcept
      : db_(db), rows_(rows), affected_(affected) {}
  Rows(Rows&& other) noexcept
      : db_(other.db_), rows_(std::exchange(other.rows_, nullptr)), affected_(other.affected_) {}
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  ~Rows() {
    if (rows_ != nullptr) db_->rows_free(rows_);
  }
  // Advances to the next row; returns false at the end.
  bool next() { return db_->rows_next(rows_) != 0; }
  Row row() const noexcept { return Row(db_, rows_); }
  // The number of rows the statement changed (INSERT/UPDATE/DELETE).
  int64_t affected() const noexcept { return affected_; }

 private:
  const annex_db_v1* db_;
  annex_rows* rows_;
  int64_t affected_;
};

class Db;

// A transaction. Rolls back on destruction unless commit() succeeded.
class Transaction {
 public:
  Transaction(const annex_db_v1* db, annex_txn* txn) noexcept : db_(db), txn_(txn) {}
  Transaction(Transaction&& other) noexcept : db_(other.db_), txn_(std::exchange(other.txn_, nullptr)) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (txn_ != nullptr) db_->rollback(txn_);
  }
  // Commits. Throws Error on failure; the transaction is then rolled back.
  void commit() {
    std::string err;
    StringSink sink(err);
    annex_txn* txn = std::exchange(txn_, nullptr);
    check(db_->commit(txn, sink.get()), err);
  }
  annex_txn* get() const noexcept { return txn_; }

 private:
  const annex_db_v1* db_;
  annex_txn* txn_;
};

// The "annex.db" v1 service: parameterised SQL (`?` placeholders), transactions and rows.
class Db {
 public:
  Db(annex_host_ctx* ctx, const annex_db_v1* api) noexcept : ctx_(ctx), api_(api) {}

  // Runs `sql` with `params` in its own transaction. Throws Error with the database's message on failure.
  Rows query(std::string_view sql, std::initializer_list<Value> params = {}) const {
    return run(nullptr, sql, params);
  }
  // Runs `sql` inside `txn`.
  Rows query(Transaction& txn, std::string_view sql, std::initializer_list<Value> params = {}) const {
    return run(txn.get(), sql, params);
  }
  // Runs `sql` with a parameter list built at run time.
  Rows query(Transaction* txn, std::string_view sql, std::span<const Value> params) const {
    return run(txn != nullptr ? txn->get() : nullptr, sql, params);
  }
  Transaction begin() const {
    std::string err;
    StringSink sink(err);
    annex_txn* txn = nullptr;
    check(api_->begin(ctx_, &txn, sink.get()), err);
    return Transaction(api_, txn);
  }
  const annex_db_v1* raw() const noexcept { return api_; }

 private:
  Rows run(annex_txn* txn, std::string_view sql, std::span<const Value> params) const {
    std::vector<annex_value> raw;
    raw.reserve(params.size());
    for (const Value& v : params) raw.push_back(v.raw());
    return run_raw(txn, sql, raw);
  }
  Rows run(annex_txn* txn, std::string_view sql, std::initializer_list<Value> params) const {
    return run(txn, sql, std::span<const Value>(params.begin(), params.size()));
  }
  Rows run_raw(annex_txn* txn, std::string_view sql, const std::vector<annex_value>& raw) const {
    std::string err;
    StringSink sink(err);
    annex_rows* rows = nullptr;
    int64_t affected = 0;
    check(api_->query(ctx_, txn, to_str(sql), raw.data(), raw.size(), &rows, &affected, sink.get()), err);
    return Rows(api_, rows, affected);
  }

  annex_host_ctx* ctx_;
  const annex_db_v1* api_;
};

// ---------------------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------------------

// A read-only view of the incoming request, valid during the handler call.
class Request {
 public:
  explicit Request(const annex_http_request* req) noexcept : req_(req) {}
  std::string_view method() const noexcept { return to_view(req_->method); }
  std::string_view path() const noexcept { return to_view(req_->path); }
  std::string_view body() const noexcept { return to_view(req_->body); }
  std::string_view request_id() const noexcept { return to_view(req_->request_id); }
  std::string_view path_param(std::string_view name) const { return to_view(req_->path_param(req_, to_str(name))); }
  // The path parameter `name` as an integer (`/items/{id}`); throws Error(INVALID_ARGUMENT) naming it — a 400 with
  // "field": name, never a 500 — when it is not one.
  int64_t path_param_int(std::string_view name) const {
    std::string_view text = path_param(name);
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
      throw Error(ANNEX_ERR_INVALID_ARGUMENT, std::string(name) + " must be an integer", std::string(name));
    }
    return value;
  }
  std::optional<std::string> query_param(std::string_view name) const {
    std::string out;
    StringSink sink(out);
    if (req_->query_param(req_, to_str(name), sink.get()) == 0) return std::nullopt;
    return out;
  }
  std::string_view header(std::string_view name) const { return to_view(req_->header(req_, to_str(name))); }
  // On an upload route, what the host stored before calling the handler (ABI 1.3): {"sha256", "size",
  // "media_type", "filename", "field", "created", "fields": {…}} as JSON; nothing on any other route.
  std::optional<std::string> upload() const {
    if (!ANNEX_HAS_FIELD(req_, annex_http_request, upload)) return std::nullopt;
    std::string out;
    StringSink sink(out);
    if (req_->upload(req_, sink.get()) != ANNEX_OK) return std::nullopt;
    return out;
  }
  // The caller's user id; empty when anonymous.
  std::string_view principal_id() const noexcept {
    return req_->principal != nullptr ? to_view(req_->principal->id) : std::string_view{};
  }
  const annex_http_request* raw() const noexcept { return req_; }

 private:
  const annex_http_request* req_;
};

// The response a handler fills. Status 200 and JSON by default.
class Response {
 public:
  explicit Response(annex_http_response* resp) noexcept : resp_(resp) {}
  Response& status(int code) {
    resp_->set_status(resp_->response_host_ptr, code);
    return *this;
  }
  Response& header(std::string_view name, std::string_view value) {
    resp_->set_header(resp_->response_host_ptr, to_str(name), to_str(value));
    return *this;
  }
  Response& body(std::string_view text) {
    write(&resp_->body, text);
    return *this;
  }
  // Answers with the stored blob `sha256`, streamed by the host (ABI 1.3; needs "annex.blobs@1" under "uses"):
  // its sniffed type, length and ETag, and Content-Disposition "attachment" with `filename` when given. Check
  // first that the caller may see what the blob belongs to. Throws Error(NOT_FOUND) when no such blob is stored.
  Response& send_blob(std::string_view sha256, std::string_view filename = {}) {
    if (!ANNEX_HAS_FIELD(resp_, annex_http_response, send_blob)) throw Error(ANNEX_ERR_UNSUPPORTED, "this host sends no blobs");
    annex_status st = resp_->send_blob(resp_->response_host_ptr, to_str(sha256), to_str(filename));
    if (st == ANNEX_ERR_NOT_FOUND) throw Error(st, "no such file");
    if (st != ANNEX_OK) throw Error(st, "the host cannot send the file (is \"annex.blobs@1\" listed under \"uses\"?)");
    return *this;
  }

 private:
  annex_http_response* resp_;
};

using RouteHandler = std::function<void(const Request&, Response&)>;

// What an upload route takes (ABI 1.3): at most `max_bytes`, of the `types` sniffed from the bytes
// ("application/pdf", "image/jpeg", "image/png", "image/webp", "image/heic", "image/heif").
struct Upload {
  int64_t max_bytes = 0;
  std::vector<std::string> types;
};

// The "annex.http" v1 service.
class Http {
 public:
  Http(annex_host_ctx* ctx, const annex_http_v1* api, std::deque<RouteHandler>* handlers) noexcept
      : ctx_(ctx), api_(api), handlers_(handlers) {}

  // Registers `handler` for `method` and path template `path` (e.g. "/api/v1/things/{id}"), requiring
  // `permission` (empty for public routes). Throws Error when the host refuses the route.
  void route(std::string_view method, std::string_view path, std::string_view permission,
             std::string_view summary, RouteHandler handler) const {
    add(method, path, permission, summary, Upload{}, std::move(handler));
  }
  // Registers an upload route (POST or PUT; needs "annex.blobs@1" under "uses"): the host streams the body — raw,
  // or the file of a multipart/form-data form — into the blob store before `handler` runs, which finds the result
  // in Request::upload(). Too large: 413; a type not in `upload.types`: 415; nothing stored either way.
  //     host().http().upload_route("POST", "/api/v1/expenses/lines/{id}/receipts", "expenses.claim.write",
  //                                "Attach a receipt", {10 << 20, {"application/pdf", "image/jpeg"}}, handler);
  void upload_route(std::string_view method, std::string_view path, std::string_view permission,
                    std::string_view summary, const Upload& upload, RouteHandler handler) const {
    if (upload.max_bytes <= 0) throw Error(ANNEX_ERR_INVALID_ARGUMENT, "an upload route takes at least one byte");
    add(method, path, permission, summary, upload, std::move(handler));
  }

 private:
  void add(std::string_view method, std::string_view path, std::string_view permission, std::string_view summary,
           const Upload& upload, RouteHandler handler) const {
    std::string types;
    for (const auto& t : upload.types) types += (types.empty() ? "" : ",") + t;
    handlers_->push_back(std::move(handler));
    annex_route r{};
    r.upload_max_bytes = upload.max_bytes;
    r.upload_types = to_str(types);
    r.struct_size = sizeof r;
    r.method = to_str(method);
    r.path = to_str(path);
    r.permission = to_str(permission);
    r.summary = to_str(summary);
    r.handler = &Http::trampoline;
    r.handler_plugin_ptr = &handlers_->back();
    std::string err;
    StringSink sink(err);
    check(api_->add_route(ctx_, &r, sink.get()), err);
  }

  static annex_status trampoline(void* plugin_ptr, const annex_http_request* req, annex_http_response* resp,
                                 annex_buffer* err) noexcept {
    return detail::guarded(err, [&] {
      Request request(req);
      Response response(resp);
      (*static_cast<RouteHandler*>(plugin_ptr))(request, response);
    });
  }

  annex_host_ctx* ctx_;
  const annex_http_v1* api_;
  std::deque<RouteHandler>* handlers_;
};

// ---------------------------------------------------------------------------------------------------------
// Events and jobs
// ---------------------------------------------------------------------------------------------------------

struct Event {
  int64_t sequence;
  std::string_view topic;
  std::string_view payload;
  std::string_view idempotency_key;
  std::string_view publisher;
};
using EventHandler = std::function<void(const Event&)>;
using JobFn = std::function<void()>;

// The "annex.events" v1 service.
class Events {
 public:
  Events(annex_host_ctx* ctx, const annex_events_v1* api, std::deque<EventHandler>* handlers) noexcept
      : ctx_(ctx), api_(api), handlers_(handlers) {}

  // Publishes durably; with a transaction, only if it commits. A repeated key on a topic is a no-op.
  void publish(std::string_view topic, std::string_view payload_json, std::string_view idempotency_key,
               Transaction* txn = nullptr) const {
    std::string err;
    StringSink sink(err);
    check(api_->publish(ctx_, txn != nullptr ? txn->get() : nullptr, to_str(topic), to_str(payload_json),
                        to_str(idempotency_key), sink.get()),
          err);
  }
  // Subscribes until the plugin stops. A handler that throws gets the event again later.
  void subscribe(std::string_view topic, EventHandler handler) const {
    handlers_->push_back(std::move(handler));
    std::string err;
    StringSink sink(err);
    check(api_->subscribe(ctx_, to_str(topic), &Events::trampoline, &handlers_->back(), sink.get()), err);
  }

 private:
  static annex_status trampoline(void* plugin_ptr, const annex_event* e, annex_buffer* err) noexcept {
    return detail::guarded(err, [&] {
      Event event{e->sequence, to_view(e->topic), to_view(e->payload), to_view(e->idempotency_key),
                  to_view(e->publisher)};
      (*static_cast<EventHandler*>(plugin_ptr))(event);
    });
  }

  annex_host_ctx* ctx_;
  const annex_events_v1* api_;
  std::deque<EventHandler>* handlers_;
};

// When a calendar job runs (ABI 1.4): local times of the company's time zone, on the host clock (see Calendar).
struct CalendarSchedule {
  annex_job_rule rule = ANNEX_JOB_DAILY;
  int32_t day = 1;     // the day of the month, or N for the N-th working day
  int32_t minute = 0;  // minutes after the company's midnight

  // On day `day` (1–31) of every month at hour:minute; a shorter month: on its last day.
  static CalendarSchedule monthly(int day, int hour, int minute = 0) {
    return {ANNEX_JOB_MONTHLY_DAY, day, hour * 60 + minute};
  }
  // On the `n`-th (1–23) working day of every month at hour:minute; not in a month with fewer working days.
  static CalendarSchedule nth_working_day(int n, int hour, int minute = 0) {
    return {ANNEX_JOB_MONTHLY_WORKING_DAY, n, hour * 60 + minute};
  }
  static CalendarSchedule daily(int hour, int minute = 0) { return {ANNEX_JOB_DAILY, 0, hour * 60 + minute}; }
  static CalendarSchedule every_working_day(int hour, int minute = 0) {
    return {ANNEX_JOB_EVERY_WORKING_DAY, 0, hour * 60 + minute};
  }
};

// The "annex.jobs" v1 service.
class Jobs {
 public:
  Jobs(annex_host_ctx* ctx, const annex_jobs_v1* api, std::deque<JobFn>* fns) noexcept
      : ctx_(ctx), api_(api), fns_(fns) {}

  // Runs `fn` every `interval_seconds`, first after `initial_delay_seconds`. Runs of one job never overlap.
  void schedule(std::string_view name, uint32_t interval_seconds, JobFn fn, uint32_t initial_delay_seconds = 0) const {
    fns_->push_back(std::move(fn));
    annex_job job{};
    job.struct_size = sizeof job;
    job.name = to_str(name);
    job.interval_seconds = interval_seconds;
    job.initial_delay_seconds = initial_delay_seconds;
    job.run = &Jobs::trampoline;
    job.job_plugin_ptr = &fns_->back();
    std::string err;
    StringSink sink(err);
    check(api_->schedule(ctx_, &job, sink.get()), err);
  }
  // Runs `fn` at the times of `when` in the company's time zone, by the host clock (ABI 1.4). A time that passed
  // while annexd was down is made up once when the job is scheduled again (see annex_jobs_v1.schedule). Throws
  // Error(INVALID_ARGUMENT, naming calendar_day or calendar_minute) when out of range.
  void schedule(std::string_view name, CalendarSchedule when, JobFn fn) const {
    fns_->push_back(std::move(fn));
    annex_job job{};
    job.struct_size = sizeof job;
    job.name = to_str(name);
    job.interval_seconds = 86400;  // read by no host that understands the calendar rule
    job.run = &Jobs::trampoline;
    job.job_plugin_ptr = &fns_->back();
    job.calendar_rule = when.rule;
    job.calendar_day = when.day;
    job.calendar_minute = when.minute;
    std::string err;
    StringSink sink(err);
    check(api_->schedule(ctx_, &job, sink.get()), err);
  }
  // Runs the job now in the background unless it is running.
  void trigger(std::string_view name) const {
    std::string err;
    StringSink sink(err);
    check(api_->trigger(ctx_, to_str(name), sink.get()), err);
  }

 private:
  static annex_status trampoline(void* plugin_ptr, annex_buffer* err) noexcept {
    return detail::guarded(err, [&] { (*static_cast<JobFn*>(plugin_ptr))(); });
  }

  annex_host_ctx* ctx_;
  const annex_jobs_v1* api_;
  std::deque<JobFn>* fns_;
};

// ---------------------------------------------------------------------------------------------------------
// Security: object-level access and the audit log (ABI 1.1)
// ---------------------------------------------------------------------------------------------------------

// A business record, as the authorisation service sees it.
struct ObjectRef {
  std::string_view type;       // "hello.greeting"
  std::string_view id;         // empty for a record about to be created
  std::string_view sector_id;
  std::string_view owner_id;
};

// The "annex.authz" v1 service.
class Authz {
 public:
  Authz(annex_host_ctx* ctx, const annex_authz_v1* api) noexcept : ctx_(ctx), api_(api) {}

  // True when `user_id` may exercise `permission` on `object`. The host logs every refusal. For a record
  // about to be created (empty id) in a sector that does not exist, throws Error(ANNEX_ERR_UNPROCESSABLE)
  // naming "sector_id".
  bool may(std::string_view user_id, std::string_view permission, const ObjectRef& object) const {
    annex_object_ref ref{sizeof(annex_object_ref), to_str(object.type), to_str(object.id), to_str(object.sector_id),
                         to_str(object.owner_id)};
    int32_t allowed = 0;
    std::string err;
    StringSink sink(err);
    check(api_->check(ctx_, to_str(user_id), to_str(permission), &ref, &allowed, sink.get()), err);
    return allowed != 0;
  }
  // Throws Error(NOT_FOUND, not_found_message) unless allowed: a record out of reach looks like no record.
  void require(std::string_view user_id, std::string_view permission, const ObjectRef& object,
               std::string_view not_found_message) const {
    if (!may(user_id, permission, object)) throw Error(ANNEX_ERR_NOT_FOUND, std::string(not_found_message));
  }
  // A SQL condition over the plugin's columns selecting the rows of `object_type` the user may act on.
  std::string list_filter(std::string_view user_id, std::string_view permission, std::string_view object_type,
                          std::string_view sector_column = "sector_id", std::string_view owner_column = "owner_id",
                          std::string_view id_column = "id") const {
    std::string sql, err;
    StringSink out(sql), sink(err);
    check(api_->list_filter(ctx_, to_str(user_id), to_str(permission), to_str(object_type), to_str(sector_column),
                            to_str(owner_column), to_str(id_column), out.get(), sink.get()),
          err);
    return sql;
  }
  // The user's home sector (first membership), or nothing when they belong to none.
  std::optional<std::string> home_sector(std::string_view user_id) const {
    std::string sector, err;
    StringSink out(sector), sink(err);
    annex_status st = api_->home_sector(ctx_, to_str(user_id), out.get(), sink.get());
    if (st == ANNEX_ERR_NOT_FOUND) return std::nullopt;
    check(st, err);
    return sector;
  }
  // Assigns a record to a user beyond what they own; with `txn`, only if it commits.
  void grant(std::string_view object_type, std::string_view object_id, std::string_view user_id,
             std::string_view granted_by, Transaction* txn = nullptr) const {
    std::string err;
    StringSink sink(err);
    check(api_->grant(ctx_, txn != nullptr ? txn->get() : nullptr, to_str(object_type), to_str(object_id),
                      to_str(user_id), to_str(granted_by), sink.get()),
          err);
  }
  void revoke(std::string_view object_type, std::string_view object_id, std::string_view user_id,
              Transaction* txn = nullptr) const {
    std::string err;
    StringSink sink(err);
    check(api_->revoke(ctx_, txn != nullptr ? txn->get() : nullptr, to_str(object_type), to_str(object_id),
                       to_str(user_id), sink.get()),
          err);
  }

 private:
  annex_host_ctx* ctx_;
  const annex_authz_v1* api_;
};

// The "annex.audit" v1 service: every change to a financial record goes through append(), inside the
// transaction that makes the change.
class Audit {
 public:
  Audit(annex_host_ctx* ctx, const annex_audit_v1* api) noexcept : ctx_(ctx), api_(api) {}

  // Appends {principal, action, object, before, after}; before/after are JSON text ("" for none). Returns the
  // entry's sequence number.
  int64_t append(Transaction* txn, std::string_view principal_id, std::string_view action,
                 std::string_view object_type, std::string_view object_id, std::string_view before_json,
                 std::string_view after_json) const {
    int64_t seq = 0;
    std::string err;
    StringSink sink(err);
    check(api_->append(ctx_, txn != nullptr ? txn->get() : nullptr, to_str(principal_id), to_str(action),
                       to_str(object_type), to_str(object_id), to_str(before_json), to_str(after_json), &seq,
                       sink.get()),
          err);
    return seq;
  }

  // One document of an evidence pack: its file name in the archive (1 to 128 of A–Z a–z 0–9 . _ -) and its text
  // (UTF-8; other bytes become U+FFFD).
  struct Document {
    std::string name;
    std::string text;
  };
  // One record whose audit entries an evidence pack proves.
  struct Object {
    std::string type;
    std::string id;
  };

  // Makes an evidence pack (see annex_audit_v1.evidence_pack in annex/plugin.h) and returns the ZIP archive's
  // bytes: the documents, a manifest of their SHA-256 digests, and the audit entries about `objects` with the
  // signed checkpoints that cover them, verifiable offline with `annexctl audit verify --file`. Call it outside
  // any transaction. Throws Error naming the field at fault ("title", "objects", "documents"), and
  // Error(UNSUPPORTED) from a host older than ABI 1.5.
  std::string evidence_pack(std::string_view principal_id, std::string_view title, const std::vector<Object>& objects,
                            const std::vector<Document>& documents) const {
    if (!ANNEX_HAS_FIELD(api_, annex_audit_v1, evidence_pack) || api_->evidence_pack == nullptr) {
      throw Error(ANNEX_ERR_UNSUPPORTED, "this host makes no evidence packs (it is older than ABI 1.5)");
    }
    std::string objects_json = "[";
    for (const Object& o : objects) {
      objects_json += (objects_json.size() > 1 ? ",{\"type\":" : "{\"type\":") + json_quote(o.type) +
                      ",\"id\":" + json_quote(o.id) + "}";
    }
    objects_json += "]";
    std::string documents_json = "{";
    for (const Document& d : documents) {
      documents_json += (documents_json.size() > 1 ? "," : "") + json_quote(d.name) + ":" + json_quote(d.text);
    }
    documents_json += "}";
    std::string zip, err;
    StringSink out(zip), sink(err);
    check(api_->evidence_pack(ctx_, to_str(principal_id), to_str(title), to_str(objects_json), to_str(documents_json),
                              out.get(), sink.get()),
          err);
    return zip;
  }

 private:
  annex_host_ctx* ctx_;
  const annex_audit_v1* api_;
};

namespace detail {
// Calls `fn(out, err)` and returns the JSON it appended, or throws Error with the host's status, message and the
// field it named (see check()).
template <typename Fn>
std::string call_json(Fn&& fn) {
  std::string json, err;
  StringSink out(json), sink(err);
  check(fn(out.get(), sink.get()), err);
  return json;
}
}  // namespace detail

// The "annex.masterdata" v1 service: records as JSON text (see annex/plugin.h).
class MasterData {
 public:
  MasterData(annex_host_ctx* ctx, const annex_masterdata_v1* api) noexcept : ctx_(ctx), api_(api) {}

  // The record, or nothing when missing or (with `user_id`) out of that user's reach.
  std::optional<std::string> get(std::string_view entity, std::string_view id, std::string_view user_id = {}) const {
    return maybe([&](annex_buffer* out, annex_buffer* err) {
      return api_->get(ctx_, to_str(entity), to_str(id), to_str(user_id), out, err);
    });
  }
  std::optional<std::string> find(std::string_view entity, std::string_view key_json, std::string_view user_id = {}) const {
    return maybe([&](annex_buffer* out, annex_buffer* err) {
      return api_->find(ctx_, to_str(entity), to_str(key_json), to_str(user_id), out, err);
    });
  }
  // The minor units of the currency with this ISO 4217 code (JPY 0, CNY 2, KWD 3; -1 when not recorded), or
  // nothing when master data holds no such currency: money in it is to be refused.
  std::optional<int> currency(std::string_view code) const {
    if (!ANNEX_HAS_FIELD(api_, annex_masterdata_v1, currency)) throw Error(ANNEX_ERR_UNSUPPORTED, "this host looks up no currencies");
    int32_t minor_units = -1;
    std::string err;
    StringSink sink(err);
    annex_status st = api_->currency(ctx_, to_str(code), &minor_units, sink.get());
    if (st == ANNEX_ERR_NOT_FOUND) return std::nullopt;
    if (st != ANNEX_OK) throw Error(st, err);
    return minor_units;
  }
  // {"id", "outcome", "version"}; with `txn`, only if it commits.
  std::string upsert(std::string_view entity, std::string_view record_json, std::string_view actor_id,
                     Transaction* txn = nullptr) const {
    return detail::call_json([&](annex_buffer* out, annex_buffer* err) {
      return api_->upsert(ctx_, txn != nullptr ? txn->get() : nullptr, to_str(entity), to_str(record_json),
                          to_str(actor_id), out, err);
    });
  }

 private:
  template <typename Fn>
  std::optional<std::string> maybe(Fn&& fn) const {
    try {
      return detail::call_json(std::forward<Fn>(fn));
    } catch (const Error& e) {
      if (e.code() == ANNEX_ERR_NOT_FOUND) return std::nullopt;
      throw;
    }
  }

  annex_host_ctx* ctx_;
  const annex_masterdata_v1* api_;
};

// The "annex.directory" v1 service (ABI 1.2): users as JSON text (see annex/plugin.h).
class Directory {
 public:
  Directory(annex_host_ctx* ctx, const annex_directory_v1* api) noexcept : ctx_(ctx), api_(api) {}

  // The user, or nothing when there is none.
  std::optional<std::string> user(std::string_view user_id) const {
    try {
      return detail::call_json([&](annex_buffer* out, annex_buffer* err) { return api_->user(ctx_, to_str(user_id), out, err); });
    } catch (const Error& e) {
      if (e.code() == ANNEX_ERR_NOT_FOUND) return std::nullopt;
      throw;
    }
  }
  // {"items": [...]} for a filter such as {"status": "disabled"} or {"sector_id": "north"}.
  std::string users(std::string_view filter_json = "{}") const {
    return detail::call_json([&](annex_buffer* out, annex_buffer* err) { return api_->users(ctx_, to_str(filter_json), out, err); });
  }

 private:
  annex_host_ctx* ctx_;
  const annex_directory_v1* api_;
};

// The "annex.blobs" v1 service (ABI 1.3): files by the SHA-256 of their bytes, as JSON text (see annex/plugin.h).
class Blobs {
 public:
  Blobs(annex_host_ctx* ctx, const annex_blobs_v1* api) noexcept : ctx_(ctx), api_(api) {}

  // {"sha256", "size", "media_type", "created_at"}, or nothing when no such blob is stored.
  std::optional<std::string> stat(std::string_view sha256) const {
    try {
      return detail::call_json([&](annex_buffer* out, annex_buffer* err) { return api_->stat(ctx_, to_str(sha256), out, err); });
    } catch (const Error& e) {
      if (e.code() == ANNEX_ERR_NOT_FOUND) return std::nullopt;
      throw;
    }
  }
  // Up to `length` bytes from `offset` (at most 16 MiB a call). Throws Error(NOT_FOUND) for a blob not stored.
  std::string read(std::string_view sha256, int64_t offset, int64_t length) const {
    return detail::call_json([&](annex_buffer* out, annex_buffer* err) {
      return api_->read(ctx_, to_str(sha256), offset, length, out, err);
    });
  }
  // Stores `bytes` (with `txn`, only if it commits); `media_type`, when given, must be what the bytes are.
  // {"sha256", "size", "media_type", "created_at", "created"}.
  std::string put(std::string_view bytes, std::string_view media_type = {}, Transaction* txn = nullptr) const {
    return detail::call_json([&](annex_buffer* out, annex_buffer* err) {
      return api_->put(ctx_, txn != nullptr ? txn->get() : nullptr, to_str(bytes), to_str(media_type), out, err);
    });
  }

 private:
  annex_host_ctx* ctx_;
  const annex_blobs_v1* api_;
};

// The "annex.calendar" v1 service (ABI 1.4): working days and the host clock in the company's time zone. Dates are
// local dates of that zone as std::chrono::sys_days (biz::Date); instants are UTC. Ask it for now and today,
// never the system clock, so that a test can move time (calendar.test_clock_file).
class Calendar {
 public:
  using Day = std::chrono::sys_days;
  using Instant = std::chrono::sys_seconds;

  Calendar(annex_host_ctx* ctx, const annex_calendar_v1* api) noexcept : ctx_(ctx), api_(api) {}

  // A make-up working day, or a day that is neither a holiday nor a weekend day.
  bool is_working_day(Day day) const {
    int32_t working = 0;
    call([&](annex_buffer* err) { return api_->is_working_day(ctx_, number(day), &working, err); });
    return working != 0;
  }
  // The n-th (1-based) working day of the month; nothing when the month has fewer.
  std::optional<Day> nth_working_day(std::chrono::year_month month, int n) const {
    int32_t day = 0;
    std::string err;
    StringSink sink(err);
    annex_status status = api_->nth_working_day(ctx_, static_cast<int>(month.year()),
                                                static_cast<int32_t>(static_cast<unsigned>(month.month())), n, &day,
                                                sink.get());
    if (status == ANNEX_ERR_NOT_FOUND) return std::nullopt;
    check(status, err);
    return Day{std::chrono::days{day}};
  }
  // The working days d with from <= d < to; negated when to < from.
  int working_days_between(Day from, Day to) const {
    int32_t count = 0;
    call([&](annex_buffer* err) { return api_->working_days_between(ctx_, number(from), number(to), &count, err); });
    return count;
  }
  // Today in the company's time zone, by the host clock.
  Day today() const {
    int32_t day = 0;
    call([&](annex_buffer* err) { return api_->today(ctx_, &day, err); });
    return Day{std::chrono::days{day}};
  }
  // Now, by the host clock.
  Instant now() const {
    int64_t at = 0;
    call([&](annex_buffer* err) { return api_->now(ctx_, &at, nullptr, err); });
    return Instant{std::chrono::seconds{at}};
  }
  // The company's offset from UTC now (+08:00 for Asia/Shanghai).
  std::chrono::seconds utc_offset() const {
    int32_t offset = 0;
    call([&](annex_buffer* err) { return api_->now(ctx_, nullptr, &offset, err); });
    return std::chrono::seconds{offset};
  }
  // The instant `day` begins in the company's time zone: a period ending on day D ends at midnight(D + 1 day).
  Instant midnight(Day day) const {
    int64_t at = 0;
    call([&](annex_buffer* err) { return api_->midnight(ctx_, number(day), &at, err); });
    return Instant{std::chrono::seconds{at}};
  }
  // The year as GET /api/v1/calendar?year= shows it (JSON text).
  std::string year_json(int year) const {
    return detail::call_json([&](annex_buffer* out, annex_buffer* err) { return api_->year_json(ctx_, year, out, err); });
  }

 private:
  static int32_t number(Day day) { return static_cast<int32_t>(day.time_since_epoch().count()); }
  template <typename Fn>
  static void call(Fn&& fn) {
    std::string err;
    StringSink sink(err);
    check(fn(sink.get()), err);
  }

  annex_host_ctx* ctx_;
  const annex_calendar_v1* api_;
};

// An item to put through an approval chain.
struct ApprovalItem {
  std::string_view chain;
  std::string_view item_type;
  std::string_view item_id;
  std::string_view sector_id;
  std::string_view submitter_id;
  int64_t amount = 0;  // minor units
  std::string_view currency;
};

// The "annex.approvals" v1 service. Each call returns the approval as JSON (see annex/plugin.h) and throws
// Error on a refusal: PERMISSION_DENIED for segregation of duties, CONFLICT for the state, and so on.
class Approvals {
 public:
  Approvals(annex_host_ctx* ctx, const annex_approvals_v1* api) noexcept : ctx_(ctx), api_(api) {}

  std::string submit(const ApprovalItem& item, Transaction* txn = nullptr) const {
    annex_approval_item raw{sizeof(annex_approval_item), to_str(item.chain), to_str(item.item_type),
                            to_str(item.item_id),        to_str(item.sector_id), to_str(item.submitter_id),
                            item.amount,                 to_str(item.currency)};
    return call([&](annex_buffer* out, annex_buffer* err) { return api_->submit(ctx_, raw_txn(txn), &raw, out, err); });
  }
  std::string decide(std::string_view approval_id, std::string_view actor_id, std::string_view decision,
                     std::string_view comment = {}, std::string_view on_behalf_of = {},
                     Transaction* txn = nullptr) const {
    return call([&](annex_buffer* out, annex_buffer* err) {
      return api_->decide(ctx_, raw_txn(txn), to_str(approval_id), to_str(actor_id), to_str(decision), to_str(comment),
                          to_str(on_behalf_of), out, err);
    });
  }
  std::string resubmit(std::string_view approval_id, std::string_view actor_id, Transaction* txn = nullptr) const {
    return call([&](annex_buffer* out, annex_buffer* err) {
      return api_->resubmit(ctx_, raw_txn(txn), to_str(approval_id), to_str(actor_id), out, err);
    });
  }
  std::string get(std::string_view approval_id) const {
    return call([&](annex_buffer* out, annex_buffer* err) { return api_->get(ctx_, to_str(approval_id), out, err); });
  }

 private:
  static annex_txn* raw_txn(Transaction* txn) noexcept { return txn != nullptr ? txn->get() : nullptr; }
  template <typename Fn>
  std::string call(Fn&& fn) const {
    return detail::call_json(std::forward<Fn>(fn));
  }

  annex_host_ctx* ctx_;
  const annex_approvals_v1* api_;
};

// ---------------------------------------------------------------------------------------------------------
// Documents (ABI 1.3): business documents through the sync engine's document streams; see annex.documents in
// annex/plugin.h.
// ---------------------------------------------------------------------------------------------------------

// A document handed to the plugin: a pulled one (json: the remote's document), or the outcome of a pushed one
// (json: its status object). Borrowed for the duration of the handler call.
struct Document {
  std::string_view connection;
  std::string_view stream;
  std::string_view key;
  std::string_view json;
};
// Returns once the document is taken. Throwing Error(ANNEX_ERR_UNPROCESSABLE, …) refuses a pulled document (a dead
// letter); anything else thrown makes the host deliver it again later.
using DocumentHandler = std::function<void(const Document&)>;

// The "annex.documents" v1 service.
class Documents {
 public:
  Documents(annex_host_ctx* ctx, const annex_documents_v1* api, std::deque<DocumentHandler>* handlers) noexcept
      : ctx_(ctx), api_(api), handlers_(handlers) {}

  // Queues a document (a JSON object) on a push document stream the plugin owns, inside `txn` when given: it
  // leaves only if the transaction commits. A key already queued is a no-op.
  void enqueue(std::string_view connection, std::string_view stream, std::string_view key, std::string_view document_json,
               Transaction* txn = nullptr) const {
    std::string err;
    StringSink sink(err);
    check(api_->enqueue(ctx_, txn != nullptr ? txn->get() : nullptr, to_str(connection), to_str(stream), to_str(key),
                        to_str(document_json), sink.get()),
          err);
  }
  // The document's status object ({"state": "pending"|"delivered"|"dead", "remote_id", "reason", …}), or nothing
  // when no document has this key.
  std::optional<std::string> status(std::string_view connection, std::string_view stream, std::string_view key) const {
    std::string out, err;
    StringSink o(out), sink(err);
    annex_status st = api_->status(ctx_, to_str(connection), to_str(stream), to_str(key), o.get(), sink.get());
    if (st == ANNEX_ERR_NOT_FOUND && err.rfind("field=", 0) != 0) return std::nullopt;  // no such key; a stream names its field
    check(st, err);
    return out;
  }
  // Takes the documents of a pull document stream the plugin owns, in the remote's order, at least once.
  void subscribe(std::string_view connection, std::string_view stream, DocumentHandler handler) const {
    add(connection, stream, std::move(handler), api_->subscribe);
  }
  // Hears each final outcome (delivered or dead) of a push document stream the plugin owns, at least once.
  void on_outcome(std::string_view connection, std::string_view stream, DocumentHandler handler) const {
    add(connection, stream, std::move(handler), api_->on_outcome);
  }

 private:
  using AddFn = annex_status (*)(annex_host_ctx*, annex_str, annex_str, annex_document_handler, void*, annex_buffer*);
  void add(std::string_view connection, std::string_view stream, DocumentHandler handler, AddFn fn) const {
    handlers_->push_back(std::move(handler));
    std::string err;
    StringSink sink(err);
    check(fn(ctx_, to_str(connection), to_str(stream), &Documents::trampoline, &handlers_->back(), sink.get()), err);
  }
  static annex_status trampoline(void* plugin_ptr, const annex_document* d, annex_buffer* err) noexcept {
    return detail::guarded(err, [&] {
      Document doc{to_view(d->connection), to_view(d->stream), to_view(d->key), to_view(d->document_json)};
      (*static_cast<DocumentHandler*>(plugin_ptr))(doc);
    });
  }

  annex_host_ctx* ctx_;
  const annex_documents_v1* api_;
  std::deque<DocumentHandler>* handlers_;
};

// ---------------------------------------------------------------------------------------------------------
// Connectors (ABI 1.1): records cross as JSON text; see annex_connector in annex/plugin.h for each call.
// ---------------------------------------------------------------------------------------------------------

// One open connection. Throw Error(ANNEX_ERR_UNAVAILABLE, …) when the remote cannot be reached,
// Error(ANNEX_ERR_UNAUTHENTICATED / PERMISSION_DENIED, …) when it refuses the credentials.
class Connection {
 public:
  virtual ~Connection() = default;
  // {"detail": "…"}
  virtual std::string check() = 0;
  // {"streams": [...]}
  virtual std::string discover() = 0;
  // {"records": [...], "cursor": …, "done": bool}
  virtual std::string read(std::string_view stream, std::string_view cursor_json, uint32_t page_size) = 0;
  // {"results": [...]}, one per record
  virtual std::string write(std::string_view stream, std::string_view records_json) = 0;
};

// A kind of connection: opens one from its settings (JSON).
class Connector {
 public:
  virtual ~Connector() = default;
  virtual std::unique_ptr<Connection> open(std::string_view settings_json) = 0;
};

namespace detail {
struct ConnectionBox {
  std::unique_ptr<Connection> connection;
};
inline Connection& conn_of(annex_connection* c) { return *reinterpret_cast<ConnectionBox*>(c)->connection; }

template <typename Fn>
annex_status json_call(annex_buffer* out, annex_buffer* err, Fn&& fn) noexcept {
  return guarded(err, [&] { write(out, fn()); });
}

inline annex_status connector_open(void* plugin_ptr, annex_str settings, annex_connection** out, annex_buffer* err) noexcept {
  return guarded(err, [&] {
    auto box = std::make_unique<ConnectionBox>();
    box->connection = static_cast<Connector*>(plugin_ptr)->open(to_view(settings));
    *out = reinterpret_cast<annex_connection*>(box.release());
  });
}
inline void connector_close(annex_connection* c) noexcept { delete reinterpret_cast<ConnectionBox*>(c); }
inline annex_status connector_check(annex_connection* c, annex_buffer* out, annex_buffer* err) noexcept {
  return json_call(out, err, [&] { return conn_of(c).check(); });
}
inline annex_status connector_discover(annex_connection* c, annex_buffer* out, annex_buffer* err) noexcept {
  return json_call(out, err, [&] { return conn_of(c).discover(); });
}
inline annex_status connector_read(annex_connection* c, annex_str stream, annex_str cursor, uint32_t page_size,
                                   annex_buffer* out, annex_buffer* err) noexcept {
  return json_call(out, err, [&] { return conn_of(c).read(to_view(stream), to_view(cursor), page_size); });
}
inline annex_status connector_write(annex_connection* c, annex_str stream, annex_str records, annex_buffer* out,
                                    annex_buffer* err) noexcept {
  return json_call(out, err, [&] { return conn_of(c).write(to_view(stream), to_view(records)); });
}
}  // namespace detail

// The "annex.connectors" v1 service.
class Connectors {
 public:
  Connectors(annex_host_ctx* ctx, const annex_connectors_v1* api, std::deque<std::unique_ptr<Connector>>* owned) noexcept
      : ctx_(ctx), api_(api), owned_(owned) {}

  // Offers `connector` under `type` ("odbc") until the plugin stops.
  void add(std::string_view type, std::unique_ptr<Connector> connector) const {
    owned_->push_back(std::move(connector));
    annex_connector c{};
    c.struct_size = sizeof c;
    c.type = to_str(type);
    c.connector_plugin_ptr = owned_->back().get();
    c.open = &detail::connector_open;
    c.close = &detail::connector_close;
    c.check = &detail::connector_check;
    c.discover = &detail::connector_discover;
    c.read = &detail::connector_read;
    c.write = &detail::connector_write;
    std::string err;
    StringSink sink(err);
    check(api_->register_connector(ctx_, &c, sink.get()), err);
  }

 private:
  annex_host_ctx* ctx_;
  const annex_connectors_v1* api_;
  std::deque<std::unique_ptr<Connector>>* owned_;
};

// ---------------------------------------------------------------------------------------------------------
// The host
// ---------------------------------------------------------------------------------------------------------

// The plugin's view of the host: logging, configuration and the services its manifest declares.
// Accessors throw Error(UNSUPPORTED) when a service was not declared under "uses" or the host lacks it.
class Host {
 public:
  explicit Host(const annex_host_api* api) noexcept : api_(api) {}
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // Looks up service `name` at `major`; nullptr when unavailable. For services the SDK does not wrap.
  const void* service(std::string_view name, uint32_t major) const noexcept {
    return api_->get_service(api_->ctx_host_ptr, to_str(name), major);
  }
  template <typename Table>
  const Table& require(std::string_view name, uint32_t major) const {
    const void* table = service(name, major);
    if (table == nullptr) {
      throw Error(ANNEX_ERR_UNSUPPORTED, "service " + std::string(name) + "@" + std::to_string(major) +
                                             " is not available (is it listed under \"uses\" in the manifest?)");
    }
    return *static_cast<const Table*>(table);
  }

  // Offers `table` as service `name`@`major` to other plugins (listed under "provides" in the manifest). Call it
  // from on_register(); the table (by convention {struct_size, minor, provider_plugin_ptr, functions…}) must
  // outlive the plugin instance — a static or a member. Another plugin gets it with
  // `host().require<TheTable>(name, major)` after listing it under "uses" and this plugin under "requires".
  void provide(std::string_view name, uint32_t major, const void* table) const {
    if (!ANNEX_HAS_FIELD(api_, annex_host_api, provide_service) || api_->provide_service == nullptr) {
      throw Error(ANNEX_ERR_UNSUPPORTED, "this host is older than ABI 1.3 and cannot offer plugin services");
    }
    std::string message;
    StringSink sink(message);
    annex_status status = api_->provide_service(api_->ctx_host_ptr, to_str(name), major, table, sink.get());
    if (status != ANNEX_OK) throw Error(status, message);
  }

  // Writes a line to the host's log. Silently does nothing if annex.log is not declared.
  void log(annex_log_level level, std::string_view message) const noexcept {
    auto* log = static_cast<const annex_log_v1*>(service(ANNEX_SERVICE_LOG, 1));
    if (log != nullptr) log->write(api_->ctx_host_ptr, level, to_str(message));
  }
  void info(std::string_view message) const noexcept { log(ANNEX_LOG_INFO, message); }
  void warn(std::string_view message) const noexcept { log(ANNEX_LOG_WARN, message); }
  void error(std::string_view message) const noexcept { log(ANNEX_LOG_ERROR, message); }

  Db db() const { return Db(api_->ctx_host_ptr, &require<annex_db_v1>(ANNEX_SERVICE_DB, 1)); }
  Http http() { return Http(api_->ctx_host_ptr, &require<annex_http_v1>(ANNEX_SERVICE_HTTP, 1), &routes_); }
  Events events() {
    return Events(api_->ctx_host_ptr, &require<annex_events_v1>(ANNEX_SERVICE_EVENTS, 1), &subscriptions_);
  }
  Jobs jobs() { return Jobs(api_->ctx_host_ptr, &require<annex_jobs_v1>(ANNEX_SERVICE_JOBS, 1), &jobs_); }
  Authz authz() const { return Authz(api_->ctx_host_ptr, &require<annex_authz_v1>(ANNEX_SERVICE_AUTHZ, 1)); }
  Audit audit() const { return Audit(api_->ctx_host_ptr, &require<annex_audit_v1>(ANNEX_SERVICE_AUDIT, 1)); }
  Connectors connectors() {
    return Connectors(api_->ctx_host_ptr, &require<annex_connectors_v1>(ANNEX_SERVICE_CONNECTORS, 1), &connectors_);
  }
  Directory directory() const {
    return Directory(api_->ctx_host_ptr, &require<annex_directory_v1>(ANNEX_SERVICE_DIRECTORY, 1));
  }
  MasterData masterdata() const {
    return MasterData(api_->ctx_host_ptr, &require<annex_masterdata_v1>(ANNEX_SERVICE_MASTERDATA, 1));
  }
  Approvals approvals() const {
    return Approvals(api_->ctx_host_ptr, &require<annex_approvals_v1>(ANNEX_SERVICE_APPROVALS, 1));
  }
  Blobs blobs() const { return Blobs(api_->ctx_host_ptr, &require<annex_blobs_v1>(ANNEX_SERVICE_BLOBS, 1)); }
  Calendar calendar() const {
    return Calendar(api_->ctx_host_ptr, &require<annex_calendar_v1>(ANNEX_SERVICE_CALENDAR, 1));
  }
  Documents documents() {
    return Documents(api_->ctx_host_ptr, &require<annex_documents_v1>(ANNEX_SERVICE_DOCUMENTS, 1), &documents_);
  }

  // A host setting ("data_dir", "database.dialect", "http.base_url"); empty when unknown or undeclared.
  std::string setting(std::string_view key) const {
    auto* config = static_cast<const annex_config_v1*>(service(ANNEX_SERVICE_CONFIG, 1));
    std::string out;
    if (config == nullptr) return out;
    StringSink sink(out);
    if (config->host_setting(api_->ctx_host_ptr, to_str(key), sink.get()) != ANNEX_OK) out.clear();
    return out;
  }

  const annex_host_api* raw() const noexcept { return api_; }

 private:
  const annex_host_api* api_;
  // Callables registered with the host; they live as long as the plugin instance (deque: stable addresses).
  std::deque<RouteHandler> routes_;
  std::deque<EventHandler> subscriptions_;
  std::deque<JobFn> jobs_;
  std::deque<std::unique_ptr<Connector>> connectors_;
  std::deque<DocumentHandler> documents_;
};

// ---------------------------------------------------------------------------------------------------------
// The plugin base class and the export macro
// ---------------------------------------------------------------------------------------------------------

// Base class of a plugin. The derived class must be constructible from (const annex_host_api*, std::string
// config_json) — inherit the constructor with `using annex::Plugin::Plugin;` — and must define:
//   static constexpr const char* kId, kVersion, kManifest;
// and may define `static constexpr annex_plugin_kind kKind` (default: capability) and
// `static std::span<const annex_migration> migrations()` (default: none).
// Every overridable step may throw annex::Error; the trampolines turn it into a status.
class Plugin {
 public:
  static constexpr annex_plugin_kind kKind = ANNEX_KIND_CAPABILITY;
  static std::span<const annex_migration> migrations() noexcept { return {}; }

  Plugin(const annex_host_api* api, std::string config_json) : host_(api), config_json_(std::move(config_json)) {}
  virtual ~Plugin() = default;
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

  // Register routes, subscriptions and jobs.
  virtual void on_register() {}
  // Start background work.
  virtual void start() {}
  // Stop background work. Registrations are removed by the host afterwards.
  virtual void stop() {}

  Host& host() noexcept { return host_; }
  // The plugin's validated configuration, as JSON.
  const std::string& config_json() const noexcept { return config_json_; }

 private:
  Host host_;
  std::string config_json_;
};

namespace detail {

template <typename P>
struct Export {
  static Plugin* self(annex_plugin* p) noexcept { return reinterpret_cast<Plugin*>(p); }

  static annex_status create(const annex_host_api* api, annex_str config, annex_plugin** out,
                             annex_buffer* err) noexcept {
    return guarded(err, [&] {
      if (api == nullptr || out == nullptr) throw Error(ANNEX_ERR_INVALID_ARGUMENT, "null host or output");
      if (api->abi_major != ANNEX_ABI_MAJOR) throw Error(ANNEX_ERR_UNSUPPORTED, "host ABI major differs");
      if (ANNEX_HAS_FIELD(api, annex_host_api, set_error_field) && api->set_error_field != nullptr) {
        error_field_setter().store(api->set_error_field, std::memory_order_relaxed);
      }
      Plugin* plugin = new P(api, std::string(to_view(config)));
      *out = reinterpret_cast<annex_plugin*>(plugin);
    });
  }
  static annex_status on_register(annex_plugin* p, annex_buffer* err) noexcept {
    return guarded(err, [&] { self(p)->on_register(); });
  }
  static annex_status start(annex_plugin* p, annex_buffer* err) noexcept {
    return guarded(err, [&] { self(p)->start(); });
  }
  static annex_status stop(annex_plugin* p, annex_buffer* err) noexcept {
    return guarded(err, [&] { self(p)->stop(); });
  }
  static void destroy(annex_plugin* p) noexcept {
    try {
      delete self(p);
    } catch (...) {
    }
  }
  static const annex_plugin_descriptor* descriptor() noexcept {
    static const annex_plugin_descriptor d = [] {
      annex_plugin_descriptor x{};
      x.struct_size = sizeof x;
      x.abi_major = ANNEX_ABI_MAJOR;
      x.abi_minor = ANNEX_ABI_MINOR;
      x.id = P::kId;
      x.version = P::kVersion;
      x.kind = P::kKind;
      x.manifest_json = P::kManifest;
      auto migrations = P::migrations();
      x.migrations = migrations.empty() ? nullptr : migrations.data();
      x.migration_count = migrations.size();
      x.create = &create;
      x.on_register = &on_register;
      x.start = &start;
      x.stop = &stop;
      x.destroy = &destroy;
      return x;
    }();
    return &d;
  }
};

}  // namespace detail
}  // namespace annex

// Exports `PluginClass` as this module's plugin. Use once per module, at namespace scope.
#define ANNEX_PLUGIN(PluginClass)                                                        \
  extern "C" ANNEX_EXPORT const annex_plugin_descriptor* annex_plugin_query_v1(void) {  \
    return ::annex::detail::Export<PluginClass>::descriptor();                          \
  }

#endif  // ANNEX_SDK_HPP
