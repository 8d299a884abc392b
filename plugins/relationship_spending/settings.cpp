#include "settings.h"

#include <annex/business.hpp>

#include <stdexcept>

namespace relationship_spending {

using nlohmann::json;

namespace {

constexpr const char* kRoot = "plugins.org.annex.relationship-spending";

[[noreturn]] void bad(const std::string& key, const std::string& why) {
  throw std::invalid_argument(std::string(kRoot) + "." + key + ": " + why);
}

int64_t whole(const json& config, const char* key, int64_t fallback, int64_t min, int64_t max) {
  auto it = config.find(key);
  if (it == config.end()) return fallback;
  if (!it->is_number_integer() || it->get<int64_t>() < min || it->get<int64_t>() > max) {
    bad(key, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return it->get<int64_t>();
}

}  // namespace

const char* payout_policy_name(PayoutPolicy p) { return p == PayoutPolicy::kFull ? "full" : "rate"; }

Settings Settings::parse(const json& config) {
  Settings s;
  if (!config.is_object()) return s;
  for (const auto& [key, value] : config.items()) {
    if (key != "payout_policy" && key != "cap" && key != "sample_size" && key != "ratio_warning_bp" && key != "currency" &&
        key != "statement_chain" && key != "spend_window_days" && key != "customer_spend_limit" && key != "special_expense_chain" &&
        key != "threshold_margin_bp" && key != "round_unit" && key != "mad_multiple" && key != "watch_thresholds" &&
        key != "special_expense_account") {
      bad(key, "unknown key (known: payout_policy, cap, sample_size, ratio_warning_bp, currency, statement_chain, spend_window_days,"
               " customer_spend_limit, special_expense_chain, special_expense_account, threshold_margin_bp, round_unit, mad_multiple,"
               " watch_thresholds)");
    }
  }
  if (auto it = config.find("currency"); it != config.end()) {
    std::string code = it->is_string() ? it->get<std::string>() : "";
    if (!annex::biz::is_currency_code(code)) bad("currency", "must be an ISO 4217 code such as CNY");
    s.currency = code;
  }
  if (auto it = config.find("statement_chain"); it != config.end()) {
    if (!it->is_string() || it->get<std::string>().empty()) bad("statement_chain", "must name a chain of approvals.chains");
    s.statement_chain = it->get<std::string>();
  }
  if (auto it = config.find("payout_policy"); it != config.end()) {
    std::string policy = it->is_string() ? it->get<std::string>() : "";
    if (policy == "full") s.payout_policy = PayoutPolicy::kFull;
    else if (policy == "rate") s.payout_policy = PayoutPolicy::kRate;
    else bad("payout_policy", "must be \"full\" or \"rate\"");
  }
  s.cap = whole(config, "cap", s.cap, 0, 1'000'000'000'000'000);
  s.sample_size = static_cast<int>(whole(config, "sample_size", s.sample_size, 1, 100));
  s.ratio_warning_bp = whole(config, "ratio_warning_bp", s.ratio_warning_bp, 1, 10000);
  s.spend_window_days = static_cast<int>(whole(config, "spend_window_days", s.spend_window_days, 1, 3660));
  s.customer_spend_limit = whole(config, "customer_spend_limit", s.customer_spend_limit, 0, 1'000'000'000'000'000);
  s.threshold_margin_bp = whole(config, "threshold_margin_bp", s.threshold_margin_bp, 1, 5000);
  s.round_unit = whole(config, "round_unit", s.round_unit, 1, 1'000'000'000'000);
  s.mad_multiple = whole(config, "mad_multiple", s.mad_multiple, 1, 100);
  if (auto it = config.find("watch_thresholds"); it != config.end()) {
    if (!it->is_array() || it->size() > 50) bad("watch_thresholds", "must be a list of at most 50 amounts in minor units");
    for (const json& t : *it) {
      if (!t.is_number_integer() || t.get<int64_t>() <= 0) bad("watch_thresholds", "must be a list of amounts above zero, in minor units");
      s.watch_thresholds.push_back(t.get<int64_t>());
    }
  }
  if (auto it = config.find("special_expense_chain"); it != config.end()) {
    if (!it->is_string() || it->get<std::string>().empty()) bad("special_expense_chain", "must be the id of an approval chain");
    s.special_expense_chain = it->get<std::string>();
  }
  if (auto it = config.find("special_expense_account"); it != config.end()) {
    if (!it->is_string() || it->get<std::string>().size() > 64) bad("special_expense_account", "must be a GL account of at most 64 characters");
    s.special_expense_account = it->get<std::string>();
  }
  return s;
}

}  // namespace relationship_spending
