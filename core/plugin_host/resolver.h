// Orders plugins so that each starts after everything it requires, and says clearly which cannot start:
// a requirement not installed, installed at a version outside the range, failed itself, or a cycle.
#pragma once

#include "plugin_host/manifest.h"

#include <map>
#include <string>
#include <vector>

namespace annex::plugin_host {

struct Candidate {
  std::string id;
  Version version;
  std::vector<Requirement> requirements;
};

struct Resolution {
  std::vector<std::string> order;            // start-up order of the plugins that can start
  std::map<std::string, std::string> refused;  // id → why it cannot start
};

// `already_failed` lists plugins known not to start (bad config, ABI), whose dependants are refused too.
Resolution resolve(const std::vector<Candidate>& candidates, const std::map<std::string, std::string>& already_failed = {});

}  // namespace annex::plugin_host
