// The host services behind annex/plugin.h. Every function here is called from plugin code through a C table:
// none may throw, each checks its arguments, and each reports failure as a status plus a message.
#include "plugin_host/services.h"

#include "plugin_host/service_support.h"

#include "blobs/blob_store.h"
#include "events/event_bus.h"
#include "http/api_error.h"
#include "http/router.h"
#include "jobs/scheduler.h"
#include "log/logging.h"
#include "store/database.h"
#include "store/sql.h"
#include "store/transaction.h"

#include <Poco/JSON/Parser.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <unordered_set>
#include <strings.h>

// The opaque handles of the database service.
struct annex_rows {
  annex::store::ResultSet result;
  size_t cursor = static_cast<size_t>(-1);  // before the first row
};

struct annex_txn {
  std::unique_ptr<annex::store::Lease> lease;
  int level = 1;  // 1, or the savepoint level when begun inside a transaction this thread already has open
  annex::plugin_host::PluginRecord* owner = nullptr;
};

namespace annex::plugin_host {
namespace {

// ---- annex.log ---------------------------------------------------------------------------------------------

spdlog::level::level_enum spd_level(int32_t level) {
  switch (level) {
    case ANNEX_LOG_TRACE: return spdlog::level::trace;
    case ANNEX_LOG_DEBUG: return spdlog::level::debug;
    case ANNEX_LOG_INFO: return spdlog::level::info;
    case ANNEX_LOG_WARN: return spdlog::level::warn;
    default: return spdlog::level::err;
  }
}

void log_write(annex_host_ctx* ctx, int32_t level, annex_str message) {
  if (ctx == nullptr) return;
  try {
    record_of(ctx).logger->log(spd_level(level), "{}", view(message));
  } catch (...) {
  }
}

int32_t log_enabled(annex_host_ctx* ctx, int32_t level) {
  return ctx != nullptr && record_of(ctx).logger->should_log(spd_level(level)) ? 1 : 0;
}

const annex_log_v1 kLog = {sizeof(annex_log_v1), 0, &log_write, &log_enabled};

// ---- annex.config ------------------------------------------------------------------------------------------

annex_status config_get(annex_host_ctx* ctx, annex_buffer* out) {
  if (ctx == nullptr) return ANNEX_ERR_INVALID_ARGUMENT;
  put(out, record_of(ctx).config_json);
  return ANNEX_OK;
}

annex_status config_host_setting(annex_host_ctx* ctx, annex_str key, annex_buffer* out) {
  if (ctx == nullptr) return ANNEX_ERR_INVALID_ARGUMENT;
  const HostParts& parts = ctx->host->parts();
  std::string_view k = view(key);
  if (k == "data_dir") put(out, parts.data_dir);
  else if (k == "database.dialect") put(out, parts.db ? store::dialect_name(parts.db->dialect()) : "");
  else if (k == "http.base_url") put(out, parts.base_url);
  else return ANNEX_ERR_NOT_FOUND;
  return ANNEX_OK;
}

const annex_config_v1 kConfig = {sizeof(annex_config_v1), 0, &config_get, &config_host_setting};

// ---- annex.db ----------------------------------------------------------------------------------------------

annex_status db_query(annex_host_ctx* ctx, annex_txn* txn, annex_str sql, const annex_value* params,
                      size_t param_count, annex_rows** out_rows, int64_t* out_affected, annex_buffer* err) {
  if (ctx == nullptr || out_rows == nullptr || (param_count > 0 && params == nullptr)) {
    put(err, "query: null context, output or parameters");
    return ANNEX_ERR_INVALID_ARGUMENT;
  }
  *out_rows = nullptr;
  if (txn != nullptr && txn->owner != ctx->record) {
    put(err, "query: the transaction belongs to another plugin");
    return ANNEX_ERR_INVALID_ARGUMENT;
  }
  return guarded(err, [&] {
    // Statements repeat: remember the ones already found clean (per thread and plugin, bounded), so the check
    // costs a lookup on the hot path.
    thread_local std::unordered_set<std::string> clean;
    std::string_view text = view(sql);
    const std::string& self = ctx->record->module.id;
    std::string seen = self + '\n' + std::string(text);
    if (clean.find(seen) == clean.end()) {
      if (std::string table = store::core_table_reference(text); !table.empty()) {
        put(err, "query: " + table + " is one of the host's tables; plugins reach host data through its services");
        return ANNEX_ERR_PERMISSION_DENIED;
      }
      std::string owner;
      std::string table = store::find_identifier(text, [&](const std::string& word) {
        owner = ctx->host->table_owner(word);
        return !owner.empty() && owner != self;
      });
      if (!table.empty()) {
        put(err, "query: " + table + " is a table of plugin " + owner +
                     "; plugins reach each other's data through the services they provide");
        return ANNEX_ERR_PERMISSION_DENIED;
      }
      if (clean.size() > 512) clean.clear();
      clean.emplace(std::move(seen));
    }
    std::vector<store::Param> bound(param_count);
    for (size_t i = 0; i < param_count; ++i) {
      const annex_value& v = params[i];
      switch (v.type) {
        case ANNEX_VALUE_NULL: bound[i] = store::Param::null(); break;
        case ANNEX_VALUE_INT: bound[i] = store::Param::integer(v.i); break;
        case ANNEX_VALUE_DOUBLE: bound[i] = store::Param{store::CellType::kDouble, 0, v.d, {}}; break;
        case ANNEX_VALUE_TEXT: bound[i] = store::Param::text(view(v.s)); break;
        case ANNEX_VALUE_BLOB: bound[i] = store::Param{store::CellType::kBlob, 0, 0, view(v.s)}; break;
        default:
          put(err, "query: parameter " + std::to_string(i + 1) + " has unknown type " + std::to_string(v.type));
          return ANNEX_ERR_INVALID_ARGUMENT;
      }
    }
    if (txn == nullptr && ctx->host->parts().db == nullptr) {
      put(err, "query: this host has no database here (an offline check)");
      return ANNEX_ERR_UNSUPPORTED;
    }
    auto rows = std::make_unique<annex_rows>();
    if (txn != nullptr) {
      rows->result = store::run(txn->lease->session(), view(sql), bound);
    } else {
      store::Database& db = *ctx->host->parts().db;
      store::Lease lease(db);
      int* open = store::transaction_depth_slot(lease.session());
      if (open != nullptr && *open > 0) {
        // This thread is inside a transaction (the plugin's own, or a host service's that called it): the
        // statement runs on that connection, in a savepoint, so that its failure leaves the transaction usable.
        store::ScopedTransaction statement(lease.session(), db.dialect());
        rows->result = store::run(lease.session(), view(sql), bound);
        statement.commit();
      } else {
        try {
          rows->result = store::run(lease.session(), view(sql), bound);
        } catch (const store::StoreError& e) {
          // A PostgreSQL restart breaks pooled connections: reconnect once and retry the autocommit statement.
          if (e.kind() != store::StoreError::Kind::kUnavailable || db.dialect() != store::Dialect::kPostgresql ||
              lease.nested()) {
            throw;
          }
          db.reconnect(lease.session());
          rows->result = store::run(lease.session(), view(sql), bound);
        }
      }
    }
    if (out_affected != nullptr) *out_affected = rows->result.affected;
    *out_rows = rows.release();
    return ANNEX_OK;
  });
}

int32_t rows_next(annex_rows* rows) {
  if (rows == nullptr) return 0;
  if (rows->cursor == static_cast<size_t>(-1)) rows->cursor = 0;
  else if (rows->cursor < rows->result.rows.size()) ++rows->cursor;
  return rows->cursor < rows->result.rows.size() ? 1 : 0;
}

size_t rows_column_count(const annex_rows* rows) { return rows == nullptr ? 0 : rows->result.columns.size(); }

annex_str rows_column_name(const annex_rows* rows, size_t column) {
  if (rows == nullptr || column >= rows->result.columns.size()) return annex_str{nullptr, 0};
  return str(rows->result.columns[column]);
}

annex_value rows_get(const annex_rows* rows, size_t column) {
  annex_value v{};
  v.type = ANNEX_VALUE_NULL;
  if (rows == nullptr || rows->cursor >= rows->result.rows.size()) return v;
  const auto& row = rows->result.rows[rows->cursor];
  if (column >= row.size()) return v;
  const store::Cell& c = row[column];
  v.type = static_cast<int32_t>(c.type);
  v.i = c.i;
  v.d = c.d;
  v.s = str(c.s);
  return v;
}

void rows_free(annex_rows* rows) { delete rows; }

annex_status db_begin(annex_host_ctx* ctx, annex_txn** out, annex_buffer* err) {
  if (ctx == nullptr || out == nullptr) return ANNEX_ERR_INVALID_ARGUMENT;
  *out = nullptr;
  return guarded(err, [&] {
    if (ctx->host->parts().db == nullptr) {
      put(err, "begin: this host has no database here (an offline check)");
      return ANNEX_ERR_UNSUPPORTED;
    }
    store::Database& db = *ctx->host->parts().db;
    auto txn = std::make_unique<annex_txn>();
    txn->owner = ctx->record;
    txn->lease = std::make_unique<store::Lease>(db, store::Lease::kForWriting);
    txn->level = store::begin(txn->lease->session(), db.dialect());
    *out = txn.release();
    return ANNEX_OK;
  });
}

annex_status db_commit(annex_txn* txn, annex_buffer* err) {
  if (txn == nullptr) return ANNEX_ERR_INVALID_ARGUMENT;
  std::unique_ptr<annex_txn> owned(txn);
  annex_status status = guarded(err, [&] {
    store::commit(owned->lease->session(), owned->level);
    return ANNEX_OK;
  });
  if (status == ANNEX_OK) {
    // Events published inside the transaction are visible now.
    if (auto* bus = owned->owner->ctx.host->parts().events) {
      shielded(0, [&] {
        bus->poke();
        return 0;
      });
    }
  }
  return status;
}

void db_rollback(annex_txn* txn) {
  if (txn == nullptr) return;
  std::unique_ptr<annex_txn> owned(txn);
  shielded(0, [&] {
    store::rollback(owned->lease->session(), owned->level);
    return 0;
  });
}

const annex_db_v1 kDb = {sizeof(annex_db_v1), 0,          &db_query, &rows_next, &rows_column_count,
                         &rows_column_name,   &rows_get,  &rows_free, &db_begin,  &db_commit,
                         &db_rollback};

// ---- annex.http --------------------------------------------------------------------------------------------

struct RequestView {
  annex_http_request c{};
  http::HttpRequest* request;
};

annex_str req_path_param(const annex_http_request* req, annex_str name) {
  if (req == nullptr) return annex_str{nullptr, 0};
  return shielded(annex_str{nullptr, 0}, [&] {
    auto* rv = static_cast<const RequestView*>(req->request_host_ptr);
    auto it = rv->request->path_params.find(view(name));
    return it == rv->request->path_params.end() ? annex_str{nullptr, 0} : str(it->second);
  });
}

int32_t req_query_param(const annex_http_request* req, annex_str name, annex_buffer* out) {
  if (req == nullptr) return 0;
  return shielded(int32_t{0}, [&]() -> int32_t {
    auto* rv = static_cast<const RequestView*>(req->request_host_ptr);
    std::string value;
    if (!rv->request->query_param(view(name), &value)) return 0;
    put(out, value);
    return 1;
  });
}

annex_str req_header(const annex_http_request* req, annex_str name) {
  if (req == nullptr) return annex_str{nullptr, 0};
  return shielded(annex_str{nullptr, 0}, [&] {
    auto* rv = static_cast<const RequestView*>(req->request_host_ptr);
    const std::string* v = rv->request->header(view(name));
    return v == nullptr ? annex_str{nullptr, 0} : str(*v);
  });
}

annex_status req_upload(const annex_http_request* req, annex_buffer* out) {
  if (req == nullptr) return ANNEX_ERR_INVALID_ARGUMENT;
  auto* rv = static_cast<const RequestView*>(req->request_host_ptr);
  if (!rv->request->upload) return ANNEX_ERR_NOT_FOUND;
  return guarded(nullptr, [&] {
    put(out, upload_json(*rv->request->upload));
    return ANNEX_OK;
  });
}

// What annex_http_response.response_host_ptr points to: the response, and the plugin filling it.
struct ResponseView {
  http::HttpResponse* response;
  PluginRecord* rec;
};

void resp_set_status(void* ptr, int32_t status) {
  static_cast<ResponseView*>(ptr)->response->status = status;  // the dispatcher answers 500 for one out of range
}

annex_status resp_send_blob(void* ptr, annex_str sha256, annex_str filename) {
  if (ptr == nullptr) return ANNEX_ERR_INVALID_ARGUMENT;
  auto* rv = static_cast<ResponseView*>(ptr);
  return send_blob(*rv->rec, *rv->response, view(sha256), view(filename));
}

void resp_set_header(void* ptr, annex_str name, annex_str value) {
  if (ptr == nullptr) return;
  shielded(0, [&] {
    auto* resp = static_cast<ResponseView*>(ptr)->response;
    std::string n(view(name)), v(view(value));
    // Header injection: a name or value with CR/LF is dropped, not sent.
    if (n.empty() || n.find_first_of("\r\n:") != std::string::npos || v.find_first_of("\r\n") != std::string::npos) return 0;
    if (strcasecmp(n.c_str(), "Content-Type") == 0) {
      resp->content_type = v;
      return 0;
    }
    resp->set_header(std::move(n), std::move(v));
    return 0;
  });
}

void append_string(void* owner, const char* data, size_t len) {
  try {
    static_cast<std::string*>(owner)->append(data, len);
  } catch (...) {
  }
}

void append_error(void* owner, const char* data, size_t len) {
  try {
    static_cast<ErrorSink*>(owner)->message.append(data, len);
  } catch (...) {
  }
}

int32_t set_error_field(annex_buffer* err, annex_str field) {
  if (err == nullptr || err->append != &append_error || err->owner_ptr == nullptr) return 0;
  return shielded(int32_t{0}, [&] {
    static_cast<ErrorSink*>(err->owner_ptr)->field = std::string(view(field));
    return int32_t{1};
  });
}

int http_status_for(annex_status s) {
  switch (s) {
    case ANNEX_ERR_INVALID_ARGUMENT: return 400;
    case ANNEX_ERR_UNAUTHENTICATED: return 401;
    case ANNEX_ERR_PERMISSION_DENIED: return 403;
    case ANNEX_ERR_NOT_FOUND: return 404;
    case ANNEX_ERR_CONFLICT: return 409;
    case ANNEX_ERR_PRECONDITION_FAILED: return 412;
    case ANNEX_ERR_UNPROCESSABLE: return 422;
    case ANNEX_ERR_UNAVAILABLE: return 503;
    default: return 500;
  }
}

// An upload route: only for a plugin that declared annex.blobs@1, only POST or PUT, only types the host can tell
// from the bytes; its limit never above the host's.
annex_status upload_route(const PluginRecord& rec, const annex_route& route, http::Route* out, annex_buffer* err) {
  if (!rec.granted.count(std::string(ANNEX_SERVICE_BLOBS) + "@1")) {
    put(err, "add_route: " + out->method + " " + out->path +
                 " takes uploads, which needs \"annex.blobs@1\" under \"uses\" in the manifest");
    return ANNEX_ERR_PERMISSION_DENIED;
  }
  if (out->method != "POST" && out->method != "PUT") {
    put(err, "add_route: an upload route is POST or PUT, not " + out->method);
    return ANNEX_ERR_INVALID_ARGUMENT;
  }
  if (route.upload_max_bytes < 0) {
    put(err, "add_route: upload_max_bytes must be positive");
    return ANNEX_ERR_INVALID_ARGUMENT;
  }
  const blobs::BlobStore* store = rec.ctx.host->parts().blobs;
  if (store == nullptr) {
    put(err, "add_route: this host stores no uploads");
    return ANNEX_ERR_UNSUPPORTED;
  }
  out->upload_max_bytes = std::min(route.upload_max_bytes, store->max_bytes());
  std::string_view types = view(route.upload_types);
  while (!types.empty()) {
    size_t comma = types.find(',');
    std::string type = blobs::normalise_type(types.substr(0, comma));
    types = comma == std::string_view::npos ? std::string_view{} : types.substr(comma + 1);
    if (type.empty()) continue;
    if (!blobs::recognised(type)) {
      put(err, "add_route: upload type \"" + type + "\" is not one the host can recognise from the bytes");
      return ANNEX_ERR_INVALID_ARGUMENT;
    }
    out->upload_types.push_back(type);
  }
  if (out->upload_types.empty()) {
    put(err, "add_route: an upload route names the types it takes (upload_types)");
    return ANNEX_ERR_INVALID_ARGUMENT;
  }
  return ANNEX_OK;
}

annex_status http_add_route(annex_host_ctx* ctx, const annex_route* route, annex_buffer* err) {
  if (ctx == nullptr || route == nullptr || route->handler == nullptr ||
      !ANNEX_HAS_FIELD(route, annex_route, handler_plugin_ptr)) {
    put(err, "add_route: null context, route or handler");
    return ANNEX_ERR_INVALID_ARGUMENT;
  }
  return guarded(err, [&] {
    PluginRecord* rec = ctx->record;
    http::Router* router = ctx->host->parts().router;
    if (router == nullptr) {
      put(err, "add_route: this host serves no HTTP");
      return ANNEX_ERR_UNSUPPORTED;
    }
    http::Route r;
    r.method = std::string(view(route->method));
    r.path = std::string(view(route->path));
    r.permission = std::string(view(route->permission));
    r.summary = std::string(view(route->summary));
    r.owner = rec->module.id;
    if (ANNEX_HAS_FIELD(route, annex_route, upload_types) && route->upload_max_bytes != 0) {
      if (annex_status refusal = upload_route(*rec, *route, &r, err); refusal != ANNEX_OK) return refusal;
    }
    annex_http_handler handler = route->handler;
    void* plugin_ptr = route->handler_plugin_ptr;
    r.handler = [rec, handler, plugin_ptr](http::HttpRequest& request, http::HttpResponse& response) {
      annex_principal principal{sizeof(annex_principal), str(request.principal.id), str(request.principal.login)};
      RequestView rv;
      rv.request = &request;
      rv.c.struct_size = sizeof(annex_http_request);
      rv.c.method = str(request.method);
      rv.c.path = str(request.path);
      rv.c.query = str(request.query);
      rv.c.body = str(request.body);
      rv.c.request_id = str(request.request_id);
      rv.c.principal = &principal;
      rv.c.request_host_ptr = &rv;
      rv.c.path_param = &req_path_param;
      rv.c.query_param = &req_query_param;
      rv.c.header = &req_header;
      rv.c.upload = &req_upload;
      ResponseView response_view{&response, rec};
      annex_http_response out{};
      out.struct_size = sizeof out;
      out.response_host_ptr = &response_view;
      out.set_status = &resp_set_status;
      out.set_header = &resp_set_header;
      out.body = annex_buffer{&response.body, &append_string};
      out.send_blob = &resp_send_blob;
      ErrorSink sink;
      annex_buffer err_buf = sink.buffer();
      annex_status status = handler(plugin_ptr, &rv.c, &out, &err_buf);
      if (status == ANNEX_OK) return;
      sink.settle();
      std::string error = std::move(sink.message), field = std::move(sink.field);
      int http_status = http_status_for(status);
      if (http_status == 500) {
        spdlog::error("plugin {} failed on {} {}: {}", rec->module.id, request.method, request.path, error);
        error = "internal error in plugin " + rec->module.id + "; see the server log for request " + request.request_id;
      }
      if (error.empty()) error = http::code_for_status(http_status);
      throw http::ApiError(http_status, http::code_for_status(http_status), error, field);
    };
    std::string problem = router->add(std::move(r));
    if (!problem.empty()) {
      put(err, problem);
      return problem.find("already registered") != std::string::npos ? ANNEX_ERR_CONFLICT : ANNEX_ERR_INVALID_ARGUMENT;
    }
    return ANNEX_OK;
  });
}

const annex_http_v1 kHttp = {sizeof(annex_http_v1), 0, &http_add_route};

// ---- annex.events ------------------------------------------------------------------------------------------

annex_status events_publish(annex_host_ctx* ctx, annex_txn* txn, annex_str topic, annex_str payload,
                            annex_str key, annex_buffer* err) {
  if (ctx == nullptr) return ANNEX_ERR_INVALID_ARGUMENT;
  return guarded(err, [&] {
    events::EventBus* bus = ctx->host->parts().events;
    if (bus == nullptr) {
      put(err, "publish: this host has no event bus");
      return ANNEX_ERR_UNSUPPORTED;
    }
    if (view(key).empty()) {
      put(err, "publish: an idempotency key is required");
      return ANNEX_ERR_INVALID_ARGUMENT;
    }
    try {
      Poco::JSON::Parser().parse(std::string(view(payload)));
    } catch (const Poco::Exception& e) {
      put(err, "publish: the payload is not valid JSON: " + e.displayText());
      return ANNEX_ERR_INVALID_ARGUMENT;
    }
    if (txn != nullptr && txn->owner != ctx->record) {
      put(err, "publish: the transaction belongs to another plugin");
      return ANNEX_ERR_INVALID_ARGUMENT;
    }
    bus->publish(txn ? &txn->lease->session() : nullptr, ctx->record->module.id, std::string(view(topic)),
                 std::string(view(payload)), std::string(view(key)));
    return ANNEX_OK;
  });
}

annex_status events_subscribe(annex_host_ctx* ctx, annex_str topic, annex_event_handler handler, void* plugin_ptr,
                              annex_buffer* err) {
  if (ctx == nullptr || handler == nullptr) return ANNEX_ERR_INVALID_ARGUMENT;
  return guarded(err, [&] {
    events::EventBus* bus = ctx->host->parts().events;
    if (bus == nullptr) {
      put(err, "subscribe: this host has no event bus");
      return ANNEX_ERR_UNSUPPORTED;
    }
    std::string problem = bus->subscribe(
        ctx->record->module.id, std::string(view(topic)),
        [handler, plugin_ptr](const events::Event& e, std::string* error) {
          annex_event ev{sizeof(annex_event), e.sequence, str(e.topic), str(e.payload), str(e.idempotency_key),
                         str(e.publisher)};
          ErrorSink sink;
          annex_buffer buf = sink.buffer();
          if (handler(plugin_ptr, &ev, &buf) == ANNEX_OK) return true;
          sink.settle();
          *error = sink.text();
          return false;
        });
    if (!problem.empty()) {
      put(err, problem);
      return ANNEX_ERR_INVALID_ARGUMENT;
    }
    return ANNEX_OK;
  });
}

const annex_events_v1 kEvents = {sizeof(annex_events_v1), 0, &events_publish, &events_subscribe};

// ---- annex.jobs --------------------------------------------------------------------------------------------

annex_status jobs_schedule(annex_host_ctx* ctx, const annex_job* job, annex_buffer* err) {
  if (ctx == nullptr || job == nullptr || job->run == nullptr || !ANNEX_HAS_FIELD(job, annex_job, job_plugin_ptr)) {
    put(err, "schedule: null context, job or function");
    return ANNEX_ERR_INVALID_ARGUMENT;
  }
  return guarded(err, [&] {
    jobs::Scheduler* scheduler = ctx->host->parts().scheduler;
    if (scheduler == nullptr) {
      put(err, "schedule: this host runs no jobs");
      return ANNEX_ERR_UNSUPPORTED;
    }
    annex_job_fn fn = job->run;
    void* plugin_ptr = job->job_plugin_ptr;
    jobs::JobFn run = [fn, plugin_ptr](std::string* error) {
      ErrorSink sink;
      annex_buffer buf = sink.buffer();
      if (fn(plugin_ptr, &buf) == ANNEX_OK) return true;
      sink.settle();
      *error = sink.text();
      return false;
    };
    std::string name(view(job->name)), problem;
    // Jobs built before ABI 1.4 end before calendar_rule: they run by interval.
    int32_t rule = ANNEX_HAS_FIELD(job, annex_job, calendar_minute) ? job->calendar_rule : ANNEX_JOB_INTERVAL;
    if (rule == ANNEX_JOB_INTERVAL) {
      problem = scheduler->schedule(ctx->record->module.id, name, std::chrono::seconds(job->interval_seconds),
                                    std::chrono::seconds(job->initial_delay_seconds), std::move(run));
    } else {
      if (rule < ANNEX_JOB_MONTHLY_DAY || rule > ANNEX_JOB_EVERY_WORKING_DAY) {
        put(err, "field=calendar_rule\njob " + name + ": unknown calendar rule " + std::to_string(rule));
        return ANNEX_ERR_INVALID_ARGUMENT;
      }
      calendar::Schedule when{static_cast<calendar::Schedule::Kind>(rule), job->calendar_day,
                              std::chrono::minutes(job->calendar_minute)};
      problem = when.problem();
      if (!problem.empty()) {
        put(err, std::string("field=") + (problem.find("time of day") != std::string::npos ? "calendar_minute" : "calendar_day") +
                     "\njob " + name + ": " + problem);
        return ANNEX_ERR_INVALID_ARGUMENT;
      }
      problem = scheduler->schedule_calendar(ctx->record->module.id, name, when, std::move(run));
    }
    if (!problem.empty()) {
      put(err, problem);
      return ANNEX_ERR_INVALID_ARGUMENT;
    }
    return ANNEX_OK;
  });
}

annex_status jobs_trigger(annex_host_ctx* ctx, annex_str name, annex_buffer* err) {
  if (ctx == nullptr) return ANNEX_ERR_INVALID_ARGUMENT;
  return guarded(err, [&] {
    jobs::Scheduler* scheduler = ctx->host->parts().scheduler;
    if (scheduler == nullptr || !scheduler->trigger(ctx->record->module.id, std::string(view(name)))) {
      put(err, "trigger: no job named " + std::string(view(name)));
      return ANNEX_ERR_NOT_FOUND;
    }
    return ANNEX_OK;
  });
}

const annex_jobs_v1 kJobs = {sizeof(annex_jobs_v1), 1, &jobs_schedule, &jobs_trigger};

// ---- get_service -------------------------------------------------------------------------------------------

struct ServiceEntry {
  const char* name;
  uint32_t major;
  const void* table;
};

const ServiceEntry kServices[] = {
    {ANNEX_SERVICE_LOG, 1, &kLog},         {ANNEX_SERVICE_CONFIG, 1, &kConfig},
    {ANNEX_SERVICE_DB, 1, &kDb},           {ANNEX_SERVICE_HTTP, 1, &kHttp},
    {ANNEX_SERVICE_EVENTS, 1, &kEvents},   {ANNEX_SERVICE_JOBS, 1, &kJobs},
    {ANNEX_SERVICE_AUTHZ, 1, &authz_v1()}, {ANNEX_SERVICE_AUDIT, 1, &audit_v1()},
    {ANNEX_SERVICE_APPROVALS, 1, &approvals_v1()}, {ANNEX_SERVICE_CONNECTORS, 1, &connectors_v1()},
    {ANNEX_SERVICE_MASTERDATA, 1, &masterdata_v1()}, {ANNEX_SERVICE_DIRECTORY, 1, &directory_v1()},
    {ANNEX_SERVICE_BLOBS, 1, &blobs_v1()},
    {ANNEX_SERVICE_DOCUMENTS, 1, &documents_v1()},
    {ANNEX_SERVICE_CALENDAR, 1, &calendar_v1()},
};

const void* get_service(annex_host_ctx* ctx, annex_str name, uint32_t major) {
  if (ctx == nullptr) return nullptr;
  return shielded<const void*>(nullptr, [&]() -> const void* {
    std::string key = std::string(view(name)) + "@" + std::to_string(major);
    PluginRecord& rec = record_of(ctx);
    if (!rec.granted.count(key)) {
      rec.logger->warn("asked for service {}, which its manifest does not declare under \"uses\"", key);
      // Logging and host settings are looked up optionally (the SDK goes without them); others are needed.
      if (view(name) != ANNEX_SERVICE_LOG && view(name) != ANNEX_SERVICE_CONFIG) {
        std::lock_guard lock(rec.undeclared_mutex);
        rec.undeclared.insert(key);
      }
      return nullptr;
    }
    for (const auto& s : kServices) {
      if (view(name) == s.name && major == s.major) return s.table;
    }
    // Another plugin's service: handed out while its provider serves (it starts before, and stops after, every
    // plugin that requires it).
    return ctx->host->provided_table(key);
  });
}

annex_status provide_service(annex_host_ctx* ctx, annex_str name, uint32_t major, const void* table, annex_buffer* err) {
  if (ctx == nullptr) return ANNEX_ERR_INVALID_ARGUMENT;
  return guarded(err, [&] {
    PluginRecord& rec = record_of(ctx);
    std::string key = std::string(view(name)) + "@" + std::to_string(major);
    const auto& declared = rec.module.manifest.provides;
    if (std::none_of(declared.begin(), declared.end(),
                     [&](const ServiceUse& p) { return p.name == view(name) && p.major == major; })) {
      put(err, "provide_service: " + key + " is not listed under \"provides\" in the manifest");
      return ANNEX_ERR_INVALID_ARGUMENT;
    }
    if (table == nullptr || static_cast<const uint32_t*>(table)[0] < 2 * sizeof(uint32_t)) {
      put(err, "provide_service: the table of " + key + " is missing or does not start with struct_size and minor");
      return ANNEX_ERR_INVALID_ARGUMENT;
    }
    std::lock_guard lock(rec.provided_mutex);
    if (!rec.provided.emplace(key, table).second) {
      put(err, "provide_service: " + key + " was offered already");
      return ANNEX_ERR_CONFLICT;
    }
    return ANNEX_OK;
  });
}

}  // namespace

soci::session* txn_session(annex_txn* txn, annex_host_ctx* ctx, std::string* error) {
  if (txn == nullptr) return nullptr;
  if (txn->owner != ctx->record) {
    *error = "the transaction belongs to another plugin";
    return nullptr;
  }
  return &txn->lease->session();
}

const std::vector<std::string>& provided_services() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& s : kServices) out.push_back(std::string(s.name) + "@" + std::to_string(s.major));
    return out;
  }();
  return names;
}

annex_buffer ErrorSink::buffer() { return annex_buffer{this, &append_error}; }

void ErrorSink::settle() {
  if (!field.empty() || message.rfind("field=", 0) != 0) return;
  size_t nl = message.find('\n');
  field = message.substr(6, nl == std::string::npos ? std::string::npos : nl - 6);
  message = nl == std::string::npos ? std::string{} : message.substr(nl + 1);
}

std::string ErrorSink::text() const { return field.empty() ? message : message + " (field: " + field + ")"; }

void bind_host_api(PluginHost& host, PluginRecord& rec) {
  rec.ctx.host = &host;
  rec.ctx.record = &rec;
  rec.api.struct_size = sizeof(annex_host_api);
  rec.api.abi_major = ANNEX_ABI_MAJOR;
  rec.api.abi_minor = ANNEX_ABI_MINOR;
  rec.api.ctx_host_ptr = &rec.ctx;
  rec.api.get_service = &get_service;
  rec.api.set_error_field = &set_error_field;
  rec.api.provide_service = &provide_service;
}

}  // namespace annex::plugin_host
