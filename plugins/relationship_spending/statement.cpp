#include "statement.h"

namespace relationship_spending {

using nlohmann::json;

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

json content_json(const Statement& s, const std::vector<CustomerEntry>& customers, const json& advances, int64_t recovery_carried_in) {
  json list = json::array();
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
                           {"lines", lines}});
    }
    list.push_back({{"party_id", c.party_id},
                    {"contracts", contracts},
                    {"fee_earned", c.fee_earned},
                    {"fee_payable", c.fee_payable},
                    {"recovered", c.recovered},
                    {"carried_forward", c.carried_forward}});
    earned += c.fee_earned;
    payable += c.fee_payable;
    recovered += c.recovered;
    carried += c.carried_forward;
  }
  return {{"period", s.period},
          {"rep_id", s.rep_id},
          {"sector_id", s.sector_id},
          {"currency", s.currency},
          {"customers", list},
          {"totals",
           {{"fee_earned", earned},
            {"fee_payable", payable},
            {"recovered", recovered},
            {"recovery_carried_in", recovery_carried_in},
            {"net_payable", s.net_payable},
            {"recovery_due", s.recovery_due},
            {"carried_forward", carried}}},
          {"advances", advances}};
}

}  // namespace relationship_spending
