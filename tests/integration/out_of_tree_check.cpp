// Run by sdk_out_of_tree.sh: loads the hello plugin built out of tree (ANNEX_OOT_PLUGIN_DIR) into this build's
// annexd and exercises it over HTTP. Expects ANNEX_OOT_STDLIB to name the C++ library the module must use.
#include "support/test_support.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace annex::test {
namespace {

Poco::JSON::Object::Ptr json(const std::string& body) {
  return Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
}

TEST(OutOfTree, HelloBuiltAgainstTheInstalledSdkLoadsAndServes) {
  const char* dir = std::getenv("ANNEX_OOT_PLUGIN_DIR");
  ASSERT_NE(dir, nullptr) << "set ANNEX_OOT_PLUGIN_DIR to the out-of-tree build's plugin directory";
  Annexd::Options o;
  o.plugin_dirs = {dir};
  Annexd d(o);
  auto items = json(d.call("GET", "/api/v1/plugins").body)->getArray("items");
  ASSERT_EQ(items->size(), 1u);
  auto hello = items->getObject(0);
  EXPECT_EQ(hello->getValue<std::string>("id"), "org.annex.hello");
  EXPECT_EQ(hello->getValue<std::string>("state"), "started") << hello->getValue<std::string>("error");
  EXPECT_EQ(hello->getValue<std::string>("path").rfind(dir, 0), 0u) << "the module must come from the out-of-tree build";

  HttpResult created = d.call("POST", "/api/v1/hello/greetings", R"({"name":"Out of tree"})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(d.call("GET", created.header("location")).status, 200);
  // A bad request is answered by the plugin's own validation, through the SDK's exception trampoline.
  HttpResult bad = d.call("POST", "/api/v1/hello/greetings", R"({"name":7})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json(bad.body)->getObject("error")->getValue<std::string>("field"), "name");
  EXPECT_TRUE(eventually([&] {
    auto stats = json(d.call("GET", "/api/v1/hello/stats").body);
    return stats->getValue<int>("greetings_seen") == 1 && stats->getValue<int>("ticks") >= 1;
  }));
}

}  // namespace
}  // namespace annex::test
