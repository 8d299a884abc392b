// StaticFiles — the web application, served by annexd from a directory of built files (http.ui_dir) at "/".
//
// The files are read once at start-up (the built application is small) and kept with a gzip variant where that is
// smaller, so a request never touches the filesystem and a file replaced on disk mid-request is never half-served.
// Hashed assets under /assets/ are cached for a year (their names change with their content); everything else is
// revalidated by its ETag. A path that names no file and is no API path answers index.html, so the application's
// own routes survive a reload. Every answer carries a strict Content-Security-Policy: scripts, styles, fonts and
// connections from annexd itself only, no framing.
#pragma once

#include "http/exchange.h"

#include <filesystem>
#include <map>
#include <string>

namespace annex::http {

class StaticFiles {
 public:
  // Reads every file under `dir`. Throws std::runtime_error naming the directory when it has no index.html.
  explicit StaticFiles(const std::filesystem::path& dir);

  // Answers a GET or HEAD for `request.path` outside /api/; false when this is not the application's to answer.
  bool serve(const HttpRequest& request, HttpResponse& response) const;

  size_t files() const { return files_.size(); }
  static const char* content_security_policy();

 private:
  struct File {
    std::string content_type;
    std::string body;
    std::string gzipped;  // empty when gzip would not make it smaller
    std::string etag;
  };
  std::map<std::string, File, std::less<>> files_;  // by URL path, "/index.html", "/assets/app-1a2b.js"
};

}  // namespace annex::http
