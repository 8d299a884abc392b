// The host services the expenses plugin works through, and what its parts share.
#pragma once

#include "settings.h"

#include "../common/rest.h"

#include <annex/business.hpp>
#include <annex/sdk.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace expenses {

struct Services {
  annex::Db db;
  annex::Authz authz;
  annex::Audit audit;
  annex::Approvals approvals;
  annex::MasterData masterdata;
  annex::Directory directory;
  annex::Blobs blobs;
  annex::Calendar calendar;  // the company's working days and public holidays
};

// The roles a user holds, from the directory ("sales-rep", "finance" …).
std::vector<std::string> roles_of(const annex::Directory& directory, const std::string& user_id);

// What the policies ask of a claimant: their roles, and their job grade from their employee record in master
// data (none when no employee record names the user, or it has no grade).
// A person spending: their roles, and from their employee record in master data their grade and cost centre.
struct Claimant {
  std::vector<std::string> roles;
  std::optional<std::string> grade;
  std::optional<std::string> cost_centre;
};
Claimant claimant(const Services& services, const std::string& user_id);
// An amount of the company currency as text: "3000.00 CNY".
std::string shown(const Settings& settings, int64_t minor);

}  // namespace expenses
