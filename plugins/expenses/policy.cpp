#include "policy.h"

#include <annex/business.hpp>

#include <algorithm>
#include <chrono>
#include <set>

namespace expenses {
namespace {

void add(PolicyVerdict& v, std::string rule, Outcome outcome, std::string message, json figures = json::object()) {
  if (outcome == Outcome::kOk) return;
  v.results.push_back({std::move(rule), outcome, std::move(message), std::move(figures)});
  if (outcome > v.outcome) v.outcome = outcome;
}

std::string money_text(int64_t minor, const std::string& currency, int minor_units) {
  return annex::biz::Money(minor, {currency, minor_units}).decimal() + " " + currency;
}

std::string weekday_name(annex::biz::Date day) {
  static const char* const names[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
  return names[std::chrono::weekday{day}.c_encoding()];
}

}  // namespace

void PolicyEngine::evaluate(Claim& claim, const Claimant& claimant, annex::Transaction* txn) const {
  const int units = settings_.company_minor_units;
  auto shown = [&](int64_t minor) { return money_text(minor, claim.currency, units); };
  // What the claimant claimed elsewhere per category and day over the longest window the lines need, and a
  // duplicate of each line: one statement each for the whole claim.
  std::set<std::string> windowed;
  std::string earliest, latest;
  for (const ClaimLine& line : claim.lines) {
    const Category* category = settings_.category(line.category);
    if (category == nullptr) continue;
    const Limits limits = category->limits_for(claimant.roles, claimant.grade);
    if (!limits.day && !limits.month && !limits.year) continue;
    windowed.insert(line.category);
    const std::string from = annex::biz::format_date(*annex::biz::parse_date(line.spent_on) - std::chrono::days{364});
    if (earliest.empty() || from < earliest) earliest = from;
    if (latest.empty() || line.spent_on > latest) latest = line.spent_on;
  }
  const ClaimRepository::ClaimedByDay claimed = claims_.claimed_by_day(claim.claimant_id, windowed, earliest, latest, txn);
  const std::map<int, std::pair<std::string, int>> duplicates = claims_.duplicates(claim.claimant_id, claim.lines, claim.id, txn);
  auto claimed_between = [&](const std::string& category, const std::string& from, const std::string& to) {
    int64_t sum = 0;
    auto days = claimed.find(category);
    if (days == claimed.end()) return sum;
    for (auto it = days->second.lower_bound(from); it != days->second.end() && it->first <= to; ++it) {
      sum = annex::biz::checked_add(sum, it->second, "lines");
    }
    return sum;
  };
  for (ClaimLine& line : claim.lines) {
    PolicyVerdict v;
    const Category* category = settings_.category(line.category);
    if (category == nullptr) {
      add(v, "category", Outcome::kBlock, "no category " + line.category);
      line.policy = v;
      continue;
    }
    const Limits limits = category->limits_for(claimant.roles, claimant.grade);
    const int64_t amount = line.sanctioned;
    if (limits.line && amount > *limits.line) {
      add(v, "limit.line", category->over_limit,
          "the line's " + shown(amount) + " passes the " + line.category + " limit per line of " + shown(*limits.line),
          {{"limit", *limits.line}, {"amount", amount}});
    }
    // Rolling windows, across the claimant's claims: what splitting a claim cannot dodge.
    const annex::biz::Date day = *annex::biz::parse_date(line.spent_on);
    struct Window {
      const char* rule;
      const char* name;
      std::optional<int64_t> limit;
      int days;
    };
    for (const Window& w : {Window{"limit.day", "day", limits.day, 1}, Window{"limit.month", "30 days", limits.month, 30},
                            Window{"limit.year", "365 days", limits.year, 365}}) {
      if (!w.limit) continue;
      std::string from = annex::biz::format_date(day - std::chrono::days{w.days - 1}), to = line.spent_on;
      int64_t elsewhere = claimed_between(line.category, from, to);
      int64_t here = 0;
      for (const ClaimLine& other : claim.lines) {
        if (other.category == line.category && other.spent_on >= from && other.spent_on <= to) {
          here = annex::biz::checked_add(here, other.sanctioned, "lines");
        }
      }
      int64_t total = annex::biz::checked_add(elsewhere, here, "lines");
      if (total > *w.limit) {
        add(v, w.rule, category->over_limit,
            "with this line " + shown(total) + " of " + line.category + " is claimed in the " + w.name + " to " + to +
                ", over the limit of " + shown(*w.limit),
            {{"limit", *w.limit}, {"claimed_elsewhere", elsewhere}, {"this_claim", here}, {"from", from}, {"to", to}});
      }
    }
    if (category->entertainment) {
      int64_t count = line.attendee_count.value_or(static_cast<int64_t>(line.attendees.size()));
      if (count < 1) {
        add(v, "attendees", Outcome::kBlock, "an entertainment line names its attendees");
      } else if (limits.per_attendee) {
        int64_t each = annex::biz::mul_div(amount, 1, count, annex::biz::Rounding::kHalfEven, "attendee_count");
        if (each > *limits.per_attendee) {
          add(v, "limit.per_attendee", category->over_limit,
              shown(each) + " per attendee passes the limit of " + shown(*limits.per_attendee),
              {{"limit", *limits.per_attendee}, {"per_attendee", each}, {"attendees", count}});
        }
      }
    }
    // By the company calendar: a public holiday, or a weekend day that is no make-up working day.
    if (!calendar_.is_working_day(day)) {
      if (std::optional<std::string> name = holiday(day)) {
        add(v, "holiday", category->holiday, "spent on a public holiday" + (name->empty() ? "" : " (" + *name + ")"),
            {{"date", line.spent_on}, {"holiday", *name}});
      } else {
        add(v, "weekend", category->weekend, "spent on a " + weekday_name(day) + ", not a working day",
            {{"date", line.spent_on}});
      }
    }
    if (category->receipt_above && amount > *category->receipt_above && !line.receipt_sha256) {
      add(v, "receipt", Outcome::kBlock, "a receipt is required above " + shown(*category->receipt_above),
          {{"receipt_above", *category->receipt_above}, {"amount", amount}});
    }
    if (auto dup = duplicates.find(line.line_no); dup != duplicates.end()) {
      const auto& [other_claim, other_line] = dup->second;
      add(v, "duplicate", Outcome::kWarn,
          "claim " + other_claim + " line " + std::to_string(other_line) + " has the same category, date, amount and currency",
          {{"other_claim", other_claim}, {"other_line", other_line}});
    }
    if (line.receipt_sha256) {
      json others = json::array();
      for (const auto& [other_claim, other_line] : claims_.receipt_uses(*line.receipt_sha256, txn)) {
        if (other_claim != claim.id) others.push_back({{"claim", other_claim}, {"line", other_line}});
      }
      for (const ClaimLine& other : claim.lines) {
        if (other.line_no != line.line_no && other.receipt_sha256 == line.receipt_sha256) {
          others.push_back({{"claim", claim.id}, {"line", other.line_no}});
        }
      }
      if (!others.empty()) {
        std::string first = others[0]["claim"].get<std::string>() + " line " + std::to_string(others[0]["line"].get<int>());
        add(v, "receipt.reused", Outcome::kWarn, "the same receipt is on claim " + first, {{"uses", others}});
      }
    }
    line.policy = v;
  }
}

std::optional<std::string> PolicyEngine::holiday(annex::biz::Date day) const {
  const int year = static_cast<int>(std::chrono::year_month_day{day}.year());
  std::lock_guard<std::mutex> lock(holidays_mutex_);
  auto known = holidays_.find(year);
  if (known == holidays_.end()) {
    std::map<std::string, std::string> dates;
    json calendar = json::parse(calendar_.year_json(year), nullptr, false);
    if (calendar.is_object() && calendar.contains("holidays") && calendar["holidays"].is_array()) {
      for (const json& h : calendar["holidays"]) {
        if (h.is_object() && h.contains("date") && h["date"].is_string()) dates[h["date"]] = h.value("name", "");
      }
    }
    known = holidays_.emplace(year, std::move(dates)).first;
  }
  auto it = known->second.find(annex::biz::format_date(day));
  if (it == known->second.end()) return std::nullopt;
  return it->second;
}

}  // namespace expenses
