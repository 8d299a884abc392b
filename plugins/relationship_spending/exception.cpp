#include "exception.h"

#include "../common/query.h"

namespace relationship_spending {

using nlohmann::json;
namespace rest = annex::rest;

namespace {

constexpr std::pair<ExceptionKind, const char*> kKinds[] = {
    {ExceptionKind::kPreApprovalAfterSigning, "pre_approval_after_signing"},
    {ExceptionKind::kLateFiling, "late_filing"},
    {ExceptionKind::kLateSignature, "late_signature"},
    {ExceptionKind::kMissingSignature, "missing_signature"},
    {ExceptionKind::kOverCapAttempt, "over_cap_attempt"},
    {ExceptionKind::kOverRatio, "over_ratio"},
    {ExceptionKind::kDisputedSpotCheck, "disputed_spot_check"},
    {ExceptionKind::kRecovery, "recovery"},
    {ExceptionKind::kOverLimit, "over_limit"},
};

}  // namespace

const char* exception_kind_name(ExceptionKind kind) {
  for (const auto& [k, name] : kKinds) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<ExceptionKind> exception_kind(std::string_view name) {
  for (const auto& [k, n] : kKinds) {
    if (name == n) return k;
  }
  return std::nullopt;
}

json ControlException::to_json() const {
  return {{"id", id},
          {"kind", exception_kind_name(kind)},
          {"rep_id", rep_id},
          {"sector_id", sector_id},
          {"party_id", party_id ? json(*party_id) : json(nullptr)},
          {"subject", {{"type", subject_type}, {"id", subject_id}}},
          {"detail", detail},
          {"at", at}};
}

ControlException Exceptions::record(ControlException e, std::string_view principal_id) const {
  e.id = rest::new_id("rx");
  e.at = now_text(s_.calendar);
  const std::string detail = e.detail.dump();
  annex::Transaction txn = s_.db.begin();
  s_.db.query(txn,
              "INSERT INTO relationship_exceptions (id, kind, rep_id, sector_id, party_id, subject_type, subject_id, detail, at)"
              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
              {e.id, exception_kind_name(e.kind), e.rep_id, e.sector_id, e.party_id, e.subject_type, e.subject_id, detail, e.at});
  s_.audit.append(&txn, principal_id, std::string(kException) + "." + exception_kind_name(e.kind), kException, e.id, "",
                  e.to_json().dump());
  txn.commit();
  return e;
}

void Exceptions::list(const annex::Request& req, annex::Response& resp) const {
  rest::Where where;
  where.add(s_.authz.list_filter(req.principal_id(), kExceptionsRead, kException, "sector_id", "rep_id", "id"));
  if (std::optional<std::string> kind = req.query_param("kind")) {
    if (!exception_kind(*kind)) {
      std::string known;
      for (const auto& [k, name] : kKinds) known += (known.empty() ? "" : ", ") + std::string(name);
      rest::invalid("kind", "kind must be one of: " + known);
    }
    where.add("kind = ?", {*kind});
  }
  where.equal_if(req, "rep_id", "rep_id").equal_if(req, "party_id", "party_id");
  // `at` is an instant; from and to are days, inclusive.
  if (std::optional<std::string> from = req.query_param("from")) {
    if (!rest::parse_date(*from)) rest::invalid("from", "from must be a date, YYYY-MM-DD");
    where.add("at >= ?", {*from});
  }
  if (std::optional<std::string> to = req.query_param("to")) {
    std::optional<std::chrono::year_month_day> day = rest::parse_date(*to);
    if (!day) rest::invalid("to", "to must be a date, YYYY-MM-DD");
    where.add("at < ?", {rest::format_date(rest::add_days(*day, 1))});
  }
  resp.body(rest::page(s_.db, req,
                       "SELECT id, kind, rep_id, sector_id, party_id, subject_type, subject_id, detail, at FROM relationship_exceptions",
                       where, {{"id", 0, false}, {"at", 8, false}}, "-id", [](const annex::Row& r, std::string& out) {
                         rest::ObjectWriter w(out);
                         w.column("id", r, 0).column("kind", r, 1).column("rep_id", r, 2).column("sector_id", r, 3)
                             .text_or_null("party_id", r, 4)
                             .raw("subject", json{{"type", r.text(5)}, {"id", r.text(6)}}.dump())
                             .raw("detail", r.view(7)).column("at", r, 8);
                       }));
}

}  // namespace relationship_spending
