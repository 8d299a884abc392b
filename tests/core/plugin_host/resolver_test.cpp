#include "plugin_host/resolver.h"

#include <gtest/gtest.h>

namespace annex::plugin_host {
namespace {

Candidate plugin(const std::string& id, const char* version, std::vector<std::pair<std::string, std::string>> reqs = {}) {
  Candidate c{id, *Version::parse(version), {}};
  for (auto& [rid, range] : reqs) {
    std::string error;
    c.requirements.push_back({rid, *VersionRange::parse(range, &error)});
  }
  return c;
}

size_t position(const Resolution& r, const std::string& id) {
  return std::find(r.order.begin(), r.order.end(), id) - r.order.begin();
}

TEST(Resolver, StartsEachPluginAfterItsRequirements) {
  Resolution r = resolve({plugin("org.c", "1.0.0", {{"org.b", "^1"}}), plugin("org.b", "1.2.0", {{"org.a", ">=1.0.0"}}),
                          plugin("org.a", "1.0.0")});
  ASSERT_EQ(r.order.size(), 3u);
  EXPECT_TRUE(r.refused.empty());
  EXPECT_LT(position(r, "org.a"), position(r, "org.b"));
  EXPECT_LT(position(r, "org.b"), position(r, "org.c"));
}

TEST(Resolver, RefusesAMissingRequirementNamingIt) {
  Resolution r = resolve({plugin("org.x", "1.0.0", {{"org.gone", ">=2.0.0"}}), plugin("org.ok", "1.0.0")});
  EXPECT_EQ(r.order, std::vector<std::string>{"org.ok"});
  EXPECT_EQ(r.refused.at("org.x"), "requires org.gone >=2.0.0, which is not installed");
}

TEST(Resolver, RefusesAVersionOutsideTheRange) {
  Resolution r = resolve({plugin("org.x", "1.0.0", {{"org.a", ">=2.0.0 <3.0.0"}}), plugin("org.a", "1.4.0")});
  EXPECT_EQ(r.refused.at("org.x"), "requires org.a >=2.0.0 <3.0.0, but version 1.4.0 is installed");
  EXPECT_EQ(r.order, std::vector<std::string>{"org.a"});
}

TEST(Resolver, RefusesEveryMemberOfACycleAndShowsIt) {
  Resolution r = resolve({plugin("org.a", "1.0.0", {{"org.b", "*"}}), plugin("org.b", "1.0.0", {{"org.c", "*"}}),
                          plugin("org.c", "1.0.0", {{"org.a", "*"}}), plugin("org.free", "1.0.0")});
  EXPECT_EQ(r.order, std::vector<std::string>{"org.free"});
  for (const char* id : {"org.a", "org.b", "org.c"}) {
    ASSERT_TRUE(r.refused.count(id)) << id;
    EXPECT_NE(r.refused.at(id).find("dependency cycle"), std::string::npos) << r.refused.at(id);
  }
  EXPECT_NE(r.refused.at("org.a").find("org.a → org.b → org.c → org.a"), std::string::npos) << r.refused.at("org.a");
}

TEST(Resolver, RefusesDependantsOfAFailedPlugin) {
  Resolution r = resolve({plugin("org.top", "1.0.0", {{"org.bad", "*"}})}, {{"org.bad", "bad configuration"}});
  EXPECT_TRUE(r.order.empty());
  EXPECT_NE(r.refused.at("org.top").find("bad configuration"), std::string::npos);
}

}  // namespace
}  // namespace annex::plugin_host
