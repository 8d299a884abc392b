// Proofs of some audit entries and evidence packs, on both backends: a proof verifies with the public key alone
// and shows nothing of the entries it does not prove; a tampered, removed or cut entry or digest, or another key,
// fails it; a pack's changed document, changed manifest, removed or added file fails it naming the file; unsafe
// document names are refused naming the field.
#include "security_fixture.h"

#include "audit/audit_proof.h"
#include "audit/evidence_pack.h"
#include "crypto/digest.h"
#include "errors/field_error.h"
#include "store/transaction.h"

#include <Poco/DateTime.h>
#include <Poco/Path.h>
#include <Poco/Zip/Compress.h>
#include <Poco/Zip/ZipArchive.h>
#include <Poco/Zip/ZipStream.h>
#include <nlohmann/json.hpp>

#include <map>
#include <sstream>

namespace annex::test {
namespace {

// The files of a ZIP archive, by name.
std::map<std::string, std::string> unzip(const std::string& bytes) {
  std::istringstream in(bytes);
  Poco::Zip::ZipArchive archive(in);
  std::map<std::string, std::string> files;
  for (auto it = archive.headerBegin(); it != archive.headerEnd(); ++it) {
    if (it->second.isDirectory()) continue;
    in.clear();
    Poco::Zip::ZipInputStream data(in, it->second, true);
    std::ostringstream content;
    content << data.rdbuf();
    files[it->first] = content.str();
  }
  return files;
}

std::string zip(const std::map<std::string, std::string>& files) {
  std::ostringstream out;
  Poco::Zip::Compress compress(out, true);
  for (const auto& [name, bytes] : files) {
    std::istringstream in(bytes);
    compress.addFile(in, Poco::DateTime(), Poco::Path(name, Poco::Path::PATH_UNIX));
  }
  compress.close();
  return out.str();
}

// Replaces the first occurrence of `from` in `text`, which must hold it.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

class EvidenceTest : public SecurityTest {
 protected:
  // 23 entries (checkpoints every 10): claim c7 at 4, 5 and 17; every other entry about a neighbour whose record
  // holds a secret.
  void SetUp() override {
    SecurityTest::SetUp();
    if (IsSkipped()) return;
    for (int seq = 1; seq <= 23; ++seq) {
      bool ours = seq == 4 || seq == 5 || seq == 17;
      audit_->append({"u_clerk", "expenses.claim.update", "expenses.claim", ours ? "c7" : "n" + std::to_string(seq), "",
                      ours ? R"({"amount":)" + std::to_string(seq) + "}" : R"({"secret":"neighbour-)" + std::to_string(seq) + R"("})"});
    }
  }

  std::string proof_of(const std::vector<int64_t>& seqs) {
    std::ostringstream out;
    audit::write_proof(*audit_, seqs, out);
    return out.str();
  }

  audit::ProofReport verify(const std::string& proof, const audit::Signer* key) {
    std::istringstream in(proof);
    return audit::verify_proof(in, key);
  }

  audit::Pack pack(std::vector<std::pair<std::string, std::string>> documents = {
                       {"statement.json", R"({"statement":"2026-11","total":123})"},
                       {"approvals.html", "<p>approved by three</p>"}}) {
    return audit::build_evidence_pack(*audit_, {"u_auditor", "Claim c7", {{"expenses.claim", "c7"}}, std::move(documents)});
  }

  audit::PackReport verify_pack(const std::string& bytes, const audit::Signer* key) {
    std::istringstream in(bytes);
    return audit::verify_evidence_pack(in, key);
  }
};

TEST_P(EvidenceTest, AProofOfOneObjectsEntriesVerifiesWithThePublicKeyAlone) {
  std::vector<int64_t> seqs = audit::entries_about(*db_, {{"expenses.claim", "c7"}}, 100);
  ASSERT_EQ(seqs, (std::vector<int64_t>{4, 5, 17}));
  std::string proof = proof_of(seqs);
  audit::Signer public_key = audit::Signer::load((dir_.path() / "audit.key.pub").string());
  audit::ProofReport r = verify(proof, &public_key);
  ASSERT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.entries, 3);
  EXPECT_EQ(r.segments, 2) << "4 and 5 share checkpoint 10; 17 goes to checkpoint 20";
  EXPECT_EQ(r.redacted, (10 - 4 + 1 - 2) + (20 - 17 + 1 - 1));
  EXPECT_EQ(r.checkpoints, 2);
  ASSERT_EQ(r.proven.size(), 3u);
  EXPECT_EQ(r.proven[2].after_json, R"({"amount":17})");
}

TEST_P(EvidenceTest, AProofDisclosesNothingOfTheEntriesItDoesNotProve) {
  std::string proof = proof_of({4, 5, 17});
  EXPECT_EQ(proof.find("neighbour-"), std::string::npos) << proof;
  EXPECT_EQ(proof.find("\"n6\""), std::string::npos) << "not even the neighbour's id";
  EXPECT_NE(proof.find(R"({"seq":6,"digest":")"), std::string::npos);
}

TEST_P(EvidenceTest, AProofSignsACheckpointWhenNoneCoversTheEntryYet) {
  EXPECT_TRUE(verify(proof_of({23}), signer_.get()).ok) << "entry 23 is past the last checkpoint (20)";
  EXPECT_EQ(audit_->checkpoint(), 0) << "the proof signed the head already";
}

TEST_P(EvidenceTest, ATamperedProvenEntryFailsAtItsSeq) {
  std::string proof = replaced(proof_of({4, 5, 17}), R"("after":{"amount":5})", R"("after":{"amount":500})");
  audit::ProofReport r = verify(proof, signer_.get());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 5) << r.problem;
}

TEST_P(EvidenceTest, ATamperedEntryWithItsHashRecomputedFailsAtTheCheckpoint) {
  std::vector<std::string> lines = lines_of(proof_of({4, 5, 17}));
  for (auto& line : lines) {
    if (line.rfind(R"({"seq":5,)", 0) != 0) continue;
    auto j = nlohmann::json::parse(line);
    audit::Entry e{5, j["at"], j["principal"], j["action"], j["object_type"], j["object_id"], j["before"].dump(),
                   R"({"amount":500})", ""};
    j["after"] = nlohmann::json::parse(e.after_json);
    j["hash"] = audit::chain_hash(audit_->query({"", "", "", "", "", 3, 1}).at(0).hash, e);
    line = j.dump();
  }
  audit::ProofReport r = verify(joined(lines), signer_.get());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 10) << r.problem;
}

TEST_P(EvidenceTest, ATamperedDigestFails) {
  std::string proof = proof_of({4, 5, 17});
  std::string digest_line = R"({"seq":8,"digest":")";
  size_t at = proof.find(digest_line);
  ASSERT_NE(at, std::string::npos);
  proof[at + digest_line.size()] = proof[at + digest_line.size()] == 'a' ? 'b' : 'a';
  audit::ProofReport r = verify(proof, signer_.get());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 10) << r.problem;
}

TEST_P(EvidenceTest, ARemovedEntryFailsAtItsSeq) {
  std::vector<std::string> lines = lines_of(proof_of({4, 5, 17}));
  std::erase_if(lines, [](const std::string& l) { return l.rfind(R"({"seq":7,)", 0) == 0; });
  audit::ProofReport r = verify(joined(lines), signer_.get());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 7) << r.problem;
}

TEST_P(EvidenceTest, ATruncatedSegmentOrProofFails) {
  std::vector<std::string> lines = lines_of(proof_of({4, 5, 17}));
  // The first segment cut after entry 8: 9 and 10 gone, up to the second segment's header.
  std::vector<std::string> cut;
  for (const auto& l : lines) {
    if (l.rfind(R"({"seq":9,)", 0) == 0 || l.rfind(R"({"seq":10,)", 0) == 0) continue;
    cut.push_back(l);
  }
  audit::ProofReport r = verify(joined(cut), signer_.get());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 9) << r.problem;
  EXPECT_NE(r.problem.find("cut short"), std::string::npos) << r.problem;
  // The proof cut before its end marker.
  lines.pop_back();
  r = verify(joined(lines), signer_.get());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.problem.find("truncated"), std::string::npos) << r.problem;
}

TEST_P(EvidenceTest, AnotherKeyFailsAtTheFirstCheckpoint) {
  audit::Signer other = audit::Signer::load_or_create((dir_.path() / "other.key").string());
  audit::ProofReport r = verify(proof_of({4, 5, 17}), &other);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 10) << r.problem;
  EXPECT_TRUE(verify(proof_of({4, 5, 17}), nullptr).ok) << "without a key the chain still checks";
}

TEST_P(EvidenceTest, AProofOfATamperedLogIsRefusedWhenMade) {
  sql("UPDATE annex_audit SET after_json = '{\"secret\":\"changed\"}' WHERE seq = 8");
  EXPECT_THROW(proof_of({4}), std::runtime_error);
}

TEST_P(EvidenceTest, APackVerifiesAndAuditsItsOwnMaking) {
  audit::Pack p = pack();
  EXPECT_EQ(p.entry_seq, 24);
  std::map<std::string, std::string> files = unzip(p.bytes);
  EXPECT_EQ(files.at("documents/statement.json"), R"({"statement":"2026-11","total":123})");
  auto manifest = nlohmann::json::parse(files.at("manifest.json"));
  EXPECT_EQ(manifest["id"], p.id);
  EXPECT_EQ(manifest["audit_entries"], nlohmann::json::parse("[4,5,17]"));
  EXPECT_EQ(manifest["documents"][0]["sha256"], crypto::sha256_hex(R"({"statement":"2026-11","total":123})"));
  audit::Entry own = audit_->query({audit::kEvidenceObjectType, p.id, "", "", "", 0, 10}).at(0);
  EXPECT_EQ(own.action, "audit.evidence.export");
  EXPECT_EQ(own.principal, "u_auditor");
  EXPECT_EQ(own.after_json, audit::canonical_json(files.at("manifest.json")));

  audit::PackReport r = verify_pack(p.bytes, signer_.get());
  ASSERT_TRUE(r.ok) << r.file << ": " << r.problem;
  EXPECT_EQ(r.documents, 2);
  EXPECT_EQ(r.manifest_seq, 24);
  EXPECT_EQ(r.proof.entries, 4);
  EXPECT_EQ(p.bytes.find("neighbour-"), std::string::npos);
  for (const auto& [name, content] : files) EXPECT_EQ(content.find("neighbour-"), std::string::npos) << name;
}

TEST_P(EvidenceTest, AChangedDocumentFailsNamingIt) {
  std::map<std::string, std::string> files = unzip(pack().bytes);
  files["documents/statement.json"] = R"({"statement":"2026-11","total":1})";
  audit::PackReport r = verify_pack(zip(files), signer_.get());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.file, "documents/statement.json") << r.problem;
}

TEST_P(EvidenceTest, AZip64RecordDeclaringAHugeSizeIsRefusedBeforeAnyReaderAllocatesIt) {
  // A real pack with a ZIP64 end record slipped in before its directory's end, declaring 0x0606060606060606 bytes.
  std::string bytes = pack().bytes;
  size_t end = bytes.rfind(std::string("PK\x05\x06", 4));
  ASSERT_NE(end, std::string::npos);
  std::string zip64 = std::string("PK\x06\x06", 4) + std::string(8, '\x06') + std::string(44, '\0');
  bytes.insert(end, zip64);
  audit::PackReport r = verify_pack(bytes, signer_.get());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.problem.find("ZIP64"), std::string::npos) << r.problem;
  // Nor a record cut short, nor one running past the end.
  EXPECT_FALSE(verify_pack(pack().bytes.substr(0, 40), signer_.get()).ok);
}

TEST_P(EvidenceTest, AManifestChangedToMatchAChangedDocumentFailsAgainstItsEntry) {
  std::map<std::string, std::string> files = unzip(pack().bytes);
  std::string forged = R"({"statement":"2026-11","total":1})";
  auto manifest = nlohmann::json::parse(files["manifest.json"]);
  for (auto& d : manifest["documents"]) {
    if (d["name"] != "statement.json") continue;
    d["sha256"] = crypto::sha256_hex(forged);
    d["size"] = forged.size();
  }
  files["manifest.json"] = manifest.dump(2);
  files["documents/statement.json"] = forged;
  audit::PackReport r = verify_pack(zip(files), signer_.get());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.file, "manifest.json") << r.problem;
  EXPECT_EQ(r.first_bad_seq, 24) << r.problem;
}

TEST_P(EvidenceTest, ARemovedOrAddedFileFailsNamingIt) {
  std::map<std::string, std::string> files = unzip(pack().bytes);
  auto without = files;
  without.erase("documents/approvals.html");
  audit::PackReport r = verify_pack(zip(without), signer_.get());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.file, "documents/approvals.html") << r.problem;
  auto with = files;
  with["documents/extra.html"] = "<p>slipped in</p>";
  r = verify_pack(zip(with), signer_.get());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.file, "documents/extra.html") << r.problem;
  auto no_proof = files;
  no_proof.erase("audit-proof.jsonl");
  r = verify_pack(zip(no_proof), signer_.get());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.file, "audit-proof.jsonl") << r.problem;
}

TEST_P(EvidenceTest, AProvenEntryTurnedIntoADigestFailsAgainstTheManifest) {
  std::map<std::string, std::string> files = unzip(pack().bytes);
  std::vector<std::string> lines = lines_of(files["audit-proof.jsonl"]);
  for (auto& line : lines) {
    if (line.rfind(R"({"seq":17,)", 0) != 0) continue;
    line = R"({"seq":17,"digest":")" + audit::entry_digest(audit_->query({"", "", "", "", "", 16, 1}).at(0)) + "\"}";
  }
  // The end marker's counts follow, as a careful forger would make them.
  auto end = nlohmann::json::parse(lines.back());
  end["end"]["entries"] = end["end"]["entries"].get<int>() - 1;
  end["end"]["redacted"] = end["end"]["redacted"].get<int>() + 1;
  lines.back() = end.dump();
  files["audit-proof.jsonl"] = joined(lines);
  audit::PackReport r = verify_pack(zip(files), signer_.get());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.file, "audit-proof.jsonl");
  EXPECT_EQ(r.first_bad_seq, 17) << r.problem;
}

TEST_P(EvidenceTest, UnsafeOrRepeatedDocumentNamesAreRefusedNamingTheField) {
  for (const char* name : {"../etc/passwd", "a/b.json", "a\\b.json", ".hidden", "..", "", "c:x", "a..b", "名.json"}) {
    try {
      pack({{name, "x"}});
      ADD_FAILURE() << "accepted " << name;
    } catch (const FieldError& e) {
      EXPECT_EQ(e.field(), "documents") << name;
      EXPECT_NE(std::string(e.what()).find("document name"), std::string::npos) << e.what();
    }
  }
  try {
    audit::parse_documents(R"({"Statement.json":"a","statement.JSON":"b"})");
    ADD_FAILURE() << "accepted names that differ only in case";
  } catch (const FieldError& e) {
    EXPECT_EQ(e.field(), "documents");
  }
  try {
    audit::parse_documents(R"({"a.json":"a","a.json":"b"})");
    ADD_FAILURE() << "accepted a repeated name";
  } catch (const FieldError& e) {
    EXPECT_NE(std::string(e.what()).find("twice"), std::string::npos) << e.what();
  }
  try {
    audit::parse_documents(R"({"a.json":{"not":"text"}})");
    ADD_FAILURE() << "accepted a document that is not text";
  } catch (const FieldError& e) {
    EXPECT_EQ(e.field(), "documents");
  }
  try {
    audit::parse_objects(R"([{"type":"expenses.claim"}])");
    ADD_FAILURE() << "accepted an object without an id";
  } catch (const FieldError& e) {
    EXPECT_EQ(e.field(), "objects[0].id");
  }
  EXPECT_EQ(audit::parse_documents(R"({"b.json":"2","a-1_x.HTML":"1"})").size(), 2u);
  EXPECT_EQ(audit_->query({audit::kEvidenceObjectType, "", "", "", "", 0, 10}).size(), 0u) << "nothing was packed";
}

TEST_P(EvidenceTest, APackIsNotMadeInsideATransaction) {
  store::Lease lease(*db_);
  store::ScopedTransaction txn(lease.session(), db_->dialect());
  EXPECT_THROW(pack(), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Backends, EvidenceTest, testing::Values(Backend::kSqlite, Backend::kPostgresql),
                         backend_param_name);

}  // namespace
}  // namespace annex::test
