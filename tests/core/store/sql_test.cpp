#include "store/sql.h"

#include <gtest/gtest.h>

namespace annex::store {
namespace {

TEST(Placeholders, RewritesQuestionMarksOutsideQuotesAndComments) {
  size_t n = 0;
  EXPECT_EQ(rewrite_placeholders("SELECT * FROM t WHERE a = ? AND b = '?' AND \"c?\" = ? -- ?\n", &n),
            "SELECT * FROM t WHERE a = $1 AND b = '?' AND \"c?\" = $2 -- ?\n");
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(rewrite_placeholders("SELECT 'it''s ?', ? /* ? */", &n), "SELECT 'it''s ?', $1 /* ? */");
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(rewrite_placeholders("SELECT $$ ? $$, ?", &n), "SELECT $$ ? $$, $1");
  EXPECT_EQ(n, 1u);
}

TEST(CoreTables, FindsHostTableNamesButNotLiteralsOrLongerWords) {
  EXPECT_EQ(core_table_reference("SELECT * FROM annex_users"), "annex_users");
  EXPECT_EQ(core_table_reference("select 1 from \"Annex_Audit\""), "annex_audit");
  EXPECT_EQ(core_table_reference("SELECT 'annex_users' FROM t -- annex_tokens"), "");
  EXPECT_EQ(core_table_reference("SELECT my_annex_thing FROM t"), "");
}

TEST(Sql, CreatedTablesAreTheTablesAndViewsAScriptCreates) {
  EXPECT_EQ(created_tables("CREATE TABLE pipeline_leads (id TEXT PRIMARY KEY);\n"
                           "create table if not exists Pipeline_Stages (x INT); CREATE INDEX pipeline_i ON pipeline_leads (id);\n"
                           "CREATE VIEW pipeline_open AS SELECT 1; -- CREATE TABLE commented_out (x INT)\n"
                           "INSERT INTO pipeline_leads VALUES ('CREATE TABLE not_a_table (x INT)')"),
            (std::vector<std::string>{"pipeline_leads", "pipeline_stages", "pipeline_open"}));
}

TEST(Statements, SplitsOnSemicolonsOutsideQuotesAndBodies) {
  auto parts = split_statements("CREATE TABLE a (x TEXT DEFAULT ';');\n-- only a comment;\nINSERT INTO a VALUES ('b;c');\n"
                                "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;  ");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_NE(parts[0].find("DEFAULT ';'"), std::string::npos);
  EXPECT_NE(parts[1].find("'b;c'"), std::string::npos);
  EXPECT_NE(parts[2].find("SELECT 1; $$"), std::string::npos);
}

}  // namespace
}  // namespace annex::store
