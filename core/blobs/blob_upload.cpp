#include "blobs/blob_upload.h"

#include "http/api_error.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/Net/PartHandler.h>

#include <algorithm>
#include <sstream>
#include <streambuf>

namespace annex::blobs {
namespace {

using http::ApiError;

constexpr int64_t kFormOverhead = 64 * 1024;  // a form's boundaries, part headers and other fields

// The request body, cut off after `cap` bytes: reading on past them finds the end, with `exceeded` set. So a body
// without Content-Length (chunked) is held to the limit as one with it.
class CappedBuffer : public std::streambuf {
 public:
  CappedBuffer(std::istream& in, int64_t cap) : in_(in), cap_(cap) {}
  bool exceeded() const noexcept { return exceeded_; }
  // Whether the body was read to its very end.
  bool at_end() const noexcept { return at_end_; }

 protected:
  int_type underflow() override {
    if (exceeded_ || at_end_) return traits_type::eof();
    in_.read(buffer_, static_cast<std::streamsize>(sizeof buffer_));
    const int64_t got = in_.gcount();
    if (got <= 0) {
      at_end_ = true;
      return traits_type::eof();
    }
    total_ += got;
    if (total_ > cap_) {
      exceeded_ = true;
      return traits_type::eof();
    }
    setg(buffer_, buffer_, buffer_ + got);
    return traits_type::to_int_type(buffer_[0]);
  }

 private:
  std::istream& in_;
  int64_t cap_;
  int64_t total_ = 0;
  bool exceeded_ = false;
  bool at_end_ = false;
  char buffer_[16384];
};

ApiError too_large(int64_t limit, const std::string& field) {
  return ApiError(413, "payload_too_large", "the upload exceeds " + std::to_string(limit) + " bytes", field);
}

void copy_into(std::istream& in, Staging& staged, int64_t limit, const std::string& field) {
  char chunk[16384];
  while (in) {
    in.read(chunk, sizeof chunk);
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    try {
      staged.write(chunk, static_cast<size_t>(got));
    } catch (const TooLarge&) {
      throw too_large(limit, field);
    }
  }
}

// The file part of a form (the first part with a filename), staged as it is read.
class FilePart : public Poco::Net::PartHandler {
 public:
  FilePart(BlobStore& store, int64_t limit) : store_(store), limit_(limit) {}
  void handlePart(const Poco::Net::MessageHeader& header, std::istream& stream) override {
    std::string disposition;
    Poco::Net::NameValueCollection params;
    Poco::Net::MessageHeader::splitParameters(header.get("Content-Disposition", ""), disposition, params);
    std::string name = params.get("name", "file");
    if (staged) {
      throw ApiError::unprocessable("the form carries more than one file; send one per request", name);
    }
    field = name;
    filename = params.get("filename", "");
    declared = header.get("Content-Type", "");
    staged = store_.stage(limit_);
    copy_into(stream, *staged, limit_, field);
  }

  std::unique_ptr<Staging> staged;
  std::string field, filename, declared;

 private:
  BlobStore& store_;
  int64_t limit_;
};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// What the bytes are must be a type the route takes, and what the client said they are (a generic type aside)
// must be what they are.
void check_type(const Staging& staged, const std::string& declared, const http::Route& route, const std::string& field) {
  if (staged.size() == 0) throw ApiError::unprocessable("the upload is empty", field);
  const std::string& actual = staged.media_type();
  const std::string said = normalise_type(declared);
  if (!said.empty() && said != kOctetStream && said != actual) {
    throw ApiError(415, "unsupported_media_type",
                   "the file is declared " + said + " but its bytes are " +
                       (actual == kOctetStream ? std::string("not of a type this host recognises") : "a " + actual + " file"),
                   field);
  }
  if (std::find(route.upload_types.begin(), route.upload_types.end(), actual) == route.upload_types.end()) {
    throw ApiError(415, "unsupported_media_type",
                   (actual == kOctetStream ? std::string("the file is not of a type this host recognises")
                                           : "files of type " + actual + " are not taken here") +
                       "; send one of: " + join(route.upload_types),
                   field);
  }
}

}  // namespace

void receive_upload(BlobStore& store, http::HttpRequest& request, const http::Route& route) {
  const int64_t limit = std::min(route.upload_max_bytes, store.max_bytes());
  std::istringstream buffered;
  std::istream* body = request.body_stream;
  if (body == nullptr) {
    buffered.str(request.body);
    body = &buffered;
  }
  const std::string* content_type = request.header("Content-Type");
  std::string type = content_type != nullptr ? normalise_type(*content_type) : std::string{};
  const bool form = type == "multipart/form-data";
  if (!form && type.rfind("multipart/", 0) == 0) {
    throw ApiError(415, "unsupported_media_type", "a form must be multipart/form-data", "Content-Type");
  }
  const std::string raw_field = "body";
  // A declared length past the limit is refused before a byte is read.
  if (const std::string* length = request.header("Content-Length"); length != nullptr) {
    int64_t declared = -1;
    try {
      declared = std::stoll(*length);
    } catch (const std::exception&) {
    }
    if (declared > limit + (form ? kFormOverhead : 0)) throw too_large(limit, form ? "file" : raw_field);
  }
  if (request.ask_for_body) request.ask_for_body();

  CappedBuffer capped(*body, limit + (form ? kFormOverhead : 0));
  std::istream in(&capped);
  std::unique_ptr<Staging> staged;
  http::Upload upload;
  std::string declared;
  if (form) {
    FilePart part(store, limit);
    Poco::Net::HTMLForm fields;
    fields.setFieldLimit(64);
    fields.setValueLengthLimit(static_cast<int>(kFormOverhead));
    Poco::Net::HTTPRequest head(Poco::Net::HTTPRequest::HTTP_POST, request.path);
    head.setContentType(*content_type);
    try {
      fields.load(head, in, part);
    } catch (const ApiError&) {
      throw;
    } catch (const Poco::Exception& e) {
      if (capped.exceeded()) throw too_large(limit, part.field.empty() ? "file" : part.field);
      throw ApiError::bad_request("the form cannot be read: " + e.message(), "body");
    }
    if (capped.exceeded()) throw too_large(limit, part.field.empty() ? "file" : part.field);
    if (!part.staged) throw ApiError::unprocessable("the form carries no file (a part with a filename)", "file");
    staged = std::move(part.staged);
    upload.field = part.field;
    upload.filename = part.filename;
    declared = part.declared;
    for (const auto& [name, value] : fields) upload.fields.emplace_back(name, value);
  } else {
    staged = store.stage(limit);
    copy_into(in, *staged, limit, raw_field);
    if (capped.exceeded()) throw too_large(limit, raw_field);
    upload.field = raw_field;
    if (const std::string* disposition = request.header("Content-Disposition"); disposition != nullptr) {
      std::string kind;
      Poco::Net::NameValueCollection params;
      Poco::Net::MessageHeader::splitParameters(*disposition, kind, params);
      upload.filename = params.get("filename", "");
    }
    declared = type;
  }
  // What follows a form's closing boundary is read too, so that the connection can carry the next request.
  char rest[4096];
  while (in.read(rest, sizeof rest) || in.gcount() > 0) {
  }
  if (capped.exceeded()) throw too_large(limit, upload.field);
  request.body_consumed = capped.at_end();
  staged->finish();
  check_type(*staged, declared, route, upload.field);
  BlobInfo info = store.commit(*staged);
  upload.sha256 = info.sha256;
  upload.size = info.size;
  upload.media_type = info.media_type;
  upload.created = info.created;
  request.upload = std::move(upload);
}

}  // namespace annex::blobs
