#include "contract_service.h"

#include <map>
#include <vector>

namespace contracts {
namespace {

namespace rest = annex::rest;

constexpr const char* kSigned = "status IN ('signed', 'completed')";

json contract_from(const annex::Row& r) {
  // id, number, party_id, sector_id, owner_id, status, currency, total, collected, signed_on
  return {{"id", r.text(0)},       {"number", r.text(1)},       {"party_id", r.text(2)}, {"sector_id", r.text(3)},
          {"owner_id", r.text(4)}, {"status", r.text(5)},       {"currency", r.text(6)}, {"total", r.integer(7)},
          {"collected", r.integer(8)}, {"signed_on", r.is_null(9) ? json(nullptr) : json(r.text(9))},
          {"lines", json::array()}, {"splits", json::array()}};
}

constexpr const char* kContractColumns = "id, number, party_id, sector_id, owner_id, status, currency, total, collected, signed_on";

// Fills in the lines and splits of `contracts` (by id), two statements for the whole page.
void add_details(const annex::Db& db, std::vector<json>& contracts) {
  if (contracts.empty()) return;
  std::map<std::string, json*> by_id;
  std::string marks;
  std::vector<std::string> ids;
  for (json& c : contracts) {
    by_id[c["id"].get<std::string>()] = &c;
    ids.push_back(c["id"]);
    marks += marks.empty() ? "?" : ", ?";
  }
  std::vector<annex::Value> params(ids.begin(), ids.end());
  annex::Rows lines = db.query(nullptr, "SELECT contract_id, line_no, product_id, quantity, unit_price, amount FROM contracts_lines"
                               " WHERE contract_id IN (" + marks + ") ORDER BY contract_id, line_no",
                               params);
  while (lines.next()) {
    const annex::Row r = lines.row();
    (*by_id[r.text(0)])["lines"].push_back({{"line_no", r.integer(1)}, {"product_id", r.text(2)}, {"quantity", r.integer(3)},
                                             {"unit_price", r.integer(4)}, {"amount", r.integer(5)}});
  }
  annex::Rows splits = db.query(nullptr, "SELECT contract_id, user_id, percent FROM contracts_splits WHERE contract_id IN (" + marks +
                                    ") ORDER BY contract_id, user_id",
                                params);
  while (splits.next()) {
    const annex::Row r = splits.row();
    (*by_id[r.text(0)])["splits"].push_back({{"user_id", r.text(1)}, {"percent", r.integer(2)}});
  }
  for (json& c : contracts) {
    if (c["splits"].empty()) c["splits"].push_back({{"user_id", c["owner_id"]}, {"percent", 100}});
  }
}

int page_limit(const json& query) {
  if (!query.contains("limit")) return 500;
  if (!query["limit"].is_number_integer() || query["limit"].get<int64_t>() < 1 || query["limit"].get<int64_t>() > 1000) {
    rest::unprocessable("limit", "limit is a whole number from 1 to 1000");
  }
  return static_cast<int>(query["limit"].get<int64_t>());
}

std::string optional_text(const json& query, const char* field) {
  if (!query.contains(field) || query[field].is_null()) return "";
  if (!query[field].is_string() || query[field].get<std::string>().empty()) rest::unprocessable(field, std::string(field) + " is a non-empty string");
  return query[field].get<std::string>();
}

// Items in id order, at most `limit`; "next" is the last id when more may follow.
json page(std::vector<json> items, int limit) {
  json next = nullptr;
  if (static_cast<int>(items.size()) > limit) {
    items.resize(static_cast<size_t>(limit));
    next = items.back()["id"];
  }
  return {{"items", std::move(items)}, {"next", next}};
}

}  // namespace

json ContractQueries::contract(const std::string& id, const std::string& user_id) const {
  annex::Value params[] = {std::string_view(id)};
  annex::Rows rows = s_.db.query(nullptr, std::string("SELECT ") + kContractColumns + " FROM contracts_contracts WHERE id = ?", params);
  if (!rows.next()) throw annex::Error(ANNEX_ERR_NOT_FOUND, "no contract " + id, "contract_id");
  std::vector<json> one{contract_from(rows.row())};
  const json& c = one[0];
  if (!user_id.empty() &&
      !s_.authz.may(user_id, "contracts.contract.read", rest::object_ref(kContract, c))) {
    throw annex::Error(ANNEX_ERR_NOT_FOUND, "no contract " + id, "contract_id");
  }
  add_details(s_.db, one);
  return one[0];
}

json ContractQueries::signed_contracts(const json& query) const {
  const std::string from = rest::date_field(query, "signed_from", true), to = rest::date_field(query, "signed_to", true);
  const std::string party = optional_text(query, "party_id"), credited = optional_text(query, "credited_to");
  const std::string after = optional_text(query, "after");
  const int limit = page_limit(query);
  std::string sql = std::string("SELECT ") + kContractColumns + " FROM contracts_contracts WHERE " + kSigned +
                    " AND signed_on >= ? AND signed_on <= ? AND id > ?";
  std::vector<annex::Value> params = {from, to, after};
  if (!party.empty()) {
    sql += " AND party_id = ?";
    params.emplace_back(party);
  }
  if (!credited.empty()) {
    // The owner when the credit is not split, else whoever holds a share of it.
    sql += " AND ((owner_id = ? AND NOT EXISTS (SELECT 1 FROM contracts_splits s WHERE s.contract_id = contracts_contracts.id))"
           " OR EXISTS (SELECT 1 FROM contracts_splits s WHERE s.contract_id = contracts_contracts.id AND s.user_id = ?))";
    params.emplace_back(credited);
    params.emplace_back(credited);
  }
  sql += " ORDER BY id LIMIT " + std::to_string(limit + 1);
  annex::Rows rows = s_.db.query(nullptr, sql, params);
  std::vector<json> items;
  while (rows.next()) items.push_back(contract_from(rows.row()));
  json out = page(std::move(items), limit);
  std::vector<json> listed = out["items"].get<std::vector<json>>();
  add_details(s_.db, listed);
  out["items"] = listed;
  return out;
}

json ContractQueries::collections(const json& query) const {
  const std::string contract = optional_text(query, "contract_id"), after = optional_text(query, "after");
  const bool dated = query.contains("received_from") || query.contains("received_to");
  const bool reversed = query.contains("reversed_from") || query.contains("reversed_to");
  if (contract.empty() && !dated && !reversed) {
    rest::unprocessable("contract_id", "give contract_id, or received_from and received_to, or reversed_from and reversed_to");
  }
  const int limit = page_limit(query);
  std::string sql = "SELECT id, contract_id, received_on, amount, currency, reference, source, reversed_on FROM contracts_collections"
                    " WHERE id > ?";
  std::vector<annex::Value> params = {after};
  if (!contract.empty()) {
    sql += " AND contract_id = ?";
    params.emplace_back(contract);
  }
  std::string from, to;  // the parameters view them until the query ran
  if (dated) {
    from = rest::date_field(query, "received_from", true);
    to = rest::date_field(query, "received_to", true);
    sql += " AND received_on >= ? AND received_on <= ?";
    params.emplace_back(from);
    params.emplace_back(to);
  }
  std::string reversed_from, reversed_to;
  if (reversed) {
    reversed_from = rest::date_field(query, "reversed_from", true);
    reversed_to = rest::date_field(query, "reversed_to", true);
    sql += " AND reversed_on >= ? AND reversed_on <= ?";
    params.emplace_back(reversed_from);
    params.emplace_back(reversed_to);
  }
  sql += " ORDER BY id LIMIT " + std::to_string(limit + 1);
  annex::Rows rows = s_.db.query(nullptr, sql, params);
  std::vector<json> items;
  while (rows.next()) {
    const annex::Row r = rows.row();
    items.push_back({{"id", r.text(0)}, {"contract_id", r.text(1)}, {"received_on", r.text(2)}, {"amount", r.integer(3)},
                     {"currency", r.text(4)}, {"reference", r.text(5)}, {"source", r.text(6)},
                     {"reversed_on", r.is_null(7) ? json(nullptr) : json(r.text(7))}});
  }
  return page(std::move(items), limit);
}

json ContractQueries::states(const json& query) const {
  if (!query.contains("contract_ids") || !query["contract_ids"].is_array() || query["contract_ids"].empty() ||
      query["contract_ids"].size() > kMaxStates) {
    rest::unprocessable("contract_ids", "contract_ids is a list of 1 to " + std::to_string(kMaxStates) + " contract ids");
  }
  std::vector<annex::Value> params;
  std::vector<std::string> ids;
  std::string marks;
  for (const json& id : query["contract_ids"]) {
    if (!id.is_string() || id.get<std::string>().empty()) rest::unprocessable("contract_ids", "every contract id is a non-empty string");
    ids.push_back(id.get<std::string>());
    marks += marks.empty() ? "?" : ", ?";
  }
  params.assign(ids.begin(), ids.end());
  annex::Rows rows = s_.db.query(nullptr, std::string("SELECT ") + kContractColumns + " FROM contracts_contracts WHERE id IN (" + marks +
                                              ") ORDER BY id",
                                 params);
  json items = json::array();
  while (rows.next()) {
    json c = contract_from(rows.row());
    c.erase("lines");
    c.erase("splits");
    items.push_back(std::move(c));
  }
  return {{"items", std::move(items)}};
}

json ContractQueries::first_signed(const std::string& party_id) const {
  annex::Value params[] = {std::string_view(party_id)};
  annex::Rows rows = s_.db.query(nullptr, std::string("SELECT id, number, signed_on FROM contracts_contracts WHERE party_id = ? AND ") + kSigned +
                                     " AND signed_on IS NOT NULL ORDER BY signed_on, id LIMIT 1",
                                 params);
  if (!rows.next()) throw annex::Error(ANNEX_ERR_NOT_FOUND, "no contract signed with party " + party_id, "party_id");
  return {{"contract_id", rows.row().text(0)}, {"number", rows.row().text(1)}, {"signed_on", rows.row().text(2)}};
}

namespace {

const ContractQueries& self(void* provider) { return *static_cast<const ContractQueries*>(provider); }

json query_of(annex_str text) {
  json query = json::parse(annex::to_view(text), nullptr, false);
  if (!query.is_object()) rest::invalid("query", "the query must be a JSON object");
  return query;
}

annex_status get(void* provider, annex_str id, annex_str user_id, annex_buffer* out_json, annex_buffer* err) {
  return annex::detail::guarded(err, [&] {
    annex::write(out_json, self(provider).contract(std::string(annex::to_view(id)), std::string(annex::to_view(user_id))).dump());
  });
}

annex_status signed_contracts(void* provider, annex_str query_json, annex_buffer* out_json, annex_buffer* err) {
  return annex::detail::guarded(err, [&] { annex::write(out_json, self(provider).signed_contracts(query_of(query_json)).dump()); });
}

annex_status collections(void* provider, annex_str query_json, annex_buffer* out_json, annex_buffer* err) {
  return annex::detail::guarded(err, [&] { annex::write(out_json, self(provider).collections(query_of(query_json)).dump()); });
}

annex_status states(void* provider, annex_str query_json, annex_buffer* out_json, annex_buffer* err) {
  return annex::detail::guarded(err, [&] { annex::write(out_json, self(provider).states(query_of(query_json)).dump()); });
}

annex_status first_signed(void* provider, annex_str party_id, annex_buffer* out_json, annex_buffer* err) {
  return annex::detail::guarded(err, [&] { annex::write(out_json, self(provider).first_signed(std::string(annex::to_view(party_id))).dump()); });
}

}  // namespace

annex_contracts_v1 contract_service(const ContractQueries& queries) {
  annex_contracts_v1 table{};
  table.struct_size = sizeof table;
  table.minor = 1;
  table.provider_plugin_ptr = const_cast<ContractQueries*>(&queries);
  table.get = &get;
  table.signed_contracts = &signed_contracts;
  table.collections = &collections;
  table.first_signed = &first_signed;
  table.states = &states;
  return table;
}

}  // namespace contracts
