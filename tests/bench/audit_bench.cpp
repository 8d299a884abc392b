// Audit log benchmark: appends per second on SQLite (each in its own transaction, as a handler makes them, and
// in batches), the time to verify a log of 1,000,000 entries, then to make evidence packs from it. Goals: at least
// 10,000 appends/s; verifying 1,000,000 entries in at most 10 s; a statement's evidence pack in at most 1 s. Exits
// 1 when a goal is missed.
//
//   build/bin/annex_audit_bench [ENTRIES]   (default 1000000)
#include "audit/audit_log.h"
#include "audit/evidence_pack.h"
#include "store/core_schema.h"
#include "store/database.h"
#include "store/migrations.h"
#include "store/transaction.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

annex::audit::Change change(int64_t i) {
  return {"u_bench", "expenses.claim.update", "expenses.claim", "c" + std::to_string(i % 5000),
          R"({"amount":{"amount":120000,"currency":"CNY"},"status":"submitted"})",
          R"({"amount":{"amount":)" + std::to_string(120000 + i % 977) + R"(,"currency":"CNY"},"status":"approved"})"};
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t total = argc > 1 ? std::atoll(argv[1]) : 1000000;
  auto dir = std::filesystem::temp_directory_path() / ("annex-audit-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  annex::store::DatabaseOptions options;
  options.target = (dir / "annex.db").string();
  options.pool_size = 2;
  annex::store::Database db(options);
  annex::store::MigrationRunner runner(db);
  runner.prepare();
  runner.apply(annex::store::kCoreOwner, annex::store::core_migrations(db.dialect()));
  auto signer = std::make_shared<annex::audit::Signer>(annex::audit::Signer::load_or_create((dir / "key.pem").string()));
  annex::audit::AuditLog log(db, signer, 1000);

  // 1. One transaction per entry, as an HTTP handler appends them.
  const int64_t single = std::min<int64_t>(total, 50000);
  auto start = Clock::now();
  for (int64_t i = 0; i < single; ++i) log.append(change(i));
  double single_rate = single / seconds_since(start);
  std::printf("append, one transaction each: %lld entries, %.0f entries/s\n", static_cast<long long>(single), single_rate);

  // 2. The rest in batches of 1,000 (a bulk import, a sync run), up to `total`.
  start = Clock::now();
  int64_t batched = 0;
  for (int64_t i = single; i < total;) {
    annex::store::Lease lease(db);
    annex::store::ScopedTransaction txn(lease.session(), db.dialect());
    for (int k = 0; k < 1000 && i < total; ++k, ++i, ++batched) log.append(lease.session(), change(i));
    txn.commit();
  }
  if (batched > 0) {
    std::printf("append, 1,000 per transaction: %lld entries, %.0f entries/s\n", static_cast<long long>(batched),
                batched / seconds_since(start));
  }
  log.checkpoint();

  // 3. Verify everything.
  start = Clock::now();
  annex::audit::VerifyReport report = annex::audit::verify(db, signer.get());
  double verify_s = seconds_since(start);
  std::printf("verify: %lld entries, %lld checkpoints, %.2f s (%s)\n", static_cast<long long>(report.entries),
              static_cast<long long>(report.checkpoints), verify_s, report.ok ? "intact" : report.problem.c_str());

  // 4. Evidence packs: a statement's (its 40 entries among the last few thousand, with documents), and one claim's
  // whose entries are spread over the whole log (every 5,000th entry), the most digests a pack of few entries holds.
  for (int64_t i = 0; i < 4000; ++i) {
    log.append(i % 100 == 0 ? annex::audit::Change{"u_bench", "relationship.statement.sign", "relationship.statement",
                                                   "s1", "", R"({"step":)" + std::to_string(i / 100) + "}"}
                            : change(i));
  }
  std::vector<std::pair<std::string, std::string>> documents;
  for (const char* name : {"statement.json", "approvals.json", "contracts.json", "collections.json", "statement.html"}) {
    documents.emplace_back(name, std::string(40000, 'x'));
  }
  start = Clock::now();
  annex::audit::Pack statement =
      annex::audit::build_evidence_pack(log, {"u_bench", "Statement s1", {{"relationship.statement", "s1"}}, documents});
  double statement_s = seconds_since(start);
  std::printf("evidence pack, a statement: %lld entries, %lld digests, %lld segments, %zu bytes, %.3f s\n",
              static_cast<long long>(statement.proof.entries), static_cast<long long>(statement.proof.redacted),
              static_cast<long long>(statement.proof.segments), statement.bytes.size(), statement_s);
  start = Clock::now();
  annex::audit::Pack spread = annex::audit::build_evidence_pack(log, {"u_bench", "Claim c42", {{"expenses.claim", "c42"}}, {}});
  double spread_s = seconds_since(start);
  std::printf("evidence pack, one claim spread over the log: %lld entries, %lld digests, %lld segments, %zu bytes, %.3f s\n",
              static_cast<long long>(spread.proof.entries), static_cast<long long>(spread.proof.redacted),
              static_cast<long long>(spread.proof.segments), spread.bytes.size(), spread_s);
  std::istringstream pack_in(spread.bytes);
  start = Clock::now();
  annex::audit::PackReport checked = annex::audit::verify_evidence_pack(pack_in, signer.get());
  std::printf("verify that pack: %.3f s (%s)\n", seconds_since(start), checked.ok ? "intact" : checked.problem.c_str());

  std::filesystem::remove_all(dir);
  bool ok = report.ok && single_rate >= 10000 && (total < 1000000 || verify_s <= 10.0) && statement_s <= 1.0 &&
            checked.ok;
  std::printf("%s\n", ok ? "goals met: >= 10,000 appends/s; 1,000,000 entries verified in <= 10 s; a statement's "
                           "evidence pack in <= 1 s"
                         : "GOAL MISSED");
  return ok ? 0 : 1;
}
