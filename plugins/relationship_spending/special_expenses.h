// The special-expense applications under /api/v1/relationship-spending/special-expenses (R6): thin handlers over
// the repository, the contracts plugin's word on the customer's first signing, the host's approval chain, and the
// exceptions auditors read; and, for the statements, a rep's approved applications with that first contract.
#pragma once

#include "exception.h"
#include "partners.h"
#include "services.h"
#include "settings.h"
#include "special_expense_repository.h"
#include "spend.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <vector>

namespace relationship_spending {

// Reps file and resubmit (their role holds *.submit); everyone reads within their reach; a chain's steps decide
// with relationship.special.approve (sector heads and finance hold *.approve).
inline constexpr const char* kSpecialSubmit = "relationship.special.submit";
inline constexpr const char* kSpecialRead = "relationship.special.read";

class SpecialExpenses {
 public:
  SpecialExpenses(Services& s, const Settings& settings, SpecialExpenseRepository& applications, const Exceptions& exceptions,
                  const ContractsClient& contracts, OpportunitiesClient opportunities, const SpendRepository& spend)
      : s_(s), settings_(settings), applications_(applications), exceptions_(exceptions), contracts_(contracts),
        opportunities_(opportunities), spend_(spend) {}

  // The rep's approved applications, oldest first, each with its customer's first signed contract (none while the
  // customer has signed nothing); ApprovedSpecialExpense::filed_before_signing() says whether R6 holds. Throws
  // annex::Error when the database or the contracts plugin fails.
  std::vector<ApprovedSpecialExpense> approved_for_rep(const std::string& rep_id) const;

  // POST …/special-expenses: files an application and puts it into the chain; refused (422 naming party_id, the
  // contract and its signing date) once the customer has a signed contract, which is recorded as an exception.
  void file(const annex::Request& req, annex::Response& resp);
  void list(const annex::Request& req, annex::Response& resp);
  // GET …/special-expenses/{id}: the application with its approval and the customer's first signed contract.
  void get(const annex::Request& req, annex::Response& resp);
  // POST …/special-expenses/{id}/resubmit (If-Match): a returned application into its chain again, with any of
  // purpose, justification, opportunity_id changed and the amount lowered (never raised: the chain's steps were
  // chosen by it); R6 applies again.
  void resubmit(const annex::Request& req, annex::Response& resp);

  // An approval of an application reached an outcome (annex.approval.* events; at least once: idempotent).
  void on_approval(const nlohmann::json& payload);

 private:
  SpecialExpense reachable(const annex::Request& req) const;
  // Reads the application's fields from `body` into `application`; on a resubmission (`partial`) only those given.
  void read_body(const nlohmann::json& body, SpecialExpense& application, const std::string& caller, bool partial) const;
  // R6: refuses the application once its customer has a signed contract, recording the attempt as an exception.
  void refuse_after_signing(const SpecialExpense& application, const std::string& caller, const char* attempt) const;
  // Anti-splitting: refuses an application that would take the customer's relationship spending over the rolling
  // window past the limit — fees made payable by any rep and live applications by any rep — recording the attempt.
  void refuse_over_limit(const SpecialExpense& application, const std::string& caller) const;

  Services& s_;
  const Settings& settings_;
  SpecialExpenseRepository& applications_;
  const Exceptions& exceptions_;
  // The customer's first signed contract, if any.
  std::optional<FirstSigned> first_signed(const std::string& party_id) const;

  const ContractsClient& contracts_;
  OpportunitiesClient opportunities_;
  const SpendRepository& spend_;
};

}  // namespace relationship_spending
