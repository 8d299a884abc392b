#include "audit/audit_proof.h"

#include "errors/field_error.h"
#include "store/sql.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <istream>
#include <optional>
#include <ostream>
#include <set>
#include <stdexcept>

namespace annex::audit {
namespace {

using store::Param;

constexpr const char* kFormat = "annex-audit-proof";

std::optional<Checkpoint> checkpoint_at_or_after(soci::session& session, int64_t seq) {
  Param p = Param::integer(seq);
  auto rs = store::run(session,
                       "SELECT seq, hash, at, key_id, signature FROM annex_audit_checkpoints WHERE seq >= ?"
                       " ORDER BY seq LIMIT 1",
                       std::span<const Param>(&p, 1));
  if (rs.rows.empty()) return std::nullopt;
  const auto& r = rs.rows[0];
  return Checkpoint{r[0].i, r[1].s, r[2].s, r[3].s, r[4].s};
}

std::string checkpoint_json(const Checkpoint& c) {
  return nlohmann::json{{"seq", c.seq}, {"hash", c.hash}, {"at", c.at}, {"key_id", c.key_id}, {"signature", c.signature}}
      .dump();
}

struct Segment {
  int64_t from = 0;
  Checkpoint checkpoint;
};

// Writes one segment: its header, then every entry from its start to its checkpoint, checking on the way that
// the stored chain leads there (a proof of a tampered log would only fail later, in the auditor's hands).
void write_segment(soci::session& session, const Segment& segment, const std::vector<int64_t>& seqs, int64_t first_v2,
                   std::ostream& out, ProofSize& size) {
  std::string previous = kGenesisHash;
  if (segment.from > 1) {
    Param p = Param::integer(segment.from - 1);
    auto rs = store::run(session, "SELECT hash FROM annex_audit WHERE seq = ?", std::span<const Param>(&p, 1));
    if (rs.rows.empty()) throw std::runtime_error("audit entry " + std::to_string(segment.from - 1) + " is missing from the log");
    previous = rs.rows[0][0].s;
  }
  out << R"({"segment":{"from":)" << segment.from << R"(,"previous_hash":)" << nlohmann::json(previous).dump()
      << R"(,"checkpoint":)" << checkpoint_json(segment.checkpoint) << "}}\n";
  int64_t expected = segment.from;
  while (expected <= segment.checkpoint.seq) {
    Param p[] = {Param::integer(expected), Param::integer(segment.checkpoint.seq), Param::integer(1000)};
    auto rs = store::run(session,
                         "SELECT seq, at, principal, action, object_type, object_id, before_json, after_json, hash"
                         " FROM annex_audit WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT ?",
                         p);
    if (rs.rows.empty()) break;
    for (const auto& r : rs.rows) {
      Entry e{r[0].i, r[1].s, r[2].s, r[3].s, r[4].s, r[5].s, r[6].s, r[7].s, r[8].s};
      if (e.seq != expected) throw std::runtime_error("audit entry " + std::to_string(expected) + " is missing from the log");
      bool whole = e.seq < first_v2 || std::binary_search(seqs.begin(), seqs.end(), e.seq);
      std::string digest, computed;
      if (e.seq >= first_v2) {
        digest = entry_digest(e);
        computed = chain_link(previous, digest);
      } else {
        computed = chain_hash(previous, e, first_v2);
      }
      if (computed != e.hash) {
        throw std::runtime_error("the audit log does not verify at entry " + std::to_string(e.seq) +
                                 ": run annexctl audit verify");
      }
      if (whole) {
        out << entry_jsonl(e);
        ++size.entries;
      } else {
        out << R"({"seq":)" << e.seq << R"(,"digest":")" << digest << "\"}\n";
        ++size.redacted;
      }
      previous = computed;
      ++expected;
    }
  }
  if (expected <= segment.checkpoint.seq) {
    throw std::runtime_error("audit entry " + std::to_string(expected) + " is missing from the log");
  }
  if (previous != segment.checkpoint.hash) {
    throw std::runtime_error("the audit log does not match its signed checkpoint " +
                             std::to_string(segment.checkpoint.seq) + ": run annexctl audit verify");
  }
  ++size.segments;
}

}  // namespace

std::vector<int64_t> entries_about(store::Database& db, const std::vector<ObjectRef>& objects, size_t limit) {
  std::set<int64_t> found;
  store::Lease lease(db);
  for (const auto& o : objects) {
    Param p[] = {Param::text(o.type), Param::text(o.id), Param::integer(static_cast<int64_t>(limit) + 1)};
    auto rs = store::run(lease.session(),
                         "SELECT seq FROM annex_audit WHERE object_type = ? AND object_id = ? ORDER BY seq LIMIT ?", p);
    for (const auto& r : rs.rows) found.insert(r[0].i);
    if (found.size() > limit) {
      throw FieldError("objects", "the audit log holds more than " + std::to_string(limit) +
                                      " entries about these objects: ask for fewer at a time");
    }
  }
  return {found.begin(), found.end()};
}

ProofSize write_proof(AuditLog& log, const std::vector<int64_t>& seqs, std::ostream& out) {
  if (log.signer() == nullptr) throw std::runtime_error("this host signs no audit checkpoints, so it cannot prove entries");
  if (seqs.empty()) throw std::invalid_argument("a proof needs at least one entry");
  store::Lease lease(log.database());
  soci::session& session = lease.session();
  const int64_t first_v2 = v2_from(session);
  std::vector<Segment> plan;
  int64_t lines = 0;
  for (size_t i = 0; i < seqs.size();) {
    int64_t from = seqs[i];
    std::optional<Checkpoint> cp = checkpoint_at_or_after(session, from);
    if (!cp) {
      log.checkpoint();  // signs the head, which is at or after every entry there is
      cp = checkpoint_at_or_after(session, from);
      if (!cp) throw std::runtime_error("no signed checkpoint covers audit entry " + std::to_string(from));
    }
    lines += cp->seq - from + 1;
    if (lines > kMaxProofLines) {
      throw FieldError("objects", "the proof of these objects' audit entries would run past " +
                                      std::to_string(kMaxProofLines) + " entries: ask for fewer objects at a time");
    }
    while (i < seqs.size() && seqs[i] <= cp->seq) ++i;
    plan.push_back(Segment{from, std::move(*cp)});
  }
  out << R"({"proof":{"format":")" << kFormat << R"(","version":1,"v2_from":)" << first_v2 << "}}\n";
  ProofSize size;
  for (const Segment& s : plan) write_segment(session, s, seqs, first_v2, out, size);
  out << R"({"end":{"segments":)" << size.segments << R"(,"entries":)" << size.entries << R"(,"redacted":)"
      << size.redacted << "}}\n";
  return size;
}

namespace {

// Checks a proof line by line; the first problem ends it.
class ProofChecker {
 public:
  explicit ProofChecker(const Signer* key) : key_(key) {}

  // False once a problem is found.
  bool line(const nlohmann::json& j) {
    if (ended_) throw std::invalid_argument("a record after the end marker");
    if (!header_) {
      const auto& h = j.at("proof");
      if (h.at("format").get<std::string>() != kFormat || h.at("version").get<int>() != 1) {
        throw std::invalid_argument("not a proof this version of Annex reads");
      }
      first_v2_ = h.at("v2_from").get<int64_t>();
      header_ = true;
      return true;
    }
    if (j.contains("segment")) return close_segment() && open_segment(j.at("segment"));
    if (j.contains("end")) return close_segment() && end(j.at("end"));
    return entry(j);
  }

  ProofReport finish() {
    if (!report_.ok) return std::move(report_);
    if (!header_) fail(0, "this is not an audit proof: it does not begin with the proof header");
    else if (!ended_) fail(0, "the proof is truncated: it has no end marker (cut after entry " + std::to_string(expected_ - 1) + ")");
    else if (key_ == nullptr) report_.problem = "checkpoint signatures not checked (no key given)";
    return std::move(report_);
  }

  bool fail(int64_t seq, std::string problem) {
    if (report_.ok) {
      report_.ok = false;
      report_.first_bad_seq = seq;
      report_.problem = std::move(problem);
    }
    return false;
  }
  int64_t expected() const { return expected_; }

 private:
  bool open_segment(const nlohmann::json& s) {
    from_ = s.at("from").get<int64_t>();
    previous_ = s.at("previous_hash").get<std::string>();
    const auto& c = s.at("checkpoint");
    checkpoint_ = Checkpoint{c.at("seq").get<int64_t>(), c.at("hash").get<std::string>(), c.at("at").get<std::string>(),
                             c.at("key_id").get<std::string>(), c.at("signature").get<std::string>()};
    if (from_ <= last_checkpoint_ || checkpoint_->seq < from_) {
      return fail(from_, "the segment from entry " + std::to_string(from_) + " to checkpoint " +
                             std::to_string(checkpoint_->seq) + " overlaps the one before it or runs backwards");
    }
    expected_ = from_;
    ++report_.segments;
    return true;
  }

  bool entry(const nlohmann::json& j) {
    if (!checkpoint_) throw std::invalid_argument("an entry outside any segment");
    int64_t seq = j.at("seq").get<int64_t>();
    if (seq > expected_) return fail(expected_, "entry " + std::to_string(expected_) + " is missing from the segment from entry " +
                                                    std::to_string(from_) + " to checkpoint " + std::to_string(checkpoint_->seq));
    if (seq < expected_) return fail(seq, "entry " + std::to_string(seq) + " appears again or out of order");
    if (seq > checkpoint_->seq) {
      return fail(seq, "entry " + std::to_string(seq) + " lies past its segment's checkpoint " + std::to_string(checkpoint_->seq));
    }
    if (j.contains("digest")) {
      if (seq < first_v2_) {
        return fail(seq, "entry " + std::to_string(seq) + " is shown as a digest, but it is hashed whole (chain format v1)");
      }
      previous_ = chain_link(previous_, j.at("digest").get<std::string>());
      ++report_.redacted;
    } else {
      Entry e{seq, j.at("at").get<std::string>(), j.at("principal").get<std::string>(), j.at("action").get<std::string>(),
              j.at("object_type").get<std::string>(), j.at("object_id").get<std::string>(), j.at("before").dump(),
              j.at("after").dump(), j.at("hash").get<std::string>()};
      std::string computed = chain_hash(previous_, e, first_v2_);
      if (computed != e.hash) {
        return fail(seq, "entry " + std::to_string(seq) + " does not match its hash: it was altered");
      }
      previous_ = computed;
      report_.proven.push_back(std::move(e));
      ++report_.entries;
    }
    ++expected_;
    return true;
  }

  bool close_segment() {
    if (!checkpoint_) return true;
    const Checkpoint& c = *checkpoint_;
    std::string span = "the segment from entry " + std::to_string(from_) + " to checkpoint " + std::to_string(c.seq);
    if (expected_ <= c.seq) {
      return fail(expected_, span + " ends at entry " + std::to_string(expected_ - 1) + ": it was cut short");
    }
    if (previous_ != c.hash) {
      return fail(c.seq, span + " does not lead to the checkpoint's hash: an entry or digest in it was altered");
    }
    if (key_ != nullptr) {
      if (c.key_id != key_->key_id()) {
        return fail(c.seq, "checkpoint " + std::to_string(c.seq) + " is signed by key " + c.key_id + ", not by " + key_->key_id());
      }
      if (!key_->verify(checkpoint_message(c), c.signature)) {
        return fail(c.seq, "the signature of checkpoint " + std::to_string(c.seq) + " is invalid");
      }
      ++report_.checkpoints;
    }
    last_checkpoint_ = c.seq;
    checkpoint_.reset();
    return true;
  }

  bool end(const nlohmann::json& e) {
    ended_ = true;
    if (e.at("segments").get<int64_t>() != report_.segments || e.at("entries").get<int64_t>() != report_.entries ||
        e.at("redacted").get<int64_t>() != report_.redacted) {
      return fail(0, "the proof's end marker counts " + std::to_string(e.at("segments").get<int64_t>()) + " segments, " +
                         std::to_string(e.at("entries").get<int64_t>()) + " entries and " +
                         std::to_string(e.at("redacted").get<int64_t>()) + " digests, but it holds " +
                         std::to_string(report_.segments) + ", " + std::to_string(report_.entries) + " and " +
                         std::to_string(report_.redacted) + ": lines were removed or added");
    }
    return true;
  }

  const Signer* key_;
  ProofReport report_;
  bool header_ = false;
  bool ended_ = false;
  int64_t first_v2_ = 1;
  std::optional<Checkpoint> checkpoint_;
  int64_t from_ = 0;
  int64_t expected_ = 1;
  int64_t last_checkpoint_ = 0;
  std::string previous_;
};

}  // namespace

ProofReport verify_proof(std::istream& in, const Signer* key) {
  ProofChecker checker(key);
  std::string line;
  int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    try {
      if (j.is_discarded() || !j.is_object()) throw std::invalid_argument("not a JSON object");
      if (!checker.line(j)) break;
    } catch (const std::exception& e) {
      checker.fail(0, "line " + std::to_string(line_no) + " of the proof is not a valid record: " + e.what());
      break;
    }
  }
  return checker.finish();
}

}  // namespace annex::audit
