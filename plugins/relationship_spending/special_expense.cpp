#include "special_expense.h"

namespace relationship_spending {

namespace {

nlohmann::json or_null(const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

}  // namespace

nlohmann::json SpecialExpense::to_json() const {
  return {{"id", id},
          {"party_id", party_id},
          {"opportunity_id", or_null(opportunity_id)},
          {"amount", {{"amount", amount}, {"currency", currency}}},
          {"purpose", purpose},
          {"justification", justification},
          {"rep_id", rep_id},
          {"sector_id", sector_id},
          {"status", status},
          {"approval_id", or_null(approval_id)},
          {"approval_round", approval_round},
          {"decision", decided_at ? nlohmann::json{{"by", or_null(decided_by)}, {"comment", or_null(decision_comment)}, {"at", *decided_at}}
                                  : nlohmann::json(nullptr)},
          {"filed_on", filed_on},
          {"filed_at", filed_at},
          {"created_at", created_at},
          {"updated_at", updated_at},
          {"version", version}};
}

}  // namespace relationship_spending
