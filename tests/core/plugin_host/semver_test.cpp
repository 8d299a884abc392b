#include "plugin_host/semver.h"

#include <gtest/gtest.h>

namespace annex::plugin_host {
namespace {

Version v(const char* text) { return *Version::parse(text); }

bool in(const char* range, const char* version) {
  std::string error;
  auto r = VersionRange::parse(range, &error);
  EXPECT_TRUE(r) << error;
  return r && r->contains(v(version));
}

TEST(Version, ParsesAndOrders) {
  EXPECT_EQ(v("1.2.3").to_string(), "1.2.3");
  EXPECT_TRUE(v("1.2.3") < v("1.10.0"));
  EXPECT_TRUE(v("1.0.0-rc.1") < v("1.0.0"));
  EXPECT_TRUE(v("1.0.0+build.5") == v("1.0.0"));
  EXPECT_FALSE(Version::parse("1.2"));
  EXPECT_FALSE(Version::parse("1.2.3.4"));
  EXPECT_FALSE(Version::parse("01.2.3"));
  EXPECT_FALSE(Version::parse("a.b.c"));
  EXPECT_TRUE(Version::parse("1.2", true));
}

TEST(VersionRange, ComparatorsAreAnded) {
  EXPECT_TRUE(in(">=1.2.0 <2.0.0", "1.9.9"));
  EXPECT_FALSE(in(">=1.2.0 <2.0.0", "2.0.0"));
  EXPECT_FALSE(in(">=1.2.0 <2.0.0", "1.1.9"));
}

TEST(VersionRange, CaretAndTildeAndPartial) {
  EXPECT_TRUE(in("^1.2.3", "1.9.0"));
  EXPECT_FALSE(in("^1.2.3", "2.0.0"));
  EXPECT_FALSE(in("^0.2.3", "0.3.0"));
  EXPECT_TRUE(in("~1.2.3", "1.2.9"));
  EXPECT_FALSE(in("~1.2.3", "1.3.0"));
  EXPECT_TRUE(in("1.2", "1.2.7"));
  EXPECT_FALSE(in("1.2", "1.3.0"));
  EXPECT_TRUE(in("*", "7.0.0"));
}

TEST(VersionRange, AlternativesAreOred) {
  EXPECT_TRUE(in("^1 || ^3", "3.1.0"));
  EXPECT_FALSE(in("^1 || ^3", "2.1.0"));
}

TEST(VersionRange, RejectsGarbageWithAMessage) {
  std::string error;
  EXPECT_FALSE(VersionRange::parse(">=banana", &error));
  EXPECT_NE(error.find("banana"), std::string::npos);
}

}  // namespace
}  // namespace annex::plugin_host
