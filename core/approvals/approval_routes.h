// Approvals over HTTP: what awaits the caller, one approval, decisions, resubmission, and delegations.
#pragma once

#include "approvals/approvals.h"
#include "http/router.h"

namespace annex::approvals {

// Registers, owned by "annex.core" (each checks, object by object, that the caller may see or act on it):
//   GET    /api/v1/approvals                   approvals whose current step the caller may decide
//   GET    /api/v1/approvals/{id}              one approval with its decisions (404 when out of reach)
//   POST   /api/v1/approvals/{id}/decisions    {decision: approve|reject|return, comment, on_behalf_of?}
//   POST   /api/v1/approvals/{id}/resubmit     after a return, by the submitter
//   GET    /api/v1/approval-chains             the configured chains
//   GET    /api/v1/delegations                 delegations the caller gave or received
//   POST   /api/v1/delegations                 {delegate_id, chains, valid_from?, valid_until}
//   DELETE /api/v1/delegations/{id}            ends one of the caller's delegations
void register_approval_routes(http::Router& router, ApprovalService& service);

}  // namespace annex::approvals
