// The documents host service, "annex.documents": business documents of a plugin through the sync engine's
// document streams (sync/engine.h). Every function refuses a stream whose documents belong to another plugin.
#include "plugin_host/service_support.h"
#include "store/transaction.h"
#include "sync/engine.h"

#include <nlohmann/json.hpp>

#include <optional>

namespace annex::plugin_host {
namespace {

template <typename Fn>
annex_status with_engine(annex_host_ctx* ctx, annex_buffer* err, Fn&& fn) {
  sync::SyncEngine* engine = ctx == nullptr ? nullptr : ctx->host->parts().sync;
  if (engine == nullptr) {
    put(err, "this host runs no sync engine");
    return ANNEX_ERR_UNSUPPORTED;
  }
  return guarded(err, [&]() -> annex_status { return fn(*engine); });
}

annex_status documents_enqueue(annex_host_ctx* ctx, annex_txn* txn, annex_str connection, annex_str stream, annex_str key,
                               annex_str document_json, annex_buffer* err) {
  return with_engine(ctx, err, [&](sync::SyncEngine& engine) {
    std::string problem;
    soci::session* pinned = txn_session(txn, ctx, &problem);
    if (!problem.empty()) throw std::invalid_argument("enqueue: " + problem);
    // Without a transaction of the plugin's, the document is queued on its own (or inside the transaction this
    // thread already holds, which the lease joins).
    std::optional<store::Lease> lease;
    if (pinned == nullptr) lease.emplace(*ctx->host->parts().db);
    engine.enqueue_document(pinned != nullptr ? *pinned : lease->session(), ctx->record->module.id,
                            std::string(view(connection)), std::string(view(stream)), std::string(view(key)),
                            std::string(view(document_json)));
    return ANNEX_OK;
  });
}

annex_status documents_status(annex_host_ctx* ctx, annex_str connection, annex_str stream, annex_str key,
                              annex_buffer* out, annex_buffer* err) {
  return with_engine(ctx, err, [&](sync::SyncEngine& engine) {
    auto status = engine.document_status(ctx->record->module.id, std::string(view(connection)), std::string(view(stream)),
                                         std::string(view(key)));
    if (!status) {
      put(err, "no document " + std::string(view(key)) + " on " + std::string(view(connection)) + "/" + std::string(view(stream)));
      return ANNEX_ERR_NOT_FOUND;
    }
    put(out, status->dump());
    return ANNEX_OK;
  });
}

annex_status add_handler(annex_host_ctx* ctx, const char* kind, annex_str connection, annex_str stream,
                         annex_document_handler handler, void* plugin_ptr, annex_buffer* err) {
  if (handler == nullptr) {
    put(err, "a handler is required");
    return ANNEX_ERR_INVALID_ARGUMENT;
  }
  return with_engine(ctx, err, [&](sync::SyncEngine& engine) {
    engine.add_document_handler(
        ctx->record->module.id, kind, std::string(view(connection)), std::string(view(stream)),
        [handler, plugin_ptr](const sync::DocumentDelivery& d, std::string* error) {
          annex_document doc{sizeof(annex_document), str(d.connection), str(d.stream), str(d.key), str(d.json)};
          ErrorSink sink;
          annex_buffer buf = sink.buffer();
          annex_status st = handler(plugin_ptr, &doc, &buf);
          if (st != ANNEX_OK) {
            sink.settle();
            *error = sink.text();
          }
          return st;
        });
    return ANNEX_OK;
  });
}

annex_status documents_subscribe(annex_host_ctx* ctx, annex_str connection, annex_str stream, annex_document_handler handler,
                                 void* plugin_ptr, annex_buffer* err) {
  return add_handler(ctx, "pull", connection, stream, handler, plugin_ptr, err);
}

annex_status documents_on_outcome(annex_host_ctx* ctx, annex_str connection, annex_str stream,
                                  annex_document_handler handler, void* plugin_ptr, annex_buffer* err) {
  return add_handler(ctx, "outcome", connection, stream, handler, plugin_ptr, err);
}

const annex_documents_v1 kDocuments = {sizeof(annex_documents_v1), 0, &documents_enqueue, &documents_status,
                                       &documents_subscribe, &documents_on_outcome};

}  // namespace

const annex_documents_v1& documents_v1() { return kDocuments; }

}  // namespace annex::plugin_host
