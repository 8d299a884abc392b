// The host service "annex.blobs" behind annex/plugin.h, and the blob side of annex.http: an upload route's result
// as JSON, and a stored blob as a response's body.
#include "blobs/blob_store.h"
#include "http/exchange.h"
#include "plugin_host/service_support.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace annex::plugin_host {
namespace {

constexpr int64_t kMaxRead = 16 << 20;

blobs::BlobStore* store_of(annex_host_ctx* ctx, annex_buffer* err) {
  blobs::BlobStore* store = ctx->host->parts().blobs;
  if (store == nullptr) put(err, "this host stores no blobs here (an offline check)");
  return store;
}

nlohmann::json info_json(const blobs::BlobInfo& info) {
  return {{"sha256", info.sha256}, {"size", info.size}, {"media_type", info.media_type}, {"created_at", info.created_at}};
}

annex_status blobs_stat(annex_host_ctx* ctx, annex_str sha256, annex_buffer* out, annex_buffer* err) {
  if (ctx == nullptr) return ANNEX_ERR_INVALID_ARGUMENT;
  return guarded(err, [&] {
    blobs::BlobStore* store = store_of(ctx, err);
    if (store == nullptr) return ANNEX_ERR_UNSUPPORTED;
    auto info = store->stat(view(sha256));
    if (!info) {
      put(err, "no blob " + std::string(view(sha256)).substr(0, 64));
      return ANNEX_ERR_NOT_FOUND;
    }
    put(out, info_json(*info).dump());
    return ANNEX_OK;
  });
}

annex_status blobs_read(annex_host_ctx* ctx, annex_str sha256, int64_t offset, int64_t length, annex_buffer* out,
                        annex_buffer* err) {
  if (ctx == nullptr) return ANNEX_ERR_INVALID_ARGUMENT;
  if (offset < 0 || length < 0 || length > kMaxRead) {
    put(err, "field=length\nread: offset and length are not negative, and length is at most 16 MiB");
    return ANNEX_ERR_INVALID_ARGUMENT;
  }
  return guarded(err, [&] {
    blobs::BlobStore* store = store_of(ctx, err);
    if (store == nullptr) return ANNEX_ERR_UNSUPPORTED;
    try {
      put(out, store->read(view(sha256), offset, length));
    } catch (const std::out_of_range&) {
      put(err, "no blob " + std::string(view(sha256)).substr(0, 64));
      return ANNEX_ERR_NOT_FOUND;
    }
    return ANNEX_OK;
  });
}

annex_status blobs_put(annex_host_ctx* ctx, annex_txn* txn, annex_str bytes, annex_str media_type, annex_buffer* out,
                       annex_buffer* err) {
  if (ctx == nullptr) return ANNEX_ERR_INVALID_ARGUMENT;
  return guarded(err, [&] {
    std::string problem;
    if (txn != nullptr && txn_session(txn, ctx, &problem) == nullptr) {
      put(err, "put: " + problem);
      return ANNEX_ERR_INVALID_ARGUMENT;
    }
    blobs::BlobStore* store = store_of(ctx, err);
    if (store == nullptr) return ANNEX_ERR_UNSUPPORTED;
    std::string_view data = view(bytes);
    if (data.empty()) {
      put(err, "field=bytes\nput: a blob has at least one byte");
      return ANNEX_ERR_UNPROCESSABLE;
    }
    if (static_cast<int64_t>(data.size()) > store->max_bytes()) {
      put(err, "field=bytes\nput: the blob exceeds blobs.max_bytes (" + std::to_string(store->max_bytes()) + " bytes)");
      return ANNEX_ERR_UNPROCESSABLE;
    }
    const std::string actual = blobs::sniff(data.substr(0, 32));
    const std::string said = blobs::normalise_type(view(media_type));
    if (!said.empty() && said != actual) {
      put(err, "field=media_type\nput: the bytes are " + actual + ", not " + said);
      return ANNEX_ERR_UNPROCESSABLE;
    }
    // A transaction this thread holds (txn's, when given) is joined: the blob commits with it.
    blobs::BlobInfo info = store->put(data);
    nlohmann::json j = info_json(info);
    j["created"] = info.created;
    put(out, j.dump());
    return ANNEX_OK;
  });
}

const annex_blobs_v1 kBlobs = {sizeof(annex_blobs_v1), 0, &blobs_stat, &blobs_read, &blobs_put};

// A filename fit for a header: printable ASCII without quotes or backslashes, the rest replaced.
std::string header_filename(std::string_view name) {
  std::string out;
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u >= 0x7f || c == '"' || c == '\\' ? '_' : c);
  }
  return out.substr(0, 200);
}

std::string percent_encoded(std::string_view text) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

}  // namespace

const annex_blobs_v1& blobs_v1() { return kBlobs; }

std::string upload_json(const http::Upload& upload) {
  nlohmann::json fields = nlohmann::json::object();
  for (const auto& [name, value] : upload.fields) {
    if (!fields.contains(name)) fields[name] = value;
  }
  nlohmann::json j = {{"sha256", upload.sha256},     {"size", upload.size},       {"media_type", upload.media_type},
                      {"filename", upload.filename}, {"field", upload.field},     {"created", upload.created},
                      {"fields", fields}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

annex_status send_blob(PluginRecord& rec, http::HttpResponse& response, std::string_view sha256,
                       std::string_view filename) {
  return guarded(nullptr, [&] {
    if (!rec.granted.count(std::string(ANNEX_SERVICE_BLOBS) + "@1")) {
      rec.logger->warn("send_blob without \"annex.blobs@1\" under \"uses\" in the manifest");
      return ANNEX_ERR_PERMISSION_DENIED;
    }
    blobs::BlobStore* store = rec.ctx.host->parts().blobs;
    if (store == nullptr) return ANNEX_ERR_UNSUPPORTED;
    auto info = store->stat(sha256);
    if (!info) return ANNEX_ERR_NOT_FOUND;
    response.body.clear();
    response.content_type = info->media_type;
    response.set_header("ETag", "\"" + info->sha256 + "\"");
    if (!filename.empty()) {
      response.set_header("Content-Disposition", "attachment; filename=\"" + header_filename(filename) +
                                                     "\"; filename*=UTF-8''" + percent_encoded(filename));
    }
    response.stream_length = info->size;
    response.stream_body = [store, hash = info->sha256](std::ostream& out) { store->write_to(hash, out); };
    return ANNEX_OK;
  });
}

}  // namespace annex::plugin_host
