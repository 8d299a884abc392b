#pragma once
// SQLite writes each WAL frame with two writes (its 24-byte header, then the page), so a commit of 40 pages cost
// 80 system calls, most of the kernel's work per call and per page touched (a quarter of the writer turn under the
// expenses benchmark). install_gathered_wal_writes() makes the process's default SQLite VFS one that gathers the
// writes of a commit in memory and hands them to the file in one write, once the commit frame is complete —
// before the commit is published in the WAL index, where other connections look for it.

#include <cstdint>

namespace annex::store {

// Idempotent; before the first connection opens.
void install_gathered_wal_writes();

// Writes that reached WAL files, and writes the WAL files were asked for, since start (for tests).
struct WalWriteCounts {
  uint64_t asked = 0;
  uint64_t made = 0;
};
WalWriteCounts wal_write_counts();

}  // namespace annex::store
