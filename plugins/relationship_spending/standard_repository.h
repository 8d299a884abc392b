// StandardRepository — standards in the plugin's tables: one by id, a subject's periods, and the standard in
// force for a product on a date.
#pragma once

#include "standard.h"

#include <annex/sdk.hpp>

#include <optional>
#include <string>

namespace relationship_spending {

class StandardRepository {
 public:
  explicit StandardRepository(annex::Db db) : db_(std::move(db)) {}

  // The columns read_standard() reads, in order, for SELECTs of relationship_standards.
  static const char* columns();
  static Standard read(const annex::Row& row);

  std::optional<Standard> find(const std::string& id, annex::Transaction* txn = nullptr) const;
  void insert(annex::Transaction& txn, const Standard& standard);
  // Writes the standard; the stored version must be `expected_version` (else CONFLICT naming If-Match: changed
  // meanwhile). Bumps standard.version.
  void update(annex::Transaction& txn, Standard& standard, int64_t expected_version);

  // Takes the subject's turn for the rest of `txn`: concurrent changes to one product's (or group's) standards
  // run one after the other, so each one's overlap check sees the others.
  void lock_subject(annex::Transaction& txn, const std::string& subject);
  // Another standard of `subject` (not `except`) whose period meets [from, to] (to: none for open-ended).
  std::optional<Standard> overlapping(annex::Transaction& txn, const std::string& subject, const std::string& from,
                                      const std::optional<std::string>& to, const std::string& except) const;

  // The standard in force on `date` for the product `product_id` of group `product_group`: the product's own,
  // else its group's; none when neither has one on that date.
  std::optional<Standard> in_force(const std::string& product_id, const std::optional<std::string>& product_group,
                                   const std::string& date, annex::Transaction* txn = nullptr) const;

  const annex::Db& db() const { return db_; }

 private:
  annex::Db db_;
};

}  // namespace relationship_spending
