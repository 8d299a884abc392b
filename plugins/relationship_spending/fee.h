// A fee (R1, R2): what one signed contract line earns one rep credited with it (split credit applies), in the
// plugin's currency, and how much of it has been made payable so far — only ever in step with what the customer
// has paid.
#pragma once

#include "settings.h"

#include <annex/sdk.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace relationship_spending {

struct Fee {
  std::string contract_id;
  int64_t line_no = 0;
  std::string rep_id;
  std::string contract_number, party_id, sector_id, product_id;
  std::string standard_id, gl_account;  // the standard in force on the signing date, and its fee account (R3)
  std::string signed_on;
  int64_t share_percent = 100;          // the rep's share of the contract's credit
  int64_t earned = 0;                   // minor units of the plugin's currency
  int64_t payable = 0;                  // made payable by statements so far
  std::string first_period;             // YYYY-MM of the statement that first carried it

  // The part not yet payable: carried forward until the customer pays.
  int64_t carried_forward() const { return earned - payable; }
};

// R2: how much of `earned` is payable once the customer has paid `collected` of a contract worth `total`:
// under kFull all of it once the contract is fully collected and nothing before; under kRate the share
// collected ÷ total, never above 100 %, rounded down so that it never runs ahead of the payment. Nothing
// collected, nothing payable — whatever the policy.
int64_t payable_share(PayoutPolicy policy, int64_t earned, int64_t collected, int64_t total);

// A contract line's fee under `standard_basis`: `amount_per_unit` × quantity, or `rate_bp` of the line's
// amount (half-even), overflow-checked (UNPROCESSABLE naming `field`).
int64_t line_fee_per_unit(int64_t amount_per_unit, int64_t quantity, const std::string& field);
int64_t line_fee_rate(int64_t line_amount, int64_t rate_bp, const std::string& field);

// Splits `fee` over shares in percent (summing to 100): each share rounded down, the rounding left over to the
// first, so that the parts always add up to the fee.
std::vector<int64_t> split_fee(int64_t fee, const std::vector<int64_t>& percents);

}  // namespace relationship_spending
