#include "posting.h"

#include <annex/business.hpp>

#include <stdexcept>

namespace expenses {

using nlohmann::json;

namespace {

json journal_line(const std::string& account, const std::optional<std::string>& cost_centre, int64_t debit, int64_t credit,
                  const std::string& description) {
  json l = {{"account", account}, {"debit", debit}, {"credit", credit}, {"description", description}};
  if (cost_centre) l["cost_centre"] = *cost_centre;
  return l;
}

}  // namespace

std::optional<PostingSettings> parse_posting(const json& config) {
  if (!config.is_object() || !config.contains("posting")) return std::nullopt;
  const json& p = config["posting"];
  const std::string key = "plugins.org.annex.expenses.posting";
  if (!p.is_object()) throw std::invalid_argument(key + ": must be an object");
  auto text = [&](const char* name, bool required) {
    if (!p.contains(name)) {
      if (required) throw std::invalid_argument(key + "." + name + ": is required");
      return std::string();
    }
    if (!p[name].is_string() || p[name].get<std::string>().empty()) throw std::invalid_argument(key + "." + name + ": must be a non-empty string");
    return p[name].get<std::string>();
  };
  for (const auto& [k, v] : p.items()) {
    static const char* const known[] = {"connection", "journal_stream", "payments_stream", "advance_clearing_account",
                                        "employee_payable_account", "bank_account"};
    if (std::find(std::begin(known), std::end(known), k) == std::end(known)) {
      throw std::invalid_argument(key + "." + k + ": unknown key (known: connection, journal_stream, payments_stream, "
                                  "advance_clearing_account, employee_payable_account, bank_account)");
    }
  }
  return PostingSettings{text("connection", true),           text("journal_stream", true),
                         text("payments_stream", false),     text("advance_clearing_account", true),
                         text("employee_payable_account", true), text("bank_account", true)};
}

json Posting::claim_entry(const Claim& c, const PostingSettings& s) {
  json lines = json::array();
  int64_t debits = 0;
  for (const ClaimLine& l : c.lines) {
    if (l.sanctioned == 0) continue;
    lines.push_back(journal_line(l.gl_account, l.cost_centre, l.sanctioned, 0,
                                 l.category + (l.merchant.empty() ? "" : " — " + l.merchant) + " (" + l.spent_on + ")"));
    debits = annex::biz::checked_add(debits, l.sanctioned, "lines");
  }
  if (c.settled_advances > 0) {
    lines.push_back(journal_line(s.advance_clearing_account, std::nullopt, 0, c.settled_advances, "settled against cash advances"));
  }
  if (c.reimbursable > 0) {
    lines.push_back(journal_line(s.employee_payable_account, std::nullopt, 0, c.reimbursable, "payable to " + c.claimant_id));
  }
  if (debits != c.settled_advances + c.reimbursable) {
    throw annex::Error(ANNEX_ERR_INTERNAL, "claim " + c.id + " does not balance: " + std::to_string(debits) + " against " +
                                               std::to_string(c.settled_advances + c.reimbursable));
  }
  return {{"date", c.decided_at.value_or(c.updated_at).substr(0, 10)},
          {"reference", c.id},
          {"description", "Expense claim " + c.id + " of " + c.claimant_id},
          {"currency", c.currency},
          {"lines", lines}};
}

void Posting::queue(annex::Transaction& txn, const std::string& key, const json& entry) const {
  documents_.enqueue(settings_.connection, settings_.journal_stream, key, entry.dump(), &txn);
}

void Posting::claim_approved(annex::Transaction& txn, const Claim& claim) const {
  if (claim.sanctioned == 0) return;  // nothing to post
  queue(txn, "claim-" + claim.id, claim_entry(claim, settings_));
}

void Posting::advance_paid(annex::Transaction& txn, const Advance& a) const {
  queue(txn, "advance-" + a.id,
        {{"date", a.paid_on.value_or(a.updated_at.substr(0, 10))},
         {"reference", a.id},
         {"description", "Cash advance " + a.id + " to " + a.requester_id},
         {"currency", a.currency},
         {"lines", {journal_line(settings_.advance_clearing_account, std::nullopt, a.amount, 0, "advance to " + a.requester_id),
                    journal_line(settings_.bank_account, std::nullopt, 0, a.amount, "paid out")}}});
}

void Posting::charged_advance_paid(annex::Transaction& txn, const Advance& a, bool booked_by_finance) const {
  json lines = json::array();
  for (const Charge& c : a.charges) lines.push_back(journal_line(c.account, a.cost_centre, c.amount, 0, c.description));
  lines.push_back(booked_by_finance ? journal_line(settings_.advance_clearing_account, std::nullopt, 0, a.amount, "paid as advance " + a.id)
                                    : journal_line(settings_.bank_account, std::nullopt, 0, a.amount, "paid out"));
  queue(txn, (booked_by_finance ? "advance-expense-" : "advance-") + a.id,
        {{"date", a.paid_on.value_or(a.updated_at.substr(0, 10))},
         {"reference", a.reference.value_or(a.id)},
         {"description", "Cash advance " + a.id + " to " + a.requester_id + " paying " + a.purpose},
         {"currency", a.currency},
         {"lines", lines}});
}

void Posting::advance_returned(annex::Transaction& txn, const Advance& a, int64_t amount) const {
  queue(txn, "advance-return-" + a.id + "-" + std::to_string(a.version),
        {{"date", a.updated_at.substr(0, 10)},
         {"reference", a.id},
         {"description", "Cash advance " + a.id + " returned by " + a.requester_id},
         {"currency", a.currency},
         {"lines", {journal_line(settings_.bank_account, std::nullopt, amount, 0, "returned"),
                    journal_line(settings_.advance_clearing_account, std::nullopt, 0, amount, "advance of " + a.requester_id)}}});
}

}  // namespace expenses
