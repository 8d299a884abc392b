#include "drafting.h"

#include "../common/rest.h"

#include <annex/business.hpp>

#include <map>
#include <set>
#include <utility>

namespace relationship_spending {

using nlohmann::json;
namespace biz = annex::biz;
namespace rest = annex::rest;

namespace {

std::string date_text(std::chrono::sys_days d) { return biz::format_date(d); }

// The N-th working day of the month after `last`, or that month's last day when it has fewer.
std::string working_day_after(const annex::Calendar& calendar, std::chrono::sys_days last, int n) {
  std::chrono::year_month_day next{last + std::chrono::days{1}};
  std::chrono::year_month month{next.year(), next.month()};
  if (std::optional<std::chrono::sys_days> d = calendar.nth_working_day(month, n)) return date_text(*d);
  return date_text(std::chrono::sys_days{month / std::chrono::last});
}

// Contracts asked about at once (their fees, their states): memory holds what a slice of them brings.
constexpr size_t kSlice = 500;

// A contract as drafting needs it, from the contracts service.
struct ContractState {
  std::string number, party_id, currency, signed_on;
  int64_t total = 0, collected = 0;

  static ContractState of(const json& c) {
    return {c["number"], c["party_id"], c["currency"], c["signed_on"].is_string() ? c["signed_on"].get<std::string>() : "",
            c["total"].get<int64_t>(), c["collected"].get<int64_t>()};
  }
};

}  // namespace

std::optional<std::pair<std::chrono::sys_days, std::chrono::sys_days>> month_of(const std::string& period) {
  if (period.size() != 7 || period[4] != '-') return std::nullopt;
  std::optional<biz::Date> first = biz::parse_date(period + "-01");
  if (!first) return std::nullopt;
  std::chrono::year_month_day ymd{*first};
  std::chrono::sys_days last{ymd.year() / ymd.month() / std::chrono::last};
  return std::make_pair(*first, last);
}

json DraftReport::to_json() const {
  return {{"period", period},
          {"signed_contracts", contracts},
          {"fees_recorded", fees_recorded},
          {"lines_without_standard", lines_without_standard},
          {"statements_drafted", statements},
          {"already_drafted", already_drafted}};
}

std::string Drafter::previous_period() const {
  std::chrono::year_month_day today{s_.calendar.today()};
  std::chrono::year_month previous = std::chrono::year_month{today.year(), today.month()} - std::chrono::months{1};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u", static_cast<int>(previous.year()), static_cast<unsigned>(previous.month()));
  return text;
}

int64_t Drafter::in_plugin_currency(int64_t amount, const std::string& currency, const std::string& date, const std::string& field) {
  if (currency == settings_.currency) return amount;
  std::optional<int> units = s_.masterdata.currency(currency);
  biz::Currency from{currency, units && *units >= 0 ? *units : 2};
  return rest::exchange_rate(s_.masterdata, currency, settings_.currency, date, field)
      .convert(biz::Money(amount, from), {settings_.currency, settings_.currency_minor_units}, field)
      .minor();
}

void Drafter::record_fees(const std::string& period, const std::string& first, const std::string& last, DraftReport& report) {
  std::map<std::pair<std::string, std::string>, std::optional<InForce>> standards;  // (product, date) → in force
  json after = nullptr;
  do {
    json query = {{"signed_from", first}, {"signed_to", last}, {"limit", 1000}};
    if (!after.is_null()) query["after"] = after;
    json page = contracts_.signed_contracts(query);
    std::vector<Fee> fees;
    for (const json& c : page["items"]) {
      ++report.contracts;
      const std::string contract_id = c["id"], signed_on = c["signed_on"], currency = c["currency"];
      std::vector<int64_t> percents;
      for (const json& split : c["splits"]) percents.push_back(split["percent"].get<int64_t>());
      for (const json& line : c["lines"]) {
        const std::string product = line["product_id"];
        auto key = std::make_pair(product, signed_on);
        auto it = standards.find(key);
        if (it == standards.end()) it = standards.emplace(key, standards_.in_force(product, signed_on)).first;
        if (!it->second) {
          ++report.lines_without_standard;
          continue;
        }
        const Standard& st = it->second->standard;
        const std::string field = "contracts[" + c["number"].get<std::string>() + "].lines[" + std::to_string(line["line_no"].get<int64_t>()) + "]";
        int64_t fee = st.basis == "per_unit"
                          ? in_plugin_currency(line_fee_per_unit(*st.amount, line["quantity"].get<int64_t>(), field), *st.currency, signed_on, field)
                          : in_plugin_currency(line_fee_rate(line["amount"].get<int64_t>(), *st.rate_bp, field), currency, signed_on, field);
        std::vector<int64_t> parts = split_fee(fee, percents);
        for (size_t i = 0; i < parts.size(); ++i) {
          Fee f;
          f.contract_id = contract_id;
          f.line_no = line["line_no"];
          f.rep_id = c["splits"][i]["user_id"];
          f.contract_number = c["number"];
          f.party_id = c["party_id"];
          f.sector_id = c["sector_id"];
          f.product_id = product;
          f.standard_id = st.id;
          f.gl_account = st.gl_account;
          f.signed_on = signed_on;
          f.share_percent = percents[i];
          f.earned = parts[i];
          f.first_period = period;
          fees.push_back(std::move(f));
        }
      }
    }
    // A page of contracts' fees in one transaction: a crash loses at most a page, which drafting again records.
    annex::Transaction txn = s_.db.begin();
    for (const Fee& f : fees) report.fees_recorded += fees_.insert(txn, f) ? 1 : 0;
    txn.commit();
    after = page["next"];
  } while (!after.is_null());
}

DraftReport Drafter::draft(const std::string& period, const std::string& actor) {
  auto month = month_of(period);
  if (!month) rest::invalid("period", "period must be a month, YYYY-MM");
  const auto [first_day, last_day] = *month;
  if (s_.calendar.today() <= last_day) {
    rest::unprocessable("period", "the month " + period + " has not ended yet in the company's time zone");
  }
  std::lock_guard<std::mutex> one_at_a_time(running_);
  const std::string first = date_text(first_day), last = date_text(last_day);
  DraftReport report;
  report.period = period;
  record_fees(period, first, last, report);

  // The contracts whose payable share may have moved: fees not yet wholly payable, and collections received in
  // the month or reversed since the month before (a reversal after payout is recovered).
  std::set<std::string> contract_ids = fees_.open_contracts();
  std::map<std::string, int64_t> collected_in_month;
  auto each_collection = [&](json query, auto&& fn) {
    json after = nullptr;
    do {
      query["limit"] = 1000;
      if (!after.is_null()) query["after"] = after;
      json page = contracts_.collections(query);
      for (const json& c : page["items"]) fn(c);
      after = page["next"];
    } while (!after.is_null());
  };
  // Day by day: the service pages in id order, which over a whole month's collections means sorting them all for
  // every page.
  for (std::chrono::sys_days day = first_day; day <= last_day; day += std::chrono::days{1}) {
    each_collection({{"received_from", date_text(day)}, {"received_to", date_text(day)}}, [&](const json& c) {
      contract_ids.insert(c["contract_id"].get<std::string>());
      if (c["reversed_on"].is_null() || c["reversed_on"].get<std::string>() > last) {
        collected_in_month[c["contract_id"]] += c["amount"].get<int64_t>();
      }
    });
  }
  const std::string reversals_from = date_text(first_day - std::chrono::days{31});
  each_collection({{"reversed_from", reversals_from}, {"reversed_to", last}},
                  [&](const json& c) { contract_ids.insert(c["contract_id"].get<std::string>()); });

  // Which reps hold a fee on those contracts, and every rep's fee earned on each: read in slices, not kept — a
  // rep's fees are read again when their statement is drafted, so that memory holds one rep's fees at a time.
  const std::vector<std::string> ids(contract_ids.begin(), contract_ids.end());
  std::map<std::string, std::vector<std::string>> held_by_rep;  // rep → the contracts they hold fees on, in id order
  std::map<std::string, std::vector<int64_t>> earned_on;         // contract → every rep's fee earned on it
  for (size_t at = 0; at < ids.size(); at += kSlice) {
    const std::vector<std::string> slice(ids.begin() + at, ids.begin() + std::min(ids.size(), at + kSlice));
    for (const FeeRepository::Credit& f : fees_.credits_on(slice)) {
      if (f.signed_on > last) continue;  // signed after the month: a later statement's
      std::vector<std::string>& held = held_by_rep[f.rep_id];
      if (held.empty() || held.back() != f.contract_id) held.push_back(f.contract_id);
      earned_on[f.contract_id].push_back(f.earned);
    }
  }
  // Each contract's state as the contracts plugin has it now (asked for many at once), what every rep's fees on it
  // are payable to date, and its collections in the plugin's currency (at the rate of the month's last day) for
  // the ratios.
  std::map<std::string, ContractState> states;
  std::map<std::string, int64_t> payable_all_reps;
  std::map<std::string, std::optional<int64_t>> collected_converted;
  {
    std::vector<std::string> with_fees;
    for (const auto& [id, earned] : earned_on) with_fees.push_back(id);
    for (size_t at = 0; at < with_fees.size(); at += kSlice) {
      const std::vector<std::string> slice(with_fees.begin() + at, with_fees.begin() + std::min(with_fees.size(), at + kSlice));
      for (auto& [id, c] : contracts_.states(slice)) {
        ContractState st = ContractState::of(c);
        for (int64_t earned : earned_on[id]) payable_all_reps[id] += payable_share(settings_.payout_policy, earned, st.collected, st.total);
        states.emplace(id, std::move(st));
      }
    }
  }
  {
    annex::Transaction txn = s_.db.begin();
    for (const auto& [id, st] : states) {
      std::optional<int64_t> converted;
      try {
        converted = in_plugin_currency(st.collected, st.currency, last, "collected");
      } catch (const annex::Error&) {
        // No rate: the contract's ratio is not shown rather than guessed.
      }
      collected_converted[id] = converted;
      spend_.record_contract(txn, id, st.party_id, st.currency, st.total, st.collected, converted, last);
    }
    txn.commit();
  }
  const std::string window_from = date_text(last_day - std::chrono::days{settings_.spend_window_days - 1});
  std::map<std::string, CustomerSpend> spend = spend_.by_party(window_from);
  std::map<std::string, std::optional<int64_t>> collected_by_party = spend_.collected_by_party();
  const SpendPolicy policy{settings_.spend_window_days, settings_.customer_spend_limit, settings_.ratio_warning_bp};
  auto state_of = [&](const std::string& id) -> const ContractState& {
    auto it = states.find(id);
    if (it != states.end()) return it->second;
    return states.emplace(id, ContractState::of(contracts_.get(id))).first->second;
  };
  for (const std::string& rep : statements_.reps_owing_recovery(period)) held_by_rep[rep];
  // Approved special expenses (R6) not yet wholly payable, or on a contract whose collections moved; and the
  // applications filed in the month, which each statement summarises.
  std::map<std::string, FeeRepository::SpecialPayable> special_payables = fees_.special_payables();
  std::set<std::string> special_reps;
  for (const std::string& rep : fees_.reps_with_new_special_expenses()) special_reps.insert(rep);
  for (const auto& [id, p] : special_payables) {
    if (!p.contract_id || p.payable < p.amount || contract_ids.count(*p.contract_id)) special_reps.insert(p.rep_id);
  }
  std::map<std::string, std::vector<SpecialExpense>> filed = applications_.filed_between(first, last);
  for (const std::string& rep : special_reps) held_by_rep[rep];
  for (const auto& [rep, applications] : filed) held_by_rep[rep];

  const std::string submit_due = working_day_after(s_.calendar, last_day, 3), sign_due = working_day_after(s_.calendar, last_day, 8),
                    payout_from = working_day_after(s_.calendar, last_day, 9);
  for (const auto& [rep, held] : held_by_rep) {
    if (statements_.of_rep(rep, period)) {
      ++report.already_drafted;
      continue;
    }
    std::vector<Fee> fees;  // the rep's fees on those contracts
    for (Fee& f : fees_.of_contracts(held)) {
      if (f.rep_id == rep && f.signed_on <= last) fees.push_back(std::move(f));
    }
    // Per customer, per contract, per fee line: what became payable, what is recovered.
    std::map<std::string, CustomerEntry> customers;
    std::map<std::string, size_t> contract_entries;  // contract → its index in its customer's contracts
    std::vector<std::pair<const Fee*, int64_t>> changes;
    for (const Fee& f : fees) {
      const ContractState& st = state_of(f.contract_id);
      int64_t target = payable_share(settings_.payout_policy, f.earned, st.collected, st.total);
      CustomerEntry& customer = customers[f.party_id];
      customer.party_id = f.party_id;
      auto [entry, added] = contract_entries.emplace(f.contract_id, customer.contracts.size());
      if (added) {
        ContractEntry k{f.contract_id, st.number, f.signed_on, st.currency, st.total, collected_in_month[f.contract_id], st.collected,
                        f.signed_on >= first, {}, payable_all_reps[f.contract_id], std::nullopt};
        if (const std::optional<int64_t>& converted = collected_converted[f.contract_id]) k.ratio_bp = ratio_bp(k.fees_payable_all_reps, *converted);
        customer.contracts.push_back(std::move(k));
      }
      FeeLine line{f.line_no, f.product_id, f.standard_id, f.gl_account, f.share_percent, f.earned, f.payable, target};
      customer.contracts[entry->second].lines.push_back(line);
      if (f.signed_on >= first) customer.fee_earned = biz::checked_add(customer.fee_earned, f.earned, "fee_earned");
      if (line.change() > 0) customer.fee_payable = biz::checked_add(customer.fee_payable, line.change(), "fee_payable");
      if (line.change() < 0) customer.recovered = biz::checked_add(customer.recovered, -line.change(), "recovered");
      customer.carried_forward = biz::checked_add(customer.carried_forward, f.earned - target, "carried_forward");
      if (line.change() != 0) changes.emplace_back(&f, target);
    }
    Statement st;
    st.id = rest::new_id("rst");
    st.rep_id = rep;
    std::optional<std::string> home = s_.authz.home_sector(rep);
    st.sector_id = home ? *home : (fees.empty() ? "" : fees.front().sector_id);
    st.period = period;
    st.currency = settings_.currency;
    st.submit_due = submit_due;
    st.sign_due = sign_due;
    st.payout_from = payout_from;
    // R6: an approved special expense is payable only after collection of the customer's first contract, in
    // step with it as fees are; one filed after that signing never is.
    json on_statement = json::array(), filed_in_month = json::array();
    std::vector<FeeRepository::SpecialPayable> special_changes;
    std::map<std::string, int64_t> special_by_party;
    if (special_reps.count(rep)) {
      for (const ApprovedSpecialExpense& a : specials_.approved_for_rep(rep)) {
        const SpecialExpense& app = a.application;
        FeeRepository::SpecialPayable p = special_payables.count(app.id) ? special_payables[app.id]
                                                                          : FeeRepository::SpecialPayable{app.id, rep, std::nullopt, 0, 0};
        p.amount = in_plugin_currency(app.amount, app.currency, app.filed_on, "special_expenses");
        std::string state = "waiting_for_signing";
        int64_t target = 0;
        if (a.first_signed && !a.filed_before_signing()) {
          state = "invalid: filed after the first signing";
        } else if (a.first_signed && a.first_signed->signed_on <= last) {
          p.contract_id = a.first_signed->contract_id;
          const ContractState& k = state_of(a.first_signed->contract_id);
          target = payable_share(settings_.payout_policy, p.amount, k.collected, k.total);
          state = target == p.amount ? "payable" : target > 0 ? "partly_payable" : "waiting_for_collection";
        }
        int64_t change = target - p.payable;
        if (change > 0) st.special_payable = biz::checked_add(st.special_payable, change, "special_payable");
        if (change < 0) st.recovered = biz::checked_add(st.recovered, -change, "recovered");
        if (change != 0) special_by_party[app.party_id] += change;
        on_statement.push_back({{"application_id", app.id},
                                {"party_id", app.party_id},
                                {"contract", a.first_signed ? a.first_signed->to_json() : json(nullptr)},
                                {"amount", p.amount},
                                {"payable_before", p.payable},
                                {"payable_after", target},
                                {"state", state}});
        p.payable = target;
        special_changes.push_back(p);
      }
    }
    if (auto it = filed.find(rep); it != filed.end()) {
      for (const SpecialExpense& app : it->second) {
        filed_in_month.push_back({{"application_id", app.id}, {"party_id", app.party_id}, {"amount", {{"amount", app.amount}, {"currency", app.currency}}},
                                  {"purpose", app.purpose}, {"status", app.status}, {"filed_on", app.filed_on}});
      }
    }
    std::vector<CustomerEntry> list;
    std::vector<SpendEntry> spent;
    for (auto& [party, c] : customers) {
      st.fee_payable = biz::checked_add(st.fee_payable, c.fee_payable, "fee_payable");
      st.recovered = biz::checked_add(st.recovered, c.recovered, "recovered");
      // What this statement makes payable counts as spend on the customer, for every later statement too.
      int64_t amount = c.fee_payable - c.recovered;
      CustomerSpend& so_far = spend[party];
      so_far.to_date = biz::checked_add(so_far.to_date, amount, "spend");
      so_far.in_window = biz::checked_add(so_far.in_window, amount, "spend");
      if (amount != 0) spent.push_back({party, rep, "", "fee", "", last, amount});
      if (auto special = special_by_party.find(party); special != special_by_party.end()) {
        so_far.to_date = biz::checked_add(so_far.to_date, special->second, "spend");
        so_far.in_window = biz::checked_add(so_far.in_window, special->second, "spend");
        spent.push_back({party, rep, "", "special", "", last, special->second});
        special_by_party.erase(special);
      }
      c.spend_to_date = so_far.to_date;
      c.spend_in_window = so_far.in_window;
      c.collected_to_date = collected_by_party[party];
      if (c.collected_to_date) c.ratio_bp = ratio_bp(c.spend_to_date, *c.collected_to_date);
      list.push_back(std::move(c));
    }
    std::optional<Statement> before = statements_.previous(rep, period);
    int64_t carried_in = before ? before->recovery_due : 0;
    // Special expenses on customers with no fee on this statement count as spend too.
    for (const auto& [party, amount] : special_by_party) {
      CustomerSpend& so_far = spend[party];
      so_far.to_date = biz::checked_add(so_far.to_date, amount, "spend");
      so_far.in_window = biz::checked_add(so_far.in_window, amount, "spend");
      spent.push_back({party, rep, "", "special", "", last, amount});
    }
    int64_t net = st.fee_payable + st.special_payable - st.recovered - carried_in;
    st.net_payable = std::max<int64_t>(net, 0);
    st.recovery_due = std::max<int64_t>(-net, 0);
    json advances = advances_.balance(rep);
    st.content = content_json(st, list, advances, carried_in, policy,
                              {{"filed_in_month", filed_in_month}, {"on_statement", on_statement}});
    st.created_at = st.updated_at = rest::utc_now();

    annex::Transaction txn = s_.db.begin();
    if (!statements_.insert(txn, st)) {
      ++report.already_drafted;
      continue;  // drafted meanwhile by another run: its fee changes stand
    }
    fees_.set_payable(txn, changes);
    for (const FeeRepository::SpecialPayable& p : special_changes) fees_.set_special_payable(txn, p);
    for (SpendEntry& e : spent) {
      e.sector_id = st.sector_id;
      e.source_id = st.id;
      spend_.record(txn, e);
    }
    json content = std::exchange(st.content, json::object());  // the summary without it: no copy of it either
    json summary = st.to_json();
    st.content = std::move(content);
    summary.erase("content");
    s_.audit.append(&txn, actor, "relationship.statement.draft", kStatement, st.id, "", summary.dump());
    txn.commit();
    ++report.statements;
    // For auditors: the customers above the ratio threshold or the rolling limit, and fees recovered.
    for (const json& w : st.content["warnings"]) {
      ExceptionKind kind = w["kind"] == "customer_limit" ? ExceptionKind::kOverLimit : ExceptionKind::kOverRatio;
      exceptions_.record({"", kind, rep, st.sector_id, w["party_id"].get<std::string>(), kStatement, st.id, w, ""}, actor);
    }
    for (const CustomerEntry& c : list) {
      if (c.recovered > 0) {
        exceptions_.record({"", ExceptionKind::kRecovery, rep, st.sector_id, c.party_id, kStatement, st.id,
                            {{"recovered", c.recovered}, {"currency", st.currency}, {"period", period}}, ""},
                           actor);
      }
    }
  }
  return report;
}

}  // namespace relationship_spending
