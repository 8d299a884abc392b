// Contracts, collections (回款) and quotas. A contract's lines change through amendments once it is signed;
// collections are recorded by finance or arrive from the ERP through a document stream, under the same rules
// (never beyond the contract's total, once per reference), and each one — and each reversal — is announced (the
// relationship-spending rules pay out only after collection); quotas are set per rep and per sector, never by
// the person they measure, and attainment counts split credit.
#pragma once

#include "../common/rest.h"

#include <annex/sdk.hpp>
#include <annex/services/opportunities.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace contracts {

using nlohmann::json;

inline constexpr const char* kContract = "contracts.contract";
inline constexpr const char* kTarget = "quotas.target";

using Services = annex::rest::Services;

// The pipeline's opportunities, through the service the pipeline plugin provides
// (org.annex.pipeline.opportunities@1): contracts never read its tables.
class Opportunities {
 public:
  explicit Opportunities(const annex_opportunities_v1& table) : t_(&table) {}
  // The opportunity, or nothing when it is missing or out of `user_id`'s reach.
  std::optional<nlohmann::json> get(const std::string& id, const std::string& user_id) const {
    std::string out, message;
    annex::StringSink out_sink(out), err_sink(message);
    annex_status s = t_->get(t_->provider_plugin_ptr, annex::to_str(id), annex::to_str(user_id), out_sink.get(), err_sink.get());
    if (s == ANNEX_ERR_NOT_FOUND) return std::nullopt;
    if (s != ANNEX_OK) throw annex::Error(s, "the pipeline: " + message);
    return nlohmann::json::parse(out);
  }
  // {"weighted", "count"} of the open pipeline for {"owner_id"|"sector_id", "currency", "from", "to"}.
  nlohmann::json open_weighted(const nlohmann::json& query) const {
    std::string in = query.dump(), out, message;
    annex::StringSink out_sink(out), err_sink(message);
    annex_status s = t_->open_weighted(t_->provider_plugin_ptr, annex::to_str(in), out_sink.get(), err_sink.get());
    if (s != ANNEX_OK) throw annex::Error(s, "the pipeline: " + message);
    return nlohmann::json::parse(out);
  }

 private:
  const annex_opportunities_v1* t_;
};

// A payment received, however it arrives: over HTTP from finance, or a document from the ERP.
struct NewCollection {
  int64_t amount = 0;  // minor units of `currency`
  std::string currency;
  std::string received_on;  // YYYY-MM-DD
  std::string reference;    // the bank's or the ERP's; one collection per (contract, source, reference)
  std::string source;       // "manual" or "erp"
  std::string actor;        // the user recording it; "" for the ERP
  std::string created_by;   // the user, or "sync:<connection>/<stream>"
};

// A collection taken back: the ERP reversed it, or finance did.
struct CollectionReversal {
  std::string reference;    // the reversal's own reference
  std::string reversed_on;  // YYYY-MM-DD
  std::string reason;
  std::string actor;
  std::string reversed_by;  // the user, or "sync:<connection>/<stream>"
};

class Contracts {
 public:
  Contracts(Services services, Opportunities opportunities, int fiscal_year_start, annex::Calendar calendar)
      : s_(std::move(services)), opportunities_(opportunities), fiscal_start_(fiscal_year_start), calendar_(calendar) {}

  void create(const annex::Request& req, annex::Response& resp);
  void get(const annex::Request& req, annex::Response& resp);
  void list(const annex::Request& req, annex::Response& resp);
  void update(const annex::Request& req, annex::Response& resp);
  void amend(const annex::Request& req, annex::Response& resp);
  void amendments(const annex::Request& req, annex::Response& resp);
  void set_splits(const annex::Request& req, annex::Response& resp);
  void record_collection(const annex::Request& req, annex::Response& resp);
  void collections(const annex::Request& req, annex::Response& resp);
  void reverse_collection(const annex::Request& req, annex::Response& resp);

  // The rules of every collection, for both ways in: a signed (or completed) contract, a positive amount in its
  // currency, received by today, never beyond the total, one per (contract, source, reference); audited and
  // announced (contracts.collection.recorded). Returns {"collection", "contract"}.
  json record(const json& contract, const NewCollection& c);
  // Takes back a collection of `contract`: the collected amount goes down by it; audited and announced
  // (contracts.collection.reversed). Returns {"collection", "contract"}.
  json reverse(const json& contract, const std::string& collection_id, const CollectionReversal& r);
  // One document of the ERP's collections stream (see the README): a collection, or with "reverses" the
  // reversal of one. Idempotent by `key`, the ERP's reference. Throws Error(UNPROCESSABLE) naming the field at
  // fault for a document that cannot apply: it becomes a dead letter and the stream goes on.
  void from_erp(const std::string& key, const std::string& document, const std::string& origin);

  void create_plan(const annex::Request& req, annex::Response& resp);
  void list_plans(const annex::Request& req, annex::Response& resp);
  void set_target(const annex::Request& req, annex::Response& resp);
  void spread(const annex::Request& req, annex::Response& resp);
  void get_target(const annex::Request& req, annex::Response& resp);
  void update_target(const annex::Request& req, annex::Response& resp);
  void list_targets(const annex::Request& req, annex::Response& resp);
  void attainment(const annex::Request& req, annex::Response& resp);

 private:
  std::optional<json> find(const std::string& id, annex::Transaction* txn = nullptr) const;
  std::optional<json> find_by_number(const std::string& number) const;
  json contract_or_404(const annex::Request& req, std::string_view permission, const std::string& id, annex::Transaction* txn = nullptr) const;
  json with_details(json contract, annex::Transaction* txn = nullptr) const;
  json read_lines(const json& body, const std::string& currency, int64_t* total) const;
  void write_lines(annex::Transaction& txn, const std::string& id, const json& lines) const;
  // A split of the credit ({"splits": [{user_id, percent}]}): user → whole percent, the percentages summing to 100.
  std::map<std::string, int64_t> read_splits(const json& body) const;
  void write_splits(annex::Transaction& txn, const std::string& id, const std::map<std::string, int64_t>& shares) const;
  json target_or_404(const annex::Request& req, std::string_view permission, const std::string& id) const;
  json plan(const std::string& id) const;
  // The first and last day of a period ("2027", "2027-Q2", "2027-04") of a plan's period type.
  std::pair<std::string, std::string> period_range(const std::string& period_type, const std::string& period) const;
  json insert_target(const annex::Request& req, const json& plan, const std::string& period, const json& body, int64_t amount,
                     annex::Transaction& txn);

  // Today in the company's time zone, by the host clock: dates in the future are refused against it.
  std::string today() const { return annex::biz::format_date(calendar_.today()); }

  Services s_;
  Opportunities opportunities_;
  int fiscal_start_;
  annex::Calendar calendar_;
};

}  // namespace contracts
