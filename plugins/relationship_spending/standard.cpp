#include "standard.h"

namespace relationship_spending {

namespace {

template <typename T>
nlohmann::json or_null(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json Standard::to_json() const {
  return {{"id", id},
          {"product_id", or_null(product_id)},
          {"product_code", or_null(product_code)},
          {"product_group", or_null(product_group)},
          {"basis", basis},
          {"amount_per_unit", amount ? nlohmann::json{{"amount", *amount}, {"currency", currency.value_or("")}} : nlohmann::json(nullptr)},
          {"rate_bp", or_null(rate_bp)},
          {"gl_account", gl_account},
          {"effective_from", effective_from},
          {"effective_to", or_null(effective_to)},
          {"note", or_null(note)},
          {"created_by", created_by},
          {"created_at", created_at},
          {"updated_at", updated_at},
          {"version", version}};
}

}  // namespace relationship_spending
