// Receipts over HTTP, on both backends: upload routes a plugin registers take a raw body or a multipart form's
// file, store the bytes once by their hash with the type sniffed from them, refuse what is too large or not what it
// claims to be (storing nothing), and downloads stream the exact bytes back.
#include "crypto/digest.h"
#include "store/sql.h"
#include "support/test_support.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>
#include <gtest/gtest.h>

#include <future>

namespace annex::test {
namespace {

Poco::JSON::Object::Ptr json(const std::string& body) {
  return Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
}

std::string pdf(size_t size, int seed = 1) {
  std::string bytes = "%PDF-1.7\n";
  bytes.reserve(size);
  for (size_t i = bytes.size(); i < size; ++i) bytes.push_back(static_cast<char>((i * 131 + seed * 17) % 256));
  return bytes.substr(0, size);
}

const std::string kPng("\x89PNG\r\n\x1A\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0", 29);
const std::string kBoundary = "----annex-test-boundary";

// A multipart/form-data body with one file part and some text fields.
std::string form(const std::string& bytes, const std::string& filename, const std::string& part_type,
                 const std::vector<std::pair<std::string, std::string>>& fields = {}, const std::string& name = "file") {
  std::string body;
  for (const auto& [k, v] : fields) {
    body += "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + v + "\r\n";
  }
  body += "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"" + filename +
          "\"\r\nContent-Type: " + part_type + "\r\n\r\n" + bytes + "\r\n--" + kBoundary + "--\r\n";
  return body;
}

class Blobs : public testing::TestWithParam<Backend> {
 protected:
  void start(std::vector<std::string> args = {}) {
    Annexd::Options o;
    if (GetParam() == Backend::kPostgresql) {
      store::DatabaseOptions db;
      if (!fresh_database(Backend::kPostgresql, dir_, &db)) GTEST_SKIP() << "no PostgreSQL for this run";
      args.insert(args.begin(), {"--database-url", db.target});
    }
    o.args = args;
    o.plugin_dirs = {fixture_dir(dir_, {"receipts"})};
    d_ = std::make_unique<Annexd>(o);
  }
  HttpResult upload(const std::string& path, const std::string& body, const std::string& content_type,
                    const std::map<std::string, std::string>& extra = {}, const std::string& method = "POST") {
    std::map<std::string, std::string> headers = extra;
    headers["Content-Type"] = content_type;
    return d_->call(method, path, body, headers);
  }
  HttpResult upload_form(const std::string& path, const std::string& body, const std::string& method = "POST") {
    return upload(path, body, "multipart/form-data; boundary=" + kBoundary, {}, method);
  }
  // A body sent chunked, without Content-Length.
  HttpResult chunked(const std::string& method, const std::string& path, const std::string& body, const std::string& type) {
    Poco::URI uri(d_->base_url());
    Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
    session.setTimeout(Poco::Timespan(30, 0));
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Authorization", "Bearer " + d_->admin_token());
    request.setContentType(type);
    request.setChunkedTransferEncoding(true);
    std::ostream& out = session.sendRequest(request);
    for (size_t at = 0; at < body.size(); at += 700) out << body.substr(at, 700);
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    HttpResult result;
    result.status = response.getStatus();
    Poco::StreamCopier::copyToString(in, result.body);
    return result;
  }
  int64_t stored(const std::string& table = "annex_blobs") {
    auto db = d_->open_store();
    store::Lease lease(*db);
    return store::run(lease.session(), "SELECT COUNT(*) FROM " + table, {}).rows.at(0).at(0).i;
  }
  TempDir dir_;
  std::unique_ptr<Annexd> d_;
};

TEST_P(Blobs, TakesRawAndMultipartUploadsAndStoresTheSameBytesOnce) {
  start();
  std::string bytes = pdf(300 * 1024);
  HttpResult raw = upload("/api/v1/test/receipts", bytes, "application/pdf",
                          {{"Content-Disposition", "attachment; filename=\"taxi.pdf\""}});
  ASSERT_EQ(raw.status, 201) << raw.body;
  auto first = json(raw.body);
  EXPECT_EQ(first->getValue<std::string>("sha256"), crypto::sha256_hex(bytes));
  EXPECT_EQ(first->getValue<int64_t>("size"), 300 * 1024);
  EXPECT_EQ(first->getValue<std::string>("media_type"), "application/pdf");
  EXPECT_EQ(first->getValue<std::string>("filename"), "taxi.pdf");
  EXPECT_EQ(first->getValue<std::string>("field"), "body");
  EXPECT_TRUE(first->getValue<bool>("created"));

  // The same bytes as a form's file, declared as something generic: one stored copy, the form's fields passed on.
  HttpResult multi = upload_form("/api/v1/test/receipts",
                                 form(bytes, "scan.pdf", "application/octet-stream", {{"line_id", "42"}, {"note", "taxi"}}));
  ASSERT_EQ(multi.status, 201) << multi.body;
  auto second = json(multi.body);
  EXPECT_EQ(second->getValue<std::string>("sha256"), crypto::sha256_hex(bytes));
  EXPECT_FALSE(second->getValue<bool>("created"));
  EXPECT_EQ(second->getValue<std::string>("filename"), "scan.pdf");
  EXPECT_EQ(second->getValue<std::string>("field"), "file");
  EXPECT_EQ(second->getObject("fields")->getValue<std::string>("line_id"), "42");
  EXPECT_EQ(second->getObject("fields")->getValue<std::string>("note"), "taxi");
  EXPECT_EQ(stored(), 1);
  EXPECT_EQ(stored("annex_blob_chunks"), 2);

  // A chunked body (no Content-Length) under the limit is taken as well; a PNG where PNGs are taken.
  HttpResult png = chunked("POST", "/api/v1/test/receipts", kPng, "image/png");
  ASSERT_EQ(png.status, 201) << png.body;
  EXPECT_EQ(json(png.body)->getValue<std::string>("media_type"), "image/png");
  EXPECT_EQ(stored(), 2);
}

TEST_P(Blobs, RefusesAFakeFileOrATypeNotTakenAndStoresNothing) {
  start();
  struct Case {
    std::string what;
    HttpResult result;
    int status;
    std::string field;
  };
  std::vector<Case> cases;
  cases.push_back({"text declared a PDF", upload("/api/v1/test/receipts", "just some text, no PDF", "application/pdf"), 415, "body"});
  cases.push_back({"a PNG declared a PDF in a form",
                   upload_form("/api/v1/test/receipts", form(kPng, "r.pdf", "application/pdf", {}, "receipt")), 415, "receipt"});
  cases.push_back({"a PNG where only PDFs are taken", upload("/api/v1/test/receipts/small", kPng, "image/png", {}, "PUT"), 415, "body"});
  cases.push_back({"bytes of no known type", upload("/api/v1/test/receipts", "MZ\x90\0 executable", "application/octet-stream"),
                   415, "body"});
  cases.push_back({"an empty body", upload("/api/v1/test/receipts", "", "application/pdf"), 422, "body"});
  cases.push_back({"a form without a file", upload_form("/api/v1/test/receipts", "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nx\r\n--" + kBoundary + "--\r\n"),
                   422, "file"});
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_EQ(c.result.status, c.status) << c.result.body;
    auto err = json(c.result.body)->getObject("error");
    ASSERT_TRUE(err);
    EXPECT_EQ(err->getValue<std::string>("field"), c.field);
    EXPECT_FALSE(err->getValue<std::string>("message").empty());
  }
  EXPECT_NE(json(cases[0].result.body)->getObject("error")->getValue<std::string>("message").find("declared application/pdf"),
            std::string::npos);
  EXPECT_EQ(stored(), 0);
  EXPECT_EQ(stored("annex_blob_chunks"), 0);
  // Nor is anything left where uploads are staged.
  auto staging = std::filesystem::path(d_->data_dir()) / "uploads";
  ASSERT_TRUE(std::filesystem::exists(staging));
  EXPECT_TRUE(std::filesystem::is_empty(staging));
}

TEST_P(Blobs, AnswersAnOversizedUpload413AndStoresNothing) {
  start();
  // The route takes 1 KiB: past it with Content-Length, chunked, or as a form's file.
  HttpResult declared = upload("/api/v1/test/receipts/small", pdf(1025), "application/pdf", {}, "PUT");
  EXPECT_EQ(declared.status, 413) << declared.body;
  EXPECT_EQ(json(declared.body)->getObject("error")->getValue<std::string>("field"), "body");
  HttpResult streamed = chunked("PUT", "/api/v1/test/receipts/small", pdf(5000), "application/pdf");
  EXPECT_EQ(streamed.status, 413) << streamed.body;
  HttpResult in_form = upload_form("/api/v1/test/receipts/small", form(pdf(2000), "big.pdf", "application/pdf"), "PUT");
  EXPECT_EQ(in_form.status, 413) << in_form.body;
  EXPECT_EQ(json(in_form.body)->getObject("error")->getValue<std::string>("field"), "file");
  // Just under the limit is taken.
  EXPECT_EQ(upload("/api/v1/test/receipts/small", pdf(1024), "application/pdf", {}, "PUT").status, 201);
  EXPECT_EQ(stored(), 1);
  EXPECT_EQ(stored("annex_blob_chunks"), 1);
  // An anonymous caller is refused before a byte is stored.
  HttpResult anonymous = d_->anonymous("POST", "/api/v1/test/receipts", pdf(100, 2));
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(stored(), 1);
}

TEST_P(Blobs, AClientStillSendingARefusedBodyReadsThe413RatherThanAReset) {
  start();
  // 4 MiB to a route that takes 1 KiB, without Expect: 100-continue: the answer goes out at once, and the daemon
  // reads and drops the rest before closing, so the client sees the 413 every time (not "connection reset").
  for (int i = 0; i < 3; ++i) {
    HttpResult r = upload("/api/v1/test/receipts/small", pdf(4 << 20), "application/pdf", {}, "PUT");
    EXPECT_EQ(r.status, 413) << r.body;
  }
  EXPECT_EQ(d_->call("GET", "/healthz").status, 200);
}

TEST_P(Blobs, TheHostCeilingCapsARouteThatAsksForMore) {
  start({"--set", "blobs.max_bytes=4096"});
  HttpResult over = upload("/api/v1/test/receipts", pdf(5000), "application/pdf");
  EXPECT_EQ(over.status, 413) << over.body;
  EXPECT_NE(json(over.body)->getObject("error")->getValue<std::string>("message").find("4096"), std::string::npos);
  EXPECT_EQ(upload("/api/v1/test/receipts", pdf(4096), "application/pdf").status, 201);
  EXPECT_EQ(stored("annex_blob_chunks"), 1);
  // The API document describes the upload as it is taken: a form's file or a raw body, and the limit in force.
  auto body = json(d_->anonymous("GET", "/api/v1/openapi.json").body)
                  ->getObject("paths")->getObject("/api/v1/test/receipts")->getObject("post")->getObject("requestBody");
  ASSERT_TRUE(body);
  EXPECT_TRUE(body->getObject("content")->has("multipart/form-data"));
  EXPECT_TRUE(body->getObject("content")->has("image/png"));
  EXPECT_EQ(body->getValue<int64_t>("x-annex-max-bytes"), 4096);
}

TEST_P(Blobs, ATenMegabyteUploadDownloadsAsTheExactBytesWithItsHeaders) {
  start();
  std::string bytes = pdf(10 * 1000 * 1000, 3);
  HttpResult up = upload("/api/v1/test/receipts", bytes, "application/pdf");
  ASSERT_EQ(up.status, 201) << up.body;
  std::string hash = crypto::sha256_hex(bytes);
  EXPECT_EQ(stored("annex_blob_chunks"), (10 * 1000 * 1000 + (256 * 1024) - 1) / (256 * 1024));

  HttpResult down = d_->call("GET", "/api/v1/test/receipts/" + hash + "?filename=taxi%20%22A%22.pdf");
  ASSERT_EQ(down.status, 200);
  EXPECT_TRUE(down.body == bytes) << "the downloaded bytes differ (" << down.body.size() << " bytes)";
  EXPECT_EQ(down.header("content-type"), "application/pdf");
  EXPECT_EQ(down.header("content-length"), std::to_string(bytes.size()));
  EXPECT_EQ(down.header("etag"), "\"" + hash + "\"");
  EXPECT_EQ(down.header("content-disposition"),
            "attachment; filename=\"taxi _A_.pdf\"; filename*=UTF-8''taxi%20%22A%22.pdf");
  EXPECT_EQ(down.header("x-content-type-options"), "nosniff");
  HttpResult missing = d_->call("GET", "/api/v1/test/receipts/" + std::string(64, 'a'));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("content-type"), "application/json");
}

TEST_P(Blobs, PluginsStoreStatAndReadThroughTheService) {
  start();
  HttpResult r = d_->call("POST", "/api/v1/test/blob-service", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  auto out = json(r.body);
  EXPECT_EQ(out->getObject("put")->getValue<std::string>("media_type"), "application/pdf");
  EXPECT_TRUE(out->getObject("put")->getValue<bool>("created"));
  EXPECT_EQ(out->getObject("stat")->getValue<int64_t>("size"), out->getObject("put")->getValue<int64_t>("size"));
  EXPECT_TRUE(out->getValue<bool>("range_ok"));
  EXPECT_TRUE(out->getValue<bool>("missing"));
  EXPECT_TRUE(out->getValue<bool>("refused_is_named"));
  // Stored once however often it is put.
  ASSERT_EQ(d_->call("POST", "/api/v1/test/blob-service", "{}").status, 200);
  EXPECT_EQ(stored(), 1);
}

TEST_P(Blobs, AClientAwaitingContinueIsRefusedBeforeItSendsTheBody) {
  start();
  Poco::URI uri(d_->base_url());
  // Sends the head with "Expect: 100-continue"; the body only if the server asks for it.
  auto expect = [&](const std::string& path, const std::string& method, const std::string& body, bool authorised) {
    Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
    session.setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (authorised) request.set("Authorization", "Bearer " + d_->admin_token());
    request.setContentType("application/pdf");
    request.setContentLength(static_cast<std::streamsize>(body.size()));
    request.setExpectContinue(true);
    std::ostream& out = session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    bool asked = session.peekResponse(response);
    if (asked) {
      out << body;
      session.receiveResponse(response);
    }
    return std::make_pair(asked, static_cast<int>(response.getStatus()));
  };
  EXPECT_EQ(expect("/api/v1/test/receipts", "POST", pdf(3000), false), std::make_pair(false, 401));
  EXPECT_EQ(expect("/api/v1/test/receipts/small", "PUT", pdf(3000), true), std::make_pair(false, 413));
  EXPECT_EQ(expect("/api/v1/test/receipts", "POST", pdf(3000), true), std::make_pair(true, 201));
  EXPECT_EQ(stored(), 1);
}

TEST_P(Blobs, AnIdempotencyKeyStandsForTheFileItCameWith) {
  start();
  HttpResult first = upload("/api/v1/test/receipts", pdf(2000), "application/pdf", {{"Idempotency-Key", "receipt-1"}});
  ASSERT_EQ(first.status, 201) << first.body;
  HttpResult replay = upload("/api/v1/test/receipts", pdf(2000), "application/pdf", {{"Idempotency-Key", "receipt-1"}});
  EXPECT_EQ(replay.status, 201);
  EXPECT_EQ(replay.body, first.body);
  HttpResult other = upload("/api/v1/test/receipts", pdf(2000, 7), "application/pdf", {{"Idempotency-Key", "receipt-1"}});
  EXPECT_EQ(other.status, 422) << other.body;
  EXPECT_EQ(json(other.body)->getObject("error")->getValue<std::string>("field"), "Idempotency-Key");
}

TEST_P(Blobs, ConcurrentUploadsOfTheSameBytesAllSucceedWithOneStoredCopy) {
  start();
  std::string bytes = pdf(600 * 1024, 5);
  std::vector<std::future<HttpResult>> calls;
  for (int i = 0; i < 4; ++i) {
    calls.push_back(std::async(std::launch::async, [&] { return upload("/api/v1/test/receipts", bytes, "application/pdf"); }));
  }
  int created = 0;
  for (auto& c : calls) {
    HttpResult r = c.get();
    ASSERT_EQ(r.status, 201) << r.body;
    created += json(r.body)->getValue<bool>("created") ? 1 : 0;
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(stored(), 1);
  EXPECT_EQ(stored("annex_blob_chunks"), 3);
}

TEST_P(Blobs, AConnectionCarriesTheNextRequestAfterAnUpload) {
  start();
  Poco::URI uri(d_->base_url());
  Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
  session.setTimeout(Poco::Timespan(10, 0));
  auto send = [&](const std::string& method, const std::string& path, const std::string& body, const std::string& type) {
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Authorization", "Bearer " + d_->admin_token());
    request.setKeepAlive(true);
    if (!type.empty()) request.setContentType(type);
    request.setContentLength(static_cast<std::streamsize>(body.size()));
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::string answer;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), answer);
    return std::make_pair(static_cast<int>(response.getStatus()), answer);
  };
  // A form, with an epilogue after its closing boundary, then a raw body, then a download, on one connection.
  auto first = send("POST", "/api/v1/test/receipts", form(pdf(5000), "a.pdf", "application/pdf") + "epilogue",
                    "multipart/form-data; boundary=" + kBoundary);
  ASSERT_EQ(first.first, 201) << first.second;
  auto second = send("POST", "/api/v1/test/receipts", pdf(7000, 9), "application/pdf");
  ASSERT_EQ(second.first, 201) << second.second;
  auto third = send("GET", "/api/v1/test/receipts/" + crypto::sha256_hex(pdf(7000, 9)), "", "");
  EXPECT_EQ(third.first, 200);
  EXPECT_TRUE(third.second == pdf(7000, 9));
}

INSTANTIATE_TEST_SUITE_P(Backends, Blobs, testing::Values(Backend::kSqlite, Backend::kPostgresql), backend_param_name);

TEST(BlobRoutes, APluginWithoutAnnexBlobsInUsesCannotRegisterAnUploadRoute) {
  TempDir dir;
  Annexd::Options o;
  o.plugin_dirs = {fixture_dir(dir, {"upload_undeclared"})};
  Annexd d(o);
  auto p = json(d.call("GET", "/api/v1/plugins/org.annex.test.upload-undeclared").body);
  EXPECT_EQ(p->getValue<std::string>("state"), "failed");
  EXPECT_NE(p->getValue<std::string>("error").find("annex.blobs@1"), std::string::npos) << p->getValue<std::string>("error");
  EXPECT_EQ(d.call("POST", "/api/v1/test/sneaky-uploads", pdf(100), {{"Content-Type", "application/pdf"}}).status, 404);
}

}  // namespace
}  // namespace annex::test
