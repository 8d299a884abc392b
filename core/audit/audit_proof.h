// Proofs that some audit entries stand in the log as they were written, disclosing nothing of the others.
//
// For each entry to prove, the proof carries the chain segment from that entry to the first signed checkpoint at
// or after it (segments that would overlap are one segment): the segment's starting previous hash, the
// checkpoint (seq, hash, at, key_id, signature), and every entry of the segment in order — the proven ones whole,
// every other one as {seq, digest} alone (chain format v2, audit_log.h). A verifier recomputes each segment from
// its previous hash to the checkpoint's hash and checks the signature with the public key: an altered entry or
// digest breaks the chain, a removed one the sequence, a cut one the segment. A segment holds at most
// audit.checkpoint_every entries, the distance between two signed checkpoints. Entries written before the log
// moved to v2 cannot be shown as digests: a segment reaching back into them carries them whole.
//
// The proof is JSON Lines (audit-proof.jsonl in an evidence pack):
//   {"proof":{"format":"annex-audit-proof","version":1,"v2_from":N}}
//   {"segment":{"from":A,"previous_hash":H,"checkpoint":{"seq":B,"hash","at","key_id","signature"}}}
//   {"seq":A,"at","principal","action","object_type","object_id","before","after","hash"}   a proven entry
//   {"seq":A+1,"digest":D}                                                                   any other entry
//   … every entry up to B, then the next segment …
//   {"end":{"segments":S,"entries":E,"redacted":R}}
#pragma once

#include "audit/audit_log.h"

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace annex::audit {

// A record the audit log speaks of: an entry's (object_type, object_id).
struct ObjectRef {
  std::string type;
  std::string id;
};

// The sequence numbers of every entry about one of `objects`, ascending. Throws FieldError("objects") when they
// are more than `limit`.
std::vector<int64_t> entries_about(store::Database& db, const std::vector<ObjectRef>& objects, size_t limit);

struct ProofSize {
  int64_t entries = 0;   // proven, whole
  int64_t redacted = 0;  // shown as digests
  int64_t segments = 0;
};

// The most lines (entries whole or as digests) one proof may hold, about 45 MB.
inline constexpr int64_t kMaxProofLines = 500000;

// Writes the proof of the entries `seqs` (ascending, no repeats) to `out`. Signs a checkpoint over the head
// first when none covers the last of them (so call it outside any transaction). Throws std::runtime_error when
// the log signs no checkpoints, and when the stored chain does not lead from an entry to its checkpoint (the
// log was tampered with: `annexctl audit verify` names where); FieldError("objects") past kMaxProofLines.
ProofSize write_proof(AuditLog& log, const std::vector<int64_t>& seqs, std::ostream& out);

struct ProofReport {
  bool ok = true;
  int64_t entries = 0;
  int64_t redacted = 0;
  int64_t segments = 0;
  int64_t checkpoints = 0;    // signed checkpoints checked (0 without a key)
  int64_t first_bad_seq = 0;  // 0 when ok, or when the problem is not one entry's
  std::string problem;        // when ok: a note (signatures not checked), else the first problem
  std::vector<Entry> proven;  // the whole entries, in sequence order
};

// Verifies a proof written by write_proof(). `key` checks the checkpoints' signatures; null skips them (noted).
ProofReport verify_proof(std::istream& in, const Signer* key);

}  // namespace annex::audit
