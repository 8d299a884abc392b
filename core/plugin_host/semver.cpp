#include "plugin_host/semver.h"

#include <charconv>
#include <sstream>

namespace annex::plugin_host {
namespace {

bool parse_number(std::string_view text, int& out) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= 0;
}

}  // namespace

std::optional<Version> Version::parse(std::string_view text, bool partial) {
  Version v;
  if (auto plus = text.find('+'); plus != std::string_view::npos) text = text.substr(0, plus);
  if (auto dash = text.find('-'); dash != std::string_view::npos) {
    v.pre = std::string(text.substr(dash + 1));
    if (v.pre.empty()) return std::nullopt;
    text = text.substr(0, dash);
  }
  int* parts[] = {&v.major, &v.minor, &v.patch};
  int count = 0;
  while (count < 3) {
    auto dot = text.find('.');
    std::string_view part = text.substr(0, dot);
    if (!parse_number(part, *parts[count])) return std::nullopt;
    ++count;
    if (dot == std::string_view::npos) break;
    text = text.substr(dot + 1);
    if (count == 3) return std::nullopt;  // a fourth part
  }
  if (count < 3 && !partial) return std::nullopt;
  return v;
}

std::string Version::to_string() const {
  std::string s = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  if (!pre.empty()) s += "-" + pre;
  return s;
}

int Version::compare(const Version& o) const {
  if (major != o.major) return major < o.major ? -1 : 1;
  if (minor != o.minor) return minor < o.minor ? -1 : 1;
  if (patch != o.patch) return patch < o.patch ? -1 : 1;
  if (pre == o.pre) return 0;
  if (pre.empty()) return 1;  // a release is newer than its pre-releases
  if (o.pre.empty()) return -1;
  return pre < o.pre ? -1 : 1;
}

std::optional<VersionRange> VersionRange::parse(std::string_view text, std::string* error) {
  VersionRange range;
  range.text_ = std::string(text);
  auto fail = [&](const std::string& why) -> std::optional<VersionRange> {
    if (error) *error = "invalid version range \"" + std::string(text) + "\": " + why;
    return std::nullopt;
  };
  std::string all(text);
  size_t start = 0;
  while (true) {
    size_t bar = all.find("||", start);
    std::string alt = all.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
    std::istringstream words(alt);
    std::string word;
    std::vector<Comparator> comparators;
    while (words >> word) {
      if (word == "*" || word == "x") continue;
      Op op = Op::kEq;
      std::string_view rest = word;
      char kind = 0;
      if (rest.rfind(">=", 0) == 0) { op = Op::kGe; rest.remove_prefix(2); }
      else if (rest.rfind("<=", 0) == 0) { op = Op::kLe; rest.remove_prefix(2); }
      else if (rest[0] == '>') { op = Op::kGt; rest.remove_prefix(1); }
      else if (rest[0] == '<') { op = Op::kLt; rest.remove_prefix(1); }
      else if (rest[0] == '=') { rest.remove_prefix(1); }
      else if (rest[0] == '^' || rest[0] == '~') { kind = rest[0]; rest.remove_prefix(1); }
      auto v = Version::parse(rest, true);
      if (!v) return fail("\"" + word + "\" is not a version");
      int dots = 0;
      for (char c : rest) dots += c == '.';
      if (kind == '^') {
        Version upper = v->major > 0 ? Version{v->major + 1, 0, 0, {}}
                        : dots >= 1 && v->minor > 0 ? Version{0, v->minor + 1, 0, {}}
                        : dots >= 1 ? Version{0, 0, v->patch + 1, {}} : Version{1, 0, 0, {}};
        comparators.push_back({Op::kGe, *v});
        comparators.push_back({Op::kLt, upper});
      } else if (kind == '~') {
        Version upper = dots >= 1 ? Version{v->major, v->minor + 1, 0, {}} : Version{v->major + 1, 0, 0, {}};
        comparators.push_back({Op::kGe, *v});
        comparators.push_back({Op::kLt, upper});
      } else if (op == Op::kEq && dots < 2) {
        // "1.2" means any 1.2.x; "1" any 1.x.y.
        Version upper = dots == 1 ? Version{v->major, v->minor + 1, 0, {}} : Version{v->major + 1, 0, 0, {}};
        comparators.push_back({Op::kGe, *v});
        comparators.push_back({Op::kLt, upper});
      } else {
        comparators.push_back({op, *v});
      }
    }
    range.alternatives_.push_back(std::move(comparators));
    if (bar == std::string::npos) break;
    start = bar + 2;
  }
  return range;
}

bool VersionRange::contains(const Version& v) const {
  for (const auto& alt : alternatives_) {
    bool all = true;
    for (const auto& c : alt) {
      int cmp = v.compare(c.version);
      bool ok = (c.op == Op::kEq && cmp == 0) || (c.op == Op::kGt && cmp > 0) || (c.op == Op::kGe && cmp >= 0) ||
                (c.op == Op::kLt && cmp < 0) || (c.op == Op::kLe && cmp <= 0);
      if (!ok) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

}  // namespace annex::plugin_host
