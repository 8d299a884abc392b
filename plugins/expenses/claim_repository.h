// ClaimRepository — claims and their lines in the plugin's tables, and the sums across claims the policies and
// the approval chain's choice need (what a person has claimed in a window, the same receipt elsewhere).
#pragma once

#include "claim.h"

#include <annex/sdk.hpp>

#include <optional>
#include <string>
#include <vector>

namespace expenses {

class ClaimRepository {
 public:
  explicit ClaimRepository(annex::Db db) : db_(std::move(db)) {}

  std::optional<Claim> find(const std::string& id, annex::Transaction* txn = nullptr) const;
  std::optional<Claim> find_by_approval(const std::string& approval_id, annex::Transaction* txn = nullptr) const;
  void insert(annex::Transaction& txn, const Claim& claim);
  // Writes the claim's header and replaces its lines; the stored version must be `expected_version` (else
  // CONFLICT: changed meanwhile). Bumps claim.version.
  void update(annex::Transaction& txn, Claim& claim, int64_t expected_version);

  // What `claimant` has claimed in `category` between `from` and `to` (inclusive), in company minor units, on
  // claims submitted or beyond (not rejected) — leaving out claim `except`.
  int64_t claimed(const std::string& claimant, const std::string& category, const std::string& from, const std::string& to,
                  const std::string& except, annex::Transaction* txn = nullptr) const;
  // Another claim's line of `claimant` with the same category, date, amount and currency: {claim_id, line_no}.
  std::optional<std::pair<std::string, int>> duplicate_of(const std::string& claimant, const ClaimLine& line,
                                                          const std::string& except, annex::Transaction* txn = nullptr) const;
  // Other lines (of any claim, or of this one) carrying the receipt: {claim_id, line_no}.
  std::vector<std::pair<std::string, int>> receipt_uses(const std::string& sha256, annex::Transaction* txn = nullptr) const;
  // The claimant's claims submitted since `from_instant`, not rejected, for the same customer or the same purpose,
  // leaving out `except`: their count and total, and the latest `listed` of them {id, total} — the list is what an
  // approver reads, bounded so a busy claimant's chain basis does not grow with every claim.
  struct Related {
    int64_t count = 0;
    int64_t total = 0;
    std::vector<std::pair<std::string, int64_t>> latest;
  };
  Related related(const std::string& claimant, const std::optional<std::string>& party, const std::string& purpose,
                  const std::string& from_instant, const std::string& except, size_t listed,
                  annex::Transaction* txn = nullptr) const;

  const annex::Db& db() const { return db_; }

 private:
  annex::Db db_;
};

}  // namespace expenses
