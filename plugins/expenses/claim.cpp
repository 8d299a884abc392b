#include "claim.h"

namespace expenses {
namespace {

template <typename T>
json or_null(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

}  // namespace

json PolicyVerdict::to_json() const {
  json results_json = json::array();
  for (const RuleResult& r : results) {
    results_json.push_back({{"rule", r.rule}, {"outcome", outcome_name(r.outcome)}, {"message", r.message}, {"figures", r.figures}});
  }
  return {{"outcome", outcome_name(outcome)}, {"results", results_json}};
}

PolicyVerdict PolicyVerdict::from_json(const json& j) {
  PolicyVerdict v;
  if (!j.is_object()) return v;
  auto parse = [](const std::string& s) { return s == "block" ? Outcome::kBlock : s == "warn" ? Outcome::kWarn : Outcome::kOk; };
  v.outcome = parse(j.value("outcome", "ok"));
  for (const json& r : j.value("results", json::array())) {
    v.results.push_back({r.value("rule", ""), parse(r.value("outcome", "ok")), r.value("message", ""), r.value("figures", json::object())});
  }
  return v;
}

json Claim::to_json() const {
  json lines_json = json::array();
  for (const ClaimLine& l : lines) {
    json attendees_json = json::array();
    for (const Attendee& a : l.attendees) attendees_json.push_back({{"kind", a.kind}, {"name", a.name}});
    lines_json.push_back({{"line_no", l.line_no},
                          {"date", l.spent_on},
                          {"category", l.category},
                          {"merchant", l.merchant},
                          {"description", l.description},
                          {"amount", money_json(l.amount, l.currency)},
                          {"exchange_rate", or_null(l.rate)},
                          {"company_amount", money_json(l.company_amount, currency)},
                          {"sanctioned", money_json(l.sanctioned, currency)},
                          {"sanction_reason", or_null(l.sanction_reason)},
                          {"cost_centre", or_null(l.cost_centre)},
                          {"gl_account", l.gl_account},
                          {"attendees", attendees_json},
                          {"attendee_count", or_null(l.attendee_count)},
                          {"receipt_sha256", or_null(l.receipt_sha256)},
                          {"justification", or_null(l.justification)},
                          {"policy", l.policy.to_json()}});
  }
  return {{"id", id},
          {"number", id},
          {"claimant_id", claimant_id},
          {"owner_id", claimant_id},
          {"sector_id", sector_id},
          {"purpose", purpose},
          {"period", or_null(period)},
          {"party_id", or_null(party_id)},
          {"opportunity_id", or_null(opportunity_id)},
          {"contract_id", or_null(contract_id)},
          {"status", status},
          {"total", money_json(total, currency)},
          {"sanctioned", money_json(sanctioned, currency)},
          {"approval_id", or_null(approval_id)},
          {"chain", chain_amount ? json{{"amount", money_json(*chain_amount, currency)}, {"basis", chain_basis}} : json(nullptr)},
          {"settled_against_advances", money_json(settled_advances, currency)},
          {"reimbursable", money_json(reimbursable, currency)},
          {"submitted_at", or_null(submitted_at)},
          {"decided_at", or_null(decided_at)},
          {"paid_on", or_null(paid_on)},
          {"posted_ref", or_null(posted_ref)},
          {"created_at", created_at},
          {"updated_at", updated_at},
          {"version", version},
          {"lines", lines_json}};
}

}  // namespace expenses
