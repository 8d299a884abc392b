// Quota plans and targets, and attainment with split credit.
#include "contracts.h"

#include "../common/query.h"

#include <map>
#include <set>

namespace contracts {
namespace {

namespace rest = annex::rest;
using rest::invalid;
using rest::unprocessable;

constexpr const char* kTargetColumns =
    "id, plan_id, period, assignee_type, assignee_id, product_group, sector_id, owner_id, amount, created_at, updated_at, version";

void write_target(const annex::Row& r, std::string& out) {
  rest::ObjectWriter w(out);
  w.column("id", r, 0).column("plan_id", r, 1).column("period", r, 2).column("assignee_type", r, 3)
      .column("assignee_id", r, 4);
  if (r.text(5).empty()) w.raw("product_group", "null");
  else w.column("product_group", r, 5);
  w.column("sector_id", r, 6).column("owner_id", r, 7).integer("amount", r.integer(8)).column("created_at", r, 9)
      .column("updated_at", r, 10).integer("version", r.integer(11));
}

json read_target(const annex::Row& r) {
  std::string text;
  write_target(r, text);
  return json::parse(text);
}

json pct(int64_t part, int64_t whole) { return rest::percent_text(part, whole, 1); }

}  // namespace

// ---- periods ---------------------------------------------------------------------------------------------

// Fiscal year Y is the twelve months from the fiscal start month of calendar year Y; its quarters are "Y-Q1" to
// "Y-Q4". Months are calendar months, "YYYY-MM".
std::pair<std::string, std::string> Contracts::period_range(const std::string& type, const std::string& period) const {
  using namespace std::chrono;
  auto bad = [&] {
    invalid("period", type == "year" ? "period is a fiscal year, YYYY" : type == "quarter" ? "period is YYYY-Qn" : "period is a month, YYYY-MM");
  };
  year_month first;
  int months = 1;
  if (type == "year") {
    if (period.size() != 4 || !rest::parse_date(period + "-01-01")) bad();
    first = year{std::stoi(period)} / month{static_cast<unsigned>(fiscal_start_)};
    months = 12;
  } else if (type == "quarter") {
    if (period.size() != 7 || !rest::parse_date(period.substr(0, 4) + "-01-01") || period.substr(4, 2) != "-Q" || period[6] < '1' ||
        period[6] > '4') {
      bad();
    }
    first = year{std::stoi(period.substr(0, 4))} / month{static_cast<unsigned>(fiscal_start_)} + std::chrono::months{3 * (period[6] - '1')};
    months = 3;
  } else {
    auto d = rest::parse_date(period + "-01");
    if (period.size() != 7 || !d) bad();
    first = d->year() / d->month();
  }
  year_month last = first + std::chrono::months{months - 1};
  return {rest::format_date(first / day{1}), rest::format_date(year_month_day{last / std::chrono::last})};
}

json Contracts::plan(const std::string& id) const {
  annex::Rows rows = s_.db.query("SELECT id, name, period_type, measure, currency, created_at, created_by FROM quotas_plans WHERE id = ?", {id});
  if (!rows.next()) unprocessable("plan_id", "no quota plan " + id);
  const annex::Row r = rows.row();
  return {{"id", r.text(0)}, {"name", r.text(1)}, {"period_type", r.text(2)}, {"measure", r.text(3)}, {"currency", r.text(4)},
          {"created_at", r.text(5)}, {"created_by", r.text(6)}};
}

void Contracts::create_plan(const annex::Request& req, annex::Response& resp) {
  json body = rest::parse_body(req);
  std::string name = rest::req_string(body, "name", 200);
  std::string type = rest::one_of(rest::req_string(body, "period_type", 16), "period_type", {"month", "quarter", "year"});
  std::string measure = rest::one_of(rest::req_string(body, "measure", 16), "measure", {"signed", "collected"});
  std::string currency = rest::req_string(body, "currency", 3);
  if (!rest::currency_code(currency)) invalid("currency", "currency must be an ISO 4217 code such as CNY");
  rest::known_currency(s_.masterdata, currency, "currency");
  std::string id = rest::new_id("qp"), now = rest::utc_now();
  annex::Transaction txn = s_.db.begin();
  s_.db.query(txn, "INSERT INTO quotas_plans (id, name, period_type, measure, currency, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
              {id, name, type, measure, currency, now, std::string(req.principal_id())});
  json p = {{"id", id}, {"name", name}, {"period_type", type}, {"measure", measure}, {"currency", currency}, {"created_at", now},
            {"created_by", std::string(req.principal_id())}, {"fiscal_year_start", fiscal_start_}};
  s_.audit.append(&txn, req.principal_id(), "quotas.plan.create", "quotas.plan", id, "", p.dump());
  txn.commit();
  resp.status(201).header("Location", "/api/v1/quotas/plans/" + id).body(p.dump());
}

void Contracts::list_plans(const annex::Request&, annex::Response& resp) {
  annex::Rows rows = s_.db.query("SELECT id FROM quotas_plans ORDER BY id");
  std::vector<std::string> ids;
  while (rows.next()) ids.push_back(rows.row().text(0));
  json items = json::array();
  for (const auto& id : ids) {
    json p = plan(id);
    p["fiscal_year_start"] = fiscal_start_;
    items.push_back(p);
  }
  resp.body(json({{"items", items}}).dump());
}

// ---- targets ---------------------------------------------------------------------------------------------

json Contracts::target_or_404(const annex::Request& req, std::string_view permission, const std::string& id) const {
  annex::Rows rows = s_.db.query(std::string("SELECT ") + kTargetColumns + " FROM quotas_targets WHERE id = ?", {id});
  if (!rows.next()) throw annex::Error(ANNEX_ERR_NOT_FOUND, "no such quota");
  json t = read_target(rows.row());
  if (!s_.authz.may(req.principal_id(), permission, rest::object_ref(kTarget, t))) throw annex::Error(ANNEX_ERR_NOT_FOUND, "no such quota");
  return t;
}

// A target for a rep (in one of their sectors) or a sector. Nobody sets their own quota.
json Contracts::insert_target(const annex::Request& req, const json& p, const std::string& period, const json& body, int64_t amount,
                              annex::Transaction& txn) {
  std::string caller(req.principal_id());
  period_range(p["period_type"], period);
  std::string type = rest::one_of(rest::req_string(body, "assignee_type", 16), "assignee_type", {"rep", "sector"});
  std::string assignee = rest::req_string(body, "assignee_id", 64);
  std::string group = rest::opt_string(body, "product_group", 64).value_or("");
  std::string sector, owner;
  if (type == "rep") {
    if (assignee == caller) throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "nobody sets their own quota", "assignee_id");
    std::optional<std::string> user = s_.directory.user(assignee);
    if (!user) unprocessable("assignee_id", "no user " + assignee);
    json u = json::parse(*user);
    sector = rest::opt_string(body, "sector_id", 64).value_or(u["sectors"].empty() ? "" : u["sectors"][0].get<std::string>());
    if (std::find(u["sectors"].begin(), u["sectors"].end(), sector) == u["sectors"].end()) {
      unprocessable("sector_id", "user " + assignee + " does not belong to sector " + sector);
    }
    owner = assignee;
  } else {
    sector = assignee;
  }
  if (!s_.authz.may(caller, "quotas.target.manage", {kTarget, "", sector, owner})) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "setting quotas in sector " + sector + " is outside your reach", "assignee_id");
  }
  if (s_.db.query(txn, "SELECT 1 FROM quotas_targets WHERE plan_id = ? AND period = ? AND assignee_type = ? AND assignee_id = ? AND product_group = ?",
                  {p["id"].get<std::string>(), period, type, assignee, group})
          .next()) {
    throw annex::Error(ANNEX_ERR_CONFLICT, "a quota for " + assignee + " in " + period + " exists; change it instead", "period");
  }
  std::string id = rest::new_id("qt"), now = rest::utc_now();
  s_.db.query(txn,
              "INSERT INTO quotas_targets (id, plan_id, period, assignee_type, assignee_id, product_group, sector_id, owner_id, amount, created_at,"
              " updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
              {id, p["id"].get<std::string>(), period, type, assignee, group, sector, owner, amount, now, now});
  annex::Rows rows = s_.db.query(txn, std::string("SELECT ") + kTargetColumns + " FROM quotas_targets WHERE id = ?", {id});
  rows.next();
  json t = read_target(rows.row());
  s_.audit.append(&txn, caller, "quotas.target.create", kTarget, id, "", t.dump());
  return t;
}

void Contracts::set_target(const annex::Request& req, annex::Response& resp) {
  json body = rest::parse_body(req);
  json p = plan(rest::req_string(body, "plan_id", 64));
  std::string period = rest::req_string(body, "period", 16);
  std::optional<rest::Money> amount = rest::opt_money(body, "amount");
  if (!amount) invalid("amount", "amount is required: {\"amount\": minor units, \"currency\": \"" + p["currency"].get<std::string>() + "\"}");
  if (amount->currency != p["currency"]) unprocessable("amount", "the plan is in " + p["currency"].get<std::string>());
  annex::Transaction txn = s_.db.begin();
  json t = insert_target(req, p, period, body, amount->amount, txn);
  txn.commit();
  t["currency"] = p["currency"];
  resp.status(201).header("Location", "/api/v1/quotas/targets/" + t["id"].get<std::string>()).header("ETag", rest::etag(1)).body(t.dump());
}

// An annual quota spread over the twelve months of a fiscal year by whole percentages summing to 100, adding up
// to the year exactly.
void Contracts::spread(const annex::Request& req, annex::Response& resp) {
  json body = rest::parse_body(req);
  json p = plan(rest::req_string(body, "plan_id", 64));
  if (p["period_type"] != "month") unprocessable("plan_id", "spreading over months needs a monthly plan");
  std::optional<int64_t> year = rest::opt_integer(body, "year", 2000, 2999);
  if (!year) invalid("year", "year is required: the fiscal year, YYYY");
  std::optional<rest::Money> annual = rest::opt_money(body, "amount");
  if (!annual) invalid("amount", "amount is required: the annual quota");
  if (annual->currency != p["currency"]) unprocessable("amount", "the plan is in " + p["currency"].get<std::string>());
  if (!body.contains("percentages") || !body["percentages"].is_array() || body["percentages"].size() != 12) {
    invalid("percentages", "percentages is a list of twelve whole numbers, one per month of the fiscal year");
  }
  int64_t sum = 0;
  std::vector<int64_t> shares;
  for (size_t i = 0; i < 12; ++i) {
    const json& v = body["percentages"][i];
    if (!v.is_number_integer() || v.get<int64_t>() < 0) invalid("percentages[" + std::to_string(i) + "]", "a whole percentage, 0 or more");
    shares.push_back(v.get<int64_t>());
    sum += shares.back();
  }
  if (sum != 100) unprocessable("percentages", "the percentages sum to " + std::to_string(sum) + ", not 100");
  using namespace std::chrono;
  year_month first = std::chrono::year{static_cast<int>(*year)} / month{static_cast<unsigned>(fiscal_start_)};
  annex::Transaction txn = s_.db.begin();
  json items = json::array();
  int64_t given = 0, cumulative = 0;
  for (int i = 0; i < 12; ++i) {
    year_month ym = first + std::chrono::months{i};
    std::string period = rest::format_date(ym / day{1}).substr(0, 7);
    // Rounded on the running total, so that each month is the year's share up to it less what went before:
    // never negative, and the twelve add up to the year exactly.
    cumulative += shares[static_cast<size_t>(i)];
    int64_t amount = rest::percent_of(annual->amount, cumulative) - given;
    given += amount;
    items.push_back(insert_target(req, p, period, body, amount, txn));
  }
  txn.commit();
  resp.status(201).body(json({{"items", items}, {"total", rest::money_json(given, p["currency"])}}).dump());
}

void Contracts::get_target(const annex::Request& req, annex::Response& resp) {
  json t = target_or_404(req, "quotas.target.read", std::string(req.path_param("id")));
  json p = plan(t["plan_id"]);
  t["currency"] = p["currency"];
  if (t["assignee_type"] == "sector") {
    // The sector's own figure, and the roll-up of its reps' quotas for the same plan, period and product group.
    // Summed in parts that cannot overflow (rest::split_sum_sql): a sector may have thousands of reps.
    annex::Rows rows = s_.db.query("SELECT COUNT(*), " + rest::split_sum_sql("amount") + " FROM quotas_targets WHERE plan_id = ? AND period = ?"
                                   " AND assignee_type = 'rep' AND sector_id = ? AND product_group = ?",
                                   {t["plan_id"].get<std::string>(), t["period"].get<std::string>(), t["sector_id"].get<std::string>(),
                                    t["product_group"].is_null() ? std::string() : t["product_group"].get<std::string>()});
    rows.next();
    int64_t total = rest::narrow(rest::wide_sum(rows.row().integer(1), rows.row().integer(2)), "id", "the reps' quotas together");
    t["reps"] = {{"count", rows.row().integer(0)}, {"total", rest::money_json(total, p["currency"])}};
  }
  resp.header("ETag", rest::etag(t["version"].get<int64_t>())).body(t.dump());
}

void Contracts::update_target(const annex::Request& req, annex::Response& resp) {
  json t = target_or_404(req, "quotas.target.read", std::string(req.path_param("id")));
  std::string caller(req.principal_id());
  if (t["assignee_type"] == "rep" && t["assignee_id"] == caller) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "nobody changes their own quota", "assignee_id");
  }
  if (!s_.authz.may(caller, "quotas.target.manage", rest::object_ref(kTarget, t))) throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "you may read this quota but not change it");
  rest::check_if_match(req, t["version"].get<int64_t>());
  json body = rest::parse_body(req);
  json p = plan(t["plan_id"]);
  std::optional<rest::Money> amount = rest::opt_money(body, "amount");
  if (!amount) invalid("amount", "amount is required");
  if (amount->currency != p["currency"]) unprocessable("amount", "the plan is in " + p["currency"].get<std::string>());
  annex::Transaction txn = s_.db.begin();
  annex::Rows done = s_.db.query(txn, "UPDATE quotas_targets SET amount = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?",
                                 {amount->amount, rest::utc_now(), t["id"].get<std::string>(), t["version"].get<int64_t>()});
  if (done.affected() == 0) throw annex::Error(ANNEX_ERR_PRECONDITION_FAILED, "the quota changed meanwhile; read it again", "If-Match");
  annex::Rows rows = s_.db.query(txn, std::string("SELECT ") + kTargetColumns + " FROM quotas_targets WHERE id = ?", {t["id"].get<std::string>()});
  rows.next();
  json after = read_target(rows.row());
  s_.audit.append(&txn, caller, "quotas.target.update", kTarget, t["id"].get<std::string>(), t.dump(), after.dump());
  txn.commit();
  after["currency"] = p["currency"];
  resp.header("ETag", rest::etag(after["version"].get<int64_t>())).body(after.dump());
}

void Contracts::list_targets(const annex::Request& req, annex::Response& resp) {
  rest::Where where;
  where.add(s_.authz.list_filter(req.principal_id(), "quotas.target.read", kTarget));
  where.equal_if(req, "plan_id", "plan_id").equal_if(req, "period", "period").equal_if(req, "assignee_type", "assignee_type")
      .equal_if(req, "assignee_id", "assignee_id").equal_if(req, "sector_id", "sector_id");
  resp.body(rest::page(s_.db, req, std::string("SELECT ") + kTargetColumns + " FROM quotas_targets", std::move(where),
                       {{"id", 0}, {"period", 2}, {"amount", 8, true}}, "period", &write_target));
}

// ---- attainment ------------------------------------------------------------------------------------------

// For each quota of the plan and period within reach (reps or sectors): the quota, what was achieved — signed
// contract value (by signing date) or collections (by date received), in the plan's currency, a rep credited
// with their split share — the percentage, the gap, and the weighted pipeline still open in the period.
void Contracts::attainment(const annex::Request& req, annex::Response& resp) {
  std::optional<std::string> plan_id = req.query_param("plan_id"), period = req.query_param("period");
  if (!plan_id) invalid("plan_id", "plan_id is required");
  if (!period) invalid("period", "period is required");
  json p = plan(*plan_id);
  auto [from, to] = period_range(p["period_type"], *period);
  std::string group_by = req.query_param("group_by").value_or("rep");
  rest::one_of(group_by, "group_by", {"rep", "sector"});
  std::string currency = p["currency"], measure = p["measure"];

  rest::Where where;
  where.add(s_.authz.list_filter(req.principal_id(), "quotas.target.read", kTarget));
  where.add("plan_id = ?", {*plan_id}).add("period = ?", {*period}).add("assignee_type = ?", {group_by});
  std::vector<annex::Value> values = where.values();
  annex::Rows rows = s_.db.query(nullptr, std::string("SELECT ") + kTargetColumns + " FROM quotas_targets" + where.sql() + " ORDER BY assignee_id, product_group", values);
  std::vector<json> targets;
  while (rows.next()) targets.push_back(read_target(rows.row()));

  // The product group of each product, looked up once.
  std::map<std::string, std::string> groups;
  auto group_of = [&](const std::string& product) -> const std::string& {
    auto it = groups.find(product);
    if (it != groups.end()) return it->second;
    std::optional<std::string> text = s_.masterdata.get("products", product);
    std::string g = text ? json::parse(*text).value("product_group", std::string{}) : std::string{};
    return groups.emplace(product, g).first->second;
  };
  // A contract's value within a product group ("" for all of it).
  auto value_in_group = [&](const std::string& contract, int64_t total, const std::string& group) -> int64_t {
    if (group.empty()) return total;
    int64_t sum = 0;
    annex::Rows lines = s_.db.query("SELECT product_id, amount FROM contracts_lines WHERE contract_id = ?", {contract});
    std::vector<std::pair<std::string, int64_t>> found;
    while (lines.next()) found.emplace_back(lines.row().text(0), lines.row().integer(1));
    for (const auto& [product, amount] : found) {
      if (group_of(product) == group) sum += amount;
    }
    return sum;
  };
  auto share_of = [&](const std::string& contract, const std::string& owner, const std::string& user) -> int64_t {
    annex::Rows sp = s_.db.query("SELECT user_id, percent FROM contracts_splits WHERE contract_id = ?", {contract});
    bool any = false;
    int64_t mine = 0;
    while (sp.next()) {
      any = true;
      if (sp.row().text(0) == user) mine = sp.row().integer(1);
    }
    return any ? mine : (owner == user ? 100 : 0);
  };

  json items = json::array();
  for (const auto& t : targets) {
    std::string assignee = t["assignee_id"], group = t["product_group"].is_null() ? "" : t["product_group"].get<std::string>();
    bool rep = t["assignee_type"] == "rep";
    // Contracts that may credit the assignee: theirs, split with them, or (for a sector) in the sector.
    std::string who = rep ? "(c.owner_id = ? OR c.id IN (SELECT contract_id FROM contracts_splits WHERE user_id = ?))" : "(c.sector_id = ? AND c.sector_id = ?)";  // two parameters, as for a rep
    std::vector<std::tuple<std::string, std::string, int64_t, int64_t>> credits;  // contract, owner, total, amount counted
    if (measure == "signed") {
      annex::Rows cs = s_.db.query("SELECT c.id, c.owner_id, c.total FROM contracts_contracts c WHERE " + who +
                                       " AND c.currency = ? AND c.status IN ('signed', 'completed', 'expired') AND c.signed_on >= ? AND c.signed_on <= ?",
                                   {assignee, assignee, currency, from, to});
      while (cs.next()) credits.emplace_back(cs.row().text(0), cs.row().text(1), cs.row().integer(2), cs.row().integer(2));
    } else {
      annex::Rows cs = s_.db.query("SELECT c.id, c.owner_id, c.total, CAST(SUM(k.amount) AS BIGINT) FROM contracts_collections k JOIN contracts_contracts c ON c.id = k.contract_id"
                                   " WHERE " + who + " AND c.currency = ? AND k.received_on >= ? AND k.received_on <= ? GROUP BY c.id, c.owner_id, c.total",
                                   {assignee, assignee, currency, from, to});
      while (cs.next()) credits.emplace_back(cs.row().text(0), cs.row().text(1), cs.row().integer(2), cs.row().integer(3));
    }
    rest::wide_int achieved = 0;  // contract totals reach 2^63 each
    for (const auto& [contract, owner, total, counted] : credits) {
      int64_t value = counted;
      if (!group.empty()) {
        // The group's part of what was counted: in proportion to its lines' share of the contract.
        int64_t in_group = value_in_group(contract, total, group);
        value = total == 0 ? 0 : rest::mul_div(counted, in_group, total);
        if (measure == "signed") value = in_group;
      }
      achieved += rep ? rest::percent_of(value, share_of(contract, owner, assignee)) : value;
    }
    // The weighted pipeline still open in the period, from the pipeline plugin's service.
    json open = opportunities_.open_weighted({{rep ? "owner_id" : "sector_id", assignee}, {"currency", currency}, {"from", from}, {"to", to}});
    int64_t weighted = open["weighted"].get<int64_t>();
    const std::string whose = " of " + assignee + " in " + *period;
    int64_t quota = t["amount"];
    int64_t achieved_amount = rest::narrow(achieved, "period", "what was achieved" + whose);
    int64_t gap = rest::narrow(quota - achieved, "period", "the gap" + whose);
    items.push_back({{"assignee_type", t["assignee_type"]}, {"assignee_id", assignee}, {"sector_id", t["sector_id"]},
                     {"product_group", t["product_group"]}, {"quota", rest::money_json(quota, currency)},
                     {"achieved", rest::money_json(achieved_amount, currency)}, {"percent", pct(achieved_amount, quota)},
                     {"gap", rest::money_json(gap, currency)}, {"open_pipeline_weighted", rest::money_json(weighted, currency)}});
  }
  resp.body(json({{"plan", p}, {"period", *period}, {"from", from}, {"to", to}, {"group_by", group_by}, {"items", items}}).dump());
}

}  // namespace contracts
