#include "statement.h"

#include <annex/business.hpp>
#include <annex/sdk.hpp>

#include <algorithm>
#include <map>

namespace relationship_spending {

using nlohmann::json;
namespace biz = annex::biz;

namespace {

json money(int64_t amount, const std::string& currency) { return {{"amount", amount}, {"currency", currency}}; }
json optional(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

}  // namespace

json Statement::to_json() const {
  return {{"id", id},
          {"rep_id", rep_id},
          {"sector_id", sector_id},
          {"period", period},
          {"status", status},
          {"valid", valid()},
          {"due", {{"submit", submit_due}, {"sign", sign_due}, {"payout_from", payout_from}}},
          {"submitted_at", optional(submitted_at)},
          {"submitted_late", submitted_late},
          {"approval_id", optional(approval_id)},
          {"signed_at", optional(signed_at)},
          {"signed_late", signed_late},
          {"fee_payable", money(fee_payable, currency)},
          {"special_payable", money(special_payable, currency)},
          {"recovered", money(recovered, currency)},
          {"net_payable", money(net_payable, currency)},
          {"recovery_due", money(recovery_due, currency)},
          {"drawn", money(drawn, currency)},
          {"undrawn", money(undrawn(), currency)},
          {"content", content},
          {"content_hash", optional(content_hash)},
          {"created_at", created_at},
          {"updated_at", updated_at},
          {"version", version}};
}

namespace {

json ratio_json(const std::optional<int64_t>& bp, int64_t threshold) {
  if (!bp) return {{"bp", nullptr}, {"warning", false}};
  return {{"bp", *bp}, {"warning", *bp > threshold}};
}

}  // namespace

json content_json(const Statement& s, const std::vector<CustomerEntry>& customers, const json& advances, int64_t recovery_carried_in,
                  const SpendPolicy& policy, const json& special_expenses) {
  json list = json::array(), warnings = json::array();
  int64_t earned = 0, payable = 0, recovered = 0, carried = 0;
  for (const CustomerEntry& c : customers) {
    json contracts = json::array();
    for (const ContractEntry& k : c.contracts) {
      json lines = json::array();
      for (const FeeLine& l : k.lines) {
        lines.push_back({{"line_no", l.line_no}, {"product_id", l.product_id}, {"standard_id", l.standard_id},
                         {"gl_account", l.gl_account}, {"share_percent", l.share_percent}, {"earned", l.earned},
                         {"payable_before", l.payable_before}, {"payable_after", l.payable_after}});
      }
      contracts.push_back({{"contract_id", k.contract_id},
                           {"number", k.number},
                           {"signed_on", k.signed_on},
                           {"signed_in_month", k.signed_in_month},
                           {"value", money(k.total, k.currency)},
                           {"collected_in_month", money(k.collected_in_month, k.currency)},
                           {"collected_to_date", money(k.collected_to_date, k.currency)},
                           {"fees_payable_all_reps", k.fees_payable_all_reps},
                           {"ratio", ratio_json(k.ratio_bp, policy.ratio_warning_bp)},
                           {"lines", std::move(lines)}});
      if (k.ratio_bp && *k.ratio_bp > policy.ratio_warning_bp) {
        warnings.push_back({{"kind", "contract_ratio"}, {"party_id", c.party_id}, {"contract_id", k.contract_id}, {"ratio_bp", *k.ratio_bp},
                            {"message", "relationship spending on contract " + k.number + " is " + std::to_string(*k.ratio_bp) +
                                            " bp of what it collected, above " + std::to_string(policy.ratio_warning_bp)}});
      }
    }
    bool over_limit = policy.limit > 0 && c.spend_in_window > policy.limit;
    if (c.ratio_bp && *c.ratio_bp > policy.ratio_warning_bp) {
      warnings.push_back({{"kind", "customer_ratio"}, {"party_id", c.party_id}, {"ratio_bp", *c.ratio_bp},
                          {"message", "relationship spending on customer " + c.party_id + " is " + std::to_string(*c.ratio_bp) +
                                          " bp of what it paid, above " + std::to_string(policy.ratio_warning_bp)}});
    }
    if (over_limit) {
      warnings.push_back({{"kind", "customer_limit"}, {"party_id", c.party_id}, {"spend_in_window", c.spend_in_window},
                          {"message", "relationship spending on customer " + c.party_id + " over the last " + std::to_string(policy.window_days) +
                                          " days passes the limit of " + std::to_string(policy.limit) + " minor units"}});
    }
    list.push_back({{"party_id", c.party_id},
                    {"contracts", std::move(contracts)},
                    {"fee_earned", c.fee_earned},
                    {"fee_payable", c.fee_payable},
                    {"recovered", c.recovered},
                    {"carried_forward", c.carried_forward},
                    {"spend",
                     {{"to_date", c.spend_to_date},
                      {"in_window", c.spend_in_window},
                      {"window_days", policy.window_days},
                      {"limit", policy.limit > 0 ? json(policy.limit) : json(nullptr)},
                      {"over_limit", over_limit}}},
                    {"collected_to_date", c.collected_to_date ? json(*c.collected_to_date) : json(nullptr)},
                    {"ratio", ratio_json(c.ratio_bp, policy.ratio_warning_bp)}});
    earned += c.fee_earned;
    payable += c.fee_payable;
    recovered += c.recovered;
    carried += c.carried_forward;
  }
  return {{"period", s.period},
          {"rep_id", s.rep_id},
          {"sector_id", s.sector_id},
          {"currency", s.currency},
          {"customers", std::move(list)},
          {"totals",
           {{"fee_earned", earned},
            {"fee_payable", payable},
            {"special_payable", s.special_payable},
            {"recovered", recovered},
            {"recovery_carried_in", recovery_carried_in},
            {"net_payable", s.net_payable},
            {"recovery_due", s.recovery_due},
            {"carried_forward", carried}}},
          {"advances", advances},
          {"special_expenses", special_expenses},
          {"ratio_warning_bp", policy.ratio_warning_bp},
          {"warnings", std::move(warnings)}};
}

std::vector<AccountShare> payable_by_account(const Statement& s, const std::string& special_expense_account) {
  std::map<std::string, int64_t> net;
  for (const json& c : s.content.value("customers", json::array())) {
    for (const json& k : c["contracts"]) {
      for (const json& l : k["lines"]) {
        int64_t change = biz::checked_sub(l["payable_after"].get<int64_t>(), l["payable_before"].get<int64_t>(), "payable");
        net[l["gl_account"].get<std::string>()] = biz::checked_add(net[l["gl_account"].get<std::string>()], change, "payable");
      }
    }
  }
  int64_t special = 0;
  if (s.content.contains("special_expenses")) {
    for (const json& e : s.content["special_expenses"].value("on_statement", json::array())) {
      special = biz::checked_add(special, biz::checked_sub(e["payable_after"].get<int64_t>(), e["payable_before"].get<int64_t>(), "special_payable"),
                                "special_payable");
    }
  }
  if (special != 0) {
    if (special > 0 && special_expense_account.empty()) {
      throw annex::Error(ANNEX_ERR_UNPROCESSABLE,
                         "the statement pays special expenses and no GL account is configured for them "
                         "(plugins.org.annex.relationship-spending.special_expense_account); finance sets it first",
                         "special_expense_account");
    }
    net[special_expense_account] = biz::checked_add(net[special_expense_account], special, "special_payable");
  }
  int64_t deficit = s.content.value("totals", json::object()).value("recovery_carried_in", int64_t{0});
  std::vector<AccountShare> shares;
  for (const auto& [account, amount] : net) {
    if (amount > 0) shares.push_back({account, amount});
    else deficit = biz::checked_sub(deficit, amount, "recovered");
  }
  // Recoveries come off the largest shares first (by account among equals).
  std::vector<size_t> order(shares.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return shares[a].amount > shares[b].amount; });
  for (size_t i : order) {
    int64_t take = std::min(deficit, shares[i].amount);
    shares[i].amount -= take;
    deficit -= take;
  }
  std::erase_if(shares, [](const AccountShare& a) { return a.amount == 0; });
  int64_t total = 0;
  for (const AccountShare& a : shares) total = biz::checked_add(total, a.amount, "net_payable");
  if (total != s.net_payable) {
    throw annex::Error(ANNEX_ERR_INTERNAL, "statement " + s.id + " charges " + std::to_string(total) + " to its accounts but pays " +
                                               std::to_string(s.net_payable));
  }
  return shares;
}

std::vector<AccountShare> draw_slice(const std::vector<AccountShare>& shares, int64_t drawn, int64_t amount) {
  std::vector<AccountShare> out;
  int64_t at = 0;  // where the current share starts
  for (const AccountShare& a : shares) {
    int64_t from = std::max(at, drawn), to = std::min(at + a.amount, drawn + amount);
    if (to > from) out.push_back({a.account, to - from});
    at += a.amount;
  }
  return out;
}

}  // namespace relationship_spending
