#include "claim.h"

#include <algorithm>

namespace expenses {

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

// The claim as JSON text written directly, keys in the order json::dump writes them (sorted), so that it is the
// canonical text the audit log keeps as it is: building a json object of a five-line claim and dumping it cost
// a tenth of a submission's write transaction. to_json() parses this text, so the two never differ.
namespace {

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  Writer& open() {
    out_ += '{';
    first_ = true;
    return *this;
  }
  Writer& close() {
    out_ += '}';
    first_ = false;
    return *this;
  }
  Writer& key(std::string_view k) {
    if (!first_) out_ += ',';
    first_ = false;
    quoted(k);
    out_ += ':';
    return *this;
  }
  Writer& text(std::string_view k, std::string_view v) {
    key(k);
    quoted(v);
    return *this;
  }
  Writer& text_or_null(std::string_view k, const std::optional<std::string>& v) {
    key(k);
    v ? quoted(*v) : void(out_ += "null");
    return *this;
  }
  Writer& integer(std::string_view k, int64_t v) {
    key(k);
    out_ += std::to_string(v);
    return *this;
  }
  Writer& integer_or_null(std::string_view k, const std::optional<int64_t>& v) {
    key(k);
    out_ += v ? std::to_string(*v) : "null";
    return *this;
  }
  Writer& money(std::string_view k, int64_t minor, std::string_view currency) {
    key(k);
    out_ += "{\"amount\":";
    out_ += std::to_string(minor);
    out_ += ",\"currency\":";
    quoted(currency);
    out_ += '}';
    return *this;
  }
  Writer& raw(std::string_view k, std::string_view json_text) {
    key(k);
    out_ += json_text;
    return *this;
  }
  Writer& value(std::string_view k, const json& v) { return raw(k, v.dump()); }
  // A list under `k`, each item written by `write(*this, item)`.
  template <typename Items, typename Write>
  Writer& list(std::string_view k, const Items& items, Write write) {
    key(k);
    out_ += '[';
    bool first = true;
    for (const auto& item : items) {
      if (!first) out_ += ',';
      first = false;
      write(*this, item);
    }
    out_ += ']';
    return *this;
  }

 private:
  // As json::dump writes a string: most need no escaping; the rest are escaped by json itself.
  void quoted(std::string_view s) {
    const bool plain = std::none_of(s.begin(), s.end(), [](char c) {
      return static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\';
    });
    if (plain) {
      out_ += '"';
      out_ += s;
      out_ += '"';
    } else {
      out_ += json(std::string(s)).dump();
    }
  }

  std::string& out_;
  bool first_ = true;
};

void write_policy(Writer& w, const PolicyVerdict& policy) {
  w.key("policy").open().text("outcome", outcome_name(policy.outcome)).list("results", policy.results, [](Writer& w, const RuleResult& r) {
    w.open().value("figures", r.figures).text("message", r.message).text("outcome", outcome_name(r.outcome)).text("rule", r.rule).close();
  });
  w.close();
}

void write_line(Writer& w, const ClaimLine& l, const std::string& company_currency) {
  w.open().money("amount", l.amount, l.currency).integer_or_null("attendee_count", l.attendee_count);
  w.list("attendees", l.attendees, [](Writer& w, const Attendee& a) { w.open().text("kind", a.kind).text("name", a.name).close(); });
  w.text("category", l.category)
      .money("company_amount", l.company_amount, company_currency)
      .text_or_null("cost_centre", l.cost_centre)
      .text("date", l.spent_on)
      .text("description", l.description)
      .text_or_null("exchange_rate", l.rate)
      .text("gl_account", l.gl_account)
      .text_or_null("justification", l.justification)
      .integer("line_no", l.line_no)
      .text("merchant", l.merchant);
  write_policy(w, l.policy);
  w.text_or_null("receipt_sha256", l.receipt_sha256)
      .text_or_null("sanction_reason", l.sanction_reason)
      .money("sanctioned", l.sanctioned, company_currency)
      .close();
}

}  // namespace

std::string Claim::to_text(std::string_view approval) const {
  std::string out;
  out.reserve(2048 + 1024 * lines.size());
  Writer w(out);
  w.open();
  if (!approval.empty()) w.raw("approval", approval);
  w.text_or_null("approval_id", approval_id);
  w.key("chain");
  if (chain_amount) {
    w.open().money("amount", *chain_amount, currency).value("basis", chain_basis).close();
  } else {
    out += "null";
  }
  w.text("claimant_id", claimant_id)
      .text_or_null("contract_id", contract_id)
      .text("created_at", created_at)
      .text_or_null("decided_at", decided_at)
      .text("id", id)
      .list("lines", lines, [this](Writer& w, const ClaimLine& l) { write_line(w, l, currency); })
      .text("number", id)
      .text_or_null("opportunity_id", opportunity_id)
      .text("owner_id", claimant_id)
      .text_or_null("paid_on", paid_on)
      .text_or_null("party_id", party_id)
      .text_or_null("period", period)
      .text_or_null("posted_ref", posted_ref)
      .text("purpose", purpose)
      .money("reimbursable", reimbursable, currency)
      .money("sanctioned", sanctioned, currency)
      .text("sector_id", sector_id)
      .money("settled_against_advances", settled_advances, currency)
      .text("status", status)
      .text_or_null("submitted_at", submitted_at)
      .money("total", total, currency)
      .text("updated_at", updated_at)
      .integer("version", version)
      .close();
  return out;
}

json Claim::to_json() const { return json::parse(to_text()); }

}  // namespace expenses
