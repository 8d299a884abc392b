// The relationship-spending plugin's configuration (plugins.org.annex.relationship-spending), checked at start-up:
// a bad value or an unknown key stops the plugin naming the key. Statements, payout and spot checks read it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace relationship_spending {

// R2: how much of an earned fee is payable once the customer pays.
enum class PayoutPolicy {
  kFull,  // the whole fee once the contract is fully collected, nothing before
  kRate,  // the share collected ÷ contract total, never above 100 %
};

struct Settings {
  PayoutPolicy payout_policy = PayoutPolicy::kRate;
  int64_t cap = 300000;            // R8: a rep's outstanding advance, minor units (3,000.00)
  int sample_size = 3;             // R9: customers spot-checked per rep after payout
  int64_t ratio_warning_bp = 500;  // spend ÷ collected revenue above which a customer is flagged (5 %)
  // Fees, statements and payouts are in this currency (the expenses plugin's company currency, which advances are
  // drawn in); a fee earned in another is converted at master data's rate of the contract's signing date.
  std::string currency = "CNY";
  int currency_minor_units = 2;                         // from master data, at start-up
  std::string statement_chain = "relationship-statement";  // approvals.chains id: clerk, sales manager, finance
  // Anti-splitting: a customer's relationship spending (every rep's fees and special expenses) over the last
  // spend_window_days may not pass customer_spend_limit (minor units; 0: no limit).
  int spend_window_days = 90;
  int64_t customer_spend_limit = 0;
  // The patterns auditors start from: amounts within threshold_margin_bp below a threshold (the cap, the
  // customer limit, and watch_thresholds) hug it; multiples of round_unit are round; a rep whose spend-to-collected
  // ratio passes their sector's median by more than mad_multiple median absolute deviations stands out.
  int64_t threshold_margin_bp = 500;
  int64_t round_unit = 10000;
  int64_t mad_multiple = 3;
  std::vector<int64_t> watch_thresholds;
  std::string special_expense_chain = "relationship-special-expense";  // R6: the host chain applications go through
  // The GL account special expenses post to when drawn (fees post to their standard's account); "" until finance
  // sets it, and a draw that pays special expenses is refused until then.
  std::string special_expense_account;

  // Reads the plugin configuration (defaults already filled in by the manifest's schema); throws
  // std::invalid_argument whose text starts with the key at fault.
  static Settings parse(const nlohmann::json& config);
};

const char* payout_policy_name(PayoutPolicy p);

}  // namespace relationship_spending
