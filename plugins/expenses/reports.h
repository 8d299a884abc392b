// Reports over the caller's reach, as JSON or CSV (?format=csv): spend grouped by person, cost centre, category,
// customer or month; policy exceptions; claims awaiting posting or payment. Open advances with ageing are in
// advances.cpp.
#pragma once

#include "services.h"

namespace expenses {

class Reports {
 public:
  Reports(Services& s, const Settings& settings) : s_(s), settings_(settings) {}

  void spend(const annex::Request& req, annex::Response& resp);
  void exceptions(const annex::Request& req, annex::Response& resp);
  void awaiting(const annex::Request& req, annex::Response& resp);

 private:
  Services& s_;
  const Settings& settings_;
};

}  // namespace expenses
