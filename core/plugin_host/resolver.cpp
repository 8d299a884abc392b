#include "plugin_host/resolver.h"

#include <functional>
#include <set>

namespace annex::plugin_host {

Resolution resolve(const std::vector<Candidate>& candidates, const std::map<std::string, std::string>& already_failed) {
  Resolution result;
  std::map<std::string, const Candidate*> by_id;
  for (const Candidate& c : candidates) by_id[c.id] = &c;
  for (const auto& [id, why] : already_failed) result.refused[id] = why;

  enum class Mark { kNone, kVisiting, kDone };
  std::map<std::string, Mark> marks;
  std::vector<std::string> stack;

  // Depth-first: a plugin is placed after all its requirements; a back edge is a cycle.
  std::function<bool(const std::string&)> visit = [&](const std::string& id) -> bool {
    if (result.refused.count(id)) return false;
    Mark& mark = marks[id];
    if (mark == Mark::kDone) return true;
    if (mark == Mark::kVisiting) {
      std::string cycle;
      bool in_cycle = false;
      for (const std::string& s : stack) {
        if (s == id) in_cycle = true;
        if (in_cycle) cycle += s + " → ";
      }
      cycle += id;
      for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
        result.refused[*it] = "dependency cycle: " + cycle;
        if (*it == id) break;
      }
      return false;
    }
    mark = Mark::kVisiting;
    stack.push_back(id);
    const Candidate& c = *by_id.at(id);
    bool ok = true;
    for (const Requirement& r : c.requirements) {
      auto dep = by_id.find(r.id);
      if (dep == by_id.end() && !result.refused.count(r.id)) {
        result.refused[id] = "requires " + r.id + " " + r.range.text() + ", which is not installed";
        ok = false;
        break;
      }
      if (dep != by_id.end() && !r.range.contains(dep->second->version)) {
        result.refused[id] = "requires " + r.id + " " + r.range.text() + ", but version " +
                             dep->second->version.to_string() + " is installed";
        ok = false;
        break;
      }
      if (!visit(r.id)) {
        if (!result.refused.count(id)) {
          result.refused[id] = "requires " + r.id + ", which cannot start: " + result.refused[r.id];
        }
        ok = false;
        break;
      }
    }
    stack.pop_back();
    mark = Mark::kDone;
    if (ok && !result.refused.count(id)) result.order.push_back(id);
    return ok && !result.refused.count(id);
  };

  for (const Candidate& c : candidates) visit(c.id);
  return result;
}

}  // namespace annex::plugin_host
