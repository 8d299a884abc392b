// The core's own tables, as numbered migrations owned by "annex.core".
#pragma once

#include "store/database.h"
#include "store/migrations.h"

#include <vector>

namespace annex::store {

inline constexpr const char* kCoreOwner = "annex.core";
// The migration after which the audit log hashes new entries as chain format v2 (audit/audit_log.h).
inline constexpr uint32_t kAuditChainV2Migration = 14;

std::vector<Migration> core_migrations(Dialect dialect);

}  // namespace annex::store
