#include "http/router.h"

#include <gtest/gtest.h>

namespace annex::http {
namespace {

Route route(const std::string& method, const std::string& path, const std::string& owner = "t") {
  Route r;
  r.method = method;
  r.path = path;
  r.owner = owner;
  r.handler = [path](HttpRequest&, HttpResponse& resp) { resp.body = path; };
  return r;
}

TEST(Router, MatchesLiteralAndCapturesParameters) {
  Router router;
  ASSERT_EQ(router.add(route("GET", "/api/v1/items/{id}/lines/{line}")), "");
  std::map<std::string, std::string, std::less<>> params;
  RouteMatch m = router.match("GET", "/api/v1/items/42/lines/7", &params);
  ASSERT_TRUE(m.route);
  EXPECT_EQ(params["id"], "42");
  EXPECT_EQ(params["line"], "7");
}

TEST(Router, LiteralSegmentBeatsParameterWhateverTheOrder) {
  Router router;
  ASSERT_EQ(router.add(route("GET", "/items/{id}")), "");
  ASSERT_EQ(router.add(route("GET", "/items/new")), "");
  RouteMatch m = router.match("GET", "/items/new", nullptr);
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->path, "/items/new");
  EXPECT_EQ(router.match("GET", "/items/5", nullptr).route->path, "/items/{id}");
}

TEST(Router, ReportsAllowedMethodsWhenOnlyTheMethodDiffers) {
  Router router;
  ASSERT_EQ(router.add(route("GET", "/items")), "");
  ASSERT_EQ(router.add(route("POST", "/items")), "");
  RouteMatch m = router.match("DELETE", "/items", nullptr);
  EXPECT_FALSE(m.route);
  EXPECT_EQ(m.allowed_methods, (std::vector<std::string>{"GET", "POST"}));
}

TEST(Router, UnknownPathMatchesNothing) {
  Router router;
  ASSERT_EQ(router.add(route("GET", "/items")), "");
  RouteMatch m = router.match("GET", "/other", nullptr);
  EXPECT_FALSE(m.route);
  EXPECT_TRUE(m.allowed_methods.empty());
  EXPECT_FALSE(router.match("GET", "/items/extra", nullptr).route);
}

TEST(Router, RefusesEquivalentTemplateNamingTheOwner) {
  Router router;
  ASSERT_EQ(router.add(route("GET", "/items/{id}", "org.a.one")), "");
  std::string problem = router.add(route("GET", "/items/{key}", "org.b.two"));
  EXPECT_NE(problem.find("already registered by org.a.one"), std::string::npos) << problem;
  EXPECT_EQ(router.add(route("PUT", "/items/{key}", "org.b.two")), "");
}

TEST(Router, RefusesMalformedTemplatesAndMethods) {
  Router router;
  EXPECT_NE(router.add(route("FETCH", "/x")), "");
  EXPECT_NE(router.add(route("GET", "no-slash")), "");
  EXPECT_NE(router.add(route("GET", "/items/{id")), "");
  EXPECT_NE(router.add(route("GET", "/items/x{id}")), "");
  EXPECT_NE(router.add(route("GET", "/a/{id}/b/{id}")), "");
}

TEST(Router, RemoveOwnerTakesOnlyThatOwnersRoutes) {
  Router router;
  ASSERT_EQ(router.add(route("GET", "/a", "org.x.a")), "");
  ASSERT_EQ(router.add(route("GET", "/b", "org.x.b")), "");
  router.remove_owner("org.x.a");
  EXPECT_FALSE(router.match("GET", "/a", nullptr).route);
  EXPECT_TRUE(router.match("GET", "/b", nullptr).route);
  EXPECT_EQ(router.routes().size(), 1u);
}

TEST(Router, RemoveOwnerWaitsForARequestInsideTheRoute) {
  Router router;
  ASSERT_EQ(router.add(route("GET", "/slow", "org.x.slow")), "");
  RouteMatch held = router.match("GET", "/slow", nullptr);  // a request in flight
  std::atomic<bool> removed{false};
  std::thread remover([&] {
    router.remove_owner("org.x.slow");
    removed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(removed) << "remove_owner returned while a request still held the route";
  held.route.reset();
  remover.join();
  EXPECT_TRUE(removed);
}

}  // namespace
}  // namespace annex::http
