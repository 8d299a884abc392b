// Evidence packs end to end, on both backends: a plugin makes one through annex.audit@1, an auditor takes the audit
// entries of objects from GET /api/v1/audit/evidence, and `annexctl audit verify --file pack.zip --public-key`
// passes both — and fails, naming the document, once one document inside the archive is changed.
#include "store/database.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace annex::test {
namespace {

class Evidence : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    Annexd::Options o;
    if (GetParam() == Backend::kPostgresql) {
      store::DatabaseOptions db;
      if (!fresh_database(Backend::kPostgresql, dir_, &db)) GTEST_SKIP() << "no PostgreSQL for this run";
      o.args = {"--database-url", db.target};
    }
    o.plugin_dirs = {fixture_dir(dir_, {"evidence"})};
    d_ = std::make_unique<Annexd>(o);
    HttpResult key = d_->call("GET", "/api/v1/audit/public-key");
    ASSERT_EQ(key.status, 200) << key.body;
    key_file_ = (dir_.path() / "audit.pub").string();
    std::ofstream(key_file_) << key.body;
  }

  // Writes `bytes` to a file in the test's directory and runs `annexctl audit verify --file` on it.
  int verify(const std::string& name, const std::string& bytes, std::string* out) {
    std::string path = (dir_.path() / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return d_->annexctl({"audit", "verify", "--file", path, "--public-key", key_file_}, out);
  }

  TempDir dir_;
  std::unique_ptr<Annexd> d_;
  std::string key_file_;
};

TEST_P(Evidence, APluginsPackVerifiesOfflineAndAChangedDocumentFailsNamingIt) {
  ASSERT_EQ(d_->call("POST", "/api/v1/test/records", R"({"record":"r1","changes":3})").status, 201);
  ASSERT_EQ(d_->call("POST", "/api/v1/test/records", R"({"record":"other","changes":2})").status, 201);
  nlohmann::json request = {{"title", "Statement 2026-11"},
                            {"records", {"r1"}},
                            {"documents", {{"statement.json", R"({"total":12300})"}, {"approvals.html", "<p>ok</p>"}}}};
  HttpResult pack = d_->call("POST", "/api/v1/test/evidence", request.dump());
  ASSERT_EQ(pack.status, 200) << pack.body << "\n" << d_->log();
  EXPECT_EQ(pack.header("content-type"), "application/zip");
  ASSERT_EQ(pack.body.substr(0, 2), "PK");

  std::string out;
  EXPECT_EQ(verify("pack.zip", pack.body, &out), 0) << out;
  EXPECT_NE(out.find("intact"), std::string::npos) << out;
  EXPECT_NE(out.find("documents: 2"), std::string::npos) << out;
  EXPECT_NE(out.find("audit entries: 4 shown whole"), std::string::npos) << "r1's three changes and the pack's own entry\n" << out;

  // The archive rewritten with one document changed, as someone handling it could.
  std::string tampered = (dir_.path() / "tampered.zip").string();
  std::string script =
      "import sys, zipfile\n"
      "src, dst = sys.argv[1], sys.argv[2]\n"
      "with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, 'w', zipfile.ZIP_DEFLATED) as b:\n"
      "    for info in a.infolist():\n"
      "        data = a.read(info.filename)\n"
      "        if info.filename == 'documents/statement.json':\n"
      "            data = data.replace(b'12300', b'1230')\n"
      "        b.writestr(info.filename, data)\n";
  std::ofstream(dir_.path() / "pack.zip", std::ios::binary) << pack.body;
  ASSERT_EQ(run_program("/usr/bin/python3", {"-c", script, (dir_.path() / "pack.zip").string(), tampered}, &out), 0) << out;
  EXPECT_EQ(d_->annexctl({"audit", "verify", "--file", tampered, "--public-key", key_file_}, &out), 1) << out;
  EXPECT_NE(out.find("NOT intact"), std::string::npos) << out;
  EXPECT_NE(out.find("documents/statement.json"), std::string::npos) << out;
}

TEST_P(Evidence, APluginsBadDocumentNameIsRefusedNamingTheField) {
  nlohmann::json request = {{"title", "x"}, {"records", {"r1"}}, {"documents", {{"../escape.json", "{}"}}}};
  HttpResult r = d_->call("POST", "/api/v1/test/evidence", request.dump());
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["field"], "documents") << r.body;
}

TEST_P(Evidence, AnAuditorTakesThePackOfSomeObjectsAndOthersCannot) {
  ASSERT_EQ(d_->call("POST", "/api/v1/test/records", R"({"record":"r1","changes":2})").status, 201);
  ASSERT_EQ(d_->call("POST", "/api/v1/test/records", R"({"record":"r2","changes":1})").status, 201);
  ASSERT_EQ(d_->call("POST", "/api/v1/test/records", R"({"record":"secret","changes":1})").status, 201);
  std::string auditor = d_->user_with_role("audrey", "auditor");
  std::string rep = d_->user_with_role("rep", "sales-rep", "north");
  const std::string path = "/api/v1/audit/evidence?object_type=test.record&object_id=r1&object_type=test.record&object_id=r2";
  EXPECT_EQ(d_->call_as(rep, "GET", path).status, 403);
  HttpResult pack = d_->call_as(auditor, "GET", path);
  ASSERT_EQ(pack.status, 200) << pack.body;
  EXPECT_EQ(pack.header("content-type"), "application/zip");
  EXPECT_NE(pack.header("content-disposition").find("filename=\"annex-evidence-ev_"), std::string::npos)
      << pack.header("content-disposition");
  std::string out;
  EXPECT_EQ(verify("auditor.zip", pack.body, &out), 0) << out;
  EXPECT_NE(out.find("documents: 0"), std::string::npos) << out;
  EXPECT_NE(out.find("audit entries: 4 shown whole"), std::string::npos) << "r1 twice, r2 once, and the pack\n" << out;

  // The pack's making is itself in the log, under the auditor's name.
  HttpResult log = d_->call_as(auditor, "GET", "/api/v1/audit?object_type=annex.evidence_pack");
  auto items = nlohmann::json::parse(log.body)["items"];
  ASSERT_EQ(items.size(), 1u) << log.body;
  EXPECT_EQ(items[0]["action"], "audit.evidence.export");

  HttpResult unpaired = d_->call_as(auditor, "GET", "/api/v1/audit/evidence?object_type=test.record");
  EXPECT_EQ(unpaired.status, 400);
  EXPECT_EQ(nlohmann::json::parse(unpaired.body)["error"]["field"], "object_id") << unpaired.body;
  EXPECT_EQ(d_->call_as(auditor, "GET", "/api/v1/audit/evidence").status, 400);
}

INSTANTIATE_TEST_SUITE_P(Backends, Evidence, testing::Values(Backend::kSqlite, Backend::kPostgresql),
                         backend_param_name);

}  // namespace
}  // namespace annex::test
