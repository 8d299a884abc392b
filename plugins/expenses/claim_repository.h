// ClaimRepository — claims and their lines in the plugin's tables, and the sums across claims the policies and
// the approval chain's choice need (what a person has claimed in a window, the same receipt elsewhere).
#pragma once

#include "claim.h"

#include <annex/sdk.hpp>

#include <map>
#include <optional>
#include <set>
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
  // CONFLICT: changed meanwhile). Bumps claim.version. Takes the claimant's lock (below) first, as update_header does.
  void update(annex::Transaction& txn, Claim& claim, int64_t expected_version);
  // As update, for a change of the header alone (a decision, posting, payment): the lines keep their rows and
  // take the claim's new status, instead of being written again with every index they are in.
  void update_header(annex::Transaction& txn, Claim& claim, int64_t expected_version);

  // What `claimant` has claimed per category and day between `from` and `to` (inclusive), in company minor units,
  // on claims that count (submitted or beyond; not a draft, a returned or a rejected claim, so not the editable
  // claim being evaluated): category → date → sum, read from the daily totals the repository keeps. One statement
  // for all of a claim's rolling limits.
  using ClaimedByDay = std::map<std::string, std::map<std::string, int64_t>>;
  ClaimedByDay claimed_by_day(const std::string& claimant, const std::set<std::string>& categories, const std::string& from,
                              const std::string& to, annex::Transaction* txn = nullptr) const;
  // For each of `lines`, a line of `claimant`'s other claims (not rejected, leaving out `except`) with the same
  // category, date, amount and currency, if any: line_no → {claim_id, line_no}. One statement for the claim.
  std::map<int, std::pair<std::string, int>> duplicates(const std::string& claimant, const std::vector<ClaimLine>& lines,
                                                        const std::string& except, annex::Transaction* txn = nullptr) const;
  // Other lines (of any claim, or of this one) carrying the receipt: {claim_id, line_no}.
  std::vector<std::pair<std::string, int>> receipt_uses(const std::string& sha256, annex::Transaction* txn = nullptr) const;
  // The claimant's claims submitted since the day `from_day` (YYYY-MM-DD) that count (not a draft, a returned or a
  // rejected claim, so not the editable claim being submitted), for the same customer or the same purpose: their
  // count and total (from the daily submissions the repository keeps), and the latest `listed` of them {id, total},
  // leaving out `except` — the list is what an approver reads, bounded so a busy claimant's chain basis does not
  // grow with every claim.
  struct Related {
    int64_t count = 0;
    int64_t total = 0;
    std::vector<std::pair<std::string, int64_t>> latest;
  };
  Related related(const std::string& claimant, const std::optional<std::string>& party, const std::string& purpose,
                  const std::string& from_day, const std::string& except, size_t listed,
                  annex::Transaction* txn = nullptr) const;

  const annex::Db& db() const { return db_; }

  // One change of a claimant's claims at a time: a submission takes it before it reads the rolling limits and the
  // cumulative amount, so that they see each other and splitting gains nothing even at the same instant.
  void lock_claimant(annex::Transaction& txn, const std::string& claimant);

 private:
  void tally(annex::Transaction& txn, const std::string& claim_id, bool counted, int sign);
  void tally_claim(annex::Transaction& txn, const std::string& claim_id, int sign);
  // The claim's row, if its version is `expected_version`, with its daily submissions moved along.
  void write_header(annex::Transaction& txn, Claim& claim, int64_t expected_version);
  annex::Db db_;
};

}  // namespace expenses
