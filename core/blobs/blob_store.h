// BlobStore — content-addressed bytes (receipts, scans) kept in the database, so that every daemon on one
// PostgreSQL sees the same ones. A blob is named by the SHA-256 of its bytes and stored once however often it
// arrives, in chunks of 256 KiB, with the media type sniffed from its first bytes (a header's word is never taken).
//
// An upload is staged while it arrives — hashed, sniffed and counted against its limit on the way — in an unlinked
// temporary file, and written to the database in one short transaction once it is complete and accepted. So a
// refused upload (too large, a type not allowed) stores nothing, a crash leaves nothing behind, a slow client never
// holds a pooled connection or SQLite's write lock, and no more than a chunk of it is ever in memory.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace annex::store {
class Database;
}

namespace annex::blobs {

inline constexpr int64_t kChunkBytes = 256 * 1024;
inline constexpr const char* kOctetStream = "application/octet-stream";

struct BlobInfo {
  std::string sha256;      // 64 lower-case hex digits
  int64_t size = 0;
  std::string media_type;  // as sniffed
  std::string created_at;  // when the bytes were first stored
  bool created = false;    // whether this call stored them (false: they were there already)
};

// The media type of bytes beginning with `head` (give at least the first 16 bytes when there are that many):
// application/pdf, image/jpeg, image/png, image/webp, image/heic, image/heif — or application/octet-stream.
std::string sniff(std::string_view head);
// Whether sniff() can answer `media_type` (so that a route may list it as a type it accepts).
bool recognised(std::string_view media_type);
// A declared type in the form sniff() answers ("image/jpg" → "image/jpeg", parameters and case dropped).
std::string normalise_type(std::string_view declared);
// Whether `text` is a SHA-256 in lower-case hex.
bool valid_sha256(std::string_view text);

// Thrown when more bytes arrive than the limit allows.
class TooLarge : public std::runtime_error {
 public:
  explicit TooLarge(int64_t limit)
      : std::runtime_error("more than " + std::to_string(limit) + " bytes"), limit_(limit) {}
  int64_t limit() const noexcept { return limit_; }

 private:
  int64_t limit_;
};

// Bytes on their way in. Not thread-safe; one per upload.
class Staging {
 public:
  Staging(const std::string& dir, int64_t limit);
  ~Staging();
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;

  // Throws TooLarge once the bytes written exceed the limit.
  void write(const char* data, size_t size);
  // Ends the bytes: computes the hash and the sniffed type.
  void finish();
  int64_t size() const noexcept { return size_; }
  const std::string& sha256() const noexcept { return sha256_; }
  const std::string& media_type() const noexcept { return media_type_; }
  // Reads up to `size` bytes at `offset` of what was written; returns how many.
  size_t read_at(int64_t offset, char* out, size_t size) const;

 private:
  int fd_ = -1;
  int64_t limit_;
  int64_t size_ = 0;
  struct Hasher;
  std::unique_ptr<Hasher> hasher_;
  std::string head_;
  std::string sha256_;
  std::string media_type_;
};

class BlobStore {
 public:
  // `staging_dir` holds uploads while they arrive (created if missing); `max_bytes` is the host-wide ceiling.
  BlobStore(store::Database& db, std::string staging_dir, int64_t max_bytes);

  int64_t max_bytes() const noexcept { return max_bytes_; }
  // A staging area for an upload of at most min(limit, max_bytes()) bytes.
  std::unique_ptr<Staging> stage(int64_t limit) const;
  // Stores the finished upload's bytes, or finds them stored already. Concurrent commits of the same bytes all
  // succeed and store one copy.
  BlobInfo commit(const Staging& staged);
  // Stores `bytes` a plugin made (in the transaction this thread holds, if any). Throws TooLarge past max_bytes().
  BlobInfo put(std::string_view bytes);
  std::optional<BlobInfo> stat(std::string_view sha256);
  // Up to `length` bytes from `offset` (fewer past the end). Throws std::out_of_range when there is no such blob.
  std::string read(std::string_view sha256, int64_t offset, int64_t length);
  // Writes the whole blob to `out` a chunk at a time, taking a pooled connection per chunk only.
  void write_to(const std::string& sha256, std::ostream& out);

 private:
  template <typename ChunkFn>
  BlobInfo store(const std::string& sha256, int64_t size, const std::string& media_type, ChunkFn&& chunk);

  store::Database& db_;
  std::string staging_dir_;
  int64_t max_bytes_;
};

}  // namespace annex::blobs
