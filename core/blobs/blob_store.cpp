#include "blobs/blob_store.h"

#include "clock/utc.h"
#include "crypto/digest.h"
#include "store/database.h"
#include "store/sql.h"
#include "store/transaction.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace annex::blobs {

using store::Param;

namespace {

bool starts(std::string_view head, std::string_view magic, size_t at = 0) {
  return head.size() >= at + magic.size() && head.substr(at, magic.size()) == magic;
}

}  // namespace

std::string sniff(std::string_view head) {
  if (starts(head, "%PDF-")) return "application/pdf";
  if (starts(head, "\xFF\xD8\xFF")) return "image/jpeg";
  if (starts(head, "\x89PNG\r\n\x1A\n")) return "image/png";
  if (starts(head, "RIFF") && starts(head, "WEBP", 8)) return "image/webp";
  // ISO base media files: a box "ftyp" at offset 4, then the major brand.
  if (starts(head, "ftyp", 4) && head.size() >= 12) {
    std::string_view brand = head.substr(8, 4);
    for (std::string_view b : {"heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs"}) {
      if (brand == b) return "image/heic";
    }
    if (brand == "mif1" || brand == "msf1") return "image/heif";
  }
  return kOctetStream;
}

bool recognised(std::string_view media_type) {
  for (std::string_view t : {"application/pdf", "image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"}) {
    if (media_type == t) return true;
  }
  return false;
}

std::string normalise_type(std::string_view declared) {
  declared = declared.substr(0, declared.find(';'));
  while (!declared.empty() && (declared.back() == ' ' || declared.back() == '\t')) declared.remove_suffix(1);
  while (!declared.empty() && (declared.front() == ' ' || declared.front() == '\t')) declared.remove_prefix(1);
  std::string type(declared);
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  if (type == "image/jpg" || type == "image/pjpeg") return "image/jpeg";
  if (type == "application/x-pdf") return "application/pdf";
  return type;
}

bool valid_sha256(std::string_view text) {
  return text.size() == 64 &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// ---- Staging -------------------------------------------------------------------------------------------------

struct Staging::Hasher {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Hasher() { EVP_MD_CTX_free(ctx); }
};

Staging::Staging(const std::string& dir, int64_t limit) : limit_(limit), hasher_(std::make_unique<Hasher>()) {
  std::filesystem::create_directories(dir);
  std::string pattern = dir + "/upload-XXXXXX";
  fd_ = ::mkstemp(pattern.data());
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot create a staging file in " + dir);
  ::unlink(pattern.c_str());  // gone with the descriptor, whatever happens to the process
  if (hasher_->ctx == nullptr || EVP_DigestInit_ex(hasher_->ctx, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
}

Staging::~Staging() {
  if (fd_ >= 0) ::close(fd_);
}

void Staging::write(const char* data, size_t size) {
  if (size_ + static_cast<int64_t>(size) > limit_) throw TooLarge(limit_);
  if (head_.size() < 32) head_.append(data, std::min(size, 32 - head_.size()));
  EVP_DigestUpdate(hasher_->ctx, data, size);
  for (size_t done = 0; done < size;) {
    ssize_t n = ::pwrite(fd_, data + done, size - done, size_ + static_cast<int64_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::system_error(errno, std::generic_category(), "cannot write a staging file");
    done += static_cast<size_t>(n);
  }
  size_ += static_cast<int64_t>(size);
}

void Staging::finish() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(hasher_->ctx, digest, &length) != 1) throw std::runtime_error("SHA-256 failed");
  sha256_ = crypto::to_hex(std::string_view(reinterpret_cast<const char*>(digest), length));
  media_type_ = sniff(head_);
}

size_t Staging::read_at(int64_t offset, char* out, size_t size) const {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd_, out + done, size - done, offset + static_cast<int64_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category(), "cannot read a staging file");
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

// ---- BlobStore -----------------------------------------------------------------------------------------------

BlobStore::BlobStore(store::Database& db, std::string staging_dir, int64_t max_bytes)
    : db_(db), staging_dir_(std::move(staging_dir)), max_bytes_(max_bytes) {}

std::unique_ptr<Staging> BlobStore::stage(int64_t limit) const {
  return std::make_unique<Staging>(staging_dir_, std::min(limit, max_bytes_));
}

// The header row is claimed first: a second writer of the same bytes finds it (on PostgreSQL, once the first
// commits) and stores nothing; the chunks go in the same transaction, so no one ever sees half a blob.
template <typename ChunkFn>
BlobInfo BlobStore::store(const std::string& sha256, int64_t size, const std::string& media_type, ChunkFn&& chunk) {
  store::Lease lease(db_);
  store::ScopedTransaction txn(lease.session(), db_.dialect());
  std::string now = clock::utc_now();
  Param head[] = {Param::text(sha256), Param::integer(size), Param::text(media_type), Param::integer(kChunkBytes),
                  Param::text(now)};
  int64_t claimed = store::run(lease.session(),
                               "INSERT INTO annex_blobs (sha256, size, media_type, chunk_bytes, created_at)"
                               " VALUES (?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
                               head)
                        .affected;
  BlobInfo info;
  if (claimed == 0) {
    Param key[] = {Param::text(sha256)};
    auto rs = store::run(lease.session(), "SELECT size, media_type, created_at FROM annex_blobs WHERE sha256 = ?", key);
    txn.commit();
    if (rs.rows.empty()) throw store::StoreError(store::StoreError::Kind::kUnavailable, "a stored blob vanished; retry");
    return BlobInfo{sha256, rs.rows[0][0].i, rs.rows[0][1].s, rs.rows[0][2].s, false};
  }
  std::vector<char> buffer(static_cast<size_t>(std::min<int64_t>(kChunkBytes, std::max<int64_t>(size, 1))));
  for (int64_t seq = 0, offset = 0; offset < size; ++seq, offset += kChunkBytes) {
    size_t n = chunk(offset, buffer.data(), static_cast<size_t>(std::min<int64_t>(kChunkBytes, size - offset)));
    Param row[] = {Param::text(sha256), Param::integer(seq),
                   Param{store::CellType::kBlob, 0, 0, std::string_view(buffer.data(), n)}};
    store::run(lease.session(), "INSERT INTO annex_blob_chunks (sha256, seq, data) VALUES (?, ?, ?)", row);
  }
  txn.commit();
  return BlobInfo{sha256, size, media_type, now, true};
}

BlobInfo BlobStore::commit(const Staging& staged) {
  return store(staged.sha256(), staged.size(), staged.media_type(), [&](int64_t offset, char* out, size_t n) {
    size_t got = staged.read_at(offset, out, n);
    if (got != n) throw std::runtime_error("a staging file came back short");
    return got;
  });
}

BlobInfo BlobStore::put(std::string_view bytes) {
  if (static_cast<int64_t>(bytes.size()) > max_bytes_) throw TooLarge(max_bytes_);
  return store(crypto::sha256_hex(bytes), static_cast<int64_t>(bytes.size()), sniff(bytes.substr(0, 32)),
               [&](int64_t offset, char* out, size_t n) {
                 std::memcpy(out, bytes.data() + offset, n);
                 return n;
               });
}

std::optional<BlobInfo> BlobStore::stat(std::string_view sha256) {
  if (!valid_sha256(sha256)) return std::nullopt;
  store::Lease lease(db_);
  Param key[] = {Param::text(sha256)};
  auto rs = store::run(lease.session(), "SELECT size, media_type, created_at FROM annex_blobs WHERE sha256 = ?", key);
  if (rs.rows.empty()) return std::nullopt;
  return BlobInfo{std::string(sha256), rs.rows[0][0].i, rs.rows[0][1].s, rs.rows[0][2].s, false};
}

std::string BlobStore::read(std::string_view sha256, int64_t offset, int64_t length) {
  if (!valid_sha256(sha256)) throw std::out_of_range("no such blob");
  store::Lease lease(db_);
  Param key[] = {Param::text(sha256)};
  auto head = store::run(lease.session(), "SELECT size, chunk_bytes FROM annex_blobs WHERE sha256 = ?", key);
  if (head.rows.empty()) throw std::out_of_range("no such blob");
  const int64_t size = head.rows[0][0].i, chunk = head.rows[0][1].i;
  offset = std::max<int64_t>(offset, 0);
  const int64_t end = std::min(size, offset + std::max<int64_t>(length, 0));
  std::string out;
  if (offset >= end) return out;
  out.reserve(static_cast<size_t>(end - offset));
  Param range[] = {Param::text(sha256), Param::integer(offset / chunk), Param::integer((end - 1) / chunk)};
  auto rs = store::run(lease.session(),
                       "SELECT seq, data FROM annex_blob_chunks WHERE sha256 = ? AND seq >= ? AND seq <= ? ORDER BY seq",
                       range);
  for (const auto& row : rs.rows) {
    const int64_t start = row[0].i * chunk;
    const std::string& data = row[1].s;
    const int64_t from = std::max(offset, start) - start, to = std::min(end, start + static_cast<int64_t>(data.size())) - start;
    if (to > from) out.append(data, static_cast<size_t>(from), static_cast<size_t>(to - from));
  }
  return out;
}

void BlobStore::write_to(const std::string& sha256, std::ostream& out) {
  for (int64_t seq = 0;; ++seq) {
    store::ResultSet rs;
    {
      store::Lease lease(db_);
      Param key[] = {Param::text(sha256), Param::integer(seq)};
      rs = store::run(lease.session(), "SELECT data FROM annex_blob_chunks WHERE sha256 = ? AND seq = ?", key);
    }
    if (rs.rows.empty()) return;
    const std::string& data = rs.rows[0][0].s;
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) return;  // the client went away
  }
}

}  // namespace annex::blobs
