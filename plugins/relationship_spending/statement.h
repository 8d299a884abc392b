// A rep's monthly statement (R4, R5): per customer, the contract value signed, collected in the month and to
// date, fees earned, made payable and recovered; special expenses; advances drawn and outstanding; what carries
// forward. Drafted by the plugin, submitted by the rep, signed by the sales clerk, the sector's sales manager and
// finance in that order; a statement lacking any of the three is invalid and nothing on it can be paid. Once
// signed its content is frozen: content_hash, the SHA-256 of its canonical JSON, is in the audit log.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace relationship_spending {

inline constexpr const char* kStatement = "relationship.statement";

// What one fee line (a contract line and the rep's share of it) contributes to a statement.
struct FeeLine {
  int64_t line_no = 0;
  std::string product_id, standard_id, gl_account;
  int64_t share_percent = 100;
  int64_t earned = 0;          // the rep's fee on the line
  int64_t payable_before = 0;  // made payable by earlier statements
  int64_t payable_after = 0;   // payable to date, by this statement
  int64_t change() const { return payable_after - payable_before; }  // < 0: a recovery
};

struct ContractEntry {
  std::string contract_id, number, signed_on, currency;
  int64_t total = 0;              // in the contract's currency
  int64_t collected_in_month = 0;
  int64_t collected_to_date = 0;
  bool signed_in_month = false;
  std::vector<FeeLine> lines;
  // The ratio of relationship spending to collected revenue on the contract: every rep's fees payable on it to
  // date ÷ collected to date in the plugin's currency (nothing when nothing was collected or no rate converts it).
  int64_t fees_payable_all_reps = 0;
  std::optional<int64_t> ratio_bp;
};

struct CustomerEntry {
  std::string party_id;
  std::vector<ContractEntry> contracts;
  // In the plugin's currency.
  int64_t fee_earned = 0;        // on contracts signed in the month
  int64_t fee_payable = 0;       // became payable with this statement
  int64_t recovered = 0;         // over-payments recovered (a collection reversed after payout)
  int64_t carried_forward = 0;   // earned to date, not yet payable: waits for the customer's payment
  // Every rep's spending on the customer (fees made payable, special expenses), to date and over the rolling
  // window, and what the customer paid to date in the plugin's currency.
  int64_t spend_to_date = 0, spend_in_window = 0;
  std::optional<int64_t> collected_to_date;
  std::optional<int64_t> ratio_bp;
};

// The thresholds the ratios and the rolling limit are held against.
struct SpendPolicy {
  int window_days = 90;
  int64_t limit = 0;  // 0: none
  int64_t ratio_warning_bp = 500;
};

struct Statement {
  std::string id, rep_id, sector_id;
  std::string period;            // YYYY-MM
  std::string currency;
  std::string status = "draft";  // draft | submitted | returned | signed | rejected
  std::string submit_due, sign_due, payout_from;  // the 3rd, 8th and 9th working day of the next month
  std::optional<std::string> submitted_at;
  bool submitted_late = false;
  std::optional<std::string> approval_id, signed_at;
  bool signed_late = false;
  int64_t fee_payable = 0, recovered = 0, net_payable = 0, recovery_due = 0, drawn = 0;
  int64_t special_payable = 0;   // approved special expenses that became payable on it (R6)
  nlohmann::json content;        // see content_json()
  std::optional<std::string> content_hash;
  std::string created_at, updated_at;
  int64_t version = 1;

  bool valid() const { return status == "signed"; }
  int64_t undrawn() const { return net_payable - drawn; }
  nlohmann::json to_json() const;
};

// What a statement's payable amount is charged to (R3): each fee account with what the statement made payable
// on it, and `special_expense_account` with its special expenses, in the order of the accounts; recoveries (a fee
// account's net decrease, and a recovery carried in from an earlier statement) taken off the largest first, so
// that the shares add up to net_payable. UNPROCESSABLE naming "special_expense_account" when special expenses are
// payable and no account is configured for them.
struct AccountShare {
  std::string account;
  int64_t amount = 0;
};
std::vector<AccountShare> payable_by_account(const Statement& s, const std::string& special_expense_account);
// The part of `shares` from `drawn` (what earlier draws took) to `drawn + amount`: what one draw is charged to.
std::vector<AccountShare> draw_slice(const std::vector<AccountShare>& shares, int64_t drawn, int64_t amount);

// The statement's content: {"period", "rep_id", "sector_id", "currency", "customers": [...], "totals": {...},
// "advances": {...}, "warnings": [...]}.
// Customers above the ratio threshold or over the rolling limit are flagged, and listed under "warnings".
// `special_expenses`: {"filed_in_month": [...], "on_statement": [...]} as drafting builds it.
nlohmann::json content_json(const Statement& s, const std::vector<CustomerEntry>& customers, const nlohmann::json& advances,
                            int64_t recovery_carried_in, const SpendPolicy& policy, const nlohmann::json& special_expenses);

}  // namespace relationship_spending
