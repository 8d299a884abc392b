// Semantic versions and the ranges a manifest's "requires" uses:
//   "1.2.3"  "=1.2.3"  ">=1.2.0 <2.0.0"  ">1.0"  "<=2"  "^1.2.3" (same major)  "~1.2.3" (same minor)  "*"
// Comparators separated by spaces must all hold; alternatives are separated by "||".
// Pre-release tags ("1.0.0-rc.1") order before the release, as in semver.org.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace annex::plugin_host {

struct Version {
  int major = 0;
  int minor = 0;
  int patch = 0;
  std::string pre;  // pre-release tag without '-'; empty for a release

  // Parses "MAJOR.MINOR.PATCH[-PRE][+BUILD]"; with `partial`, "1" and "1.2" are accepted too.
  static std::optional<Version> parse(std::string_view text, bool partial = false);
  std::string to_string() const;
  int compare(const Version& other) const;
  bool operator<(const Version& o) const { return compare(o) < 0; }
  bool operator==(const Version& o) const { return compare(o) == 0; }
};

class VersionRange {
 public:
  // Returns nullopt and sets *error on a malformed range.
  static std::optional<VersionRange> parse(std::string_view text, std::string* error);
  bool contains(const Version& v) const;
  const std::string& text() const { return text_; }

 private:
  enum class Op { kEq, kGt, kGe, kLt, kLe };
  struct Comparator {
    Op op;
    Version version;
  };
  std::vector<std::vector<Comparator>> alternatives_;
  std::string text_;
};

}  // namespace annex::plugin_host
