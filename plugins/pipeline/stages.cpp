#include "stages.h"

#include <stdexcept>

namespace pipeline {
namespace {

using nlohmann::json;

const char* kBuiltIn = R"([
  {"name": "prospecting", "probability": 10, "category": "pipeline", "to": ["qualification", "lost"]},
  {"name": "qualification", "probability": 25, "category": "pipeline", "to": ["prospecting", "proposal", "lost"]},
  {"name": "proposal", "probability": 50, "category": "best_case", "to": ["qualification", "negotiation", "lost"]},
  {"name": "negotiation", "probability": 75, "category": "commit", "to": ["proposal", "won", "lost"]},
  {"name": "won", "probability": 100, "category": "closed", "won": true, "closed": true, "to": []},
  {"name": "lost", "probability": 0, "category": "omitted", "closed": true, "to": []}
])";

std::vector<Stage> parse_list(const json& list, const std::string& path) {
  if (!list.is_array() || list.empty()) throw std::invalid_argument(path + ": a non-empty list of stages");
  std::vector<Stage> out;
  std::set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    const json& s = list[i];
    std::string at = path + "[" + std::to_string(i) + "]";
    if (!s.is_object() || !s.contains("name") || !s["name"].is_string() || s["name"].get<std::string>().empty()) {
      throw std::invalid_argument(at + ".name: required");
    }
    Stage st;
    st.name = s["name"].get<std::string>();
    st.order = static_cast<int>(i) + 1;
    if (!names.insert(st.name).second) throw std::invalid_argument(at + ".name: " + st.name + " appears twice");
    if (!s.contains("probability") || !s["probability"].is_number_integer() || s["probability"].get<int>() < 0 ||
        s["probability"].get<int>() > 100) {
      throw std::invalid_argument(at + ".probability: a whole percentage from 0 to 100");
    }
    st.probability = s["probability"].get<int>();
    st.category = s.value("category", std::string("pipeline"));
    if (std::find(kForecastCategories.begin(), kForecastCategories.end(), st.category) == kForecastCategories.end()) {
      throw std::invalid_argument(at + ".category: pipeline, best_case, commit, closed or omitted");
    }
    st.won = s.value("won", false);
    st.closed = s.value("closed", st.won);
    if (st.won && !st.closed) throw std::invalid_argument(at + ".closed: a won stage is closed");
    for (const auto& t : s.value("to", json::array())) {
      if (!t.is_string()) throw std::invalid_argument(at + ".to: stage names");
      st.to.insert(t.get<std::string>());
    }
    out.push_back(std::move(st));
  }
  for (size_t i = 0; i < out.size(); ++i) {
    for (const auto& t : out[i].to) {
      if (!names.count(t)) throw std::invalid_argument(path + "[" + std::to_string(i) + "].to: no stage named " + t);
    }
  }
  if (out.front().closed) throw std::invalid_argument(path + "[0]: the first stage must be open");
  if (std::none_of(out.begin(), out.end(), [](const Stage& s) { return s.won; })) {
    throw std::invalid_argument(path + ": one stage must be marked won");
  }
  if (std::none_of(out.begin(), out.end(), [](const Stage& s) { return s.closed && !s.won; })) {
    throw std::invalid_argument(path + ": one stage must be closed and not won (lost)");
  }
  return out;
}

}  // namespace

StageBook StageBook::parse(const json& config) {
  StageBook book;
  book.by_sector_[""] = parse_list(json::parse(kBuiltIn), "stages.default");
  if (config.is_null()) return book;
  if (!config.is_object()) throw std::invalid_argument("stages: {\"default\": [...], \"<sector>\": [...]}");
  for (const auto& [sector, list] : config.items()) {
    book.by_sector_[sector == "default" ? "" : sector] = parse_list(list, "stages." + sector);
  }
  return book;
}

const std::vector<Stage>& StageBook::of(const std::string& sector_id) const {
  auto it = by_sector_.find(sector_id);
  return it != by_sector_.end() ? it->second : by_sector_.at("");
}

const Stage* StageBook::find(const std::string& sector_id, const std::string& name) const {
  for (const auto& s : of(sector_id)) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

json StageBook::to_json(const std::string& sector_id) const {
  json out = json::array();
  for (const auto& s : of(sector_id)) {
    out.push_back({{"name", s.name}, {"order", s.order}, {"probability", s.probability}, {"category", s.category},
                   {"won", s.won}, {"closed", s.closed}, {"to", s.to}});
  }
  return out;
}

}  // namespace pipeline
