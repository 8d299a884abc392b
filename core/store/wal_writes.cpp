#include "store/wal_writes.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>

// A shim over the default VFS, written here because SQLite offers no setting for it. A WAL file it opens keeps the
// bytes SQLite writes to it while they continue one another, and writes them out:
//  - once the page following a commit frame's header is in (the 24-byte header's second word is nonzero for the
//    frame that ends a transaction): a failure there fails the commit as SQLite's own write would;
//  - before anything else touches the file (read, sync, truncate, size, close, file control, memory map);
//  - when a write does not continue the pending bytes, or they pass kWriteAbove (a large transaction);
//  - and, as a last guard, when the connection's database file is asked for the memory barrier that comes right
//    before SQLite publishes a commit in the WAL index: nothing may be published that is not in the file.
// A WAL whose database file it cannot name (never seen in practice) is written through unchanged.
namespace annex::store {
namespace {

constexpr size_t kWriteAbove = size_t{1} << 20;
constexpr size_t kLargestWrite = 31 * 4096;
constexpr int kFrameHeaderBytes = 24;

struct File {  // SQLite places files at 8-byte boundaries (after its own Wal object, for one)
  sqlite3_file base;       // its methods are kMethods once open
  sqlite3_file* real;      // the default VFS's file, in the same allocation right after this one
  bool wal = false;
  File* peer = nullptr;    // a database file's WAL (same connection), or a WAL's database file
  const char* name = nullptr;  // a database file's name: SQLite's buffer, whose WAL name leads back to it
  std::string pending;     // a WAL's bytes not written yet, from `start`
  sqlite3_int64 start = 0;
  bool commit_header = false;  // the last write was the header of a commit frame
};

static_assert(sizeof(File) % 8 == 0, "the default VFS's file follows at an 8-byte boundary");

sqlite3_vfs* g_default = nullptr;
sqlite3_vfs g_vfs;
std::atomic<uint64_t> g_asked{0}, g_made{0};
std::mutex g_mutex;  // guards the registry and the links between files

std::unordered_map<const char*, File*>& databases() {
  static std::unordered_map<const char*, File*> open;
  return open;
}

File* of(sqlite3_file* file) { return reinterpret_cast<File*>(file); }
const sqlite3_io_methods* real_methods(File* f) { return f->real->pMethods; }

int write_pending(File* f) {
  int rc = SQLITE_OK;
  // The unix VFS writes at most 128 KiB - 1 bytes a call (it masks the length with 0x1ffff, so a longer write
  // would come up short and fail as "disk full"): longer runs go in pieces.
  for (size_t done = 0; done < f->pending.size() && rc == SQLITE_OK;) {
    const size_t piece = std::min(f->pending.size() - done, kLargestWrite);
    g_made.fetch_add(1, std::memory_order_relaxed);
    rc = real_methods(f)->xWrite(f->real, f->pending.data() + done, static_cast<int>(piece),
                                 f->start + static_cast<sqlite3_int64>(done));
    done += piece;
  }
  f->pending.clear();
  f->commit_header = false;
  return rc;
}

int x_close(sqlite3_file* file) {
  File* f = of(file);
  const int written = write_pending(f);
  {
    std::lock_guard lock(g_mutex);
    if (f->peer != nullptr) f->peer->peer = nullptr;
    if (f->name != nullptr) {
      auto it = databases().find(f->name);
      if (it != databases().end() && it->second == f) databases().erase(it);
    }
  }
  const int closed = real_methods(f)->xClose(f->real);
  f->~File();
  return written != SQLITE_OK ? written : closed;
}

int x_read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  File* f = of(file);
  if (int rc = write_pending(f); rc != SQLITE_OK) return rc;
  return real_methods(f)->xRead(f->real, out, amount, offset);
}

int x_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  File* f = of(file);
  if (!f->wal) return real_methods(f)->xWrite(f->real, data, amount, offset);
  g_asked.fetch_add(1, std::memory_order_relaxed);
  if (f->peer == nullptr) {
    g_made.fetch_add(1, std::memory_order_relaxed);
    return real_methods(f)->xWrite(f->real, data, amount, offset);
  }
  if (!f->pending.empty() &&
      (offset != f->start + static_cast<sqlite3_int64>(f->pending.size()) || f->pending.size() + amount > kWriteAbove)) {
    if (int rc = write_pending(f); rc != SQLITE_OK) return rc;
  }
  if (f->pending.empty()) f->start = offset;
  const auto* bytes = static_cast<const unsigned char*>(data);
  f->pending.append(reinterpret_cast<const char*>(bytes), static_cast<size_t>(amount));
  const bool ends_commit = f->commit_header && amount != kFrameHeaderBytes;
  f->commit_header = amount == kFrameHeaderBytes && (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0;
  return ends_commit ? write_pending(f) : SQLITE_OK;
}

int x_truncate(sqlite3_file* file, sqlite3_int64 size) {
  File* f = of(file);
  if (int rc = write_pending(f); rc != SQLITE_OK) return rc;
  return real_methods(f)->xTruncate(f->real, size);
}

int x_sync(sqlite3_file* file, int flags) {
  File* f = of(file);
  if (int rc = write_pending(f); rc != SQLITE_OK) return rc;
  return real_methods(f)->xSync(f->real, flags);
}

int x_file_size(sqlite3_file* file, sqlite3_int64* size) {
  File* f = of(file);
  if (int rc = write_pending(f); rc != SQLITE_OK) return rc;
  return real_methods(f)->xFileSize(f->real, size);
}

int x_lock(sqlite3_file* file, int level) { return real_methods(of(file))->xLock(of(file)->real, level); }
int x_unlock(sqlite3_file* file, int level) { return real_methods(of(file))->xUnlock(of(file)->real, level); }
int x_check_reserved_lock(sqlite3_file* file, int* out) {
  return real_methods(of(file))->xCheckReservedLock(of(file)->real, out);
}

int x_file_control(sqlite3_file* file, int op, void* arg) {
  File* f = of(file);
  if (int rc = write_pending(f); rc != SQLITE_OK) return rc;
  return real_methods(f)->xFileControl(f->real, op, arg);
}

int x_sector_size(sqlite3_file* file) { return real_methods(of(file))->xSectorSize(of(file)->real); }
int x_device_characteristics(sqlite3_file* file) {
  return real_methods(of(file))->xDeviceCharacteristics(of(file)->real);
}

int x_shm_map(sqlite3_file* file, int page, int size, int extend, void volatile** out) {
  return real_methods(of(file))->xShmMap(of(file)->real, page, size, extend, out);
}
int x_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  return real_methods(of(file))->xShmLock(of(file)->real, offset, n, flags);
}
void x_shm_barrier(sqlite3_file* file) {
  File* f = of(file);
  if (File* wal = f->peer; wal != nullptr && !wal->pending.empty() && write_pending(wal) != SQLITE_OK) {
    // SQLite publishes the commit after this barrier whatever it returns: better to stop than to publish frames
    // that are not in the file.
    std::fprintf(stderr, "annex: a WAL write failed right before its commit was published; stopping\n");
    std::abort();
  }
  real_methods(f)->xShmBarrier(f->real);
}
int x_shm_unmap(sqlite3_file* file, int delete_flag) { return real_methods(of(file))->xShmUnmap(of(file)->real, delete_flag); }

int x_fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  File* f = of(file);
  if (int rc = write_pending(f); rc != SQLITE_OK) return rc;
  return real_methods(f)->xFetch(f->real, offset, amount, out);
}
int x_unfetch(sqlite3_file* file, sqlite3_int64 offset, void* p) { return real_methods(of(file))->xUnfetch(of(file)->real, offset, p); }

const sqlite3_io_methods kMethods = {3,           x_close,          x_read,         x_write,        x_truncate,
                                     x_sync,      x_file_size,      x_lock,         x_unlock,       x_check_reserved_lock,
                                     x_file_control, x_sector_size, x_device_characteristics, x_shm_map, x_shm_lock,
                                     x_shm_barrier, x_shm_unmap,    x_fetch,        x_unfetch};

int x_open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  File* f = new (file) File();
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + sizeof(File));
  std::memset(f->real, 0, static_cast<size_t>(g_default->szOsFile));
  const int rc = g_default->xOpen(g_default, name, f->real, flags, out_flags);
  if (f->real->pMethods == nullptr) {  // nothing to close
    f->~File();
    file->pMethods = nullptr;
    return rc;
  }
  if (f->real->pMethods->iVersion < 3) {  // the shim forwards version 3's methods (the unix VFS has them)
    real_methods(f)->xClose(f->real);
    f->~File();
    file->pMethods = nullptr;
    return SQLITE_CANTOPEN;
  }
  f->base.pMethods = &kMethods;
  if (rc != SQLITE_OK) return rc;
  std::lock_guard lock(g_mutex);
  if ((flags & SQLITE_OPEN_MAIN_DB) != 0 && name != nullptr) {
    f->name = name;
    databases()[name] = f;
  } else if ((flags & SQLITE_OPEN_WAL) != 0 && name != nullptr) {
    f->wal = true;
    auto it = databases().find(sqlite3_filename_database(name));
    if (it != databases().end() && it->second->peer == nullptr) {
      f->peer = it->second;
      it->second->peer = f;
    }
  }
  return rc;
}

}  // namespace

void install_gathered_wal_writes() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_default = sqlite3_vfs_find(nullptr);
    if (g_default == nullptr) return;
    g_vfs = *g_default;
    g_vfs.pNext = nullptr;
    g_vfs.zName = "annex-gathered-wal";
    g_vfs.szOsFile = static_cast<int>(sizeof(File)) + g_default->szOsFile;
    g_vfs.xOpen = x_open;
    sqlite3_vfs_register(&g_vfs, 1);
  });
}

WalWriteCounts wal_write_counts() { return {g_asked.load(), g_made.load()}; }

}  // namespace annex::store
