// The host services the relationship-spending plugin works through.
#pragma once

#include <annex/calendar.hpp>
#include <annex/sdk.hpp>

#include <string>

namespace relationship_spending {

struct Services {
  annex::Db db;
  annex::Audit audit;
  annex::MasterData masterdata;  // products, their groups, currencies, exchange rates
  annex::Calendar calendar;      // today in the company's time zone, working days
  annex::Authz authz;            // who reaches which records
  annex::Approvals approvals;    // the host's approval chains: statements' signatures, special expenses
};

// Now by the host clock (which a test may move), as records store it: "2026-11-23T10:15:30Z".
inline std::string now_text(const annex::Calendar& calendar) { return annex::calendar::format_instant(calendar.now()); }

}  // namespace relationship_spending
