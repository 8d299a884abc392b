// The audit log: appends chain, checkpoints are signed, and every kind of tampering — an edited amount, a deleted,
// inserted or swapped entry, truncation, a rewritten tail, a forged checkpoint — is detected with the sequence
// number where the log stops being trustworthy; on both backends, in the database and in an export.
#include "security_fixture.h"

#include "audit/audit_proof.h"
#include "crypto/digest.h"
#include "store/transaction.h"

#include <nlohmann/json.hpp>

#include <sstream>

namespace annex::test {
namespace {

// Canonical JSON is dump(parse(text)), whether the text was canonical already (kept as it is) or not (written
// again); text that is not JSON, or not UTF-8, is refused either way.
TEST(CanonicalJson, IsWhatAParseAndADumpWouldWriteWhateverTheText) {
  const char* const texts[] = {
      "null", "true", "false", "0", "-1", "123456789012345678", "\"\"", "[]", "{}", "[1,[2,[3]],{}]",
      R"({"a":1,"b":{"c":[true,null,"x"]},"z":"\u00e9"})", "{\"a\":\"\u5ba2\u60c5\u8d39 \xe5\xae\xa2\"}",
      R"({"esc":"\"\\\b\f\n\r\t\u0001\u001f"})",
      // Not canonical: written again.
      "{ \"a\": 1 }", R"({"b":1,"a":2})", R"({"a":1,"a":2})", "-0", "1.0", "1.5", "1e3", "-12345678901234567890",
      "12345678901234567890123", R"("\/")", R"("\u0041")", R"("\u00E9")", R"("\u000a")", R"({"\u0062":1,"a":2})",
      R"(["a" ,"b"])", "[1,2]\n", R"({"k":"v"}  )"};
  for (const char* text : texts) {
    EXPECT_EQ(audit::canonical_json(text), nlohmann::json::parse(text).dump()) << text;
  }
  for (const char* bad : {"{", "[1,]", R"({"a":1,})", "\"\xff\"", "\"\xed\xa0\x80\"", "tru", "nul", "-", "\"a", "{\"a\"1}",
                          R"("\u00zz")", "\"tab\there\"", "[1]x", "007"}) {
    EXPECT_THROW(audit::canonical_json(bad), std::invalid_argument) << bad;
  }
  std::string deep(300, '[');
  deep += std::string(300, ']');
  EXPECT_EQ(audit::canonical_json(deep), nlohmann::json::parse(deep).dump()) << "nesting past the scan's depth is parsed";
}

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

// Two daemons on one database with different keys: the one whose key did not sign the log signs no checkpoint
// (appends go on, the chain stays one), says why, and the log still verifies with the one public key.
TEST_P(AuditTest, ADaemonWithAnotherKeySignsNoCheckpointAndSaysWhy) {
  auto other_key = std::make_shared<const audit::Signer>(audit::Signer::load_or_create((dir_.path() / "other.key").string()));
  audit::AuditLog elsewhere(*db_, other_key, 10);
  EXPECT_EQ(elsewhere.key_conflict(), "");
  for (int i = 26; i <= 45; ++i) {
    elsewhere.append({"u_clerk", "expenses.claim.update", "expenses.claim", "c" + std::to_string(i), "", R"({"n":1})"});
  }
  const std::string why = elsewhere.key_conflict();
  EXPECT_NE(why.find("signed with key " + signer_->key_id()), std::string::npos) << why;
  EXPECT_NE(why.find(other_key->key_id()), std::string::npos) << why;
  EXPECT_THROW(elsewhere.checkpoint(), std::runtime_error);
  ASSERT_TRUE(audit_->last_checkpoint());
  EXPECT_EQ(audit_->last_checkpoint()->key_id, signer_->key_id());
  EXPECT_EQ(audit_->last_checkpoint()->seq, 20) << "the entries at 30 and 40 were not signed with the other key";
  EXPECT_EQ(audit_->checkpoint(), 45);
  audit::VerifyReport r = check();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.entries, 45);
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
    // Cut after entry 21 (after the format line, two checkpoints and 21 entries): the end marker is gone.
    size_t cut = 0;
    for (int lines = 0; lines < 1 + 2 + 21; ++lines) cut = text.find('\n', cut) + 1;
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

TEST_P(AuditTest, AFreshLogHashesEveryEntryAsChainFormatV2) {
  audit::Entry first = entry(1), second = entry(2);
  EXPECT_EQ(first.hash, audit::chain_link(audit::kGenesisHash, audit::entry_digest(first)));
  EXPECT_EQ(second.hash, audit::chain_link(first.hash, crypto::sha256_hex(audit::entry_text(second))));
  EXPECT_EQ(check().v2_from, 1);
  std::ostringstream out;
  audit_->export_jsonl(out);
  EXPECT_EQ(out.str().substr(0, out.str().find('\n')), R"({"format":{"chain":2,"v2_from":1}})");
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditTest, testing::Values(Backend::kSqlite, Backend::kPostgresql),
                         backend_param_name);

// A database whose log was written before chain format v2: its entries keep their v1 hashes, the upgrade makes the
// next entry the first v2 one, and the mixed chain verifies — in the database, in an export, and in an export
// written before the upgrade, which has no format line.
class AuditUpgradeTest : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    store::DatabaseOptions options;
    if (!fresh_database(GetParam(), dir_, &options)) GTEST_SKIP() << "no PostgreSQL for this run";
    db_ = std::make_unique<store::Database>(options);
    store::MigrationRunner runner(*db_);
    runner.prepare();
    std::vector<store::Migration> core = store::core_migrations(db_->dialect());
    std::vector<store::Migration> before_v2 = core;
    std::erase_if(before_v2, [](const store::Migration& m) { return m.version >= 14; });
    runner.apply(store::kCoreOwner, before_v2);
    // Entries 1–12 as the host wrote them before v2, with a checkpoint at 10.
    std::string previous = audit::kGenesisHash;
    signer_ = std::make_shared<audit::Signer>(audit::Signer::load_or_create((dir_.path() / "audit.key").string()));
    for (int64_t seq = 1; seq <= 12; ++seq) {
      audit::Entry e{seq, "2026-11-0" + std::to_string(1 + seq % 9) + "T10:00:00Z", "u_old", "expenses.claim.update",
                     "expenses.claim", "old" + std::to_string(seq), "null", R"({"amount":)" + std::to_string(seq) + "}", ""};
      e.hash = crypto::sha256_hex(previous + audit::entry_text(e));  // v1, as written then
      previous = e.hash;
      store::Lease lease(*db_);
      store::Param p[] = {store::Param::integer(e.seq), store::Param::text(e.at), store::Param::text(e.principal),
                          store::Param::text(e.action), store::Param::text(e.object_type), store::Param::text(e.object_id),
                          store::Param::text(e.before_json), store::Param::text(e.after_json), store::Param::text(e.hash)};
      store::run(lease.session(),
                 "INSERT INTO annex_audit (seq, at, principal, action, object_type, object_id, before_json, after_json,"
                 " hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 p);
      store::Param head[] = {store::Param::integer(e.seq), store::Param::text(e.hash)};
      store::run(lease.session(), "UPDATE annex_audit_head SET seq = ?, hash = ? WHERE id = 1", head);
      if (seq == 10) {
        audit::Checkpoint c{seq, e.hash, e.at, signer_->key_id(), {}};
        c.signature = signer_->sign(audit::checkpoint_message(c));
        store::Param cp[] = {store::Param::integer(c.seq), store::Param::text(c.hash), store::Param::text(c.at),
                             store::Param::text(c.key_id), store::Param::text(c.signature)};
        store::run(lease.session(),
                   "INSERT INTO annex_audit_checkpoints (seq, hash, at, key_id, signature) VALUES (?, ?, ?, ?, ?)", cp);
      }
    }
    before_upgrade_ = audit::verify(*db_, signer_.get());
    std::ostringstream exported;
    audit::AuditLog(*db_, nullptr).export_jsonl(exported);
    export_before_upgrade_ = exported.str();
    runner.apply(store::kCoreOwner, core);
    log_ = std::make_unique<audit::AuditLog>(*db_, signer_, 10);
    for (int i = 1; i <= 13; ++i) log_->append({"u_new", "expenses.claim.update", "expenses.claim", "new" + std::to_string(i), "", "{}"});
  }

  audit::Entry entry(int64_t seq) {
    store::Lease lease(*db_);
    store::Param p = store::Param::integer(seq);
    auto rs = store::run(lease.session(),
                         "SELECT seq, at, principal, action, object_type, object_id, before_json, after_json, hash"
                         " FROM annex_audit WHERE seq = ?",
                         std::span<const store::Param>(&p, 1));
    const auto& r = rs.rows.at(0);
    return audit::Entry{r[0].i, r[1].s, r[2].s, r[3].s, r[4].s, r[5].s, r[6].s, r[7].s, r[8].s};
  }

  void sql(const std::string& statement) {
    store::Lease lease(*db_);
    store::run(lease.session(), statement, {});
  }

  TempDir dir_;
  std::unique_ptr<store::Database> db_;
  std::shared_ptr<audit::Signer> signer_;
  std::unique_ptr<audit::AuditLog> log_;
  audit::VerifyReport before_upgrade_;  // checked by this version before its migration ran (annexctl before annexd)
  std::string export_before_upgrade_;
};

TEST_P(AuditUpgradeTest, ADatabaseNotYetUpgradedVerifiesAndExportsAsV1) {
  EXPECT_TRUE(before_upgrade_.ok) << before_upgrade_.problem;
  EXPECT_EQ(before_upgrade_.entries, 12);
  EXPECT_EQ(export_before_upgrade_.find("\"format\""), std::string::npos) << "v1 throughout: no format line";
  std::istringstream in(export_before_upgrade_);
  audit::VerifyReport r = audit::verify_jsonl(in, signer_.get());
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.entries, 12);
}

TEST_P(AuditUpgradeTest, OldEntriesKeepTheirV1HashesAndNewOnesAreV2) {
  audit::Entry last_v1 = entry(12), first_v2 = entry(13);
  EXPECT_EQ(first_v2.hash, audit::chain_link(last_v1.hash, audit::entry_digest(first_v2)));
  EXPECT_NE(first_v2.hash, crypto::sha256_hex(last_v1.hash + audit::entry_text(first_v2)));
  audit::VerifyReport r = audit::verify(*db_, signer_.get());
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.entries, 25);
  EXPECT_EQ(r.v2_from, 13);
  EXPECT_EQ(r.checkpoints, 2) << "the v1 checkpoint at 10 and the v2 one at 20";
}

TEST_P(AuditUpgradeTest, AnAlteredEntryFailsAtItsSeqOnEitherSideOfTheSwitch) {
  for (int64_t seq : {7, 16}) {
    audit::Entry e = entry(seq);
    sql("UPDATE annex_audit SET after_json = '{\"amount\":999}' WHERE seq = " + std::to_string(seq));
    audit::VerifyReport r = audit::verify(*db_, signer_.get());
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.first_bad_seq, seq) << r.problem;
    sql("UPDATE annex_audit SET after_json = '" + e.after_json + "' WHERE seq = " + std::to_string(seq));
    EXPECT_TRUE(audit::verify(*db_, signer_.get()).ok);
  }
}

TEST_P(AuditUpgradeTest, AnExportStatesTheSwitchAndVerifiesOnlyWithIt) {
  std::ostringstream out;
  log_->export_jsonl(out);
  std::string text = out.str();
  ASSERT_EQ(text.substr(0, text.find('\n')), R"({"format":{"chain":2,"v2_from":13}})");
  std::istringstream mixed(text);
  audit::VerifyReport r = audit::verify_jsonl(mixed, signer_.get());
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.entries, 25);
  // Without the format line the export reads as v1 throughout: its v2 entries no longer match.
  std::istringstream unmarked(text.substr(text.find('\n') + 1));
  r = audit::verify_jsonl(unmarked, signer_.get());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 13) << r.problem;
}

TEST_P(AuditUpgradeTest, AProofReachingIntoV1EntriesCarriesThemWholeAndVerifies) {
  std::ostringstream out;
  audit::ProofSize size = audit::write_proof(*log_, {11}, out);
  EXPECT_EQ(size.entries, 2) << "11, proven, and 12, hashed v1, whole";
  EXPECT_EQ(size.redacted, 8) << "13 to 20 as digests";
  std::string proof = out.str();
  std::istringstream in(proof);
  audit::ProofReport r = audit::verify_proof(in, signer_.get());
  EXPECT_TRUE(r.ok) << r.problem;
  // A v1 entry cannot be checked from its digest: shown as one, it is refused.
  size_t at = proof.find(R"({"seq":12,)");
  ASSERT_NE(at, std::string::npos);
  proof.replace(at, proof.find('\n', at) - at, R"({"seq":12,"digest":")" + audit::entry_digest(entry(12)) + "\"}");
  std::istringstream forged(proof);
  r = audit::verify_proof(forged, signer_.get());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 12) << r.problem;
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditUpgradeTest, testing::Values(Backend::kSqlite, Backend::kPostgresql),
                         backend_param_name);

}  // namespace
}  // namespace annex::test
