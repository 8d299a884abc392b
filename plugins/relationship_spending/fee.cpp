#include "fee.h"

#include <annex/business.hpp>

namespace relationship_spending {

namespace biz = annex::biz;

int64_t payable_share(PayoutPolicy policy, int64_t earned, int64_t collected, int64_t total) {
  if (earned <= 0 || collected <= 0 || total <= 0) return 0;
  if (collected >= total) return earned;
  if (policy == PayoutPolicy::kFull) return 0;
  // collected < total here, so the share stays below the fee; rounded toward zero.
  return static_cast<int64_t>(static_cast<biz::wide>(earned) * collected / total);
}

int64_t line_fee_per_unit(int64_t amount_per_unit, int64_t quantity, const std::string& field) {
  return biz::checked_mul(amount_per_unit, quantity, field);
}

int64_t line_fee_rate(int64_t line_amount, int64_t rate_bp, const std::string& field) {
  return biz::mul_div(line_amount, rate_bp, 10000, biz::Rounding::kHalfEven, field);
}

std::vector<int64_t> split_fee(int64_t fee, const std::vector<int64_t>& percents) {
  std::vector<int64_t> parts;
  int64_t given = 0;
  for (int64_t percent : percents) {
    parts.push_back(static_cast<int64_t>(static_cast<biz::wide>(fee) * percent / 100));
    given += parts.back();
  }
  if (!parts.empty()) parts.front() += fee - given;
  return parts;
}

}  // namespace relationship_spending
