// Opportunity stages, configurable per sector (DOMAIN C4): order, default probability, forecast category,
// won/closed flags and the transitions allowed from each.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace pipeline {

inline const std::vector<std::string> kForecastCategories = {"pipeline", "best_case", "commit", "closed", "omitted"};

struct Stage {
  std::string name;
  int order = 0;
  int probability = 0;
  std::string category;
  bool won = false;
  bool closed = false;
  std::set<std::string> to;  // the stages reachable from this one
};

class StageBook {
 public:
  // Reads plugins.<id>.stages: {"default": [stages…], "<sector id>": [stages…]}. Throws std::invalid_argument
  // naming the path at fault. Without "default", the built-in stages apply.
  static StageBook parse(const nlohmann::json& config);

  // The stages of a sector (its own, else the default ones), in order.
  const std::vector<Stage>& of(const std::string& sector_id) const;
  const Stage* find(const std::string& sector_id, const std::string& name) const;
  // The first stage a new opportunity starts in.
  const Stage& first(const std::string& sector_id) const { return of(sector_id).front(); }

  nlohmann::json to_json(const std::string& sector_id) const;

 private:
  std::map<std::string, std::vector<Stage>> by_sector_;  // "" holds the default
};

}  // namespace pipeline
