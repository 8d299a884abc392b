// The audit log: appends chain, checkpoints are signed, and every kind of tampering — an edited amount, a deleted,
// inserted or swapped entry, truncation, a rewritten tail, a forged checkpoint — is detected with the sequence
// number where the log stops being trustworthy; on both backends, in the database and in an export.
#include "security_fixture.h"

#include "store/transaction.h"

#include <sstream>

namespace annex::test {
namespace {

class AuditTest : public SecurityTest {
 protected:
  void SetUp() override {
    SecurityTest::SetUp();
    if (IsSkipped()) return;
    for (int i = 1; i <= 25; ++i) {
      audit_->append({"u_clerk", "expenses.claim.update", "expenses.claim", "c" + std::to_string(i),
                      R"({"amount":{"amount":100,"currency":"CNY"}})",
                      R"({"amount":{"amount":)" + std::to_string(100 + i) + R"(,"currency":"CNY"}})"});
    }
  }

  audit::VerifyReport check() { return audit::verify(*db_, signer_.get()); }

  audit::Entry entry(int64_t seq) {
    audit::Query q;
    q.after_seq = seq - 1;
    q.limit = 1;
    return audit_->query(q).at(0);
  }

  void overwrite(const audit::Entry& e) {
    store::Lease lease(*db_);
    store::Param p[] = {store::Param::text(e.at),        store::Param::text(e.principal),
                        store::Param::text(e.action),    store::Param::text(e.object_type),
                        store::Param::text(e.object_id), store::Param::text(e.before_json),
                        store::Param::text(e.after_json), store::Param::text(e.hash),
                        store::Param::integer(e.seq)};
    store::run(lease.session(),
               "UPDATE annex_audit SET at = ?, principal = ?, action = ?, object_type = ?, object_id = ?,"
               " before_json = ?, after_json = ?, hash = ? WHERE seq = ?",
               p);
  }
};

TEST_P(AuditTest, AnUntouchedLogVerifiesWithItsSignedCheckpoints) {
  audit::VerifyReport r = check();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.entries, 25);
  EXPECT_EQ(r.checkpoints, 2);  // every 10 entries
  EXPECT_EQ(audit_->checkpoint(), 25);
  EXPECT_EQ(audit_->checkpoint(), 0) << "nothing new to sign";
  EXPECT_EQ(check().checkpoints, 3);
}

TEST_P(AuditTest, AnEditedAmountIsDetectedAtItsEntry) {
  audit::Entry e = entry(7);
  e.after_json = R"({"amount":{"amount":999999,"currency":"CNY"}})";
  overwrite(e);
  audit::VerifyReport r = check();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 7) << r.problem;
}

TEST_P(AuditTest, ADeletedEntryIsDetectedAtItsNumber) {
  sql("DELETE FROM annex_audit WHERE seq = 12");
  audit::VerifyReport r = check();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 12) << r.problem;
}

TEST_P(AuditTest, SwappedEntriesAreDetectedAtTheFirst) {
  audit::Entry five = entry(5), six = entry(6);
  std::swap(five.seq, six.seq);
  overwrite(five);
  overwrite(six);
  audit::VerifyReport r = check();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 5) << r.problem;
}

TEST_P(AuditTest, TruncationIsDetectedEvenWhenTheHeadIsRewound) {
  sql("DELETE FROM annex_audit WHERE seq > 15");
  audit::VerifyReport r = check();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 16) << r.problem;
  // Rewinding the head to the new end does not hide it: checkpoint 20 was signed over entries now gone.
  audit::Entry last = entry(15);
  sql("UPDATE annex_audit_head SET seq = 15, hash = '" + last.hash + "' WHERE id = 1");
  r = check();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 16) << r.problem;
}

TEST_P(AuditTest, ARewrittenTailWithRecomputedHashesFailsAtTheNextCheckpoint) {
  std::string previous = entry(12).hash;
  for (int64_t seq = 13; seq <= 25; ++seq) {
    audit::Entry e = entry(seq);
    if (seq == 13) e.after_json = R"({"amount":{"amount":1,"currency":"CNY"}})";
    e.hash = audit::chain_hash(previous, e);
    previous = e.hash;
    overwrite(e);
  }
  sql("UPDATE annex_audit_head SET hash = '" + previous + "' WHERE id = 1");
  audit::VerifyReport r = check();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 20) << r.problem;
}

TEST_P(AuditTest, AnEntryForgedAfterTheHeadIsDetected) {
  audit::Entry e = entry(25);
  e.seq = 26;
  e.hash = audit::chain_hash(e.hash, e);
  {
    store::Lease lease(*db_);
    store::Param p[] = {store::Param::integer(e.seq), store::Param::text(e.at), store::Param::text(e.principal),
                        store::Param::text(e.action), store::Param::text(e.object_type), store::Param::text(e.object_id),
                        store::Param::text(e.before_json), store::Param::text(e.after_json), store::Param::text(e.hash)};
    store::run(lease.session(),
               "INSERT INTO annex_audit (seq, at, principal, action, object_type, object_id, before_json, after_json, hash)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               p);
  }
  audit::VerifyReport r = check();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 26) << r.problem;
}

TEST_P(AuditTest, AForgedSignatureOrAnotherKeyIsRefused) {
  audit::Signer other = audit::Signer::load_or_create((dir_.path() / "other.key").string());
  audit::VerifyReport r = audit::verify(*db_, &other);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 10) << r.problem;
  sql("UPDATE annex_audit_checkpoints SET signature = '" + std::string(128, 'a') + "' WHERE seq = 20");
  r = check();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 20) << r.problem;
}

TEST_P(AuditTest, AnExportVerifiesOfflineAndItsTamperingIsDetected) {
  std::ostringstream out;
  audit_->export_jsonl(out);
  std::string text = out.str();
  {
    std::istringstream in(text);
    audit::VerifyReport r = audit::verify_jsonl(in, signer_.get());
    EXPECT_TRUE(r.ok) << r.problem;
    EXPECT_EQ(r.entries, 25);
  }
  {
    std::string edited = text;
    size_t at = edited.find(R"("amount":108)");
    ASSERT_NE(at, std::string::npos);
    edited.replace(at, 12, R"("amount":908)");
    std::istringstream in(edited);
    audit::VerifyReport r = audit::verify_jsonl(in, signer_.get());
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.first_bad_seq, 8) << r.problem;
  }
  {
    // Cut after entry 21: the end marker is gone.
    size_t cut = 0;
    for (int lines = 0; lines < 2 + 21; ++lines) cut = text.find('\n', cut) + 1;
    std::istringstream in(text.substr(0, cut));
    audit::VerifyReport r = audit::verify_jsonl(in, signer_.get());
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.first_bad_seq, 22) << r.problem;
  }
}

TEST_P(AuditTest, AnAppendRolledBackWithItsChangeLeavesNoTrace) {
  {
    store::Lease lease(*db_);
    store::ScopedTransaction txn(lease.session(), db_->dialect());
    audit_->append(lease.session(), {"u_x", "expenses.claim.approve", "expenses.claim", "c1", "", "{}"});
    // No commit: the business change failed.
  }
  audit::Entry next = audit_->append({"u_x", "expenses.claim.approve", "expenses.claim", "c1", "", "{}"});
  EXPECT_EQ(next.seq, 26);
  EXPECT_TRUE(check().ok);
}

TEST_P(AuditTest, EntriesAreCanonicalAndBadJsonIsRefused) {
  audit::Entry e = audit_->append({"u_x", "a.b", "t", "1", R"({ "b" : 1, "a" : [2, {"d":1,"c":0}] })", ""});
  EXPECT_EQ(e.before_json, R"({"a":[2,{"c":0,"d":1}],"b":1})");
  EXPECT_EQ(e.after_json, "null");
  EXPECT_THROW(audit_->append({"u_x", "a.b", "t", "1", "{not json", ""}), std::invalid_argument);
  EXPECT_THROW(audit_->append({"u_x", "", "t", "1", "", ""}), std::invalid_argument);
  EXPECT_TRUE(check().ok);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditTest, testing::Values(Backend::kSqlite, Backend::kPostgresql),
                         backend_param_name);

}  // namespace
}  // namespace annex::test
