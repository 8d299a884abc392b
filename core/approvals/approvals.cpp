#include "approvals/approvals.h"

#include "auth/secrets.h"
#include "clock/utc.h"
#include "events/event_bus.h"
#include "store/sql.h"
#include "store/transaction.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <map>
#include <regex>
#include <set>

namespace annex::approvals {
namespace {

using nlohmann::json;
using store::Param;

bool is_currency(const std::string& c) {
  return c.size() == 3 && std::all_of(c.begin(), c.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; });
}

std::string join(const std::vector<std::string>& v) { return json(v).dump(); }

std::vector<std::string> split_json(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (j.is_array()) {
    for (const auto& e : j) {
      if (e.is_string()) out.push_back(e.get<std::string>());
    }
  }
  return out;
}

// Runs `fn` on `session` when given, else on a leased session in a transaction of its own.
template <typename Fn>
auto in_transaction(store::Database& db, soci::session* session, Fn&& fn) {
  if (session != nullptr) return fn(*session);
  store::Lease lease(db);
  store::ScopedTransaction txn(lease.session(), db.dialect());
  auto result = fn(lease.session());
  txn.commit();
  return result;
}

// Kuhn's augmenting paths: can every step get a distinct approver from its candidates?
// True when a delegation stored with these bounds is in force at `now`. Bounds are parsed, not compared as
// text: a row that is not a valid instant (written before inputs were checked strictly) is never in force.
bool in_force(const std::string& valid_from, const std::string& valid_until, std::time_t now) {
  std::optional<std::time_t> from = clock::parse_instant(valid_from), until = clock::parse_instant(valid_until);
  return from && until && *from <= now && now < *until;
}

bool distinct_approvers(const std::vector<std::vector<std::string>>& candidates, size_t* failing_step) {
  std::map<std::string, size_t> owner;  // user → step
  for (size_t step = 0; step < candidates.size(); ++step) {
    std::set<std::string> seen;
    std::function<bool(size_t)> augment = [&](size_t s) {
      for (const auto& u : candidates[s]) {
        if (!seen.insert(u).second) continue;
        auto it = owner.find(u);
        if (it == owner.end() || augment(it->second)) {
          owner[u] = s;
          return true;
        }
      }
      return false;
    };
    if (!augment(step)) {
      *failing_step = step;
      return false;
    }
  }
  return true;
}

std::string snapshot(const Approval& a) {
  json j = {{"status", a.status}, {"round", a.round}, {"required", a.required}};
  j["step"] = a.status == "pending" && a.step_index < static_cast<int>(a.steps.size()) ? json(a.steps[a.step_index]) : json(nullptr);
  return j.dump();
}

}  // namespace

std::vector<LintError> parse_chains(const std::string& text, const auth::RoleCatalog& roles,
                                    std::map<std::string, Chain>* out) {
  std::vector<LintError> errors;
  if (text.empty()) return errors;
  json root = json::parse(text, nullptr, false);
  if (!root.is_object()) return {{"approvals", "must be an object"}};
  if (!root.contains("chains")) return errors;
  const json& chains = root["chains"];
  if (!chains.is_object()) return {{"approvals.chains", "must be an object of chain id → {\"steps\": [...]}"}};
  static const std::regex id_shape("[a-z0-9][a-z0-9._-]{0,63}");
  for (const auto& [id, def] : chains.items()) {
    std::string base = "approvals.chains." + id;
    size_t before = errors.size();
    if (!std::regex_match(id, id_shape)) errors.push_back({base, "a chain id is lower-case letters, digits, '.', '_' or '-'"});
    if (!def.is_object() || !def.contains("steps") || !def["steps"].is_array() || def["steps"].empty()) {
      errors.push_back({base + ".steps", "must be a non-empty array of steps"});
      continue;
    }
    Chain chain{id, {}};
    std::set<std::string> names;
    bool unconditional = false;
    size_t index = 0;
    for (const auto& s : def["steps"]) {
      std::string path = base + ".steps[" + std::to_string(index++) + "]";
      if (!s.is_object()) {
        errors.push_back({path, "must be an object"});
        continue;
      }
      Step step;
      step.name = s.value("name", std::string{});
      if (step.name.empty() || !names.insert(step.name).second) {
        errors.push_back({path + ".name", "every step needs a name, unique within its chain"});
      }
      step.permission = s.contains("permission") && s["permission"].is_string() ? s["permission"].get<std::string>() : "";
      step.role = s.contains("role") && s["role"].is_string() ? s["role"].get<std::string>() : "";
      std::string scope = s.value("scope", std::string("item-sector"));
      if (scope != "item-sector" && scope != "any") errors.push_back({path + ".scope", "must be \"item-sector\" or \"any\""});
      step.item_sector = scope == "item-sector";
      std::string mode = s.value("mode", std::string("any"));
      if (mode != "any" && mode != "all") errors.push_back({path + ".mode", "must be \"any\" or \"all\""});
      step.all = mode == "all";
      if (s.contains("min_amount")) {
        if (!s["min_amount"].is_number_integer() || s["min_amount"].get<int64_t>() < 0) {
          errors.push_back({path + ".min_amount", "must be a whole number of minor units, 0 or more"});
        } else {
          step.min_amount = s["min_amount"].get<int64_t>();
          step.currency = s.value("currency", std::string{});
          if (!is_currency(step.currency)) {
            errors.push_back({path + ".currency", "a step with min_amount needs a currency (ISO 4217, e.g. CNY)"});
          }
        }
      }
      if (!step.min_amount || *step.min_amount == 0) unconditional = true;
      if (step.permission.empty() == step.role.empty()) {
        errors.push_back({path, "name exactly one of permission and role"});
      } else if (!step.role.empty()) {
        const auth::Role* role = roles.find(step.role);
        if (role == nullptr) {
          errors.push_back({path + ".role", "no role " + step.role + " is configured"});
        } else if (step.item_sector && role->reach == auth::Reach::kOwn) {
          errors.push_back({path + ".role", "role " + step.role +
                                                " reaches only its holders' own records, so its holders could approve "
                                                "nothing but their own items: no independent approver"});
        }
      } else {
        bool granted = false;
        for (const auto& name : roles.names()) {
          const auth::Role* role = roles.find(name);
          if (auth::permitted(role->patterns, step.permission) && (!step.item_sector || role->reach != auth::Reach::kOwn)) {
            granted = true;
          }
        }
        if (!granted) {
          errors.push_back({path + ".permission", "no configured role grants " + step.permission +
                                                      (step.item_sector ? " beyond its holders' own records" : "") +
                                                      ": nobody independent of the submitter could decide this step"});
        }
      }
      chain.steps.push_back(step);
    }
    if (!unconditional) {
      errors.push_back({base + ".steps", "every step has a min_amount, so an item below them all would be approved by "
                                         "nobody: give at least one step no threshold"});
    }
    if (errors.size() == before && out != nullptr) (*out)[id] = std::move(chain);
  }
  return errors;
}

std::string approval_json(const Approval& a) {
  json decisions = json::array();
  for (const auto& d : a.decisions) {
    decisions.push_back({{"round", d.round}, {"step", d.step}, {"decider_id", d.decider_id},
                         {"on_behalf_of", d.on_behalf_of.empty() ? json(nullptr) : json(d.on_behalf_of)},
                         {"decision", d.decision}, {"comment", d.comment}, {"at", d.at}});
  }
  json j = {{"id", a.id}, {"chain", a.chain}, {"item_type", a.item_type}, {"item_id", a.item_id},
            {"sector_id", a.sector_id}, {"submitter_id", a.submitter_id},
            {"amount", {{"amount", a.amount}, {"currency", a.currency}}}, {"status", a.status}, {"round", a.round},
            {"steps", a.steps}, {"required", a.required}, {"decisions", decisions}, {"created_at", a.created_at},
            {"updated_at", a.updated_at}};
  j["current_step"] = a.status == "pending" && a.step_index < static_cast<int>(a.steps.size()) ? json(a.steps[a.step_index]) : json(nullptr);
  return j.dump();
}

std::string delegation_json(const Delegation& d) {
  return json({{"id", d.id}, {"delegator_id", d.delegator_id}, {"delegate_id", d.delegate_id}, {"chains", d.chains},
               {"valid_from", d.valid_from}, {"valid_until", d.valid_until}, {"created_at", d.created_at},
               {"revoked_at", d.revoked_at.empty() ? json(nullptr) : json(d.revoked_at)}})
      .dump();
}

ApprovalService::ApprovalService(store::Database& db, auth::Authorizer& authorizer, audit::AuditLog& audit,
                                 events::EventBus* events, std::map<std::string, Chain> chains)
    : db_(db), authorizer_(authorizer), audit_(audit), events_(events), chains_(std::move(chains)) {}

const Step& ApprovalService::step_of(const Approval& a, size_t index) const {
  const Chain& chain = chains_.at(a.chain);
  for (const auto& s : chain.steps) {
    if (s.name == a.steps.at(index)) return s;
  }
  throw ApprovalError(409, "step " + a.steps.at(index) + " is no longer in chain " + a.chain);
}

std::string ApprovalService::ineligible(const Approval& a, const Step& step, const std::string& user_id) {
  auto access = authorizer_.access_of(user_id);
  if (!access) return "unknown user";
  if (access->status != "active") return "the account is " + access->status;
  if (!step.role.empty()) {
    for (const auto& assignment : access->assignments) {
      if (assignment.role == step.role &&
          (!step.item_sector || assignment.sector_id == "*" || assignment.sector_id == a.sector_id ||
           assignment.definition->reach == auth::Reach::kAll)) {
        return {};
      }
    }
    return "does not hold the role " + step.role + (step.item_sector ? " for sector " + a.sector_id : "");
  }
  auth::Scope scope = authorizer_.scope(*access, step.permission);
  if (step.item_sector ? scope.covers_sector(a.sector_id) : scope.any) return {};
  return "lacks " + step.permission + (step.item_sector ? " for sector " + a.sector_id : "");
}

std::vector<std::string> ApprovalService::eligible_users(const Approval& a, const Step& step) {
  // Only a holder of the step's role, or of a role granting its permission, can be eligible: those are asked,
  // not every user. In login order, as approvers are listed.
  std::vector<std::string> roles;
  for (const std::string& role : authorizer_.roles().names()) {
    const std::vector<std::string>* patterns = authorizer_.roles().patterns(role);
    if (step.role.empty() ? patterns != nullptr && auth::permitted(*patterns, step.permission) : role == step.role) roles.push_back(role);
  }
  std::vector<std::pair<std::string, std::string>> eligible;  // login, id
  for (const std::string& id : authorizer_.store().holders_of(roles)) {
    if (id == a.submitter_id || !ineligible(a, step, id).empty()) continue;
    if (auto access = authorizer_.access_of(id)) eligible.emplace_back(access->login, id);
  }
  std::sort(eligible.begin(), eligible.end());
  std::vector<std::string> out;
  for (auto& [login, id] : eligible) out.push_back(std::move(id));
  return out;
}

void ApprovalService::enter_step(Approval& a, size_t index) {
  a.required.clear();
  if (index >= a.steps.size()) {
    a.status = "approved";
    a.step_index = static_cast<int>(a.steps.size());
    return;
  }
  a.status = "pending";
  a.step_index = static_cast<int>(index);
  const Step& step = step_of(a, index);
  if (!step.all) return;
  std::set<std::string> excluded{a.submitter_id};
  for (const auto& d : a.decisions) {
    if (d.round == a.round) {
      excluded.insert(d.decider_id);
      if (!d.on_behalf_of.empty()) excluded.insert(d.on_behalf_of);
    }
  }
  for (const auto& u : eligible_users(a, step)) {
    if (!excluded.count(u)) a.required.push_back(u);
  }
  if (a.required.empty()) {
    throw ApprovalError(409, "step " + step.name + " needs all its approvers, and none is left who is independent of "
                             "the submitter and of the earlier steps");
  }
}

namespace {

constexpr const char* kApprovalColumns =
    "id, chain, item_type, item_id, sector_id, submitter_id, amount, currency, status, round, step_index, steps, required,"
    " created_at, updated_at";

Approval read_approval(const std::vector<store::Cell>& r) {
  Approval a;
  a.id = r[0].s;
  a.chain = r[1].s;
  a.item_type = r[2].s;
  a.item_id = r[3].s;
  a.sector_id = r[4].s;
  a.submitter_id = r[5].s;
  a.amount = r[6].i;
  a.currency = r[7].s;
  a.status = r[8].s;
  a.round = static_cast<int>(r[9].i);
  a.step_index = static_cast<int>(r[10].i);
  a.steps = split_json(r[11].s);
  a.required = split_json(r[12].s);
  a.created_at = r[13].s;
  a.updated_at = r[14].s;
  return a;
}

// A decision row from its 7 columns starting at `at`.
Decision read_decision(const std::vector<store::Cell>& d, size_t at) {
  return {static_cast<int>(d[at].i), d[at + 1].s, d[at + 2].s, d[at + 3].s, d[at + 4].s, d[at + 5].s, d[at + 6].s};
}

}  // namespace

Approval ApprovalService::load(soci::session& s, const std::string& id, bool for_update) {
  Param p = Param::text(id);
  std::string sql = std::string("SELECT ") + kApprovalColumns + " FROM annex_approvals WHERE id = ?";
  if (for_update && db_.dialect() == store::Dialect::kPostgresql) sql += " FOR UPDATE";
  auto rs = store::run(s, sql, std::span<const Param>(&p, 1));
  if (rs.rows.empty()) throw ApprovalError(404, "no such approval");
  Approval a = read_approval(rs.rows[0]);
  auto ds = store::run(s,
                       "SELECT round, step, decider_id, on_behalf_of, decision, comment, at FROM annex_approval_decisions "
                       "WHERE approval_id = ? ORDER BY seq",
                       std::span<const Param>(&p, 1));
  for (const auto& d : ds.rows) a.decisions.push_back(read_decision(d, 0));
  return a;
}

std::vector<Approval> ApprovalService::load_pending(soci::session& s) {
  std::vector<Approval> out;
  std::map<std::string, size_t> at;
  for (const auto& r : store::run(s, std::string("SELECT ") + kApprovalColumns +
                                         " FROM annex_approvals WHERE status = 'pending' ORDER BY created_at, id", {})
                           .rows) {
    at.emplace(r[0].s, out.size());
    out.push_back(read_approval(r));
  }
  // Their decisions in one statement, not one per approval: an inbox over thousands of items stays one round trip.
  auto ds = store::run(s,
                       "SELECT d.approval_id, d.round, d.step, d.decider_id, d.on_behalf_of, d.decision, d.comment, d.at"
                       " FROM annex_approval_decisions d JOIN annex_approvals a ON a.id = d.approval_id"
                       " WHERE a.status = 'pending' ORDER BY d.approval_id, d.seq",
                       {});
  for (const auto& d : ds.rows) {
    auto it = at.find(d[0].s);
    if (it != at.end()) out[it->second].decisions.push_back(read_decision(d, 1));
  }
  return out;
}

void ApprovalService::save(soci::session& s, const Approval& a, bool insert) {
  std::string steps = join(a.steps), required = join(a.required);
  if (insert) {
    Param p[] = {Param::text(a.id),        Param::text(a.chain),      Param::text(a.item_type),
                 Param::text(a.item_id),   Param::text(a.sector_id),  Param::text(a.submitter_id),
                 Param::integer(a.amount), Param::text(a.currency),   Param::text(a.status),
                 Param::integer(a.round),  Param::integer(a.step_index), Param::text(steps),
                 Param::text(required),    Param::text(a.created_at), Param::text(a.updated_at)};
    try {
      store::run(s,
                 "INSERT INTO annex_approvals (id, chain, item_type, item_id, sector_id, submitter_id, amount, currency,"
                 " status, round, step_index, steps, required, created_at, updated_at)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 p);
    } catch (const store::StoreError& e) {
      if (e.kind() == store::StoreError::Kind::kConstraint) {
        throw ApprovalError(409, a.item_type + " " + a.item_id + " is already in chain " + a.chain, "item_id");
      }
      throw;
    }
    return;
  }
  Param p[] = {Param::text(a.status), Param::integer(a.round), Param::integer(a.step_index), Param::text(required),
               Param::text(a.updated_at), Param::text(a.id)};
  store::run(s, "UPDATE annex_approvals SET status = ?, round = ?, step_index = ?, required = ?, updated_at = ? WHERE id = ?",
             p);
}

void ApprovalService::finish(soci::session& s, const Approval& before, const Approval& after, const std::string& action,
                             const std::string& actor) {
  json change = json::parse(snapshot(after));
  if (!after.decisions.empty() && after.decisions.size() != before.decisions.size()) {
    const Decision& d = after.decisions.back();
    change["decision"] = {{"step", d.step}, {"decision", d.decision}, {"comment", d.comment},
                          {"decider_id", d.decider_id},
                          {"on_behalf_of", d.on_behalf_of.empty() ? json(nullptr) : json(d.on_behalf_of)}};
  }
  audit_.append(s, audit::Change{actor, action, "annex.approval", after.id, before.id.empty() ? "" : snapshot(before),
                                 change.dump()});
  if (events_ != nullptr && after.status != before.status) {
    json payload = {{"id", after.id},           {"chain", after.chain},   {"item_type", after.item_type},
                    {"item_id", after.item_id}, {"status", after.status}, {"round", after.round}};
    events_->publish(&s, "annex.core", "annex.approval." + after.status, payload.dump(),
                     after.id + ":" + std::to_string(after.round) + ":" + after.status);
  }
}

Approval ApprovalService::submit(soci::session* session, const Submission& in) {
  auto chain_it = chains_.find(in.chain);
  if (chain_it == chains_.end()) throw ApprovalError(422, "no approval chain " + in.chain + " is configured", "chain");
  if (in.item_type.empty() || in.item_id.empty()) throw ApprovalError(422, "item_type and item_id are required", "item_id");
  if (in.sector_id.empty()) throw ApprovalError(422, "the item's sector is required", "sector_id");
  if (in.amount < 0) throw ApprovalError(422, "amount must not be negative", "amount");
  if ((in.amount > 0 || !in.currency.empty()) && !is_currency(in.currency)) {
    throw ApprovalError(422, "currency must be an ISO 4217 code such as CNY", "currency");
  }
  auto submitter = authorizer_.access_of(in.submitter_id);
  if (!submitter || submitter->status != "active") throw ApprovalError(422, "the submitter is not an active user", "submitter_id");
  Approval a;
  a.id = auth::new_id("ap_");
  a.chain = in.chain;
  a.item_type = in.item_type;
  a.item_id = in.item_id;
  a.sector_id = in.sector_id;
  a.submitter_id = in.submitter_id;
  a.amount = in.amount;
  a.currency = in.currency;
  a.created_at = a.updated_at = clock::utc_now();
  std::vector<std::vector<std::string>> candidates;
  for (const Step& step : chain_it->second.steps) {
    if (step.min_amount && *step.min_amount > 0) {
      if (in.amount == 0) continue;  // below every threshold, whatever its currency
      if (step.currency != in.currency) {
        throw ApprovalError(422, "step " + step.name + " of chain " + in.chain + " has its threshold in " + step.currency +
                                     "; this item is in " + (in.currency.empty() ? "no currency" : in.currency),
                            "currency");
      }
      if (in.amount < *step.min_amount) continue;
    }
    a.steps.push_back(step.name);
    candidates.push_back(eligible_users(a, step));
  }
  size_t failing = 0;
  if (!distinct_approvers(candidates, &failing)) {
    throw ApprovalError(422, "no approver independent of the submitter and of the other steps can decide step " +
                                 a.steps[failing] + " for sector " + a.sector_id,
                        "chain");
  }
  enter_step(a, 0);
  return in_transaction(db_, session, [&](soci::session& s) {
    // Money only in the currencies master data holds (ISO 4217's, seeded at install).
    Param code = Param::text(a.currency);
    if (!a.currency.empty() && store::run(s, "SELECT 1 FROM annex_md_currencies WHERE code = ?", std::span<const Param>(&code, 1)).rows.empty()) {
      throw ApprovalError(422, a.currency + " is not a currency in master data", "currency");
    }
    save(s, a, true);
    finish(s, Approval{}, a, "annex.approval.submit", in.submitter_id);
    return a;
  });
}

std::optional<Delegation> ApprovalService::active_delegation(soci::session& s, const std::string& delegator,
                                                             const std::string& delegate, const std::string& chain) {
  Param p[] = {Param::text(delegator), Param::text(delegate)};
  auto rs = store::run(s,
                       "SELECT id, chains, valid_from, valid_until, created_at FROM annex_delegations"
                       " WHERE delegator_id = ? AND delegate_id = ? AND revoked_at IS NULL ORDER BY created_at",
                       p);
  const std::time_t now = std::time(nullptr);
  for (const auto& r : rs.rows) {
    if (!in_force(r[2].s, r[3].s, now)) continue;
    std::vector<std::string> chains = split_json(r[1].s);
    if (std::find(chains.begin(), chains.end(), "*") != chains.end() ||
        std::find(chains.begin(), chains.end(), chain) != chains.end()) {
      return Delegation{r[0].s, delegator, delegate, chains, r[2].s, r[3].s, r[4].s, {}};
    }
  }
  return std::nullopt;
}

Approval ApprovalService::decide(soci::session* session, const std::string& approval_id, const std::string& actor_id,
                                 const std::string& decision, const std::string& comment,
                                 const std::string& on_behalf_of) {
  if (decision != "approve" && decision != "reject" && decision != "return") {
    throw ApprovalError(422, "decision must be approve, reject or return", "decision");
  }
  if (decision != "approve" && comment.empty()) {
    throw ApprovalError(422, "a rejection or a return needs a comment saying why", "comment");
  }
  if (comment.size() > 2000) throw ApprovalError(422, "comment must be at most 2000 characters", "comment");
  return in_transaction(db_, session, [&](soci::session& s) {
    Approval a = load(s, approval_id, true);
    const Approval before = a;
    const bool delegated = !on_behalf_of.empty() && on_behalf_of != actor_id;
    const std::string authority = delegated ? on_behalf_of : actor_id;
    // Out of the actor's reach — their own, or their delegator's through a delegation covering this chain now —
    // the approval does not exist for them: no refusal below may confirm it, its chain or its people.
    if (!visible(a, actor_id) &&
        !(delegated && active_delegation(s, authority, actor_id, a.chain) && visible(a, authority))) {
      throw ApprovalError(404, "no such approval");
    }
    if (a.status != "pending") throw ApprovalError(409, "the approval is " + a.status + "; nothing is awaiting a decision");
    const Step& step = step_of(a, static_cast<size_t>(a.step_index));
    auto refuse = [&](const std::string& why, const std::string& field = {}) {
      spdlog::info("approval {}: {} refused to decide step {}{}: {}", a.id, actor_id, step.name,
                   delegated ? " for " + authority : "", why);
      throw ApprovalError(403, why, field);
    };
    if (actor_id == a.submitter_id) refuse("the submitter never decides their own item");
    if (delegated) {
      if (authority == a.submitter_id) refuse("a delegate cannot decide an item their delegator submitted", "on_behalf_of");
      if (!active_delegation(s, authority, actor_id, a.chain)) {
        refuse("no delegation from " + authority + " to you covers chain " + a.chain + " now", "on_behalf_of");
      }
    }
    for (const auto& d : a.decisions) {
      if (d.round != a.round) continue;
      bool same_person = d.decider_id == actor_id || d.decider_id == authority ||
                         (!d.on_behalf_of.empty() && (d.on_behalf_of == actor_id || d.on_behalf_of == authority));
      if (!same_person) continue;
      if (d.step != step.name) refuse("one person decides one step of an item; this one already decided step " + d.step);
      throw ApprovalError(409, "this step already has your decision");
    }
    if (std::string why = ineligible(a, step, authority); !why.empty()) {
      refuse(delegated ? "the delegator " + why + " (a delegate cannot approve what the delegator could not)"
                       : "you may not decide step " + step.name + ": you " + why);
    }
    a.decisions.push_back({a.round, step.name, actor_id, delegated ? authority : "", decision, comment, clock::utc_now()});
    a.updated_at = a.decisions.back().at;
    Param d[] = {Param::text(a.id),      Param::integer(static_cast<int64_t>(a.decisions.size())),
                 Param::integer(a.round), Param::text(step.name),
                 Param::text(actor_id),  delegated ? Param::text(authority) : Param::null(),
                 Param::text(decision),  Param::text(comment),
                 Param::text(a.updated_at)};
    store::run(s,
               "INSERT INTO annex_approval_decisions (approval_id, seq, round, step, decider_id, on_behalf_of, decision,"
               " comment, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               d);
    if (decision == "reject") {
      a.status = "rejected";
      a.required.clear();
    } else if (decision == "return") {
      a.status = "returned";
      a.required.clear();
    } else if (!step.all) {
      enter_step(a, static_cast<size_t>(a.step_index) + 1);
    } else {
      a.required.erase(std::remove(a.required.begin(), a.required.end(), authority), a.required.end());
      if (a.required.empty()) enter_step(a, static_cast<size_t>(a.step_index) + 1);
    }
    save(s, a, false);
    finish(s, before, a, "annex.approval." + decision, actor_id);
    return a;
  });
}

Approval ApprovalService::resubmit(soci::session* session, const std::string& approval_id, const std::string& actor_id) {
  return in_transaction(db_, session, [&](soci::session& s) {
    Approval a = load(s, approval_id, true);
    const Approval before = a;
    if (!visible(a, actor_id)) throw ApprovalError(404, "no such approval");
    if (a.submitter_id != actor_id) throw ApprovalError(403, "only the submitter resubmits an item");
    if (a.status != "returned") throw ApprovalError(409, "the approval is " + a.status + ", not returned for changes");
    ++a.round;
    a.updated_at = clock::utc_now();
    enter_step(a, 0);
    save(s, a, false);
    finish(s, before, a, "annex.approval.resubmit", actor_id);
    return a;
  });
}

std::optional<Approval> ApprovalService::get(const std::string& approval_id) {
  store::Lease lease(db_);
  try {
    return load(lease.session(), approval_id, false);
  } catch (const ApprovalError&) {
    return std::nullopt;
  }
}

std::vector<Approval> ApprovalService::awaiting(const std::string& user_id) {
  std::vector<Approval> out;
  store::Lease lease(db_);
  std::vector<Approval> pending = load_pending(lease.session());
  Param p = Param::text(user_id);
  auto delegations = store::run(lease.session(),
                                "SELECT delegator_id, chains, valid_from, valid_until FROM annex_delegations"
                                " WHERE delegate_id = ? AND revoked_at IS NULL",
                                std::span<const Param>(&p, 1));
  const std::time_t now = std::time(nullptr);
  std::vector<std::vector<store::Cell>> delegators;
  for (auto& row : delegations.rows) {
    if (in_force(row[2].s, row[3].s, now)) delegators.push_back(std::move(row));
  }
  for (Approval& a : pending) {
    if (a.submitter_id == user_id || !chains_.count(a.chain)) continue;
    const Step& step = step_of(a, static_cast<size_t>(a.step_index));
    auto can = [&](const std::string& authority) {
      if (authority == a.submitter_id) return false;
      for (const auto& d : a.decisions) {
        if (d.round == a.round && (d.decider_id == user_id || d.decider_id == authority || d.on_behalf_of == user_id ||
                                   d.on_behalf_of == authority)) {
          return false;
        }
      }
      return ineligible(a, step, authority).empty();
    };
    bool may = can(user_id);
    for (size_t i = 0; !may && i < delegators.size(); ++i) {
      std::vector<std::string> chains = split_json(delegators[i][1].s);
      bool covers = std::find(chains.begin(), chains.end(), "*") != chains.end() ||
                    std::find(chains.begin(), chains.end(), a.chain) != chains.end();
      may = covers && can(delegators[i][0].s);
    }
    if (may) out.push_back(std::move(a));
  }
  return out;
}

bool ApprovalService::visible(const Approval& a, const std::string& user_id) {
  if (a.submitter_id == user_id) return true;
  for (const auto& d : a.decisions) {
    if (d.decider_id == user_id || d.on_behalf_of == user_id) return true;
  }
  auto access = authorizer_.access_of(user_id);
  if (!access) return false;
  if (authorizer_.scope(*access, "annex.approvals.read").covers_sector(a.sector_id)) return true;
  auto chain = chains_.find(a.chain);
  if (chain == chains_.end()) return false;
  for (const auto& step : chain->second.steps) {
    if (ineligible(a, step, user_id).empty()) return true;
  }
  return false;
}

Delegation ApprovalService::delegate(const std::string& delegator_id, const std::string& delegate_id,
                                     const std::vector<std::string>& chains, const std::string& valid_from,
                                     const std::string& valid_until) {
  if (delegate_id == delegator_id) throw ApprovalError(422, "nobody delegates to themselves", "delegate_id");
  auto delegate = authorizer_.access_of(delegate_id);
  if (!delegate || delegate->status != "active") throw ApprovalError(422, "the delegate is not an active user", "delegate_id");
  if (chains.empty()) throw ApprovalError(422, "name the chains the delegation covers, or \"*\"", "chains");
  for (const auto& c : chains) {
    if (c != "*" && !chains_.count(c)) throw ApprovalError(422, "no approval chain " + c + " is configured", "chains");
  }
  // Stored in the canonical UTC form, whatever offset or fraction was given.
  std::optional<std::time_t> from = valid_from.empty() ? std::time(nullptr) : clock::parse_instant(valid_from);
  std::optional<std::time_t> until = clock::parse_instant(valid_until);
  if (!from) throw ApprovalError(422, "valid_from must be an RFC 3339 time like 2026-11-23T14:00:00Z", "valid_from");
  if (!until) throw ApprovalError(422, "valid_until is required, an RFC 3339 time like 2026-12-01T00:00:00Z", "valid_until");
  if (*until <= *from) throw ApprovalError(422, "valid_until must be after valid_from", "valid_until");
  if (*until - *from > 180L * 86400) throw ApprovalError(422, "a delegation lasts at most 180 days", "valid_until");
  Delegation d{auth::new_id("dg_"), delegator_id, delegate_id, chains, clock::utc_iso(*from), clock::utc_iso(*until),
               clock::utc_now(), {}};
  const std::string chains_json = join(d.chains);  // Param holds a view: the text must outlive the statement
  return in_transaction(db_, nullptr, [&](soci::session& s) {
    Param p[] = {Param::text(d.id),         Param::text(d.delegator_id), Param::text(d.delegate_id),
                 Param::text(chains_json), Param::text(d.valid_from),  Param::text(d.valid_until),
                 Param::text(d.created_at)};
    store::run(s,
               "INSERT INTO annex_delegations (id, delegator_id, delegate_id, chains, valid_from, valid_until, created_at)"
               " VALUES (?, ?, ?, ?, ?, ?, ?)",
               p);
    audit_.append(s, audit::Change{delegator_id, "annex.delegation.create", "annex.delegation", d.id, "",
                                   delegation_json(d)});
    return d;
  });
}

void ApprovalService::revoke_delegation(const std::string& id, const std::string& actor_id) {
  in_transaction(db_, nullptr, [&](soci::session& s) {
    std::string now = clock::utc_now();
    Param p[] = {Param::text(now), Param::text(id), Param::text(actor_id)};
    auto rs = store::run(s, "UPDATE annex_delegations SET revoked_at = ? WHERE id = ? AND delegator_id = ? AND revoked_at IS NULL", p);
    if (rs.affected == 0) throw ApprovalError(404, "no such delegation of yours");
    audit_.append(s, audit::Change{actor_id, "annex.delegation.revoke", "annex.delegation", id, "",
                                   json({{"revoked_at", now}}).dump()});
    return 0;
  });
}

std::vector<Delegation> ApprovalService::delegations_of(const std::string& user_id) {
  store::Lease lease(db_);
  Param p[] = {Param::text(user_id), Param::text(user_id)};
  auto rs = store::run(lease.session(),
                       "SELECT id, delegator_id, delegate_id, chains, valid_from, valid_until, created_at, revoked_at"
                       " FROM annex_delegations WHERE delegator_id = ? OR delegate_id = ? ORDER BY created_at, id",
                       p);
  std::vector<Delegation> out;
  for (const auto& r : rs.rows) {
    out.push_back({r[0].s, r[1].s, r[2].s, split_json(r[3].s), r[4].s, r[5].s, r[6].s,
                   r[7].s});
  }
  return out;
}

}  // namespace annex::approvals
