#include "plugin_host/config_schema.h"
#include "plugin_host/manifest.h"
#include "plugin_host/module.h"
#include "plugin_host/plugin_host.h"

#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

namespace annex::plugin_host {
namespace {

TEST(Manifest, ParsesRequiresUsesAndSchema) {
  Manifest m;
  std::string error;
  ASSERT_TRUE(parse_manifest(R"({"name":"X","requires":{"org.a":"^1.2"},"uses":["annex.db@1"],
                                 "config_schema":{"type":"object","properties":{"n":{"type":"integer"}}}})",
                             &m, &error))
      << error;
  EXPECT_EQ(m.name, "X");
  ASSERT_EQ(m.requirements.size(), 1u);
  EXPECT_EQ(m.requirements[0].id, "org.a");
  ASSERT_EQ(m.uses.size(), 1u);
  EXPECT_EQ(m.uses[0].name, "annex.db");
  EXPECT_EQ(m.uses[0].major, 1u);
  EXPECT_TRUE(m.config_schema);
}

TEST(Manifest, NamesTheMemberAtFault) {
  Manifest m;
  std::string error;
  EXPECT_FALSE(parse_manifest(R"({"uses":["annex.db"]})", &m, &error));
  EXPECT_NE(error.find("manifest.uses"), std::string::npos) << error;
  EXPECT_FALSE(parse_manifest(R"({"requires":{"org.a":"not a range!"}})", &m, &error));
  EXPECT_NE(error.find("manifest.requires.org.a"), std::string::npos) << error;
  EXPECT_FALSE(parse_manifest(R"({"config_schema":{"type":"object","patternProperties":{}}})", &m, &error));
  EXPECT_NE(error.find("patternProperties"), std::string::npos) << error;
  EXPECT_FALSE(parse_manifest("{not json", &m, &error));
  EXPECT_NE(error.find("not valid JSON"), std::string::npos) << error;
}

TEST(Manifest, ProvidesNamesServicesOutsideTheHostsNamespace) {
  Manifest m;
  std::string error;
  ASSERT_TRUE(parse_manifest(R"({"provides":["org.annex.expenses.advances@1"]})", &m, &error)) << error;
  ASSERT_EQ(m.provides.size(), 1u);
  EXPECT_EQ(m.provides[0].name, "org.annex.expenses.advances");
  EXPECT_EQ(m.provides[0].major, 1u);
  EXPECT_FALSE(parse_manifest(R"({"provides":["annex.db@1"]})", &m, &error));
  EXPECT_NE(error.find("manifest.provides: \"annex.db\" must be a reverse-DNS name outside"), std::string::npos) << error;
  EXPECT_FALSE(parse_manifest(R"({"provides":["widgets@1"]})", &m, &error));
  EXPECT_NE(error.find("manifest.provides"), std::string::npos) << error;
  EXPECT_FALSE(parse_manifest(R"({"provides":["org.x.widgets"]})", &m, &error));
  EXPECT_NE(error.find("must be written service@major"), std::string::npos) << error;
}

TEST(Manifest, ReverseDnsIds) {
  EXPECT_TRUE(is_reverse_dns("org.annex.hello"));
  EXPECT_TRUE(is_reverse_dns("com.example.my-plugin_2"));
  EXPECT_FALSE(is_reverse_dns("hello"));
  EXPECT_FALSE(is_reverse_dns("Org.Annex"));
  EXPECT_FALSE(is_reverse_dns("org..annex"));
  EXPECT_FALSE(is_reverse_dns("org.1annex"));
}

Poco::JSON::Object::Ptr object(const std::string& json) {
  return Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
}

TEST(ConfigSchema, FillsDefaultsAndReportsEveryProblemWithItsPath) {
  auto schema = object(R"({"type":"object","required":["url"],"properties":{
      "url":{"type":"string","minLength":1},
      "batch":{"type":"integer","default":100,"minimum":1,"maximum":1000},
      "mode":{"type":"string","enum":["pull","push"],"default":"pull"}}})");
  Poco::Dynamic::Var ok = object(R"({"url":"http://x"})");
  EXPECT_TRUE(apply_schema(schema, ok, "plugins.p").empty());
  auto filled = ok.extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(filled->getValue<int>("batch"), 100);
  EXPECT_EQ(filled->getValue<std::string>("mode"), "pull");

  Poco::Dynamic::Var bad = object(R"({"batch":0,"mode":"sideways"})");
  auto problems = apply_schema(schema, bad, "plugins.p");
  ASSERT_EQ(problems.size(), 3u);
  std::map<std::string, std::string> by_path;
  for (auto& p : problems) by_path[p.path] = p.message;
  EXPECT_NE(by_path["plugins.p.batch"].find("at least 1"), std::string::npos);
  EXPECT_NE(by_path["plugins.p.mode"].find("one of"), std::string::npos);
  EXPECT_EQ(by_path["plugins.p.url"], "is required");
}

TEST(ConfigSchema, RejectsAWrongType) {
  auto schema = object(R"({"type":"object","properties":{"n":{"type":"integer"}}})");
  Poco::Dynamic::Var bad = object(R"({"n":"ten"})");
  auto problems = apply_schema(schema, bad, "plugins.p");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "plugins.p.n");
  EXPECT_NE(problems[0].message.find("integer"), std::string::npos);
}

TEST(ConfigSchema, RefusesAKeyTheSchemaDoesNotListNamingIt) {
  auto schema = object(R"({"type":"object","properties":{"salutation":{"type":"string"},"tick_seconds":{"type":"integer"}}})");
  Poco::Dynamic::Var misspelt = object(R"({"salutaton":"Hi"})");
  auto problems = apply_schema(schema, misspelt, "plugins.p");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "plugins.p.salutaton");
  EXPECT_NE(problems[0].message.find("unknown key"), std::string::npos) << problems[0].message;
  EXPECT_NE(problems[0].message.find("salutation"), std::string::npos) << "names the keys it knows: " << problems[0].message;
}

TEST(ConfigSchema, AdditionalPropertiesAllowsOrChecksUnlistedKeys) {
  auto open = object(R"({"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":true})");
  Poco::Dynamic::Var extra = object(R"({"a":1,"b":"anything"})");
  EXPECT_TRUE(apply_schema(open, extra, "plugins.p").empty());

  auto map = object(R"({"type":"object","additionalProperties":{"type":"integer","minimum":0}})");
  Poco::Dynamic::Var counts = object(R"({"north":3,"south":-1})");
  auto problems = apply_schema(map, counts, "plugins.p");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "plugins.p.south");

  auto closed = object(R"({"type":"object","additionalProperties":false})");
  Poco::Dynamic::Var any = object(R"({"x":1})");
  problems = apply_schema(closed, any, "plugins.p");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "plugins.p.x");

  auto free_form = object(R"({"type":"object"})");
  Poco::Dynamic::Var whatever = object(R"({"x":1})");
  EXPECT_TRUE(apply_schema(free_form, whatever, "plugins.p").empty()) << "no properties listed: any key";
}

TEST(ConfigSchema, MinItemsAndMaxItems) {
  auto schema = object(R"({"type":"object","properties":{"severities":{"type":"array","minItems":1,"maxItems":3,
                                                                         "items":{"type":"string"}}}})");
  Poco::Dynamic::Var empty = object(R"({"severities":[]})");
  auto problems = apply_schema(schema, empty, "plugins.p");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "plugins.p.severities");
  EXPECT_NE(problems[0].message.find("at least 1"), std::string::npos) << problems[0].message;
  Poco::Dynamic::Var many = object(R"({"severities":["a","b","c","d"]})");
  EXPECT_EQ(apply_schema(schema, many, "plugins.p").size(), 1u);
  Poco::Dynamic::Var fine = object(R"({"severities":["a"]})");
  EXPECT_TRUE(apply_schema(schema, fine, "plugins.p").empty());

  Manifest m;
  std::string error;
  EXPECT_FALSE(parse_manifest(R"({"config_schema":{"type":"array","minItems":-1}})", &m, &error));
  EXPECT_NE(error.find("minItems"), std::string::npos) << error;
  EXPECT_FALSE(parse_manifest(R"({"config_schema":{"type":"object","additionalProperties":"no"}})", &m, &error));
  EXPECT_NE(error.find("additionalProperties"), std::string::npos) << error;
}

annex_status noop_create(const annex_host_api*, annex_str, annex_plugin**, annex_buffer*) { return ANNEX_OK; }
annex_status noop(annex_plugin*, annex_buffer*) { return ANNEX_OK; }
void noop_destroy(annex_plugin*) {}

annex_plugin_descriptor good_descriptor() {
  annex_plugin_descriptor d{};
  d.struct_size = sizeof d;
  d.abi_major = ANNEX_ABI_MAJOR;
  d.abi_minor = ANNEX_ABI_MINOR;
  d.id = "org.annex.test.good";
  d.version = "1.0.0";
  d.kind = ANNEX_KIND_CAPABILITY;
  d.manifest_json = "{}";
  d.create = &noop_create;
  d.on_register = &noop;
  d.start = &noop;
  d.stop = &noop;
  d.destroy = &noop_destroy;
  return d;
}

TEST(DescriptorCheck, AcceptsACurrentDescriptorAndAnOlderMinor) {
  annex_plugin_descriptor d = good_descriptor();
  EXPECT_EQ(check_descriptor(&d, "good.so", ANNEX_ABI_MAJOR, ANNEX_ABI_MINOR), "");
  EXPECT_EQ(check_descriptor(&d, "good.so", ANNEX_ABI_MAJOR, ANNEX_ABI_MINOR + 3), "");
}

TEST(DescriptorCheck, RefusesAnotherMajorNamingPluginFoundAndExpected) {
  annex_plugin_descriptor d = good_descriptor();
  d.abi_major = 2;
  d.abi_minor = 0;
  std::string why = check_descriptor(&d, "x.so", 1, 0);
  EXPECT_NE(why.find("org.annex.test.good"), std::string::npos) << why;
  EXPECT_NE(why.find("ABI 2.0"), std::string::npos) << why;
  EXPECT_NE(why.find("ABI 1.0"), std::string::npos) << why;
}

TEST(DescriptorCheck, RefusesANewerMinor) {
  annex_plugin_descriptor d = good_descriptor();
  d.abi_minor = 4;
  std::string why = check_descriptor(&d, "x.so", 1, 2);
  EXPECT_NE(why.find("ABI 1.4"), std::string::npos) << why;
  EXPECT_NE(why.find("newer than this host's ABI 1.2"), std::string::npos) << why;
}

TEST(DescriptorCheck, RefusesBadIdsVersionsAndMissingFunctions) {
  annex_plugin_descriptor d = good_descriptor();
  d.id = "NoDots";
  EXPECT_NE(check_descriptor(&d, "x.so", 1, ANNEX_ABI_MINOR).find("reverse-DNS"), std::string::npos);
  d = good_descriptor();
  d.version = "one";
  EXPECT_NE(check_descriptor(&d, "x.so", 1, ANNEX_ABI_MINOR).find("semantic version"), std::string::npos);
  d = good_descriptor();
  d.start = nullptr;
  EXPECT_NE(check_descriptor(&d, "x.so", 1, ANNEX_ABI_MINOR).find("lifecycle"), std::string::npos);
  d = good_descriptor();
  d.struct_size = 8;
  EXPECT_NE(check_descriptor(&d, "x.so", 1, ANNEX_ABI_MINOR).find("smaller"), std::string::npos);
}

TEST(Migrations, APortableMigrationUsingOneDatabasesAutoIdIsRefusedNamingTheWord) {
  const annex_migration sqlite_only[] = {
      {sizeof(annex_migration), 1, "things", "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT)", nullptr}};
  annex_plugin_descriptor d = good_descriptor();
  d.migrations = sqlite_only;
  d.migration_count = 1;
  std::vector<ChosenMigration> chosen;
  std::string error;
  EXPECT_FALSE(choose_migrations(d, "sqlite", &chosen, &error));
  EXPECT_NE(error.find("AUTOINCREMENT"), std::string::npos) << error;
  EXPECT_NE(error.find(".sqlite.sql"), std::string::npos) << error;

  const annex_migration postgres_only[] = {
      {sizeof(annex_migration), 1, "things", "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS  IDENTITY)", ""}};
  d.migrations = postgres_only;
  EXPECT_FALSE(choose_migrations(d, "postgresql", &chosen, &error));
  EXPECT_NE(error.find("AS IDENTITY"), std::string::npos) << error;

  // The same SQL as a variant for its own database is fine, and so are the words in a comment or a name.
  const annex_migration variants[] = {
      {sizeof(annex_migration), 1, "things", "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT)", "sqlite"},
      {sizeof(annex_migration), 1, "things", "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY)", "postgresql"},
      {sizeof(annex_migration), 2, "more", "-- no AUTOINCREMENT here\nCREATE TABLE u (serial TEXT, autoincrement_note TEXT)", nullptr}};
  d.migrations = variants;
  d.migration_count = 3;
  EXPECT_TRUE(choose_migrations(d, "sqlite", &chosen, &error)) << error;
  EXPECT_TRUE(choose_migrations(d, "postgresql", &chosen, &error)) << error;
  EXPECT_EQ(chosen.size(), 2u);
}

}  // namespace
}  // namespace annex::plugin_host
