// Spot checks under /api/v1/relationship-spending/statements/{id}/spot-check (R9): drawn after payout (by the
// first payout itself, or by the sales manager or finance), read by whoever reads the statement, each sampled
// customer confirmed or disputed with a note by the sector's sales manager — never by the rep. Draws and
// decisions are audited.
#pragma once

#include "services.h"
#include "settings.h"
#include "spot_check.h"
#include "statement_repository.h"

#include <annex/sdk.hpp>

#include <functional>
#include <optional>

namespace relationship_spending {

inline constexpr const char* kSpotCheck = "relationship.spot_check";
inline constexpr const char* kSpotCheckDecide = "relationship.spotcheck.approve";

class SpotCheckRepository {
 public:
  explicit SpotCheckRepository(annex::Db db) : db_(std::move(db)) {}
  std::optional<SpotCheck> find(const std::string& statement_id, annex::Transaction* txn = nullptr) const;
  // False when the statement has a draw already.
  bool insert(annex::Transaction& txn, const SpotCheck& check);
  // Records the outcome of a pending item; false when it was decided meanwhile.
  bool decide(annex::Transaction& txn, const std::string& statement_id, const SpotCheckItem& item);

 private:
  annex::Db db_;
};

class SpotChecks {
 public:
  SpotChecks(Services& s, const Settings& settings, StatementRepository& statements, SpotCheckRepository& checks)
      : s_(s), settings_(settings), statements_(statements), checks_(checks) {}

  // Draws the sample of a paid-out statement unless drawn already; returns the draw and whether it is new.
  std::pair<SpotCheck, bool> draw(const Statement& statement, const std::string& actor);

  void get(const annex::Request& req, annex::Response& resp);
  // POST …/spot-check: draws it (201), or answers the draw there is (200).
  void create(const annex::Request& req, annex::Response& resp);
  // POST …/spot-check/items/{party_id} {"outcome": "confirmed" | "disputed", "note"}.
  void decide(const annex::Request& req, annex::Response& resp);

  // Hears every disputed customer (an exception for finance).
  std::function<void(const SpotCheck&, const SpotCheckItem&)> on_dispute;

 private:
  Statement statement_in_reach(const annex::Request& req) const;

  Services& s_;
  const Settings& settings_;
  StatementRepository& statements_;
  SpotCheckRepository& checks_;
};

}  // namespace relationship_spending
