// Helpers shared by the host services' C functions: string views, error buffers, and the guard that turns
// every exception into a status and a message (no exception may cross into plugin code).
#pragma once

#include "errors/field_error.h"
#include "plugin_host/services.h"
#include "store/database.h"

#include <Poco/Exception.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace annex::plugin_host {

inline std::string_view view(annex_str s) { return s.data == nullptr ? std::string_view{} : std::string_view(s.data, s.len); }
inline annex_str str(std::string_view s) { return annex_str{s.data(), s.size()}; }

inline void put(annex_buffer* out, std::string_view text) {
  if (out != nullptr && out->append != nullptr) out->append(out->owner_ptr, text.data(), text.size());
}

inline PluginRecord& record_of(annex_host_ctx* ctx) { return *ctx->record; }

inline annex_status status_for(const store::StoreError& e) {
  switch (e.kind()) {
    case store::StoreError::Kind::kConstraint: return ANNEX_ERR_CONFLICT;
    case store::StoreError::Kind::kBadStatement: return ANNEX_ERR_INVALID_ARGUMENT;
    case store::StoreError::Kind::kUnavailable:
    case store::StoreError::Kind::kPoolExhausted: return ANNEX_ERR_UNAVAILABLE;
    default: return ANNEX_ERR_INTERNAL;
  }
}

// A domain refusal as a status, with "field=<name>\n" before the message when it names one.
inline annex_status refused(const FieldError& e, annex_buffer* err) {
  if (!e.field().empty()) put(err, "field=" + e.field() + "\n");
  put(err, e.what());
  switch (e.status()) {
    case 403: return ANNEX_ERR_PERMISSION_DENIED;
    case 404: return ANNEX_ERR_NOT_FOUND;
    case 409: return ANNEX_ERR_CONFLICT;
    default: return ANNEX_ERR_UNPROCESSABLE;
  }
}

// Runs `fn`, turning any exception into a status and a message.
template <typename Fn>
annex_status guarded(annex_buffer* err, Fn&& fn) noexcept {
  try {
    return fn();
  } catch (const store::StoreError& e) {
    put(err, e.what());
    return status_for(e);
  } catch (const FieldError& e) {
    return refused(e, err);
  } catch (const std::invalid_argument& e) {
    put(err, e.what());
    return ANNEX_ERR_INVALID_ARGUMENT;
  } catch (const Poco::Exception& e) {
    put(err, e.displayText());
    return ANNEX_ERR_INTERNAL;
  } catch (const std::exception& e) {
    put(err, e.what());
    return ANNEX_ERR_INTERNAL;
  } catch (...) {
    put(err, "unknown error");
    return ANNEX_ERR_INTERNAL;
  }
}

// Runs the body of an entry point that answers with a value rather than a status (get_service, the request
// accessors, trigger): any exception — an allocation failing — becomes `fallback` instead of crossing into plugin
// code.
template <typename T, typename Fn>
T shielded(T fallback, Fn&& fn) noexcept {
  try {
    return fn();
  } catch (...) {
    return fallback;
  }
}

}  // namespace annex::plugin_host
