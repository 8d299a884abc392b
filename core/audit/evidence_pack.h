// Evidence packs: one ZIP archive that hands an auditor documents together with the audit entries behind them,
// verifiable offline with the audit log's public key alone (`annexctl audit verify --file pack.zip`).
//
//   manifest.json       {"format": "annex-evidence-pack", "version": 1, "id", "title", "created_at",
//                        "created_by", "objects": [{"type", "id"}], "documents": [{"name", "sha256", "size"}],
//                        "audit_entries": [the seq of every entry about the objects when the pack was made]}
//   documents/<name>    each document, as the bytes the caller gave
//   audit-proof.jsonl   the proof (audit_proof.h) of those entries and of the pack's own entry
//
// Making a pack appends, in a transaction of its own, the entry {action "audit.evidence.export", object
// ("annex.evidence_pack", id), after: the manifest} and proves it with the others. So a changed document no longer
// matches the manifest, a changed manifest no longer matches its audited entry, a changed entry breaks the chain
// to its signed checkpoint, and a removed file or entry is reported.
#pragma once

#include "audit/audit_proof.h"

#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace annex::audit {

inline constexpr const char* kEvidenceAction = "audit.evidence.export";
inline constexpr const char* kEvidenceObjectType = "annex.evidence_pack";
// The most entries about the requested objects one pack proves.
inline constexpr size_t kMaxPackEntries = 100000;

struct PackRequest {
  std::string principal;  // who makes it: recorded in the manifest and as its entry's principal
  std::string title;
  std::vector<ObjectRef> objects;
  std::vector<std::pair<std::string, std::string>> documents;  // name → bytes
};

struct Pack {
  std::string id;     // "ev_…"
  std::string bytes;  // the ZIP archive
  int64_t entry_seq = 0;  // the pack's own audit entry
  ProofSize proof;
};

// Objects as JSON [{"type": "…", "id": "…"}, …] (1 to 10,000). Throws FieldError naming "objects" or
// "objects[i].type" / "objects[i].id".
std::vector<ObjectRef> parse_objects(std::string_view json);
// Documents as a JSON object {name: text, …} ("" for none). Throws FieldError("documents") when it is not one, when a value is
// not a string, when a name repeats (ignoring case) or is unsafe as a file name: a name is 1 to 128 of the
// characters A–Z a–z 0–9 . _ -, not starting with '.' and without "..", so no separator, parent reference or
// hidden file can reach the archive.
std::vector<std::pair<std::string, std::string>> parse_documents(std::string_view json);
// Throws FieldError("documents") for a name parse_documents() refuses (the same rule, for callers in C++).
void check_document_name(std::string_view name);

// Makes a pack. Throws FieldError for bad input (naming "title", "objects" or "documents"), std::invalid_argument
// when the calling thread holds an open transaction (the pack's entry and checkpoint must be committed before it
// is handed out), and std::runtime_error when the log signs no checkpoints or does not verify where it must.
Pack build_evidence_pack(AuditLog& log, const PackRequest& request);

struct PackReport {
  bool ok = true;
  std::string id;
  std::string title;
  int64_t documents = 0;
  int64_t manifest_seq = 0;  // the pack's own audit entry
  ProofReport proof;
  std::string file;           // on failure: the file at fault, when one is
  int64_t first_bad_seq = 0;  // on failure: the entry at fault, when one is
  std::string problem;        // on failure: the first problem; when ok: a note, if any
};

// True when `head` (the first bytes of a file) begins like a ZIP archive.
bool looks_like_zip(std::string_view head);

// Verifies a pack: every document against the manifest, the manifest against its audited entry, every proven
// entry through its segment to a signed checkpoint and, with `key`, the checkpoints' signatures.
PackReport verify_evidence_pack(std::istream& zip, const Signer* key);

}  // namespace annex::audit
