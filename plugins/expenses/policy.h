// The expense policy (configuration, see settings.h) applied to each line of a claim: limits per line and per
// rolling day, month and year across the claimant's claims, per attendee, weekends, receipts, duplicates and
// reused receipts. Each line gets ok, warn (submittable with a justification) or block (not submittable), with
// the rule and the figures that decided it. Evaluated on every save of a draft and again at submission.
#pragma once

#include "claim.h"
#include "claim_repository.h"
#include "services.h"
#include "settings.h"

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace expenses {

class PolicyEngine {
 public:
  PolicyEngine(const Settings& settings, const ClaimRepository& claims, const annex::Calendar& calendar)
      : settings_(settings), claims_(claims), calendar_(calendar) {}

  // Sets each line's verdict for the claimant (their roles and job grade decide their limits).
  void evaluate(Claim& claim, const Claimant& claimant, annex::Transaction* txn = nullptr) const;

 private:
  const Settings& settings_;
  const ClaimRepository& claims_;
  const annex::Calendar& calendar_;

  // The public holiday on `day` by name ("" when unnamed), from the company calendar; nothing on other days.
  std::optional<std::string> holiday(annex::biz::Date day) const;
  mutable std::mutex holidays_mutex_;
  mutable std::map<int, std::map<std::string, std::string>> holidays_;  // per year: date → name, read once
};

}  // namespace expenses
