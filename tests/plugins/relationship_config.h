// What the relationship-spending tests configure alike: the approval chains of the README — the statement's three
// signers in order, the special expense's head and finance, finance for cash advances.
#pragma once

#include <nlohmann/json.hpp>

namespace annex::test {

inline nlohmann::json relationship_chains() {
  using nlohmann::json;
  json finance = {{"name", "finance"}, {"role", "finance"}, {"scope", "any"}};
  return {{"relationship-statement",
           {{"steps", {{{"name", "clerk"}, {"role", "sales-clerk"}}, {{"name", "sales-manager"}, {"role", "sector-head"}}, finance}}}},
          {"relationship-special-expense", {{"steps", {{{"name", "head"}, {"role", "sector-head"}}, finance}}}},
          {"cash-advance", {{"steps", json::array({finance})}}}};
}

}  // namespace annex::test
