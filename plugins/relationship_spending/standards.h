// The standards API under /api/v1/relationship-spending/standards: thin handlers over the standard repository,
// and the lookup the statements use — the standard in force for a product on a date.
#pragma once

#include "services.h"
#include "standard_repository.h"

#include <nlohmann/json.hpp>

namespace relationship_spending {

// Who may change standards: finance (its role holds finance.*), nobody whose role only writes business records.
inline constexpr const char* kStandardsWrite = "finance.relationship.standards";
inline constexpr const char* kStandardsRead = "relationship.standard.read";

// The standard in force for a product on a date, and whether it is the product's own or its group's.
struct InForce {
  Standard standard;
  bool own = true;  // false: the product group's
};

class Standards {
 public:
  Standards(Services& s, StandardRepository& standards) : s_(s), standards_(standards) {}

  // The standard in force for the master-data product `product_id` on `date` (YYYY-MM-DD): the product's own,
  // else its product group's; none when neither has one then. Throws UNPROCESSABLE naming `field` when master
  // data holds no such product.
  std::optional<InForce> in_force(const std::string& product_id, const std::string& date, const std::string& field = "product_id",
                                  annex::Transaction* txn = nullptr) const;

  void create(const annex::Request& req, annex::Response& resp);
  void list(const annex::Request& req, annex::Response& resp);
  void get(const annex::Request& req, annex::Response& resp);
  // GET …/standards/in-force?product_id=&date= (date: today in the company's time zone when absent).
  void lookup(const annex::Request& req, annex::Response& resp);
  // PATCH …/standards/{id} (If-Match): the amount or rate, the GL account, the period, the note; never the
  // product or group.
  void change(const annex::Request& req, annex::Response& resp);
  // POST …/standards/{id}/end {"effective_to"} (If-Match): the last day the standard applies.
  void end(const annex::Request& req, annex::Response& resp);

 private:
  Standard found(const annex::Request& req) const;
  // The product named by `product_id` or `product_code` in `body`: {id, code, product_group}.
  nlohmann::json product(const nlohmann::json& body) const;
  // Reads amount_per_unit or rate_bp (exactly one) from `body` into `standard`.
  void read_basis(const nlohmann::json& body, Standard& standard) const;
  // Refuses a period that ends before it begins, or meets another of the subject's (naming effective_from).
  void check_period(annex::Transaction& txn, const Standard& standard) const;
  // Writes the change with its audit entry in one transaction, after the subject's overlap check.
  nlohmann::json save(const annex::Request& req, Standard& standard, const Standard& before, const char* action);

  Services& s_;
  StandardRepository& standards_;
};

}  // namespace relationship_spending
