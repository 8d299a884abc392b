// The core's own tables, as numbered migrations owned by "annex.core".
#pragma once

#include "store/database.h"
#include "store/migrations.h"

#include <vector>

namespace annex::store {

inline constexpr const char* kCoreOwner = "annex.core";

std::vector<Migration> core_migrations(Dialect dialect);

}  // namespace annex::store
