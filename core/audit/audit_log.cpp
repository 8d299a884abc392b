#include "audit/audit_log.h"

#include "clock/utc.h"
#include "crypto/digest.h"
#include "http/exchange.h"
#include "store/core_schema.h"
#include "store/sql.h"
#include "store/transaction.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <istream>
#include <map>
#include <ostream>
#include <stdexcept>

namespace annex::audit {
namespace {

using store::Param;

std::string json_string(std::string_view s) { return nlohmann::json(std::string(s)).dump(); }

constexpr const char* kEntryColumns =
    "seq, at, principal, action, object_type, object_id, before_json, after_json, hash";

Entry read_entry(const std::vector<store::Cell>& row) {
  return Entry{row[0].i, row[1].s, row[2].s, row[3].s, row[4].s, row[5].s, row[6].s, row[7].s, row[8].s};
}

// Checks entries in sequence order against the chain and the signed checkpoints.
class Verifier {
 public:
  Verifier(const Signer* key, std::map<int64_t, Checkpoint> checkpoints, int64_t v2_from)
      : key_(key), checkpoints_(std::move(checkpoints)), v2_from_(v2_from) {
    report_.checkpoints = static_cast<int64_t>(checkpoints_.size());
    report_.v2_from = v2_from;
  }

  // False once a problem is found; the report then names it.
  bool entry(const Entry& e) {
    int64_t expected = last_seq_ + 1;
    if (e.seq > expected) return fail(expected, "entry " + std::to_string(expected) + " is missing (deleted)");
    if (e.seq < expected) return fail(e.seq, "entry " + std::to_string(e.seq) + " appears again or out of order");
    std::string computed = chain_hash(previous_, e, v2_from_);
    if (computed != e.hash) {
      return fail(e.seq, "entry " + std::to_string(e.seq) + " does not match its hash: it was altered, inserted or moved");
    }
    auto cp = checkpoints_.find(e.seq);
    if (cp != checkpoints_.end() && !checkpoint(cp->second, computed)) return false;
    previous_ = computed;
    last_seq_ = e.seq;
    ++report_.entries;
    return true;
  }

  // Called after the last entry, with the recorded head when there is one.
  VerifyReport finish(std::optional<std::pair<int64_t, std::string>> head) {
    if (!report_.ok) return report_;
    if (!checkpoints_.empty() && checkpoints_.rbegin()->first > last_seq_) {
      fail(last_seq_ + 1, "the log is truncated: it ends at entry " + std::to_string(last_seq_) + " but checkpoint " +
                              std::to_string(checkpoints_.rbegin()->first) + " was signed over later entries");
    } else if (head && head->first > last_seq_) {
      fail(last_seq_ + 1, "the log is truncated: it ends at entry " + std::to_string(last_seq_) + " but its head is " +
                              std::to_string(head->first));
    } else if (head && head->first < last_seq_) {
      fail(head->first + 1, "entries after the recorded head " + std::to_string(head->first) + " were added");
    } else if (head && head->first > 0 && head->second != previous_) {
      fail(last_seq_, "the last entry does not match the recorded head");
    } else if (!head) {
      fail(last_seq_ + 1, "the export has no end marker: it is truncated after entry " + std::to_string(last_seq_));
    } else if (key_ == nullptr && !checkpoints_.empty()) {
      report_.problem = "checkpoint signatures not checked (no key given)";
    }
    return report_;
  }

 private:
  bool checkpoint(const Checkpoint& c, const std::string& computed) {
    if (c.hash != computed) {
      return fail(c.seq, "the chain up to entry " + std::to_string(c.seq) + " differs from checkpoint " +
                             std::to_string(c.seq) + ": an entry after entry " + std::to_string(last_checkpoint_) +
                             " was altered and the later hashes recomputed");
    }
    if (key_ != nullptr) {
      if (c.key_id != key_->key_id()) {
        return fail(c.seq, "checkpoint " + std::to_string(c.seq) + " is signed by key " + c.key_id + ", not by " + key_->key_id());
      }
      if (!key_->verify(checkpoint_message(c), c.signature)) {
        return fail(c.seq, "the signature of checkpoint " + std::to_string(c.seq) + " is invalid");
      }
    }
    last_checkpoint_ = c.seq;
    return true;
  }

  bool fail(int64_t seq, std::string problem) {
    if (report_.ok) {
      report_.ok = false;
      report_.first_bad_seq = seq;
      report_.problem = std::move(problem);
    }
    return false;
  }

  const Signer* key_;
  std::map<int64_t, Checkpoint> checkpoints_;
  int64_t v2_from_;
  VerifyReport report_;
  std::string previous_ = kGenesisHash;
  int64_t last_seq_ = 0;
  int64_t last_checkpoint_ = 0;
};

}  // namespace

namespace {

// Whether a JSON text is already canonical, read in one pass without building the document: most entries are
// written by nlohmann::json::dump(), which writes the canonical form, and parsing them to write them again was a
// fifth of the work of a write transaction that appends one. Anything it is unsure of — white space, a fraction or
// an exponent, an integer of 19 digits or more, -0, an escape dump() does not write, an escaped key — is left to
// the parse, so the answer is always dump(parse(text)).
class CanonicalScan {
 public:
  explicit CanonicalScan(std::string_view text) : t_(text) {}
  bool canonical() { return value(0) && i_ == t_.size(); }

 private:
  static constexpr int kDeepest = 256;

  bool value(int depth) {
    if (i_ >= t_.size() || depth > kDeepest) return false;
    switch (t_[i_]) {
      case '{': return object(depth);
      case '[': return array(depth);
      case '"': return string(nullptr);
      case 't': return word("true");
      case 'f': return word("false");
      case 'n': return word("null");
      default: return integer();
    }
  }
  bool object(int depth) {
    ++i_;
    if (next_is('}')) return true;
    std::string_view previous;
    for (bool first = true;; first = false) {
      std::string_view key;
      if (i_ >= t_.size() || t_[i_] != '"' || !string(&key)) return false;
      if (!first && !(previous < key)) return false;  // keys in std::map order, each once
      previous = key;
      if (!next_is(':') || !value(depth + 1)) return false;
      if (next_is('}')) return true;
      if (!next_is(',')) return false;
    }
  }
  bool array(int depth) {
    ++i_;
    if (next_is(']')) return true;
    for (;;) {
      if (!value(depth + 1)) return false;
      if (next_is(']')) return true;
      if (!next_is(',')) return false;
    }
  }
  // A string as dump() escapes it; `key` (when given) gets its text and must have no escape.
  bool string(std::string_view* key) {
    const size_t start = ++i_;
    while (i_ < t_.size()) {
      const unsigned char c = static_cast<unsigned char>(t_[i_]);
      if (c == '"') {
        std::string_view raw = t_.substr(start, i_ - start);
        ++i_;
        if (key != nullptr) *key = raw;
        return http::valid_utf8(raw);
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (key != nullptr || i_ + 1 >= t_.size()) return false;
        const char e = t_[i_ + 1];
        if (e == '"' || e == '\\' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
          i_ += 2;
          continue;
        }
        // \u00xx, lower-case hex, for a control character without a short escape.
        if (e != 'u' || t_.substr(i_ + 2, 2) != "00" || i_ + 5 >= t_.size()) return false;
        const int v = hex(t_[i_ + 4]) * 16 + hex(t_[i_ + 5]);
        if (v < 0 || v >= 0x20 || v == '\b' || v == '\t' || v == '\n' || v == '\f' || v == '\r') return false;
        i_ += 6;
        continue;
      }
      ++i_;
    }
    return false;
  }
  static int hex(char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1024; }
  bool integer() {
    const size_t start = i_;
    if (t_[i_] == '-') ++i_;
    const size_t digits = i_;
    while (i_ < t_.size() && t_[i_] >= '0' && t_[i_] <= '9') ++i_;
    const size_t n = i_ - digits;
    if (n == 0 || n > 18) return false;
    return t_[digits] != '0' || (n == 1 && digits == start);  // no leading zero, no -0
  }
  bool word(std::string_view w) {
    if (t_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  bool next_is(char c) {
    if (i_ >= t_.size() || t_[i_] != c) return false;
    ++i_;
    return true;
  }

  std::string_view t_;
  size_t i_ = 0;
};

}  // namespace

std::string canonical_json(std::string_view json) {
  if (json.empty()) return "null";
  if (CanonicalScan(json).canonical()) return std::string(json);
  nlohmann::json parsed = nlohmann::json::parse(json, nullptr, false);
  if (parsed.is_discarded()) throw std::invalid_argument("not valid JSON");
  return parsed.dump();  // object_t is a std::map: keys come out sorted, with no white space
}

std::string entry_text(const Entry& e) {
  std::string out;
  out.reserve(160 + e.before_json.size() + e.after_json.size());
  out += "{\"action\":" + json_string(e.action);
  out += ",\"after\":" + e.after_json;
  out += ",\"at\":" + json_string(e.at);
  out += ",\"before\":" + e.before_json;
  out += ",\"object\":{\"id\":" + json_string(e.object_id) + ",\"type\":" + json_string(e.object_type) + "}";
  out += ",\"principal\":" + json_string(e.principal);
  out += ",\"seq\":" + std::to_string(e.seq) + "}";
  return out;
}

std::string entry_jsonl(const Entry& e) {
  return "{\"seq\":" + std::to_string(e.seq) + ",\"at\":" + json_string(e.at) + ",\"principal\":" +
         json_string(e.principal) + ",\"action\":" + json_string(e.action) + ",\"object_type\":" +
         json_string(e.object_type) + ",\"object_id\":" + json_string(e.object_id) + ",\"before\":" + e.before_json +
         ",\"after\":" + e.after_json + ",\"hash\":" + json_string(e.hash) + "}\n";
}

std::string entry_digest(const Entry& e) { return crypto::sha256_hex(entry_text(e)); }

std::string chain_link(const std::string& previous_hash, const std::string& digest) {
  return crypto::sha256_hex(previous_hash + digest);
}

std::string chain_hash(const std::string& previous_hash, const Entry& e, int64_t v2_from) {
  if (e.seq >= v2_from) return chain_link(previous_hash, entry_digest(e));
  return crypto::sha256_hex(previous_hash + entry_text(e));
}

std::string checkpoint_message(const Checkpoint& c) {
  return "annex-audit-checkpoint:v1\n" + std::to_string(c.seq) + "\n" + c.hash + "\n" + c.at;
}

AuditLog::AuditLog(store::Database& db, std::shared_ptr<const Signer> signer, int checkpoint_every)
    : db_(db), signer_(std::move(signer)), checkpoint_every_(checkpoint_every < 1 ? 1 : checkpoint_every) {}

Entry AuditLog::append(soci::session& session, const Change& change) {
  if (change.action.empty()) throw std::invalid_argument("an audit entry needs an action");
  if (change.object_type.empty()) throw std::invalid_argument("an audit entry needs an object type");
  Entry e;
  try {
    e.before_json = canonical_json(change.before_json);
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument("before is not valid JSON");
  }
  try {
    e.after_json = canonical_json(change.after_json);
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument("after is not valid JSON");
  }
  e.principal = change.principal.empty() ? "system" : change.principal;
  e.action = change.action;
  e.object_type = change.object_type;
  e.object_id = change.object_id;
  // The head row serialises appenders: PostgreSQL locks it; SQLite's writer already holds the database.
  auto head = store::run(session,
                         db_.dialect() == store::Dialect::kPostgresql
                             ? "SELECT seq, hash, v2_from FROM annex_audit_head WHERE id = 1 FOR UPDATE"
                             : "SELECT seq, hash, v2_from FROM annex_audit_head WHERE id = 1",
                         {});
  if (head.rows.empty()) throw std::runtime_error("the audit log has no head row");
  e.seq = head.rows[0][0].i + 1;
  e.at = clock::utc_now();
  e.hash = chain_hash(head.rows[0][1].s, e, head.rows[0][2].i);
  std::string seq = std::to_string(e.seq);
  Param row[] = {Param::integer(e.seq), Param::text(e.at), Param::text(e.principal), Param::text(e.action),
                 Param::text(e.object_type), Param::text(e.object_id), Param::text(e.before_json),
                 Param::text(e.after_json), Param::text(e.hash)};
  store::run(session,
             std::string("INSERT INTO annex_audit (") + kEntryColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row);
  Param head_params[] = {Param::integer(e.seq), Param::text(e.hash)};
  store::run(session, "UPDATE annex_audit_head SET seq = ?, hash = ? WHERE id = 1", head_params);
  if (signer_ && e.seq % checkpoint_every_ == 0 && signs_this_log(session)) {
    Checkpoint c{e.seq, e.hash, e.at, signer_->key_id(), {}};
    c.signature = signer_->sign(checkpoint_message(c));
    Param cp[] = {Param::integer(c.seq), Param::text(c.hash), Param::text(c.at), Param::text(c.key_id),
                  Param::text(c.signature)};
    store::run(session, "INSERT INTO annex_audit_checkpoints (seq, hash, at, key_id, signature) VALUES (?, ?, ?, ?, ?)", cp);
  }
  return e;
}

std::optional<Checkpoint> AuditLog::last_checkpoint() {
  store::Lease lease(db_);
  auto rs = store::run(lease.session(),
                       "SELECT seq, hash, at, key_id, signature FROM annex_audit_checkpoints ORDER BY seq DESC LIMIT 1", {});
  if (rs.rows.empty()) return std::nullopt;
  const auto& r = rs.rows[0];
  return Checkpoint{r[0].i, r[1].s, r[2].s, r[3].s, r[4].s};
}

bool AuditLog::signs_this_log(soci::session& session) {
  auto rs = store::run(session, "SELECT seq, key_id FROM annex_audit_checkpoints ORDER BY seq DESC LIMIT 1", {});
  if (rs.rows.empty() || rs.rows[0][1].s == signer_->key_id()) return true;
  std::string conflict = "the audit log of this database is signed with key " + rs.rows[0][1].s + " (checkpoint at entry " +
                         std::to_string(rs.rows[0][0].i) + "), not with this daemon's key " + signer_->key_id() +
                         ": no checkpoint is signed here until every daemon on this database has the same key "
                         "(audit.signing_key)";
  std::lock_guard lock(conflict_mutex_);
  if (conflict_ != conflict) spdlog::error("audit log: {}", conflict);
  conflict_ = std::move(conflict);
  return false;
}

std::string AuditLog::key_conflict() const {
  std::lock_guard lock(conflict_mutex_);
  return conflict_;
}

Entry AuditLog::append(const Change& change) {
  store::Lease lease(db_);
  store::ScopedTransaction txn(lease.session(), db_.dialect());
  Entry e = append(lease.session(), change);
  txn.commit();
  return e;
}

int64_t AuditLog::checkpoint() {
  if (!signer_) return 0;
  store::Lease lease(db_);
  store::ScopedTransaction txn(lease.session(), db_.dialect());
  auto head = store::run(lease.session(),
                         db_.dialect() == store::Dialect::kPostgresql
                             ? "SELECT seq, hash FROM annex_audit_head WHERE id = 1 FOR UPDATE"
                             : "SELECT seq, hash FROM annex_audit_head WHERE id = 1",
                         {});
  if (head.rows.empty() || head.rows[0][0].i == 0) return 0;
  Checkpoint c{head.rows[0][0].i, head.rows[0][1].s, clock::utc_now(), signer_->key_id(), {}};
  Param seq = Param::integer(c.seq);
  if (!store::run(lease.session(), "SELECT 1 FROM annex_audit_checkpoints WHERE seq = ?", std::span<const Param>(&seq, 1))
           .rows.empty()) {
    return 0;
  }
  if (!signs_this_log(lease.session())) throw std::runtime_error(key_conflict());
  c.signature = signer_->sign(checkpoint_message(c));
  Param cp[] = {Param::integer(c.seq), Param::text(c.hash), Param::text(c.at), Param::text(c.key_id),
                Param::text(c.signature)};
  store::run(lease.session(), "INSERT INTO annex_audit_checkpoints (seq, hash, at, key_id, signature) VALUES (?, ?, ?, ?, ?)", cp);
  txn.commit();
  return c.seq;
}

std::vector<Entry> AuditLog::query(const Query& q) {
  std::string sql = std::string("SELECT ") + kEntryColumns + " FROM annex_audit WHERE seq > ?";
  std::vector<Param> params{Param::integer(q.after_seq)};
  auto add = [&](const std::string& value, const char* clause) {
    if (value.empty()) return;
    sql += clause;
    params.push_back(Param::text(value));
  };
  add(q.object_type, " AND object_type = ?");
  add(q.object_id, " AND object_id = ?");
  add(q.principal, " AND principal = ?");
  add(q.from, " AND at >= ?");
  add(q.to, " AND at < ?");
  sql += " ORDER BY seq LIMIT ?";
  params.push_back(Param::integer(q.limit < 1 ? 1 : q.limit > 1000 ? 1000 : q.limit));
  store::Lease lease(db_);
  auto rs = store::run(lease.session(), sql, params);
  std::vector<Entry> out;
  for (const auto& row : rs.rows) out.push_back(read_entry(row));
  return out;
}

namespace {

std::map<int64_t, Checkpoint> load_checkpoints(soci::session& session) {
  auto rs = store::run(session, "SELECT seq, hash, at, key_id, signature FROM annex_audit_checkpoints ORDER BY seq", {});
  std::map<int64_t, Checkpoint> out;
  for (const auto& r : rs.rows) out[r[0].i] = Checkpoint{r[0].i, r[1].s, r[2].s, r[3].s, r[4].s};
  return out;
}

// Calls `fn` for every entry in sequence order, a page at a time; stops when it returns false.
template <typename Fn>
void each_entry(soci::session& session, Fn&& fn) {
  int64_t after = 0;
  for (;;) {
    Param p[] = {Param::integer(after), Param::integer(5000)};
    auto rs = store::run(session, std::string("SELECT ") + kEntryColumns + " FROM annex_audit WHERE seq > ? ORDER BY seq LIMIT ?", p);
    for (const auto& row : rs.rows) {
      Entry e = read_entry(row);
      after = e.seq;
      if (!fn(e)) return;
    }
    if (rs.rows.size() < 5000) return;
  }
}

}  // namespace

int64_t v2_from(soci::session& session) {
  // A database not yet upgraded (annexctl run before annexd applied the migration) has no v2_from: v1 throughout.
  Param migration[] = {Param::text(store::kCoreOwner), Param::integer(store::kAuditChainV2Migration)};
  if (store::run(session, "SELECT 1 FROM annex_schema_migrations WHERE owner = ? AND version = ?", migration).rows.empty()) {
    return kNeverV2;
  }
  auto rs = store::run(session, "SELECT v2_from FROM annex_audit_head WHERE id = 1", {});
  return rs.rows.empty() ? 1 : rs.rows[0][0].i;
}

namespace {

std::optional<std::pair<int64_t, std::string>> load_head(soci::session& session) {
  auto rs = store::run(session, "SELECT seq, hash FROM annex_audit_head WHERE id = 1", {});
  if (rs.rows.empty()) return std::nullopt;
  return std::make_pair(rs.rows[0][0].i, rs.rows[0][1].s);
}

}  // namespace

void AuditLog::export_jsonl(std::ostream& out) {
  store::Lease lease(db_);
  // One snapshot for the whole export.
  store::ScopedTransaction txn(lease.session(), db_.dialect());
  // The chain format first: an export without this line is v1 throughout (written before v2, or of a database
  // not yet upgraded).
  if (int64_t first_v2 = v2_from(lease.session()); first_v2 != kNeverV2) {
    out << "{\"format\":{\"chain\":2,\"v2_from\":" << first_v2 << "}}\n";
  }
  // Checkpoints next, so that a verifier can check the entries as they stream past.
  for (const auto& [seq, c] : load_checkpoints(lease.session())) {
    out << "{\"checkpoint\":{\"seq\":" << c.seq << ",\"hash\":" << json_string(c.hash) << ",\"at\":" << json_string(c.at)
        << ",\"key_id\":" << json_string(c.key_id) << ",\"signature\":" << json_string(c.signature) << "}}\n";
  }
  each_entry(lease.session(), [&](const Entry& e) {
    out << entry_jsonl(e);
    return true;
  });
  auto head = load_head(lease.session());
  out << "{\"head\":{\"seq\":" << (head ? head->first : 0) << ",\"hash\":" << json_string(head ? head->second : kGenesisHash)
      << "}}\n";
  txn.commit();
}

VerifyReport verify(store::Database& db, const Signer* verifier) {
  store::Lease lease(db);
  store::ScopedTransaction txn(lease.session(), db.dialect());
  Verifier v(verifier, load_checkpoints(lease.session()), v2_from(lease.session()));
  auto head = load_head(lease.session());
  each_entry(lease.session(), [&](const Entry& e) { return v.entry(e); });
  VerifyReport report = v.finish(head ? head : std::make_optional(std::make_pair(int64_t{0}, kGenesisHash)));
  txn.commit();
  return report;
}

VerifyReport verify_jsonl(std::istream& in, const Signer* verifier) {
  std::map<int64_t, Checkpoint> checkpoints;
  int64_t first_v2 = kNeverV2;
  std::optional<Verifier> v;
  std::optional<std::pair<int64_t, std::string>> head;
  std::string line;
  int64_t line_no = 0, last_seq = 0;
  bool failed = false;
  while (!failed && std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    try {
      if (j.is_discarded() || !j.is_object()) throw std::invalid_argument("not a JSON object");
      if (head) throw std::invalid_argument("a record after the end marker");
      if (j.contains("format")) {
        if (line_no != 1) throw std::invalid_argument("the chain format comes first");
        if (j.at("format").at("chain").get<int>() != 2) throw std::invalid_argument("an unknown chain format");
        first_v2 = j.at("format").at("v2_from").get<int64_t>();
        if (first_v2 < 1) throw std::invalid_argument("v2_from must be 1 or more");
      } else if (j.contains("checkpoint")) {
        if (v) throw std::invalid_argument("a checkpoint after the first entry (checkpoints come first)");
        const auto& c = j.at("checkpoint");
        Checkpoint cp{c.at("seq").get<int64_t>(), c.at("hash").get<std::string>(), c.at("at").get<std::string>(),
                      c.at("key_id").get<std::string>(), c.at("signature").get<std::string>()};
        checkpoints[cp.seq] = cp;
      } else if (j.contains("head")) {
        head = std::make_pair(j.at("head").at("seq").get<int64_t>(), j.at("head").at("hash").get<std::string>());
      } else {
        Entry e{j.at("seq").get<int64_t>(), j.at("at").get<std::string>(), j.at("principal").get<std::string>(),
                j.at("action").get<std::string>(), j.at("object_type").get<std::string>(),
                j.at("object_id").get<std::string>(), j.at("before").dump(), j.at("after").dump(),
                j.at("hash").get<std::string>()};
        if (!v) v.emplace(verifier, std::move(checkpoints), first_v2);
        failed = !v->entry(e);
        last_seq = e.seq;
      }
    } catch (const std::exception& e) {
      VerifyReport bad;
      bad.ok = false;
      bad.first_bad_seq = last_seq + 1;
      bad.problem = "line " + std::to_string(line_no) + " is not a valid audit record: " + e.what();
      return bad;
    }
  }
  if (!v) v.emplace(verifier, std::move(checkpoints), first_v2);
  return v->finish(head);
}

}  // namespace annex::audit
