// annexd --check-config and annexctl, run as a user runs them.
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <fstream>

namespace annex::test {
namespace {

std::string annexd() { return build_path("bin/annexd"); }
std::string annexctl() { return build_path("bin/annexctl"); }

std::string write_config(const TempDir& dir, const std::string& text) {
  std::string path = dir.str() + "/annex.json";
  std::ofstream(path) << text;
  return path;
}

TEST(CheckConfig, AcceptsAValidFile) {
  TempDir dir;
  std::string cfg = write_config(dir, R"({"listen":"127.0.0.1:0","plugins":{"org.annex.hello":{"salutation":"Hi"}}})");
  std::string out;
  EXPECT_EQ(run_program(annexd(), {"--config", cfg, "--data-dir", dir.str(), "--check-config"}, &out), 0) << out;
  EXPECT_NE(out.find("configuration is valid"), std::string::npos) << out;
}

TEST(CheckConfig, ExitsNonZeroNamingTheOffendingKey) {
  TempDir dir;
  std::string out;
  std::string cfg = write_config(dir, R"({"http":{"max_queued":"lots"}})");
  EXPECT_EQ(run_program(annexd(), {"--config", cfg, "--check-config"}, &out), 2);
  EXPECT_NE(out.find("http.max_queued"), std::string::npos) << out;

  cfg = write_config(dir, R"({"plugins":{"org.annex.hello":{"tick_seconds":-1}}})");
  EXPECT_EQ(run_program(annexd(), {"--config", cfg, "--check-config"}, &out), 2);
  EXPECT_NE(out.find("plugins.org.annex.hello.tick_seconds"), std::string::npos) << out;

  EXPECT_EQ(run_program(annexd(), {"--check-config"}, &out, {{"ANNEX_DATABASE_POOL_SIZE", "none"}}), 2);
  EXPECT_NE(out.find("database.pool_size"), std::string::npos) << out;
  EXPECT_NE(out.find("ANNEX_DATABASE_POOL_SIZE"), std::string::npos) << out;
}

TEST(CheckConfig, SetReachesAPluginByItsDottedIdAndAMisspeltKeyIsNamed) {
  TempDir dir;
  std::string out;
  EXPECT_EQ(run_program(annexd(), {"--data-dir", dir.str(), "--set", "plugins.org.annex.hello.tick_seconds=0",
                                   "--check-config"}, &out), 2);
  EXPECT_NE(out.find("plugins.org.annex.hello.tick_seconds: must be at least 1"), std::string::npos) << out;
  EXPECT_EQ(run_program(annexd(), {"--data-dir", dir.str(), "--set", "plugins.org.annex.hello.salutaton=Hi",
                                   "--check-config"}, &out), 2);
  EXPECT_NE(out.find("plugins.org.annex.hello.salutaton: unknown key"), std::string::npos) << out;
  EXPECT_EQ(run_program(annexd(), {"--data-dir", dir.str(), "--set", "plugins.org.annex.hello.salutation=Good day",
                                   "--check-config"}, &out), 0) << out;
}

TEST(Annexd, HelpAndVersion) {
  std::string out;
  EXPECT_EQ(run_program(annexd(), {"--help"}, &out), 0);
  for (const char* flag : {"--config", "--data-dir", "--listen", "--plugin-dir", "--check-config"}) {
    EXPECT_NE(out.find(flag), std::string::npos) << flag;
  }
  EXPECT_EQ(run_program(annexd(), {"--version"}, &out), 0);
  EXPECT_NE(out.find("plugin ABI 1."), std::string::npos);
  EXPECT_EQ(run_program(annexd(), {"--no-such-flag"}, &out), 2);
}

TEST(Annexctl, EveryCommandHasHelp) {
  std::string out;
  EXPECT_EQ(run_program(annexctl(), {"--help"}, &out), 0);
  EXPECT_NE(out.find("plugins list"), std::string::npos);
  for (std::vector<std::string> cmd : {std::vector<std::string>{"plugins", "list"}, {"migrate", "status"},
                                      {"migrate", "apply"}, {"config", "check"}}) {
    cmd.push_back("--help");
    EXPECT_EQ(run_program(annexctl(), cmd, &out), 0) << cmd[0] << " " << cmd[1] << ": " << out;
    EXPECT_NE(out.find("annexctl " + cmd[0] + " " + cmd[1]), std::string::npos) << out;
  }
  EXPECT_EQ(run_program(annexctl(), {"frobnicate"}, &out), 2);
  EXPECT_NE(out.find("unknown command"), std::string::npos);
}

TEST(Annexctl, AGroupWithoutItsSubcommandListsTheGroup) {
  std::string out;
  for (const char* group : {"sync", "plugins", "migrate", "user", "audit"}) {
    EXPECT_EQ(run_program(annexctl(), {group, "--help"}, &out), 0) << group << ": " << out;
    EXPECT_EQ(out.find("unknown command"), std::string::npos) << out;
    EXPECT_NE(out.find(std::string("  ") + group + " "), std::string::npos) << out;
  }
  EXPECT_EQ(run_program(annexctl(), {"sync", "--help"}, &out), 0);
  EXPECT_NE(out.find("sync run CONN"), std::string::npos) << out;
  EXPECT_NE(out.find("sync dead-letters"), std::string::npos) << out;
  EXPECT_EQ(out.find("migrate apply"), std::string::npos) << "only the group's commands: " << out;
  EXPECT_EQ(run_program(annexctl(), {"sync"}, &out), 2);
  EXPECT_NE(out.find("sync status"), std::string::npos) << out;
}

TEST(Annexctl, ListsPluginsAndFailsWhenOneCannotRun) {
  TempDir dir;
  std::string out;
  std::string plugins = build_path("lib/annex/plugins");
  EXPECT_EQ(run_program(annexctl(), {"--plugin-dir", plugins, "plugins", "list"}, &out), 0) << out;
  EXPECT_NE(out.find("org.annex.hello"), std::string::npos);
  EXPECT_NE(out.find("1.0.0"), std::string::npos);

  auto fixtures = dir.path() / "p";
  std::filesystem::create_directories(fixtures);
  std::filesystem::create_symlink(std::string(ANNEX_FIXTURE_PLUGIN_DIR) + "/abi_minor.so", fixtures / "abi_minor.so");
  EXPECT_EQ(run_program(annexctl(), {"--plugin-dir", plugins, "--plugin-dir", fixtures.string(), "plugins", "list"}, &out), 1);
  EXPECT_NE(out.find("org.annex.test.abi-minor"), std::string::npos) << out;
  EXPECT_NE(out.find("refused"), std::string::npos) << out;
}

TEST(Annexctl, ListsAPluginThatAsksForAnUndeclaredServiceAsRefused) {
  TempDir dir;
  std::string out;
  auto fixtures = dir.path() / "p";
  std::filesystem::create_directories(fixtures);
  std::filesystem::create_symlink(std::string(ANNEX_FIXTURE_PLUGIN_DIR) + "/undeclared_service.so",
                                  fixtures / "undeclared_service.so");
  EXPECT_EQ(run_program(annexctl(), {"--plugin-dir", build_path("lib/annex/plugins"), "--plugin-dir", fixtures.string(),
                                     "plugins", "list"}, &out), 1) << out;
  auto row = [&](const std::string& id) {  // the table's row, not a log line naming the plugin
    size_t at = out.find("\n" + id + " ");
    return at == std::string::npos ? std::string{} : out.substr(at + 1, out.find('\n', at + 1) - at - 1);
  };
  std::string line = row("org.annex.test.undeclared");
  EXPECT_NE(line.find("refused"), std::string::npos) << out;
  EXPECT_NE(line.find("annex.db@1"), std::string::npos) << out;
  EXPECT_NE(row("org.annex.hello").find(" ok "), std::string::npos) << "the others stay ok: " << out;
}

TEST(Annexctl, MigrateShowsPendingThenAppliesThem) {
  TempDir dir;
  std::string out;
  std::vector<std::string> base = {"--data-dir", dir.str(), "--plugin-dir", build_path("lib/annex/plugins")};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> args = base;
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  ASSERT_EQ(run_program(annexctl(), with({"migrate", "status"}), &out), 0) << out;
  EXPECT_NE(out.find("annex.core:"), std::string::npos) << out;
  EXPECT_NE(out.find("org.annex.hello:"), std::string::npos) << out;
  EXPECT_NE(out.find("  pending  "), std::string::npos) << out;
  ASSERT_EQ(run_program(annexctl(), with({"migrate", "apply"}), &out), 0) << out;
  EXPECT_NE(out.find("org.annex.hello: applied 2"), std::string::npos) << out;
  ASSERT_EQ(run_program(annexctl(), with({"migrate", "apply"}), &out), 0) << out;
  EXPECT_NE(out.find("org.annex.hello: up to date"), std::string::npos) << out;
  ASSERT_EQ(run_program(annexctl(), with({"migrate", "status"}), &out), 0) << out;
  EXPECT_EQ(out.find("  pending  "), std::string::npos) << out;
  // annexd starts on the migrated store without applying anything again.
  Annexd::Options o;
  o.data_dir = dir.str();
  Annexd d(o);
  EXPECT_EQ(d.log().find("applied"), std::string::npos) << d.log();
}

TEST(Annexctl, ReportsAnUnreachableDatabase) {
  std::string out;
  EXPECT_EQ(run_program(annexctl(), {"--database-url", "postgresql://nobody:secret@127.0.0.1:1/none", "migrate", "status"}, &out), 1);
  EXPECT_NE(out.find("cannot open postgresql database"), std::string::npos) << out;
  EXPECT_EQ(out.find("secret"), std::string::npos) << "the password must not be shown: " << out;
}

TEST(Annexctl, ConfigCheck) {
  TempDir dir;
  std::string out;
  EXPECT_EQ(run_program(annexctl(), {"--config", write_config(dir, R"({"log":{"level":"loud"}})"), "config", "check"}, &out), 2);
  EXPECT_NE(out.find("log.level"), std::string::npos) << out;
  EXPECT_EQ(run_program(annexctl(), {"--config", write_config(dir, R"({"log":{"level":"debug"}})"), "config", "check"}, &out), 0)
      << out;
}

}  // namespace
}  // namespace annex::test
