// Collections (回款): recorded by finance over HTTP, or arriving from the ERP through the sync engine's document
// stream of collections. Both ways go through record() and reverse(), where the rules live.
#include "contracts.h"

#include <annex/business.hpp>

namespace contracts {
namespace {

namespace rest = annex::rest;
using rest::invalid;
using rest::unprocessable;

constexpr const char* kCollection = "contracts.collection";
constexpr const char* kCollectionColumns =
    "id, contract_id, received_on, amount, currency, reference, source, created_by, created_at, reversed_on, reversal_reference,"
    " reversal_reason, reversed_by, reversed_at";

json read_collection(const annex::Row& r) {
  json c = {{"id", r.text(0)}, {"contract_id", r.text(1)}, {"received_on", r.text(2)}, {"amount", rest::money_json(r.integer(3), r.text(4))},
            {"reference", r.text(5)}, {"source", r.text(6)}, {"created_by", r.text(7)}, {"created_at", r.text(8)}, {"reversal", nullptr}};
  if (!r.is_null(13)) {
    c["reversal"] = {{"reversed_on", r.text(9)}, {"reference", r.text(10)}, {"reason", r.is_null(11) ? json(nullptr) : json(r.text(11))},
                     {"reversed_by", r.text(12)}, {"reversed_at", r.text(13)}};
  }
  return c;
}

std::optional<json> load_collection(const annex::Db& db, const std::string& where, std::initializer_list<annex::Value> params,
                                    annex::Transaction* txn = nullptr) {
  annex::Rows rows = db.query(txn, std::string("SELECT ") + kCollectionColumns + " FROM contracts_collections WHERE " + where,
                              std::span<const annex::Value>(params.begin(), params.size()));
  if (!rows.next()) return std::nullopt;
  return read_collection(rows.row());
}

// What an event about a collection tells: the collection, its contract's people and figures after the change.
json collection_event(const json& collection, const json& contract) {
  return {{"collection", collection}, {"contract_id", contract["id"]}, {"contract_number", contract["number"]},
          {"party_id", contract["party_id"]}, {"owner_id", contract["owner_id"]}, {"sector_id", contract["sector_id"]},
          {"collected", contract["collected"]}, {"total", contract["total"]}, {"collection_rate", contract["collection_rate"]}};
}

// A text field of an ERP document, or "" when absent or null.
std::string text_field(const json& doc, const char* field, size_t max_len) {
  auto it = doc.find(field);
  if (it == doc.end() || it->is_null()) return "";
  if (!it->is_string() && !it->is_number_integer()) unprocessable(field, std::string(field) + " must be text");
  std::string v = it->is_string() ? it->get<std::string>() : it->dump();
  while (!v.empty() && v.back() == ' ') v.pop_back();  // CHAR(n) columns come padded
  if (v.size() > max_len) unprocessable(field, std::string(field) + " is longer than " + std::to_string(max_len) + " characters");
  return v;
}

}  // namespace

// ---- the rules ---------------------------------------------------------------------------------------------

json Contracts::record(const json& contract, const NewCollection& in) {
  const std::string id = contract["id"], currency = contract["currency"];
  if (in.amount <= 0) unprocessable("amount", "a collection is a positive amount");
  if (in.amount > rest::kMaxAmount) unprocessable("amount", "amount is beyond 10^15 minor units");
  if (in.currency != currency) unprocessable("amount", "the contract is in " + currency + ", not " + in.currency);
  if (in.received_on > today()) unprocessable("received_on", "a collection is money already received; the date is in the future");
  std::string status = contract["status"];
  if (status != "signed" && status != "completed") {
    unprocessable("status", "collections are recorded against a signed contract; contract " + contract["number"].get<std::string>() + " is " + status);
  }
  if (s_.db.query("SELECT 1 FROM contracts_collections WHERE contract_id = ? AND source = ? AND reference = ?", {id, in.source, in.reference}).next()) {
    throw annex::Error(ANNEX_ERR_CONFLICT, "a collection with reference " + in.reference + " is already recorded", "reference");
  }
  std::string cid = rest::new_id("co"), now = rest::utc_now();
  annex::Transaction txn = s_.db.begin();
  // The check and the addition in one statement: two collections at once cannot together pass the total.
  annex::Rows added = s_.db.query(txn,
                                  "UPDATE contracts_contracts SET collected = collected + ?, updated_at = ?, version = version + 1"
                                  " WHERE id = ? AND collected + ? <= total AND status IN ('signed', 'completed')",
                                  {in.amount, now, id, in.amount});
  if (added.affected() == 0) {
    std::optional<json> now_is = find(id, &txn);
    if (now_is && (*now_is)["status"] != "signed" && (*now_is)["status"] != "completed") {
      unprocessable("status", "the contract is now " + (*now_is)["status"].get<std::string>());
    }
    int64_t total = contract["total"]["amount"], collected = now_is ? (*now_is)["collected"]["amount"].get<int64_t>() : 0;
    unprocessable("amount", "the collections would exceed the contract total of " + std::to_string(total) + " (" + std::to_string(collected) +
                                " collected, " + std::to_string(in.amount) + " more)");
  }
  s_.db.query(txn,
              "INSERT INTO contracts_collections (id, contract_id, received_on, amount, currency, reference, source, created_by, created_at)"
              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
              {cid, id, in.received_on, in.amount, in.currency, in.reference, in.source, in.created_by, now});
  json after = *find(id, &txn);
  json collection = *load_collection(s_.db, "id = ?", {cid}, &txn);
  s_.audit.append(&txn, in.actor, "contracts.collection.record", kCollection, cid, "", collection.dump());
  s_.events.publish("contracts.collection.recorded", collection_event(collection, after).dump(), "collection-" + cid, &txn);
  txn.commit();
  return {{"collection", collection}, {"contract", after}};
}

json Contracts::reverse(const json& contract, const std::string& collection_id, const CollectionReversal& r) {
  const std::string id = contract["id"];
  std::optional<json> before = load_collection(s_.db, "id = ? AND contract_id = ?", {collection_id, id});
  if (!before) throw annex::Error(ANNEX_ERR_NOT_FOUND, "no collection " + collection_id + " on this contract");
  if (!(*before)["reversal"].is_null()) {
    throw annex::Error(ANNEX_ERR_CONFLICT, "collection " + (*before)["reference"].get<std::string>() + " was reversed already, by " +
                                               (*before)["reversal"]["reference"].get<std::string>());
  }
  if (r.reversed_on < (*before)["received_on"].get<std::string>()) unprocessable("reversed_on", "a collection is reversed after it was received");
  int64_t amount = (*before)["amount"]["amount"];
  std::string now = rest::utc_now();
  annex::Transaction txn = s_.db.begin();
  // Marked in one statement that requires it unreversed: a reversal told twice at once takes it back once.
  annex::Rows marked = s_.db.query(txn,
                                   "UPDATE contracts_collections SET reversed_on = ?, reversal_reference = ?, reversal_reason = ?,"
                                   " reversed_by = ?, reversed_at = ? WHERE id = ? AND reversed_at IS NULL",
                                   {r.reversed_on, r.reference, r.reason.empty() ? std::optional<std::string>() : r.reason,
                                    r.reversed_by, now, collection_id});
  if (marked.affected() == 0) throw annex::Error(ANNEX_ERR_CONFLICT, "the collection was reversed meanwhile");
  s_.db.query(txn, "UPDATE contracts_contracts SET collected = collected - ?, updated_at = ?, version = version + 1 WHERE id = ?",
              {amount, now, id});
  json after = *find(id, &txn);
  json collection = *load_collection(s_.db, "id = ?", {collection_id}, &txn);
  s_.audit.append(&txn, r.actor, "contracts.collection.reverse", kCollection, collection_id, before->dump(), collection.dump());
  s_.events.publish("contracts.collection.reversed", collection_event(collection, after).dump(), "collection-reversed-" + collection_id, &txn);
  txn.commit();
  return {{"collection", collection}, {"contract", after}};
}

// ---- from the ERP ------------------------------------------------------------------------------------------

// A document: {"contract_number", "amount" (decimal text or a number, in the currency's units), "currency",
// "received_on" (a date, or a timestamp whose first ten characters are one), "reverses" (the ERP reference of
// the collection it takes back; absent or null for a collection)}. The key is the ERP's reference.
void Contracts::from_erp(const std::string& key, const std::string& text, const std::string& origin) {
  json doc = json::parse(text, nullptr, false);
  if (!doc.is_object()) unprocessable("document", "a collection is a JSON object");
  if (key.size() > 128) unprocessable("reference", "the ERP's reference is longer than 128 characters");
  const std::string number = text_field(doc, "contract_number", 64);
  const std::string reverses = text_field(doc, "reverses", 128);
  std::string code = text_field(doc, "currency", 3);
  std::string date = text_field(doc, "received_on", 32).substr(0, 10);
  if (date.empty() || !rest::parse_date(date)) unprocessable("received_on", "received_on must be a date, YYYY-MM-DD");
  // The amount in the currency's units ("6000.00"), in minor units as master data counts them for the currency.
  std::optional<annex::biz::Money> amount;
  if (doc.contains("amount") && !doc["amount"].is_null()) {
    if (code.empty()) unprocessable("currency", "the amount's currency is required");
    std::optional<int> units = s_.masterdata.currency(code);
    if (!units) unprocessable("currency", code + " is not a currency in master data");
    const json& a = doc["amount"];
    if (!a.is_string() && !a.is_number()) unprocessable("amount", "amount is a decimal number such as 6000.00");
    amount = annex::biz::Money::parse(a.is_string() ? a.get<std::string>() : a.dump(), {code, *units < 0 ? 2 : *units}, "amount");
  }

  if (!reverses.empty()) {
    std::optional<json> original = load_collection(s_.db, "source = 'erp' AND reference = ?", {reverses});
    if (!original) unprocessable("reverses", "no collection from the ERP has the reference " + reverses);
    if (!(*original)["reversal"].is_null()) {
      if ((*original)["reversal"]["reference"] == key) return;  // told before
      unprocessable("reverses", "collection " + reverses + " was reversed already, by " + (*original)["reversal"]["reference"].get<std::string>());
    }
    if (date < (*original)["received_on"].get<std::string>()) {
      unprocessable("received_on", "collection " + reverses + " was received on " + (*original)["received_on"].get<std::string>() + ", after " + date);
    }
    json contract = *find((*original)["contract_id"].get<std::string>());
    if (!number.empty() && number != contract["number"]) {
      unprocessable("contract_number", "collection " + reverses + " is on contract " + contract["number"].get<std::string>() + ", not " + number);
    }
    if (amount) {
      if (amount->currency() != contract["currency"]) unprocessable("currency", "collection " + reverses + " is in " + contract["currency"].get<std::string>());
      int64_t whole = (*original)["amount"]["amount"];
      if (amount->minor() != whole && amount->minor() != -whole) {
        unprocessable("amount", "a reversal takes back the whole collection " + reverses + " of " + std::to_string(whole) + " minor units");
      }
    }
    reverse(contract, (*original)["id"], {key, date, text_field(doc, "reason", 400), "", origin});
    return;
  }

  if (number.empty()) unprocessable("contract_number", "contract_number is required");
  if (!amount) unprocessable("amount", "amount is required");
  std::optional<json> contract = find_by_number(number);
  if (!contract) unprocessable("contract_number", "no contract has the number " + number);
  if (amount->currency() != (*contract)["currency"]) {
    unprocessable("currency", "contract " + number + " is in " + (*contract)["currency"].get<std::string>() + ", not " + amount->currency());
  }
  if (amount->minor() <= 0) unprocessable("amount", "a collection is a positive amount; a reversal names the collection it takes back in reverses");
  std::optional<json> known = load_collection(s_.db, "source = 'erp' AND reference = ?", {key});
  if (known) {
    if ((*known)["contract_id"] == (*contract)["id"] && (*known)["amount"]["amount"] == amount->minor()) return;  // told before
    unprocessable("reference", "the ERP's reference " + key + " is recorded already, on another contract or for another amount; reverse it instead");
  }
  record(*contract, {amount->minor(), amount->currency(), date, key, "erp", "", origin});
}

// ---- over HTTP ---------------------------------------------------------------------------------------------

// A payment received against a signed contract: never beyond its total; recorded by finance; announced.
void Contracts::record_collection(const annex::Request& req, annex::Response& resp) {
  json c = contract_or_404(req, "contracts.contract.read", std::string(req.path_param("id")));
  std::string caller(req.principal_id()), id = c["id"];
  if (!s_.authz.may(caller, "finance.collections.record", rest::object_ref(kContract, c))) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "recording a collection needs finance.collections.record");
  }
  json body = rest::parse_body(req);
  std::optional<rest::Money> amount = rest::opt_money(body, "amount", true);
  if (!amount) invalid("amount", "amount is required: {\"amount\": minor units, \"currency\": \"CNY\"}");
  std::string received = rest::date_field(body, "received_on", true);
  std::string reference = rest::req_string(body, "reference", 128);
  std::string source = rest::one_of(rest::opt_string(body, "source", 16).value_or("manual"), "source", {"manual", "erp"});
  json out = record(c, {amount->amount, amount->currency, received, reference, source, caller, caller});
  resp.status(201).header("Location", "/api/v1/contracts/" + id + "/collections").body(out.dump());
}

// Finance takes a collection back (the bank returned it, it was booked to the wrong contract).
void Contracts::reverse_collection(const annex::Request& req, annex::Response& resp) {
  json c = contract_or_404(req, "contracts.contract.read", std::string(req.path_param("id")));
  std::string caller(req.principal_id());
  if (!s_.authz.may(caller, "finance.collections.record", rest::object_ref(kContract, c))) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "reversing a collection needs finance.collections.record");
  }
  json body = rest::parse_body(req);
  std::string on = rest::date_field(body, "reversed_on", true);
  if (on > today()) unprocessable("reversed_on", "the date is in the future");
  std::string reference = rest::req_string(body, "reference", 128);
  std::string reason = rest::req_string(body, "reason", 400);
  resp.body(reverse(c, std::string(req.path_param("collection_id")), {reference, on, reason, caller, caller}).dump());
}

void Contracts::collections(const annex::Request& req, annex::Response& resp) {
  json c = contract_or_404(req, "contracts.contract.read", std::string(req.path_param("id")));
  annex::Rows rows = s_.db.query(std::string("SELECT ") + kCollectionColumns + " FROM contracts_collections WHERE contract_id = ? ORDER BY received_on, id",
                                 {c["id"].get<std::string>()});
  json items = json::array();
  while (rows.next()) items.push_back(read_collection(rows.row()));
  resp.body(json({{"items", items}, {"collected", c["collected"]}, {"total", c["total"]}, {"collection_rate", c["collection_rate"]}}).dump());
}

}  // namespace contracts
