// The tamper-evident audit log. Every change to users, roles, sectors, approvals and — through the SDK — to any
// financial record appends one entry:
//
//   seq, at, principal, action, object (type, id), before, after (canonical JSON), and its hash, the first entry
//   chaining from 64 zeros:
//     chain format v2  hash = hex(SHA-256(previous hash ‖ digest)), digest = hex(SHA-256(canonical entry))
//     chain format v1  hash = hex(SHA-256(previous hash ‖ canonical entry))
//
// v2 lets a proof (audit/audit_proof.h) carry the entries it does not disclose as their digests alone. A database
// records the first entry hashed as v2 (annex_audit_head.v2_from): 1 when it was created with v2, the next entry
// at the upgrade for one that was not, whose earlier entries stay v1 as they were written.
//
// Every `checkpoint_every` entries, and on demand (a timer, shutdown), the head (seq, hash) is signed with the
// daemon's Ed25519 key. verify() recomputes the chain and checks every signature, reporting the first bad
// sequence number: an edited entry breaks its own hash; a deleted, inserted or reordered entry breaks the
// sequence or the chain; an entry edited with every later hash recomputed fails at the next checkpoint; a log
// cut short of its head or of a signed checkpoint is reported as truncated.
//
// Canonical JSON: objects with keys sorted by code point, no insignificant white space, strings in UTF-8 with
// only the escapes JSON requires, numbers as written by nlohmann::json (money is integer minor units).
#pragma once

#include "audit/signer.h"
#include "store/database.h"

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace annex::audit {

struct Change {
  std::string principal;    // user id, or "system" / a plugin id for unattended changes
  std::string action;       // "user.create", "expenses.claim.approve" …
  std::string object_type;  // "annex.user"
  std::string object_id;
  std::string before_json;  // JSON text, or "" for none
  std::string after_json;
};

struct Entry {
  int64_t seq = 0;
  std::string at;
  std::string principal;
  std::string action;
  std::string object_type;
  std::string object_id;
  std::string before_json;  // canonical JSON ("null" for none)
  std::string after_json;
  std::string hash;
};

struct Checkpoint {
  int64_t seq = 0;
  std::string hash;
  std::string at;
  std::string key_id;
  std::string signature;
};

inline const std::string kGenesisHash(64, '0');
// v2_from of a log that is v1 throughout (an export written before chain format v2).
inline constexpr int64_t kNeverV2 = INT64_MAX;

// Canonical form of a JSON text; "null" for an empty one. Throws std::invalid_argument for text that is not JSON.
std::string canonical_json(std::string_view json);
// The canonical entry that is hashed.
std::string entry_text(const Entry& e);
// The entry as one line of JSON Lines (an export's or a proof's), ending in a newline.
std::string entry_jsonl(const Entry& e);
// hex(SHA-256(entry_text(e))): what a v2 chain links, and what a proof shows of an entry it does not disclose.
std::string entry_digest(const Entry& e);
// The v2 link: hex(SHA-256(previous hash ‖ digest)).
std::string chain_link(const std::string& previous_hash, const std::string& digest);
// The hash of `e` after `previous_hash` in a log whose v2 entries begin at `v2_from` (default: v2 throughout).
std::string chain_hash(const std::string& previous_hash, const Entry& e, int64_t v2_from = 1);
// The message a checkpoint's signature covers.
std::string checkpoint_message(const Checkpoint& c);

struct Query {
  std::string object_type;
  std::string object_id;
  std::string principal;
  std::string from;  // at >= from (UTC ISO)
  std::string to;    // at < to
  int64_t after_seq = 0;
  int limit = 100;
};

class AuditLog {
 public:
  // `signer` may be null: entries are chained but no checkpoint is signed.
  AuditLog(store::Database& db, std::shared_ptr<const Signer> signer, int checkpoint_every = 1000);

  // Appends inside the caller's open transaction on `session`, so that the change and its entry commit
  // together. Throws std::invalid_argument (before/after not JSON, empty action) or StoreError.
  Entry append(soci::session& session, const Change& change);
  // Appends in a transaction of its own.
  Entry append(const Change& change);
  // Signs the head when it moved since the last checkpoint. Returns the new checkpoint's seq, 0 for none.
  int64_t checkpoint();

  std::vector<Entry> query(const Query& q);
  // Writes the chain format, every checkpoint, every entry, then the head, as JSON Lines.
  void export_jsonl(std::ostream& out);

  // The newest signed checkpoint, if any: its key_id is the key this database's log is signed with.
  std::optional<Checkpoint> last_checkpoint();
  // Why this daemon signs no checkpoint: another daemon on the database signs with another key ("" when none).
  // Every daemon on one database must sign with one key, or the log could not be verified with one public key.
  std::string key_conflict() const;

  const Signer* signer() const { return signer_.get(); }
  store::Database& database() const { return db_; }

 private:
  store::Database& db_;
  // Whether this daemon's key is the one the newest checkpoint was signed with (true for a log without one);
  // records the conflict otherwise.
  bool signs_this_log(soci::session& session);

  std::shared_ptr<const Signer> signer_;
  int checkpoint_every_;
  mutable std::mutex conflict_mutex_;
  std::string conflict_;
};

struct VerifyReport {
  bool ok = true;
  int64_t entries = 0;
  int64_t checkpoints = 0;
  int64_t v2_from = 1;  // the first entry hashed as chain format v2 (kNeverV2: none)
  int64_t first_bad_seq = 0;  // 0 when ok
  std::string problem;
};

// Verifies the log in the database. `verifier` checks the checkpoint signatures; null skips them (reported).
VerifyReport verify(store::Database& db, const Signer* verifier);
// Verifies an export written by export_jsonl(). An export that does not begin with its chain format (one written
// before v2) is v1 throughout.
VerifyReport verify_jsonl(std::istream& in, const Signer* verifier);

// The first entry the database's log hashes as v2; kNeverV2 for a database not yet upgraded to v2.
int64_t v2_from(soci::session& session);

}  // namespace annex::audit
