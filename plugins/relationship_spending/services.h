// The host services the relationship-spending plugin works through.
#pragma once

#include <annex/sdk.hpp>

namespace relationship_spending {

struct Services {
  annex::Db db;
  annex::Audit audit;
  annex::MasterData masterdata;  // products, their groups, currencies
  annex::Calendar calendar;      // today in the company's time zone
};

}  // namespace relationship_spending
