// A relationship-fee standard (R1, R3): what a product, or every product of a group, earns its rep per contract
// line — an amount per unit sold or a rate on the sales amount — over a period of dates, and the GL account
// ("relationship maintenance fee — product X") the fees post to.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace relationship_spending {

inline constexpr const char* kStandard = "relationship.standard";

struct Standard {
  std::string id;
  // Exactly one of a product (its master-data id, with its code for people to read) or a product group.
  std::optional<std::string> product_id, product_code, product_group;
  std::string basis;                // per_unit | rate
  std::optional<int64_t> amount;    // per_unit: minor units of `currency` per unit
  std::optional<std::string> currency;
  std::optional<int64_t> rate_bp;   // rate: basis points of the sales amount, 0..10000
  std::string gl_account;
  std::string effective_from;       // YYYY-MM-DD, inclusive
  std::optional<std::string> effective_to;  // inclusive; none: open-ended
  std::optional<std::string> note;
  std::string created_by, created_at, updated_at;
  int64_t version = 1;

  // "product:<id>" or "group:<name>": the periods of one subject never overlap.
  std::string subject() const { return product_id ? "product:" + *product_id : "group:" + product_group.value_or(""); }
  // Whether the standard applies on `date` (YYYY-MM-DD).
  bool in_force_on(const std::string& date) const {
    return effective_from <= date && (!effective_to || date <= *effective_to);
  }
  nlohmann::json to_json() const;
};

}  // namespace relationship_spending
