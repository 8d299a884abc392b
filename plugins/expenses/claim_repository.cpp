#include "claim_repository.h"

#include <algorithm>

namespace expenses {
namespace {

constexpr const char* kClaimColumns =
    "id, claimant_id, sector_id, purpose, period, party_id, opportunity_id, contract_id, status, currency, total, sanctioned,"
    " approval_id, chain_amount, chain_basis, settled_advances, reimbursable, submitted_at, decided_at, paid_on, created_at,"
    " updated_at, version, posted_ref";

constexpr const char* kLineColumns =
    "line_no, spent_on, category, merchant, description, amount, currency, rate, company_amount, sanctioned, sanction_reason,"
    " cost_centre, gl_account, attendees, attendee_count, receipt_sha256, justification, policy";


Claim read_claim(const annex::Row& r) {
  Claim c;
  c.id = r.text(0);
  c.claimant_id = r.text(1);
  c.sector_id = r.text(2);
  c.purpose = r.text(3);
  c.period = r.optional_text(4);
  c.party_id = r.optional_text(5);
  c.opportunity_id = r.optional_text(6);
  c.contract_id = r.optional_text(7);
  c.status = r.text(8);
  c.currency = r.text(9);
  c.total = r.integer(10);
  c.sanctioned = r.integer(11);
  c.approval_id = r.optional_text(12);
  c.chain_amount = r.optional_integer(13);
  if (auto basis = r.optional_text(14)) c.chain_basis = json::parse(*basis, nullptr, false);
  c.settled_advances = r.integer(15);
  c.reimbursable = r.integer(16);
  c.submitted_at = r.optional_text(17);
  c.decided_at = r.optional_text(18);
  c.paid_on = r.optional_text(19);
  c.created_at = r.text(20);
  c.updated_at = r.text(21);
  c.version = r.integer(22);
  c.posted_ref = r.optional_text(23);
  return c;
}

ClaimLine read_line(const annex::Row& r) {
  ClaimLine l;
  l.line_no = static_cast<int>(r.integer(0));
  l.spent_on = r.text(1);
  l.category = r.text(2);
  l.merchant = r.optional_text(3).value_or("");
  l.description = r.optional_text(4).value_or("");
  l.amount = r.integer(5);
  l.currency = r.text(6);
  l.rate = r.optional_text(7);
  l.company_amount = r.integer(8);
  l.sanctioned = r.integer(9);
  l.sanction_reason = r.optional_text(10);
  l.cost_centre = r.optional_text(11);
  l.gl_account = r.text(12);
  if (auto a = r.optional_text(13)) {
    for (const json& item : json::parse(*a, nullptr, false)) {
      if (item.is_object()) l.attendees.push_back({item.value("kind", ""), item.value("name", "")});
    }
  }
  l.attendee_count = r.optional_integer(14);
  l.receipt_sha256 = r.optional_text(15);
  l.justification = r.optional_text(16);
  l.policy = PolicyVerdict::from_json(json::parse(r.text(17), nullptr, false));
  return l;
}

std::optional<std::string> attendees_json(const ClaimLine& l) {
  if (l.attendees.empty()) return std::nullopt;
  json a = json::array();
  for (const Attendee& at : l.attendees) a.push_back({{"kind", at.kind}, {"name", at.name}});
  return a.dump();
}

bool counts(const std::string& status) { return status != "draft" && status != "rejected" && status != "returned"; }
// counts(), as SQL over a claim's status.
constexpr const char* kCountingStatus = "status IN ('submitted', 'approved', 'posted', 'paid')";

void write_lines(const annex::Db& db, annex::Transaction& txn, const Claim& c) {
  for (const ClaimLine& l : c.lines) {
    std::string policy = l.policy.to_json().dump();
    db.query(txn,
              std::string("INSERT INTO expenses_lines (claim_id, claimant_id, counted, claim_status, sector_id, ") + kLineColumns +
                  ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              {c.id, c.claimant_id, counts(c.status) ? 1 : 0, c.status, c.sector_id, l.line_no, l.spent_on, l.category, l.merchant, l.description,
               l.amount, l.currency, l.rate, l.company_amount, l.sanctioned, l.sanction_reason, l.cost_centre, l.gl_account,
               attendees_json(l), l.attendee_count, l.receipt_sha256, l.justification, policy});
  }
}

}  // namespace

std::optional<Claim> ClaimRepository::find(const std::string& id, annex::Transaction* txn) const {
  annex::Value params[] = {std::string_view(id)};
  annex::Rows rows = db_.query(txn, std::string("SELECT ") + kClaimColumns + " FROM expenses_claims WHERE id = ?", params);
  if (!rows.next()) return std::nullopt;
  Claim c = read_claim(rows.row());
  annex::Rows lines = db_.query(txn, std::string("SELECT ") + kLineColumns + " FROM expenses_lines WHERE claim_id = ? ORDER BY line_no", params);
  while (lines.next()) c.lines.push_back(read_line(lines.row()));
  return c;
}

std::optional<Claim> ClaimRepository::find_by_approval(const std::string& approval_id, annex::Transaction* txn) const {
  annex::Value params[] = {std::string_view(approval_id)};
  annex::Rows rows = db_.query(txn, "SELECT id FROM expenses_claims WHERE approval_id = ?", params);
  if (!rows.next()) return std::nullopt;
  return find(rows.row().text(0), txn);
}

void ClaimRepository::lock_claimant(annex::Transaction& txn, const std::string& claimant) {
  db_.query(txn, "INSERT INTO expenses_claimant_locks (user_id, submissions) VALUES (?, 0) ON CONFLICT (user_id) DO NOTHING", {claimant});
  db_.query(txn, "UPDATE expenses_claimant_locks SET submissions = submissions + 1 WHERE user_id = ?", {claimant});
}

// Adds the claim's stored lines that are counted (or not, as `counted` says) to the claimant's daily totals, or takes
// them off (`sign` -1): called before lines stop counting or are deleted, and after they start counting or are written.
void ClaimRepository::tally(annex::Transaction& txn, const std::string& claim_id, bool counted, int sign) {
  db_.query(txn,
            "INSERT INTO expenses_claimed_days (claimant_id, category, spent_on, sanctioned)"
            " SELECT claimant_id, category, spent_on, CAST(SUM(sanctioned) AS BIGINT) * ? FROM expenses_lines"
            " WHERE claim_id = ? AND counted = ? GROUP BY claimant_id, category, spent_on"
            " ON CONFLICT (claimant_id, category, spent_on) DO UPDATE SET sanctioned = expenses_claimed_days.sanctioned + excluded.sanctioned",
            {sign, claim_id, counted ? 1 : 0});
}

// Adds the stored claim to the claimant's daily submissions by purpose and customer when its status counts, or
// takes it off (`sign` -1): called before its header changes and after.
void ClaimRepository::tally_claim(annex::Transaction& txn, const std::string& claim_id, int sign) {
  db_.query(txn,
            "INSERT INTO expenses_related_days (claimant_id, submitted_on, purpose, party_id, claims, total)"
            " SELECT claimant_id, substr(submitted_at, 1, 10), purpose, COALESCE(party_id, ''), ?, total * ? FROM expenses_claims"
            " WHERE id = ? AND " + std::string(kCountingStatus) + " AND submitted_at IS NOT NULL"
            " ON CONFLICT (claimant_id, submitted_on, purpose, party_id) DO UPDATE SET"
            " claims = expenses_related_days.claims + excluded.claims, total = expenses_related_days.total + excluded.total",
            {sign, sign, claim_id});
}

void ClaimRepository::insert(annex::Transaction& txn, const Claim& c) {
  db_.query(txn,
            std::string("INSERT INTO expenses_claims (") + kClaimColumns +
                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {c.id, c.claimant_id, c.sector_id, c.purpose, c.period, c.party_id, c.opportunity_id, c.contract_id, c.status,
             c.currency, c.total, c.sanctioned, c.approval_id, c.chain_amount,
             c.chain_basis.is_null() ? std::optional<std::string>() : c.chain_basis.dump(), c.settled_advances, c.reimbursable,
             c.submitted_at, c.decided_at, c.paid_on, c.created_at, c.updated_at, c.version, c.posted_ref});
  write_lines(db_, txn, c);
  if (counts(c.status)) {  // a submission, which has taken the claimant's lock before reading the totals
    tally_claim(txn, c.id, 1);
    tally(txn, c.id, true, 1);
  }
}

// A change of a claim changes its claimant's totals: the claimant's lock comes first, as a submission takes it, so
// that on PostgreSQL a decision and a submission of the same person (which locks the audit chain's head before the
// totals) run one after the other instead of deadlocking.
void ClaimRepository::update(annex::Transaction& txn, Claim& c, int64_t expected_version) {
  lock_claimant(txn, c.claimant_id);
  tally(txn, c.id, true, -1);  // the stored lines, if they counted
  write_header(txn, c, expected_version);
  db_.query(txn, "DELETE FROM expenses_lines WHERE claim_id = ?", {c.id});
  write_lines(db_, txn, c);
  if (counts(c.status)) tally(txn, c.id, true, 1);
}

void ClaimRepository::update_header(annex::Transaction& txn, Claim& c, int64_t expected_version) {
  lock_claimant(txn, c.claimant_id);
  // Lines that start or stop counting move into or out of the daily totals (all of a claim's lines count alike).
  const bool counted = counts(c.status);
  tally(txn, c.id, !counted, counted ? 1 : -1);
  write_header(txn, c, expected_version);
  db_.query(txn, "UPDATE expenses_lines SET claim_status = ?, counted = ? WHERE claim_id = ? AND (claim_status <> ? OR counted <> ?)",
            {c.status, counted ? 1 : 0, c.id, c.status, counted ? 1 : 0});
}

void ClaimRepository::write_header(annex::Transaction& txn, Claim& c, int64_t expected_version) {
  tally_claim(txn, c.id, -1);
  annex::Rows changed = db_.query(
      txn,
      "UPDATE expenses_claims SET purpose = ?, period = ?, party_id = ?, opportunity_id = ?, contract_id = ?, status = ?,"
      " total = ?, sanctioned = ?, approval_id = ?, chain_amount = ?, chain_basis = ?, settled_advances = ?, reimbursable = ?,"
      " submitted_at = ?, decided_at = ?, paid_on = ?, posted_ref = ?, updated_at = ?, version = ? WHERE id = ? AND version = ?",
      {c.purpose, c.period, c.party_id, c.opportunity_id, c.contract_id, c.status, c.total, c.sanctioned, c.approval_id,
       c.chain_amount, c.chain_basis.is_null() ? std::optional<std::string>() : c.chain_basis.dump(), c.settled_advances,
       c.reimbursable, c.submitted_at, c.decided_at, c.paid_on, c.posted_ref, c.updated_at, expected_version + 1, c.id,
       expected_version});
  if (changed.affected() != 1) {
    throw annex::Error(ANNEX_ERR_CONFLICT, "the claim changed meanwhile; read it again", "If-Match");
  }
  c.version = expected_version + 1;
  tally_claim(txn, c.id, 1);
}

// `count` placeholders: "?, ?, ?".
static std::string marks(size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) out += i == 0 ? "?" : ", ?";
  return out;
}

ClaimRepository::ClaimedByDay ClaimRepository::claimed_by_day(const std::string& claimant, const std::set<std::string>& categories,
                                                              const std::string& from, const std::string& to,
                                                              annex::Transaction* txn) const {
  ClaimedByDay out;
  if (categories.empty()) return out;
  std::vector<annex::Value> params = {claimant, from, to};
  for (const std::string& category : categories) params.emplace_back(category);
  annex::Rows rows = db_.query(txn,
                               "SELECT category, spent_on, sanctioned FROM expenses_claimed_days WHERE claimant_id = ?"
                               " AND spent_on >= ? AND spent_on <= ? AND sanctioned <> 0 AND category IN (" +
                                   marks(categories.size()) + ")",
                               params);
  while (rows.next()) out[rows.row().text(0)][rows.row().text(1)] = rows.row().integer(2);
  return out;
}

std::map<int, std::pair<std::string, int>> ClaimRepository::duplicates(const std::string& claimant, const std::vector<ClaimLine>& lines,
                                                                       const std::string& except, annex::Transaction* txn) const {
  std::map<int, std::pair<std::string, int>> out;
  if (lines.empty()) return out;
  // The first match per line (each its own LIMIT 1 by the claimant's index), however many earlier lines match.
  std::string sql;
  std::vector<annex::Value> params;
  for (const ClaimLine& l : lines) {
    sql += sql.empty() ? "" : " UNION ALL ";
    sql += "SELECT * FROM (SELECT CAST(? AS BIGINT) AS here, claim_id, line_no FROM expenses_lines WHERE claimant_id = ? AND category = ?"
           " AND spent_on = ? AND amount = ? AND currency = ? AND claim_id <> ? AND claim_status <> 'rejected' LIMIT 1) d" +
           std::to_string(l.line_no);
    params.insert(params.end(), {annex::Value(l.line_no), annex::Value(claimant), annex::Value(l.category), annex::Value(l.spent_on),
                                 annex::Value(l.amount), annex::Value(l.currency), annex::Value(except)});
  }
  annex::Rows rows = db_.query(txn, sql, params);
  while (rows.next()) out[static_cast<int>(rows.row().integer(0))] = {rows.row().text(1), static_cast<int>(rows.row().integer(2))};
  return out;
}

std::vector<std::pair<std::string, int>> ClaimRepository::receipt_uses(const std::string& sha256, annex::Transaction* txn) const {
  annex::Value params[] = {std::string_view(sha256)};
  annex::Rows rows = db_.query(txn,
                               "SELECT claim_id, line_no FROM expenses_lines WHERE receipt_sha256 = ? AND claim_status <> 'rejected' LIMIT 50",
                               params);
  std::vector<std::pair<std::string, int>> out;
  while (rows.next()) out.emplace_back(rows.row().text(0), static_cast<int>(rows.row().integer(1)));
  // Sorted here: an ORDER BY on the primary key would lead the planner to walk every line instead of the index.
  std::sort(out.begin(), out.end());
  return out;
}

ClaimRepository::Related ClaimRepository::related(const std::string& claimant, const std::optional<std::string>& party,
                                                  const std::string& purpose, const std::string& from_day,
                                                  const std::string& except, size_t listed, annex::Transaction* txn) const {
  std::string party_text = party.value_or("");
  annex::Value params[] = {std::string_view(claimant), std::string_view(from_day), std::string_view(except),
                           std::string_view(party_text), std::string_view(purpose)};
  Related out;
  annex::Value sum_params[] = {std::string_view(claimant), std::string_view(from_day), std::string_view(party_text),
                               std::string_view(purpose)};
  annex::Rows sums = db_.query(txn,
                               "SELECT CAST(COALESCE(SUM(claims), 0) AS BIGINT), CAST(COALESCE(SUM(total), 0) AS BIGINT)"
                               " FROM expenses_related_days WHERE claimant_id = ? AND submitted_on >= ?"
                               " AND ((party_id <> '' AND party_id = ?) OR purpose = ?)",
                               sum_params);
  const std::string where = " FROM expenses_claims WHERE claimant_id = ? AND submitted_at >= ? AND id <> ? AND " +
                            std::string(kCountingStatus) + " AND ((party_id IS NOT NULL AND party_id = ?) OR purpose = ?)";
  if (sums.next()) {
    out.count = sums.row().integer(0);
    out.total = sums.row().integer(1);
  }
  if (out.count == 0 || listed == 0) return out;
  annex::Rows rows = db_.query(txn, "SELECT id, total" + where + " ORDER BY submitted_at DESC LIMIT " + std::to_string(listed), params);
  while (rows.next()) out.latest.emplace_back(rows.row().text(0), rows.row().integer(1));
  return out;
}

}  // namespace expenses
