// The expense categories a claimant may use, with the policy that applies to them: GET /api/v1/expenses/categories.
// A claim form offers these (the company's own, from the configuration) and shows the limits before the first line
// is typed.
#pragma once

#include "services.h"

namespace expenses {

class Categories {
 public:
  Categories(Services& s, const Settings& settings) : s_(s), settings_(settings) {}

  // Each category with its GL account, whether lines name attendees, the receipt threshold, what breaking a rule
  // does, and the limits for the caller, which their roles and job grade decide.
  void list(const annex::Request& req, annex::Response& resp);

 private:
  Services& s_;
  const Settings& settings_;
};

}  // namespace expenses
