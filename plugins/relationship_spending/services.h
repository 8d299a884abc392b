// The host services the relationship-spending plugin works through.
#pragma once

#include <annex/sdk.hpp>

namespace relationship_spending {

struct Services {
  annex::Db db;
  annex::Audit audit;
  annex::MasterData masterdata;  // products, their groups, currencies, exchange rates
  annex::Calendar calendar;      // today in the company's time zone, working days
  annex::Authz authz;            // who may read or act on which statement
  annex::Approvals approvals;    // the statement's three signatures
};

}  // namespace relationship_spending
