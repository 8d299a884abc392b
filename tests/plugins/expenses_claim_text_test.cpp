// A claim's JSON text (Claim::to_text) is written by hand for speed: it must be exactly what json::dump writes for
// the claim's fields, whatever their text, so that responses, audit entries and to_json() agree.
#include "../../plugins/expenses/claim.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace expenses {
namespace {

using nlohmann::json;

template <typename T>
json or_null(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json money(int64_t minor, const std::string& currency) { return {{"amount", minor}, {"currency", currency}}; }

// The claim's fields as the API documents them, built as a json object.
json expected(const Claim& c) {
  json lines = json::array();
  for (const ClaimLine& l : c.lines) {
    json attendees = json::array();
    for (const Attendee& a : l.attendees) attendees.push_back({{"kind", a.kind}, {"name", a.name}});
    json results = json::array();
    for (const RuleResult& r : l.policy.results) {
      results.push_back({{"rule", r.rule}, {"outcome", outcome_name(r.outcome)}, {"message", r.message}, {"figures", r.figures}});
    }
    lines.push_back({{"line_no", l.line_no}, {"date", l.spent_on}, {"category", l.category}, {"merchant", l.merchant},
                     {"description", l.description}, {"amount", money(l.amount, l.currency)}, {"exchange_rate", or_null(l.rate)},
                     {"company_amount", money(l.company_amount, c.currency)}, {"sanctioned", money(l.sanctioned, c.currency)},
                     {"sanction_reason", or_null(l.sanction_reason)}, {"cost_centre", or_null(l.cost_centre)},
                     {"gl_account", l.gl_account}, {"attendees", attendees}, {"attendee_count", or_null(l.attendee_count)},
                     {"receipt_sha256", or_null(l.receipt_sha256)}, {"justification", or_null(l.justification)},
                     {"policy", {{"outcome", outcome_name(l.policy.outcome)}, {"results", results}}}});
  }
  return {{"id", c.id}, {"number", c.id}, {"claimant_id", c.claimant_id}, {"owner_id", c.claimant_id}, {"sector_id", c.sector_id},
          {"purpose", c.purpose}, {"period", or_null(c.period)}, {"party_id", or_null(c.party_id)},
          {"opportunity_id", or_null(c.opportunity_id)}, {"contract_id", or_null(c.contract_id)}, {"status", c.status},
          {"total", money(c.total, c.currency)}, {"sanctioned", money(c.sanctioned, c.currency)},
          {"approval_id", or_null(c.approval_id)},
          {"chain", c.chain_amount ? json{{"amount", money(*c.chain_amount, c.currency)}, {"basis", c.chain_basis}} : json(nullptr)},
          {"settled_against_advances", money(c.settled_advances, c.currency)}, {"reimbursable", money(c.reimbursable, c.currency)},
          {"submitted_at", or_null(c.submitted_at)}, {"decided_at", or_null(c.decided_at)}, {"paid_on", or_null(c.paid_on)},
          {"posted_ref", or_null(c.posted_ref)}, {"created_at", c.created_at}, {"updated_at", c.updated_at},
          {"version", c.version}, {"lines", lines}};
}

Claim bare() {
  Claim c;
  c.id = "ec_1";
  c.claimant_id = "u_rep";
  c.sector_id = "s3";
  c.purpose = "travel";
  c.currency = "CNY";
  c.created_at = c.updated_at = "2026-11-20T09:00:00Z";
  return c;
}

Claim full() {
  Claim c = bare();
  c.period = "2026-11";
  c.party_id = "p_ACME";
  c.opportunity_id = "op_1";
  c.contract_id = "ct_1";
  c.status = "submitted";
  c.total = 123456789012;
  c.sanctioned = -5;
  c.approval_id = "ap_1";
  c.chain_amount = 9000;
  c.chain_basis = {{"window_days", 30}, {"claims", json::array({{{"claim", "ec_1"}, {"amount", 10}}})}, {"since", "2026-11-01"}};
  c.settled_advances = 7;
  c.reimbursable = 0;
  c.submitted_at = "2026-11-21T10:00:00Z";
  c.decided_at = "2026-11-22T10:00:00Z";
  c.paid_on = "2026-11-30";
  c.posted_ref = "JE-7";
  c.version = 42;
  ClaimLine a;
  a.line_no = 1;
  a.spent_on = "2026-11-11";
  a.category = "meals";
  a.merchant = "Café \"Zum Löwen\" \\ 北京烤鸭";
  a.description = "line\nbreak\ttab\b\f\x01 and \x7f";
  a.amount = 1500;
  a.currency = "EUR";
  a.rate = "7.8123";
  a.company_amount = 11718;
  a.sanctioned = 10000;
  a.sanction_reason = "over the \"per head\" limit";
  a.cost_centre = "CC1";
  a.gl_account = "6604";
  a.attendees = {{"contact", "Ms. Wang \"W\""}, {"employee", "Jörg"}};
  a.attendee_count = 3;
  a.receipt_sha256 = std::string(64, 'a');
  a.justification = "customer visit";
  a.policy.outcome = Outcome::kWarn;
  a.policy.results = {{"limit.line", Outcome::kWarn, "over 100.00 a line", {{"limit", 10000}, {"claimed", 11718}}},
                      {"duplicate", Outcome::kWarn, "same as ec_0 line 2", {{"other_claim", "ec_0"}, {"line_no", 2}}}};
  ClaimLine b;
  b.line_no = 2;
  b.spent_on = "2026-11-12";
  b.category = "taxi";
  b.merchant = "";
  b.amount = 0;
  b.currency = "CNY";
  b.company_amount = 0;
  c.lines = {a, b};
  return c;
}

TEST(ClaimText, IsWhatJsonDumpWritesForTheClaimsFields) {
  for (const Claim& c : {bare(), full()}) {
    EXPECT_EQ(c.to_text(), expected(c).dump()) << c.to_text();
    EXPECT_EQ(c.to_json(), expected(c));
  }
}

TEST(ClaimText, CarriesTheApprovalAsItsMemberInItsPlace) {
  const Claim c = full();
  const std::string approval = R"({"chain":"expense-claim","id":"ap_1","status":"pending","steps":["head"]})";
  json want = expected(c);
  want["approval"] = json::parse(approval);
  EXPECT_EQ(c.to_text(approval), want.dump());
}

}  // namespace
}  // namespace expenses
