// The blob store on both backends: bytes stored once by their SHA-256, in chunks, with the type sniffed from them;
// nothing stored for an upload past its limit; every byte value round-trips (bytea on PostgreSQL).
#include "blobs/blob_store.h"
#include "crypto/digest.h"
#include "store/database.h"
#include "store/sql.h"
#include "store/transaction.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <sstream>
#include <thread>
#include <vector>

namespace annex::blobs {
namespace {

using test::Backend;

std::string pdf_bytes(size_t size) {
  std::string bytes = "%PDF-1.7\n";
  for (size_t i = bytes.size(); i < size; ++i) bytes.push_back(static_cast<char>((i * 131 + 7) % 256));
  return bytes.substr(0, size);
}

class BlobStoreTest : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    db_ = test::migrated_database(GetParam(), dir_);
    if (!db_) GTEST_SKIP() << "no PostgreSQL";
    store_ = std::make_unique<BlobStore>(*db_, dir_.str() + "/uploads", 12 << 20);
  }
  int64_t count(const std::string& table) {
    store::Lease lease(*db_);
    return store::run(lease.session(), "SELECT COUNT(*) FROM " + table, {}).rows.at(0).at(0).i;
  }
  BlobInfo upload(const std::string& bytes, int64_t limit = 12 << 20) {
    auto staged = store_->stage(limit);
    for (size_t at = 0; at < bytes.size(); at += 10000) staged->write(bytes.data() + at, std::min<size_t>(10000, bytes.size() - at));
    staged->finish();
    return store_->commit(*staged);
  }
  test::TempDir dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<BlobStore> store_;
};

TEST(Sniff, TellsTypesByTheirMagicBytesNotTheirNames) {
  EXPECT_EQ(sniff("%PDF-1.4\n..."), "application/pdf");
  EXPECT_EQ(sniff(std::string("\xFF\xD8\xFF\xE0\x00\x10JFIF", 10)), "image/jpeg");
  EXPECT_EQ(sniff(std::string("\x89PNG\r\n\x1A\n\0\0\0\rIHDR", 16)), "image/png");
  EXPECT_EQ(sniff(std::string("RIFF\x24\0\0\0WEBPVP8 ", 16)), "image/webp");
  EXPECT_EQ(sniff(std::string("\0\0\0\x18" "ftypheic\0\0\0\0", 16)), "image/heic");
  EXPECT_EQ(sniff(std::string("\0\0\0\x18" "ftypmif1\0\0\0\0", 16)), "image/heif");
  EXPECT_EQ(sniff("PDF-1.4 but not quite"), kOctetStream);
  EXPECT_EQ(sniff("<html>%PDF-"), kOctetStream);
  EXPECT_EQ(sniff(""), kOctetStream);
  EXPECT_EQ(normalise_type(" Image/JPG ; q=1"), "image/jpeg");
}

TEST_P(BlobStoreTest, StoresBytesOnceByTheirHashInChunks) {
  std::string bytes = pdf_bytes(600 * 1024);  // three chunks
  BlobInfo first = upload(bytes);
  EXPECT_TRUE(first.created);
  EXPECT_EQ(first.sha256, crypto::sha256_hex(bytes));
  EXPECT_EQ(first.size, static_cast<int64_t>(bytes.size()));
  EXPECT_EQ(first.media_type, "application/pdf");
  BlobInfo again = upload(bytes);
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.sha256, first.sha256);
  EXPECT_EQ(again.created_at, first.created_at);
  EXPECT_EQ(count("annex_blobs"), 1);
  EXPECT_EQ(count("annex_blob_chunks"), 3);
  std::ostringstream out;
  store_->write_to(first.sha256, out);
  EXPECT_TRUE(out.str() == bytes);
}

TEST_P(BlobStoreTest, KeepsEveryByteValueExactly) {
  std::string bytes = "%PDF-";
  for (int round = 0; round < 3; ++round) {
    for (int v = 0; v < 256; ++v) bytes.push_back(static_cast<char>(v));
  }
  bytes += std::string(5, '\0');
  BlobInfo info = upload(bytes);
  EXPECT_EQ(store_->read(info.sha256, 0, 1 << 20), bytes);
  // Directly through the statement path too: a parameter bound as bytes and read back as bytes.
  store::Lease lease(*db_);
  store::Param key[] = {store::Param::text(info.sha256)};
  auto rs = store::run(lease.session(), "SELECT data FROM annex_blob_chunks WHERE sha256 = ?", key);
  ASSERT_EQ(rs.rows.size(), 1u);
  EXPECT_EQ(rs.rows[0][0].type, store::CellType::kBlob);
  EXPECT_TRUE(rs.rows[0][0].s == bytes);
}

TEST_P(BlobStoreTest, ReadsARangeAcrossChunks) {
  std::string bytes = pdf_bytes(kChunkBytes * 2 + 100);
  BlobInfo info = upload(bytes);
  EXPECT_EQ(store_->read(info.sha256, kChunkBytes - 10, 30), bytes.substr(kChunkBytes - 10, 30));
  EXPECT_EQ(store_->read(info.sha256, kChunkBytes * 2 + 90, 1000), bytes.substr(kChunkBytes * 2 + 90));
  EXPECT_EQ(store_->read(info.sha256, 1 << 30, 10), "");
  EXPECT_THROW(store_->read(std::string(64, 'a'), 0, 10), std::out_of_range);
  auto stat = store_->stat(info.sha256);
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->size, static_cast<int64_t>(bytes.size()));
  EXPECT_FALSE(store_->stat(std::string(64, 'a')));
  EXPECT_FALSE(store_->stat("not a hash"));
}

TEST_P(BlobStoreTest, AnUploadPastItsLimitStoresNothing) {
  auto staged = store_->stage(1000);
  std::string bytes = pdf_bytes(1001);
  EXPECT_THROW(staged->write(bytes.data(), bytes.size()), TooLarge);
  EXPECT_EQ(count("annex_blobs"), 0);
  EXPECT_EQ(count("annex_blob_chunks"), 0);
  // The host-wide ceiling holds whatever a route asks for.
  EXPECT_THROW(store_->put(pdf_bytes((12 << 20) + 1)), TooLarge);
  EXPECT_EQ(count("annex_blob_chunks"), 0);
}

TEST_P(BlobStoreTest, ConcurrentUploadsOfTheSameBytesAllSucceedAndStoreOneCopy) {
  std::string bytes = pdf_bytes(300 * 1024);
  std::vector<std::thread> threads;
  std::atomic<int> created{0}, failed{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      try {
        if (upload(bytes).created) ++created;
      } catch (const std::exception& e) {
        ++failed;
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(count("annex_blobs"), 1);
  EXPECT_EQ(count("annex_blob_chunks"), 2);
}

TEST_P(BlobStoreTest, PutInsideATransactionCommitsOrRollsBackWithIt) {
  std::string bytes = pdf_bytes(2000);
  {
    store::Lease lease(*db_);
    store::ScopedTransaction txn(lease.session(), db_->dialect());
    EXPECT_TRUE(store_->put(bytes).created);
    // not committed: rolled back with the transaction
  }
  EXPECT_EQ(count("annex_blobs"), 0);
  EXPECT_EQ(count("annex_blob_chunks"), 0);
  {
    store::Lease lease(*db_);
    store::ScopedTransaction txn(lease.session(), db_->dialect());
    store_->put(bytes);
    txn.commit();
  }
  EXPECT_EQ(count("annex_blobs"), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, BlobStoreTest, testing::Values(Backend::kSqlite, Backend::kPostgresql),
                         test::backend_param_name);

}  // namespace
}  // namespace annex::blobs
