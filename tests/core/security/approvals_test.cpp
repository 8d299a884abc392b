// Approval chains: thresholds, modes, decisions, and segregation of duties enforced by the service — self-approval,
// one person on two steps, delegates acting for themselves or beyond the delegator, expired or out-of-scope
// delegations — on both backends; and the linter that refuses chains without an independent approver.
#include "security_fixture.h"

#include "approvals/approvals.h"
#include "clock/utc.h"

namespace annex::test {
namespace {

using approvals::ApprovalError;

constexpr const char* kChains = R"({"chains": {
  "claim": {"steps": [
    {"name": "head", "permission": "expenses.claim.approve"},
    {"name": "finance", "role": "finance", "scope": "any", "min_amount": 500000, "currency": "CNY"}]},
  "board": {"steps": [{"name": "all-finance", "role": "finance", "scope": "any", "mode": "all"}]},
  "audit-check": {"steps": [{"name": "auditors", "role": "auditor", "scope": "any"}]}
}})";

class ApprovalsTest : public SecurityTest {
 protected:
  void SetUp() override {
    SecurityTest::SetUp();
    if (IsSkipped()) return;
    std::map<std::string, approvals::Chain> chains;
    auto lint = approvals::parse_chains(kChains, authorizer_->roles(), &chains);
    ASSERT_TRUE(lint.empty()) << lint.front().path << ": " << lint.front().message;
    service_ = std::make_unique<approvals::ApprovalService>(*db_, *authorizer_, *audit_, nullptr, std::move(chains));
    rep_ = user("rep", "sales-rep", "north");
    head_ = user("head", "sector-head", "north");
    head2_ = user("head2", "sector-head", "north");
    south_head_ = user("southhead", "sector-head", "south");
    clerk_ = user("clerk", "sales-clerk", "north");
    fin_ = user("fin", "finance", "*");
    fin2_ = user("fin2", "finance", "*");
  }

  approvals::Approval submit(const std::string& submitter, int64_t amount, const std::string& chain = "claim") {
    return service_->submit(nullptr, {chain, "expenses.claim", "c" + std::to_string(++items_), "north", submitter,
                                      amount, "CNY"});
  }

  approvals::Approval decide(const approvals::Approval& a, const std::string& actor, const std::string& decision = "approve",
                             const std::string& on_behalf_of = "") {
    return service_->decide(nullptr, a.id, actor, decision, decision == "approve" ? "" : "see the receipts",
                            on_behalf_of);
  }

  // The status of the refusal `fn` throws; 0 when it throws none.
  template <typename Fn>
  int refusal(Fn&& fn) {
    try {
      fn();
    } catch (const ApprovalError& e) {
      return e.status();
    }
    return 0;
  }

  std::string delegation(const std::string& from_user, const std::string& to_user, std::vector<std::string> chains,
                         long long from_offset_s = -60, long long until_offset_s = 86400) {
    return service_->delegate(from_user, to_user, chains, clock::utc_now(from_offset_s), clock::utc_now(until_offset_s)).id;
  }

  std::unique_ptr<approvals::ApprovalService> service_;
  std::string rep_, head_, head2_, south_head_, clerk_, fin_, fin2_;
  int items_ = 0;
};

TEST_P(ApprovalsTest, BelowTheThresholdOneSectorApproverSuffices) {
  approvals::Approval a = submit(rep_, 12000);
  EXPECT_EQ(a.steps, (std::vector<std::string>{"head"}));
  a = decide(a, head_);
  EXPECT_EQ(a.status, "approved");
  ASSERT_EQ(a.decisions.size(), 1u);
  EXPECT_EQ(a.decisions[0].decider_id, head_);
}

TEST_P(ApprovalsTest, AtTheThresholdFinanceMustApproveToo) {
  approvals::Approval a = submit(rep_, 500000);
  EXPECT_EQ(a.steps, (std::vector<std::string>{"head", "finance"}));
  a = decide(a, head_);
  EXPECT_EQ(a.status, "pending");
  a = decide(a, fin_);
  EXPECT_EQ(a.status, "approved");
}

TEST_P(ApprovalsTest, TheSubmitterNeverApprovesTheirOwnItem) {
  approvals::Approval a = submit(head_, 12000);
  EXPECT_EQ(refusal([&] { decide(a, head_); }), 403);
  EXPECT_EQ(service_->get(a.id)->status, "pending");
  EXPECT_EQ(decide(a, head2_).status, "approved");
}

TEST_P(ApprovalsTest, OnePersonCannotDecideTwoStepsOfAnItem) {
  approvals::Approval a = submit(rep_, 900000);
  a = decide(a, fin_);  // finance holds *.approve everywhere, so fin may take the head step
  EXPECT_EQ(a.status, "pending");
  EXPECT_EQ(refusal([&] { decide(a, fin_); }), 403);
  EXPECT_EQ(decide(a, fin2_).status, "approved");
}

TEST_P(ApprovalsTest, ApproversOutsideTheItemsSectorOrWithoutThePermissionAreRefused) {
  approvals::Approval a = submit(rep_, 12000);
  // The south head cannot even see a north item: for them it does not exist.
  EXPECT_EQ(refusal([&] { decide(a, south_head_); }), 404);
  EXPECT_EQ(refusal([&] { decide(a, clerk_); }), 403);
  EXPECT_EQ(service_->get(a.id)->decisions.size(), 0u);
}

TEST_P(ApprovalsTest, ADecisionOnAnApprovalOutOfReachLooksLikeOneOnAMissingApproval) {
  std::string south_clerk = user("southclerk", "sales-clerk", "south");
  approvals::Approval a = submit(rep_, 12000);
  auto message = [&](const std::string& id, const std::string& on_behalf_of) {
    try {
      service_->decide(nullptr, id, south_clerk, "approve", "", on_behalf_of);
    } catch (const ApprovalError& e) {
      return std::to_string(e.status()) + " " + e.what() + " field=" + e.field();
    }
    return std::string("decided");
  };
  const std::string missing = message("ap_made_up", head_);
  EXPECT_EQ(missing, "404 no such approval field=");
  // Naming a delegator who can see the item, without a delegation, confirms nothing: not the approval, not its
  // chain, not the delegator's id.
  EXPECT_EQ(message(a.id, head_), missing);
  EXPECT_EQ(message(a.id, ""), missing);
  EXPECT_EQ(message(a.id, south_head_), missing);
  // A delegation for another chain lends no sight of this item either.
  delegation(head_, south_clerk, {"board"});
  EXPECT_EQ(message(a.id, head_), missing);
  EXPECT_EQ(refusal([&] { service_->resubmit(nullptr, a.id, south_clerk); }), 404);
  // One that covers the chain does: the delegate decides with the delegator's authority.
  delegation(head_, south_clerk, {"claim"});
  EXPECT_EQ(message(a.id, head_), "decided");
}

TEST_P(ApprovalsTest, RefusesDelegationWithThreeDigitYear) {
  EXPECT_EQ(refusal([&] { service_->delegate(head_, clerk_, {"claim"}, "", "999-06-01T00:00:00Z"); }), 422);
  EXPECT_EQ(refusal([&] { service_->delegate(head_, clerk_, {"claim"}, "999-01-01T00:00:00Z", clock::utc_now(3600)); }), 422);
}

TEST_P(ApprovalsTest, RefusesDelegationOnADayNoCalendarHasOrWrittenLoosely) {
  for (const char* until : {"2027-02-30T00:00:00Z", "2027-1-5T00:00:00Z", "2027-01-05", "2027-01-05 00:00:00Z",
                            "2027-01-05T00:00:00", "tomorrow"}) {
    try {
      service_->delegate(head_, clerk_, {"claim"}, "", until);
      ADD_FAILURE() << until << " was accepted";
    } catch (const ApprovalError& e) {
      EXPECT_EQ(e.status(), 422) << until;
      EXPECT_EQ(e.field(), "valid_until") << until;
    }
  }
}

TEST_P(ApprovalsTest, ADelegationInTheYear999IsNotInForceToday) {
  approvals::Approval a = submit(rep_, 12000);
  approvals::Delegation d = service_->delegate(head_, clerk_, {"claim"}, "0999-01-01T00:00:00Z", "0999-06-01T00:00:00Z");
  EXPECT_EQ(d.valid_until, "0999-06-01T00:00:00Z");
  EXPECT_EQ(refusal([&] { decide(a, clerk_, "approve", head_); }), 403);
  EXPECT_TRUE(service_->awaiting(clerk_).empty());
}

TEST_P(ApprovalsTest, DelegationBoundsAreStoredInUtcWhateverOffsetWasGiven) {
  std::time_t now = std::time(nullptr);
  std::string from = clock::utc_iso(now - 3600), until = clock::utc_iso(now + 86400);
  // The same instants written at +08:00 with a fraction.
  auto at_plus_eight = [](std::time_t t) {
    std::string utc = clock::utc_iso(t + 8 * 3600);
    return utc.substr(0, 19) + ".5+08:00";
  };
  approvals::Delegation d = service_->delegate(head_, clerk_, {"claim"}, at_plus_eight(now - 3600), at_plus_eight(now + 86400));
  EXPECT_EQ(d.valid_from, from);
  EXPECT_EQ(d.valid_until, until);
  EXPECT_EQ(service_->delegations_of(clerk_).at(0).valid_until, until);
  approvals::Approval a = submit(rep_, 12000);
  EXPECT_EQ(decide(a, clerk_, "approve", head_).status, "approved");
}

TEST_P(ApprovalsTest, ADelegationStoredWithLooseTextIsNeverInForce) {
  // Rows written before bounds were checked strictly: compared as text, "999-…" sorts after today.
  sql("INSERT INTO annex_delegations (id, delegator_id, delegate_id, chains, valid_from, valid_until, created_at)"
      " VALUES ('dg_old', '" + head_ + "', '" + clerk_ + "', '[\"claim\"]', '0999-01-01T00:00:00Z',"
      " '999-06-01T00:00:00Z', '2026-01-01T00:00:00Z')");
  sql("INSERT INTO annex_delegations (id, delegator_id, delegate_id, chains, valid_from, valid_until, created_at)"
      " VALUES ('dg_loose', '" + head_ + "', '" + clerk_ + "', '[\"claim\"]', '2026-1-1T00:00:00Z',"
      " '9999-1-1T00:00:00Z', '2026-01-01T00:00:00Z')");
  approvals::Approval a = submit(rep_, 12000);
  EXPECT_EQ(refusal([&] { decide(a, clerk_, "approve", head_); }), 403);
  EXPECT_TRUE(service_->awaiting(clerk_).empty());
}

TEST_P(ApprovalsTest, ADelegateDecidesWithTheDelegatorsAuthorityAndIsRecordedAsSuch) {
  delegation(head_, clerk_, {"claim"});
  approvals::Approval a = submit(rep_, 12000);
  a = decide(a, clerk_, "approve", head_);
  EXPECT_EQ(a.status, "approved");
  EXPECT_EQ(a.decisions[0].decider_id, clerk_);
  EXPECT_EQ(a.decisions[0].on_behalf_of, head_);
  // The audit log holds the decision with both names.
  audit::Query q;
  q.object_id = a.id;
  auto entries = audit_->query(q);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_NE(entries[1].after_json.find(head_), std::string::npos);
  EXPECT_TRUE(audit::verify(*db_, signer_.get()).ok);
}

TEST_P(ApprovalsTest, ADelegateNeverDecidesTheirOwnItemNorOneTheirDelegatorSubmitted) {
  delegation(head_, rep_, {"*"});
  approvals::Approval own = submit(rep_, 12000);
  EXPECT_EQ(refusal([&] { decide(own, rep_, "approve", head_); }), 403);
  delegation(head_, head2_, {"claim"});
  approvals::Approval delegators = submit(head_, 12000);
  EXPECT_EQ(refusal([&] { decide(delegators, head2_, "approve", head_); }), 403);
  // head2 on their own authority is another matter.
  EXPECT_EQ(decide(delegators, head2_).status, "approved");
}

TEST_P(ApprovalsTest, ADelegateCannotApproveWhatTheDelegatorCouldNot) {
  delegation(south_head_, clerk_, {"claim"});
  approvals::Approval a = submit(rep_, 12000);
  EXPECT_EQ(refusal([&] { decide(a, clerk_, "approve", south_head_); }), 403);
}

TEST_P(ApprovalsTest, ExpiredFutureRevokedAndOutOfScopeDelegationsAreRefused) {
  approvals::Approval a = submit(rep_, 12000);
  delegation(head_, clerk_, {"claim"}, -2 * 86400, -86400);  // ended yesterday
  EXPECT_EQ(refusal([&] { decide(a, clerk_, "approve", head_); }), 403);
  delegation(head_, clerk_, {"claim"}, 3600, 86400);  // starts in an hour
  EXPECT_EQ(refusal([&] { decide(a, clerk_, "approve", head_); }), 403);
  delegation(head_, clerk_, {"board"});  // another chain
  EXPECT_EQ(refusal([&] { decide(a, clerk_, "approve", head_); }), 403);
  std::string id = delegation(head_, clerk_, {"claim"});
  EXPECT_EQ(refusal([&] { service_->revoke_delegation(id, clerk_); }), 404) << "only the delegator ends it";
  service_->revoke_delegation(id, head_);
  EXPECT_EQ(refusal([&] { decide(a, clerk_, "approve", head_); }), 403);
  EXPECT_EQ(service_->get(a.id)->status, "pending");
}

TEST_P(ApprovalsTest, DelegationsAreTimeBoxedAndChecked) {
  EXPECT_EQ(refusal([&] { service_->delegate(head_, head_, {"claim"}, "", clock::utc_now(3600)); }), 422);
  EXPECT_EQ(refusal([&] { service_->delegate(head_, clerk_, {"nope"}, "", clock::utc_now(3600)); }), 422);
  EXPECT_EQ(refusal([&] { service_->delegate(head_, clerk_, {"claim"}, "", ""); }), 422);
  EXPECT_EQ(refusal([&] { service_->delegate(head_, clerk_, {"claim"}, "", clock::utc_now(200 * 86400)); }), 422);
}

TEST_P(ApprovalsTest, AnAllStepNeedsEveryEligibleApprover) {
  approvals::Approval a = submit(rep_, 0, "board");
  EXPECT_EQ(a.required.size(), 2u);
  a = decide(a, fin_);
  EXPECT_EQ(a.status, "pending");
  EXPECT_EQ(refusal([&] { decide(a, fin_); }), 409);
  EXPECT_EQ(decide(a, fin2_).status, "approved");
}

TEST_P(ApprovalsTest, AReturnedItemIsResubmittedByItsSubmitterForANewRound) {
  approvals::Approval a = submit(rep_, 12000);
  EXPECT_EQ(refusal([&] { service_->decide(nullptr, a.id, head_, "return", "", ""); }), 422) << "a return needs a comment";
  a = decide(a, head_, "return");
  EXPECT_EQ(a.status, "returned");
  EXPECT_EQ(refusal([&] { decide(a, head2_); }), 409);
  EXPECT_EQ(refusal([&] { service_->resubmit(nullptr, a.id, head_); }), 403);
  a = service_->resubmit(nullptr, a.id, rep_);
  EXPECT_EQ(a.status, "pending");
  EXPECT_EQ(a.round, 2);
  EXPECT_EQ(decide(a, head_).status, "approved") << "a new round: the earlier return does not count as a step";
}

TEST_P(ApprovalsTest, AnItemInACurrencyMasterDataDoesNotHoldIsRefused) {
  try {
    service_->submit(nullptr, {"claim", "expenses.claim", "c-qqq", "north", rep_, 12000, "QQQ"});
    ADD_FAILURE() << "an item in QQQ was accepted";
  } catch (const ApprovalError& e) {
    EXPECT_EQ(e.status(), 422);
    EXPECT_EQ(e.field(), "currency");
  }
  EXPECT_EQ(submit(rep_, 12000).status, "pending");
}

TEST_P(ApprovalsTest, ARejectionIsFinal) {
  approvals::Approval a = decide(submit(rep_, 12000), head_, "reject");
  EXPECT_EQ(a.status, "rejected");
  EXPECT_EQ(refusal([&] { decide(a, head2_); }), 409);
  EXPECT_EQ(refusal([&] { service_->resubmit(nullptr, a.id, rep_); }), 409);
}

TEST_P(ApprovalsTest, SubmissionIsRefusedWhenNoIndependentApproverExists) {
  EXPECT_EQ(refusal([&] { submit(rep_, 0, "audit-check"); }), 422) << "nobody holds the auditor role";
  user("aud", "auditor", "*");
  EXPECT_EQ(submit(rep_, 0, "audit-check").status, "pending");
  // The only finance users cannot take both board approvals when one of them submits: fin2 must approve alone.
  approvals::Approval board = submit(fin_, 0, "board");
  EXPECT_EQ(board.required, (std::vector<std::string>{fin2_}));
}

TEST_P(ApprovalsTest, SubmissionsAreCheckedAndAnItemEntersAChainOnce) {
  EXPECT_EQ(refusal([&] { service_->submit(nullptr, {"nope", "x", "1", "north", rep_, 0, ""}); }), 422);
  EXPECT_EQ(refusal([&] { service_->submit(nullptr, {"claim", "x", "1", "north", rep_, -5, "CNY"}); }), 422);
  EXPECT_EQ(refusal([&] { service_->submit(nullptr, {"claim", "x", "1", "north", rep_, 900000, "USD"}); }), 422);
  service_->submit(nullptr, {"claim", "x", "1", "north", rep_, 10, "CNY"});
  EXPECT_EQ(refusal([&] { service_->submit(nullptr, {"claim", "x", "1", "north", rep_, 10, "CNY"}); }), 409);
}

TEST_P(ApprovalsTest, WhoAwaitsWhat) {
  approvals::Approval a = submit(rep_, 12000);
  auto ids = [](const std::vector<approvals::Approval>& list) {
    std::vector<std::string> out;
    for (const auto& x : list) out.push_back(x.id);
    return out;
  };
  EXPECT_EQ(ids(service_->awaiting(head_)), (std::vector<std::string>{a.id}));
  EXPECT_TRUE(service_->awaiting(rep_).empty());
  EXPECT_TRUE(service_->awaiting(south_head_).empty());
  EXPECT_TRUE(service_->awaiting(clerk_).empty());
  delegation(head_, clerk_, {"claim"});
  EXPECT_EQ(ids(service_->awaiting(clerk_)), (std::vector<std::string>{a.id}));
  EXPECT_TRUE(service_->visible(a, rep_));
  EXPECT_FALSE(service_->visible(a, south_head_));
}

INSTANTIATE_TEST_SUITE_P(Backends, ApprovalsTest, testing::Values(Backend::kSqlite, Backend::kPostgresql),
                         backend_param_name);

// The linter needs no database.
std::vector<std::string> lint(const std::string& chains_json) {
  std::vector<std::string> out;
  for (const auto& e : approvals::parse_chains(chains_json, auth::RoleCatalog::defaults(), nullptr)) {
    out.push_back(e.path + ": " + e.message);
  }
  return out;
}

TEST(ApprovalLinter, AcceptsAChainWithAnIndependentApprover) { EXPECT_TRUE(lint(kChains).empty()); }

TEST(ApprovalLinter, RefusesAChainThatCouldCompleteWithoutAnyApprover) {
  auto errors = lint(R"({"chains":{"c":{"steps":[{"name":"f","role":"finance","min_amount":100,"currency":"CNY"}]}}})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("approvals.chains.c.steps"), std::string::npos) << errors[0];
}

TEST(ApprovalLinter, RefusesStepsOnlyTheSubmittersPeersOrNobodyCouldDecide) {
  EXPECT_EQ(lint(R"({"chains":{"c":{"steps":[{"name":"s","role":"sales-rep"}]}}})").size(), 1u);
  EXPECT_EQ(lint(R"({"chains":{"c":{"steps":[{"name":"s","role":"no-such-role"}]}}})").size(), 1u);
  EXPECT_EQ(lint(R"({"chains":{"c":{"steps":[]}}})").size(), 1u);
  EXPECT_EQ(lint(R"({"chains":{"c":{"steps":[{"name":"s","role":"finance","permission":"x.approve"}]}}})").size(), 1u);
  EXPECT_EQ(lint(R"({"chains":{"c":{"steps":[{"name":"s","role":"finance","mode":"most"}]}}})").size(), 1u);
  EXPECT_EQ(lint(R"({"chains":{"c":{"steps":[{"name":"s","role":"finance"},{"name":"s","role":"finance"}]}}})").size(), 1u);
  EXPECT_EQ(lint(R"({"chains":{"c":{"steps":[{"name":"s","role":"finance","min_amount":-1}]}}})").size(), 1u);
}

}  // namespace
}  // namespace annex::test
