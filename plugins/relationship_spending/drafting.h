// Drafting a month's statements (R2, R4): the fees earned on the contracts signed in the month are recorded
// for the reps credited with them; for every contract with a fee not yet wholly payable, or a collection received
// or reversed, the payable share is brought in step with what the customer has paid; each rep with something to
// show gets one statement of the month. Drafting again records nothing twice and leaves drafted statements as
// they are.
#pragma once

#include "exception.h"
#include "fee_repository.h"
#include "partners.h"
#include "services.h"
#include "settings.h"
#include "special_expenses.h"
#include "spend.h"
#include "standards.h"
#include "statement_repository.h"

#include <mutex>
#include <string>

namespace relationship_spending {

struct DraftReport {
  std::string period;
  int64_t contracts = 0;        // signed in the month
  int64_t fees_recorded = 0;    // fee lines recorded for them
  int64_t lines_without_standard = 0;
  int64_t statements = 0;       // drafted now
  int64_t already_drafted = 0;  // reps whose statement of the month existed
  nlohmann::json to_json() const;
};

class Drafter {
 public:
  Drafter(Services& s, const Settings& settings, const Standards& standards, FeeRepository& fees, StatementRepository& statements,
          SpendRepository& spend, const ContractsClient& contracts, const AdvancesClient& advances, const Exceptions& exceptions,
          const SpecialExpenses& specials, const SpecialExpenseRepository& applications)
      : s_(s), settings_(settings), standards_(standards), fees_(fees), statements_(statements), spend_(spend), contracts_(contracts),
        advances_(advances), exceptions_(exceptions), specials_(specials), applications_(applications) {}

  // Drafts the statements of `period` (YYYY-MM), a month that has ended in the company's time zone (else
  // UNPROCESSABLE naming "period"). `actor`: who asked ("" for the monthly job).
  DraftReport draft(const std::string& period, const std::string& actor);
  // The month before today's, in the company's time zone: what the job on the 1st drafts.
  std::string previous_period() const;

 private:
  // Records the fees of the contracts signed in the month; returns how many contracts were signed.
  void record_fees(const std::string& period, const std::string& first, const std::string& last, DraftReport& report);
  // A fee amount in the plugin's currency: converted at master data's rate of `date` when in another.
  int64_t in_plugin_currency(int64_t amount, const std::string& currency, const std::string& date, const std::string& field);

  Services& s_;
  const Settings& settings_;
  const Standards& standards_;
  FeeRepository& fees_;
  StatementRepository& statements_;
  SpendRepository& spend_;
  const ContractsClient& contracts_;
  const AdvancesClient& advances_;
  const Exceptions& exceptions_;
  const SpecialExpenses& specials_;
  const SpecialExpenseRepository& applications_;
  std::mutex running_;  // one drafting at a time in this daemon
};

// "YYYY-MM" → its first and last day; nothing for anything else.
std::optional<std::pair<std::chrono::sys_days, std::chrono::sys_days>> month_of(const std::string& period);

}  // namespace relationship_spending
