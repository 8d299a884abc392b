// Approval chains as a host service (DOMAIN: relationship spending and expense claims are approved in steps).
//
// A chain is an ordered list of steps. Each step names a permission or a role, is scoped to the item's sector
// (the approver's reach must cover it) or to anyone holding it, may apply only at or above an amount, and asks
// for any one approver or for all of them. Decisions are approve, reject, or return for changes.
//
// Segregation of duties is enforced here, not by the plugins that use the service:
//   - the submitter never decides their own item, neither directly nor as someone's delegate;
//   - one person decides at most one step of an item (per round of submission);
//   - a delegate decides only with the delegator's authority, within the delegation's chains and time box, and
//     never for an item the delegator submitted.
// At submission the service checks that every applicable step has an eligible approver independent of the
// submitter and of the other steps; at start-up the linter refuses chains that could complete without one.
#pragma once

#include "audit/audit_log.h"
#include "errors/field_error.h"
#include "auth/access.h"
#include "store/database.h"

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace annex::events {
class EventBus;
}

namespace annex::approvals {

struct Step {
  std::string name;
  std::string permission;  // exactly one of permission and role
  std::string role;
  bool item_sector = true;  // the approver's reach must cover the item's sector
  std::optional<int64_t> min_amount;  // minor units of `currency`; the step applies at or above it
  std::string currency;
  bool all = false;  // every eligible approver must approve (otherwise any one)
};

struct Chain {
  std::string id;
  std::vector<Step> steps;
};

struct LintError {
  std::string path;  // "approvals.chains.expense-claim.steps[1].role"
  std::string message;
};

// Parses the "approvals" configuration object ({"chains": {id: {"steps": [...]}}}) and lints every chain.
std::vector<LintError> parse_chains(const std::string& json, const auth::RoleCatalog& roles,
                                    std::map<std::string, Chain>* out);

struct Decision {
  int round = 1;
  std::string step;
  std::string decider_id;    // who acted
  std::string on_behalf_of;  // the delegator, when acting under delegation
  std::string decision;      // approve | reject | return
  std::string comment;
  std::string at;
};

struct Approval {
  std::string id;
  std::string chain;
  std::string item_type;
  std::string item_id;
  std::string sector_id;
  std::string submitter_id;
  int64_t amount = 0;
  std::string currency;
  std::string status;  // pending | approved | rejected | returned
  int round = 1;
  int step_index = 0;               // into steps, while pending
  std::vector<std::string> steps;   // the names of the steps that apply to this item
  std::vector<std::string> required;  // for an "all" step: who must still approve
  std::vector<Decision> decisions;
  std::string created_at;
  std::string updated_at;
};

struct Delegation {
  std::string id;
  std::string delegator_id;
  std::string delegate_id;
  std::vector<std::string> chains;  // {"*"} for every chain
  std::string valid_from;
  std::string valid_until;
  std::string created_at;
  std::string revoked_at;
};

// A refusal, with the HTTP status it maps to (403 duties, 404 unknown, 409 state, 422 input) and the field.
class ApprovalError : public FieldError {
 public:
  ApprovalError(int status, const std::string& message, std::string field = {})
      : FieldError(std::move(field), message, status) {}
};

struct Submission {
  std::string chain;
  std::string item_type;
  std::string item_id;
  std::string sector_id;
  std::string submitter_id;
  int64_t amount = 0;
  std::string currency;
};

class ApprovalService {
 public:
  ApprovalService(store::Database& db, auth::Authorizer& authorizer, audit::AuditLog& audit, events::EventBus* events,
                  std::map<std::string, Chain> chains);

  // Each call runs inside `session`'s open transaction when given (the caller commits), else in its own.
  Approval submit(soci::session* session, const Submission& s);
  // decide and resubmit answer 404, as for a missing approval, when the actor may not see it — for decide,
  // unless a delegation in force from `on_behalf_of`, covering the approval's chain, lends them the
  // delegator's sight of it.
  Approval decide(soci::session* session, const std::string& approval_id, const std::string& actor_id,
                  const std::string& decision, const std::string& comment, const std::string& on_behalf_of);
  // Starts a new round after the item was returned; only its submitter may.
  Approval resubmit(soci::session* session, const std::string& approval_id, const std::string& actor_id);

  std::optional<Approval> get(const std::string& approval_id);
  // Pending approvals whose current step `user_id` may decide now, directly or for a delegator.
  std::vector<Approval> awaiting(const std::string& user_id);
  // Whether the user may see the approval: its submitter, a decider, an eligible approver, or a reader whose
  // reach of annex.approvals.read covers its sector.
  bool visible(const Approval& a, const std::string& user_id);

  Delegation delegate(const std::string& delegator_id, const std::string& delegate_id,
                      const std::vector<std::string>& chains, const std::string& valid_from,
                      const std::string& valid_until);
  void revoke_delegation(const std::string& id, const std::string& actor_id);
  std::vector<Delegation> delegations_of(const std::string& user_id);

  const std::map<std::string, Chain>& chains() const { return chains_; }

 private:
  Approval load(soci::session& s, const std::string& id, bool for_update);
  // Every pending approval with its decisions, oldest first, in two statements.
  std::vector<Approval> load_pending(soci::session& s);
  // Why `user_id` may not decide `step` of `a` on their own authority; "" when they may.
  std::string ineligible(const Approval& a, const Step& step, const std::string& user_id);
  std::vector<std::string> eligible_users(const Approval& a, const Step& step);
  const Step& step_of(const Approval& a, size_t index) const;
  // Enters step `index` (or completes the approval when past the last), computing who must approve.
  void enter_step(Approval& a, size_t index);
  void save(soci::session& s, const Approval& a, bool insert);
  std::optional<Delegation> active_delegation(soci::session& s, const std::string& delegator,
                                              const std::string& delegate, const std::string& chain);
  void finish(soci::session& s, const Approval& before, const Approval& after, const std::string& action,
              const std::string& actor);

  store::Database& db_;
  auth::Authorizer& authorizer_;
  audit::AuditLog& audit_;
  events::EventBus* events_;
  std::map<std::string, Chain> chains_;
};

std::string approval_json(const Approval& a);
std::string delegation_json(const Delegation& d);

}  // namespace annex::approvals
