#include "http/static_files.h"

#include "crypto/digest.h"

#include <Poco/DeflatingStream.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <strings.h>

namespace annex::http {
namespace {

const char* type_of(const std::filesystem::path& p) {
  static const std::map<std::string, const char*> types = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"}, {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},   {".json", "application/json"},           {".svg", "image/svg+xml"},
      {".png", "image/png"},                 {".jpg", "image/jpeg"},                  {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},              {".txt", "text/plain; charset=utf-8"},   {".webmanifest", "application/manifest+json"},
      {".map", "application/json"}};
  auto it = types.find(p.extension().string());
  return it == types.end() ? "application/octet-stream" : it->second;
}

bool compressible(const std::string& type) {
  return type.rfind("text/", 0) == 0 || type == "application/json" || type == "image/svg+xml" || type == "application/manifest+json";
}

std::string gzip(const std::string& in) {
  std::ostringstream out;
  Poco::DeflatingOutputStream deflate(out, Poco::DeflatingStreamBuf::STREAM_GZIP, 9);
  deflate.write(in.data(), static_cast<std::streamsize>(in.size()));
  deflate.close();
  return out.str();
}

bool accepts_gzip(const HttpRequest& request) {
  const std::string* accept = request.header("Accept-Encoding");
  if (accept == nullptr) return false;
  // "gzip" listed without q=0; enough for every browser.
  size_t at = accept->find("gzip");
  if (at == std::string::npos) return false;
  std::string_view rest = std::string_view(*accept).substr(at + 4);
  rest = rest.substr(0, rest.find(','));
  return rest.find("q=0") == std::string_view::npos || rest.find("q=0.") != std::string_view::npos;
}

}  // namespace

const char* StaticFiles::content_security_policy() {
  return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self';"
         " object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
}

StaticFiles::StaticFiles(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(dir / "index.html", ec)) {
    throw std::runtime_error("http.ui_dir " + dir.string() + " holds no index.html (build the web application, or unset http.ui_dir)");
  }
  for (auto it = std::filesystem::recursive_directory_iterator(dir, std::filesystem::directory_options::skip_permission_denied, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (!it->is_regular_file(ec)) continue;
    std::filesystem::path relative = std::filesystem::relative(it->path(), dir, ec);
    if (ec || relative.filename().string().rfind('.', 0) == 0) continue;  // no hidden files
    std::ifstream in(it->path(), std::ios::binary);
    File f;
    f.content_type = type_of(it->path());
    f.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) throw std::runtime_error("cannot read " + it->path().string());
    f.etag = "\"" + crypto::sha256_hex(f.body).substr(0, 32) + "\"";
    if (compressible(f.content_type) && f.body.size() > 256) {
      std::string z = gzip(f.body);
      if (z.size() < f.body.size()) f.gzipped = std::move(z);
    }
    files_.emplace("/" + relative.generic_string(), std::move(f));
  }
}

bool StaticFiles::serve(const HttpRequest& request, HttpResponse& response) const {
  if (request.method != "GET" && request.method != "HEAD") return false;
  if (request.path == "/api" || request.path.rfind("/api/", 0) == 0) return false;
  std::string_view path = request.path == "/" ? std::string_view("/index.html") : std::string_view(request.path);
  auto it = files_.find(path);
  const bool asset = it != files_.end() && path.rfind("/assets/", 0) == 0;
  if (it == files_.end()) {
    // A missing asset is a 404 (a stale page asking for an old build's file must not get HTML back); any other
    // path is one of the application's own routes.
    if (path.rfind("/assets/", 0) == 0) return false;
    it = files_.find("/index.html");
  }
  const File& f = it->second;
  response.headers.clear();
  response.set_header("Content-Security-Policy", content_security_policy());
  response.set_header("Cache-Control", asset ? "public, max-age=31536000, immutable" : "no-cache");
  response.set_header("ETag", f.etag);
  response.set_header("Vary", "Accept-Encoding");
  response.set_header("Cross-Origin-Opener-Policy", "same-origin");
  response.set_header("Permissions-Policy", "camera=(self), geolocation=(), microphone=()");
  const std::string* match = request.header("If-None-Match");
  if (match != nullptr && *match == f.etag) {
    response.status = 304;
    response.body.clear();
    return true;
  }
  response.status = 200;
  response.content_type = f.content_type;
  if (!f.gzipped.empty() && accepts_gzip(request)) {
    response.set_header("Content-Encoding", "gzip");
    response.body = f.gzipped;
  } else {
    response.body = f.body;
  }
  return true;
}

}  // namespace annex::http
