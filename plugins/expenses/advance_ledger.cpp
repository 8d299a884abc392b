#include "advance_ledger.h"

#include <annex/business.hpp>

namespace expenses {
namespace {

constexpr const char* kColumns =
    "id, requester_id, sector_id, purpose, party_id, reference, currency, amount, settled, returned, status, approval_id,"
    " paid_on, created_at, updated_at, version, posted_ref, charges, cost_centre";

nlohmann::json charges_json(const std::vector<Charge>& charges) {
  nlohmann::json out = nlohmann::json::array();
  for (const Charge& c : charges) out.push_back({{"account", c.account}, {"amount", c.amount}, {"description", c.description}});
  return out;
}

Advance read(const annex::Row& r) {
  Advance a;
  a.id = r.text(0);
  a.requester_id = r.text(1);
  a.sector_id = r.text(2);
  a.purpose = r.text(3);
  a.party_id = r.optional_text(4);
  a.reference = r.optional_text(5);
  a.currency = r.text(6);
  a.amount = r.integer(7);
  a.settled = r.integer(8);
  a.returned = r.integer(9);
  a.status = r.text(10);
  a.approval_id = r.optional_text(11);
  a.paid_on = r.optional_text(12);
  a.created_at = r.text(13);
  a.updated_at = r.text(14);
  a.version = r.integer(15);
  a.posted_ref = r.optional_text(16);
  if (std::optional<std::string> charges = r.optional_text(17)) {
    for (const nlohmann::json& c : nlohmann::json::parse(*charges)) {
      a.charges.push_back({c["account"].get<std::string>(), c["amount"].get<int64_t>(), c.value("description", "")});
    }
  }
  a.cost_centre = r.optional_text(18);
  return a;
}

}  // namespace

nlohmann::json Advance::to_json() const {
  auto money = [&](int64_t v) { return nlohmann::json{{"amount", v}, {"currency", currency}}; };
  auto opt = [](const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return {{"id", id},           {"number", id},           {"requester_id", requester_id}, {"owner_id", requester_id},
          {"sector_id", sector_id}, {"purpose", purpose}, {"party_id", opt(party_id)},    {"reference", opt(reference)},
          {"amount", money(amount)}, {"settled", money(settled)}, {"returned", money(returned)}, {"open", money(open())},
          {"status", status},   {"approval_id", opt(approval_id)}, {"paid_on", opt(paid_on)}, {"posted_ref", opt(posted_ref)},
          {"charges", charges_json(charges)}, {"cost_centre", opt(cost_centre)},
          {"created_at", created_at},
          {"updated_at", updated_at}, {"version", version}};
}

void AdvanceLedger::reserve(annex::Transaction& txn, const std::string& user, int64_t amount, int64_t cap,
                            const std::function<std::string(int64_t)>& shown) {
  db_.query(txn, "INSERT INTO expenses_advance_balances (user_id, outstanding) VALUES (?, 0) ON CONFLICT (user_id) DO NOTHING", {user});
  // One statement decides: the balance moves only if the result stays within the cap, whatever else runs at once.
  annex::Rows taken = db_.query(txn,
                                "UPDATE expenses_advance_balances SET outstanding = outstanding + ?"
                                " WHERE user_id = ? AND outstanding + ? <= ?",
                                {amount, user, amount, cap});
  if (taken.affected() == 1) return;
  int64_t balance = outstanding(user, &txn);
  throw annex::Error(ANNEX_ERR_UNPROCESSABLE,
                     "the advance of " + shown(amount) + " would take the outstanding balance of " + shown(balance) +
                         " over the cap of " + shown(cap),
                     "amount");
}

void AdvanceLedger::release(annex::Transaction& txn, const std::string& user, int64_t amount) {
  if (amount == 0) return;
  db_.query(txn, "UPDATE expenses_advance_balances SET outstanding = outstanding - ? WHERE user_id = ?", {amount, user});
}

int64_t AdvanceLedger::outstanding(const std::string& user, annex::Transaction* txn) const {
  annex::Value params[] = {std::string_view(user)};
  annex::Rows rows = db_.query(txn, "SELECT outstanding FROM expenses_advance_balances WHERE user_id = ?", params);
  return rows.next() ? rows.row().integer(0) : 0;
}

std::optional<Advance> AdvanceLedger::find(const std::string& id, annex::Transaction* txn) const {
  annex::Value params[] = {std::string_view(id)};
  annex::Rows rows = db_.query(txn, std::string("SELECT ") + kColumns + " FROM expenses_advances WHERE id = ?", params);
  if (!rows.next()) return std::nullopt;
  return read(rows.row());
}

std::optional<Advance> AdvanceLedger::find_by_approval(const std::string& approval_id, annex::Transaction* txn) const {
  annex::Value params[] = {std::string_view(approval_id)};
  annex::Rows rows = db_.query(txn, std::string("SELECT ") + kColumns + " FROM expenses_advances WHERE approval_id = ?", params);
  if (!rows.next()) return std::nullopt;
  return read(rows.row());
}

std::optional<Advance> AdvanceLedger::find_by_reference(const std::string& requester, const std::string& reference,
                                                        annex::Transaction* txn) const {
  annex::Value params[] = {std::string_view(requester), std::string_view(reference)};
  annex::Rows rows = db_.query(txn, std::string("SELECT ") + kColumns + " FROM expenses_advances WHERE requester_id = ? AND reference = ?",
                               params);
  if (!rows.next()) return std::nullopt;
  return read(rows.row());
}

void AdvanceLedger::insert(annex::Transaction& txn, const Advance& a) {
  db_.query(txn, std::string("INSERT INTO expenses_advances (") + kColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {a.id, a.requester_id, a.sector_id, a.purpose, a.party_id, a.reference, a.currency, a.amount, a.settled, a.returned,
             a.status, a.approval_id, a.paid_on, a.created_at, a.updated_at, a.version, a.posted_ref,
             a.charges.empty() ? std::optional<std::string>() : std::optional<std::string>(charges_json(a.charges).dump()), a.cost_centre});
}

void AdvanceLedger::update(annex::Transaction& txn, Advance& a) {
  annex::Rows changed = db_.query(txn,
                                  "UPDATE expenses_advances SET settled = ?, returned = ?, status = ?, approval_id = ?, paid_on = ?,"
                                  " posted_ref = ?, updated_at = ?, version = ? WHERE id = ? AND version = ?",
                                  {a.settled, a.returned, a.status, a.approval_id, a.paid_on, a.posted_ref, a.updated_at, a.version + 1,
                                   a.id, a.version});
  if (changed.affected() != 1) throw annex::Error(ANNEX_ERR_CONFLICT, "the advance changed meanwhile; read it again", "If-Match");
  ++a.version;
}

std::vector<Advance> AdvanceLedger::open_paid(const std::string& user, annex::Transaction* txn, bool return_due) const {
  annex::Value params[] = {std::string_view(user)};
  annex::Rows rows = db_.query(txn,
                               std::string("SELECT ") + kColumns + " FROM expenses_advances WHERE requester_id = ? AND status " +
                                   (return_due ? "IN ('paid', 'return_due')" : "= 'paid'") +
                                   " AND amount > settled + returned ORDER BY paid_on, id",
                               params);
  std::vector<Advance> out;
  while (rows.next()) out.push_back(read(rows.row()));
  return out;
}

std::vector<Settlement> AdvanceLedger::settle(annex::Transaction& txn, const std::string& user, const std::string& claim_id,
                                              int64_t amount, const std::string& now, bool carry_forward) {
  std::vector<Settlement> out;
  int64_t rest = amount;
  for (Advance& a : open_paid(user, &txn)) {
    if (rest <= 0) break;
    int64_t take = std::min(rest, a.open());
    a.settled = annex::biz::checked_add(a.settled, take, "amount");
    if (a.open() == 0) {
      a.status = "settled";
    } else if (!carry_forward) {
      a.status = "return_due";  // the claim came to less than the advance: the rest is handed back
    }
    a.updated_at = now;
    update(txn, a);
    release(txn, user, take);
    db_.query(txn, "INSERT INTO expenses_settlements (claim_id, advance_id, amount, settled_at) VALUES (?, ?, ?, ?)",
              {claim_id, a.id, take, now});
    out.push_back({a.id, take, a.open()});
    rest -= take;
  }
  return out;
}

}  // namespace expenses
