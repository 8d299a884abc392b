// What a statement's payout is charged to (R3), as functions: each fee account with what the statement made payable
// on it and the special-expense account with its special expenses, recoveries taken off the largest shares first,
// adding up to the statement's net payable; consecutive draws taking consecutive parts, so that however a rep
// splits the payout, each account receives exactly its share.
#include "../../plugins/relationship_spending/statement.h"

#include <annex/sdk.hpp>

#include <gtest/gtest.h>

#include <map>

namespace annex::test {
namespace {

using nlohmann::json;
using relationship_spending::AccountShare;
using relationship_spending::draw_slice;
using relationship_spending::payable_by_account;
using relationship_spending::Statement;

json line(const std::string& account, int64_t before, int64_t after) {
  return {{"gl_account", account}, {"payable_before", before}, {"payable_after", after}};
}

Statement statement(const json& lines, const json& specials, int64_t carried_in, int64_t net_payable) {
  Statement s;
  s.id = "rs1";
  s.net_payable = net_payable;
  s.content = {{"customers", {{{"contracts", {{{"lines", lines}}}}}}},
               {"special_expenses", {{"on_statement", specials}}},
               {"totals", {{"recovery_carried_in", carried_in}}}};
  return s;
}

std::map<std::string, int64_t> by_account(const std::vector<AccountShare>& shares) {
  std::map<std::string, int64_t> out;
  for (const AccountShare& a : shares) out[a.account] += a.amount;
  return out;
}

TEST(RelationshipCharges, EachFeeAccountGetsWhatTheStatementMadePayableOnItAndSpecialExpensesTheirAccount) {
  Statement s = statement(json::array({line("660102", 0, 4000), line("660101", 0, 5000), line("660101", 0, 12500), line("660102", 0, 10000)}),
                          json::array({{{"payable_before", 0}, {"payable_after", 32000}}}), 0, 63500);
  std::vector<AccountShare> shares = payable_by_account(s, "660199");
  ASSERT_EQ(shares.size(), 3u);
  EXPECT_EQ(shares[0].account, "660101");
  EXPECT_EQ(shares[0].amount, 17500);
  EXPECT_EQ(shares[1].account, "660102");
  EXPECT_EQ(shares[1].amount, 14000);
  EXPECT_EQ(shares[2].account, "660199");
  EXPECT_EQ(shares[2].amount, 32000);
}

TEST(RelationshipCharges, RecoveriesComeOffTheLargestSharesFirst) {
  // 660102 gives back 3,000 of an earlier payment; 1,000 more was carried in from the last statement.
  Statement s = statement(json::array({line("660101", 0, 10000), line("660102", 5000, 2000), line("660103", 0, 6000)}), json::array(), 1000,
                          12000);
  std::map<std::string, int64_t> shares = by_account(payable_by_account(s, ""));
  EXPECT_EQ(shares, (std::map<std::string, int64_t>{{"660101", 6000}, {"660103", 6000}}));
}

TEST(RelationshipCharges, AStatementThatRecoversMoreThanItPaysChargesNothing) {
  Statement s = statement(json::array({line("660101", 9000, 0), line("660102", 0, 2000)}), json::array(), 0, 0);
  EXPECT_TRUE(payable_by_account(s, "").empty());
}

TEST(RelationshipCharges, SpecialExpensesWithoutTheirAccountConfiguredAreRefusedNamingTheSetting) {
  Statement s = statement(json::array({line("660101", 0, 1000)}), json::array({{{"payable_before", 0}, {"payable_after", 500}}}), 0, 1500);
  try {
    payable_by_account(s, "");
    FAIL() << "charged special expenses to no account";
  } catch (const annex::Error& e) {
    EXPECT_EQ(e.code(), ANNEX_ERR_UNPROCESSABLE);
    EXPECT_EQ(e.field(), "special_expense_account");
  }
}

TEST(RelationshipCharges, SharesThatDoNotAddUpToTheNetPayableAreAnErrorNotAPosting) {
  Statement s = statement(json::array({line("660101", 0, 1000)}), json::array(), 0, 1200);
  EXPECT_THROW(payable_by_account(s, ""), annex::Error);
}

TEST(RelationshipCharges, ConsecutiveDrawsTakeConsecutivePartsSoEachAccountGetsExactlyItsShare) {
  std::vector<AccountShare> shares = {{"660101", 17500}, {"660102", 14000}, {"660199", 32000}};
  EXPECT_EQ(by_account(draw_slice(shares, 0, 20000)), (std::map<std::string, int64_t>{{"660101", 17500}, {"660102", 2500}}));
  EXPECT_EQ(by_account(draw_slice(shares, 20000, 20000)), (std::map<std::string, int64_t>{{"660102", 11500}, {"660199", 8500}}));
  for (int64_t step : {1, 7, 999, 31500, 63500}) {
    std::map<std::string, int64_t> total;
    for (int64_t drawn = 0; drawn < 63500; drawn += step) {
      for (const auto& [account, amount] : by_account(draw_slice(shares, drawn, std::min<int64_t>(step, 63500 - drawn)))) total[account] += amount;
    }
    EXPECT_EQ(total, (std::map<std::string, int64_t>{{"660101", 17500}, {"660102", 14000}, {"660199", 32000}})) << "in draws of " << step;
  }
}

}  // namespace
}  // namespace annex::test
