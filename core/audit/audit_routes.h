// The audit log over HTTP, for auditors: search, export (JSON Lines, verifiable offline with
// `annexctl audit verify --file`), an online verification and the public key that checks the checkpoints.
#pragma once

#include "audit/audit_log.h"
#include "http/router.h"

namespace annex::audit {

// Not "*.read": the audit log is for auditors, not for every role that reads business records.
inline constexpr const char* kAuditRead = "annex.audit.view";
inline constexpr const char* kAuditVerify = "annex.audit.verify";

// Registers, owned by "annex.core":
//   GET /api/v1/audit             ?object=TYPE/ID &object_type= &object_id= &principal= &from= &to= &after_seq= &limit=
//   GET /api/v1/audit/export      every entry, checkpoint and the head, as JSON Lines
//   GET /api/v1/audit/verify      recomputes the chain and checks the signatures
//   GET /api/v1/audit/public-key  the Ed25519 public key (PEM)
//   GET /api/v1/audit/evidence    ?object_type=&object_id= (pairs, repeatable): an evidence pack (ZIP) of the
//                                 audit entries of those objects, verifiable offline
void register_audit_routes(http::Router& router, store::Database& db, AuditLog& log);

}  // namespace annex::audit
