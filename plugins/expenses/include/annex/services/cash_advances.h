/*
 * annex/services/cash_advances.h — the service "org.annex.expenses.advances" v1, provided by the expenses
 * plugin (org.annex.expenses): the cash-advance ledger other plugins pay through (the relationship-spending
 * plugin draws approved fees as advances, R7), under the same hard cap per person (R8) as advances requested
 * over HTTP. A plugin lists it under "uses" and requires org.annex.expenses.
 *
 * Amounts are integer minor units of the company currency (plugins.org.annex.expenses.company_currency).
 * Every function appends JSON to `out_json` on success; on failure it appends the reason to `err` (with the field
 * at fault named through the host's error-field mechanism when there is one) and returns a status:
 * UNPROCESSABLE for a request over the cap (the message names the balance, the request and the cap).
 */
#ifndef ANNEX_SERVICES_CASH_ADVANCES_H
#define ANNEX_SERVICES_CASH_ADVANCES_H

#include <annex/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ANNEX_SERVICE_EXPENSES_ADVANCES "org.annex.expenses.advances"

typedef struct annex_expenses_advances_v1 {
  uint32_t struct_size;
  uint32_t minor;
  void* provider_plugin_ptr; /* pass it back as the first argument of every function */
  /* {"user_id", "outstanding": {"amount","currency"}, "cap": {…}, "available": {…}} for user `user_id`. */
  annex_status (*balance)(void* provider_plugin_ptr, annex_str user_id, annex_buffer* out_json, annex_buffer* err);
  /* Requests an advance of `amount` for `user_id` (a purpose, and `reference`: what the caller draws it for, e.g.
   * a statement id), into the advance approval chain, if it keeps the person's outstanding balance within the cap
   * — decided atomically. `actor_id` is who asks (the audit names them; empty for the calling plugin itself).
   * Appends the advance: {"id", "status": "requested", "amount", "open", "approval": {…}, …}. With a reference,
   * the draw is made once per person and reference: asked again (as after a crash before the caller kept the
   * answer), it appends the advance drawn then, whatever its status now (CONFLICT if the amount differs). */
  annex_status (*draw)(void* provider_plugin_ptr, annex_str user_id, int64_t amount, annex_str purpose, annex_str reference,
                       annex_str actor_id, annex_buffer* out_json, annex_buffer* err);
  /* Settles `amount` against the person's paid advances, oldest first, for `reference` (what was spent).
   * Appends {"settled", "unsettled" (the part no advance covered: to reimburse), "advances": [{"advance_id",
   * "amount", "left_open"}]}. */
  annex_status (*settle)(void* provider_plugin_ptr, annex_str user_id, int64_t amount, annex_str reference, annex_str actor_id,
                         annex_buffer* out_json, annex_buffer* err);
  /* Minor 1. As draw, for an advance that pays out an expense approved elsewhere (a signed statement's
   * relationship fees, R7): `charges_json` is [{"account": a GL account, "amount": minor units above zero,
   * "description"}], adding up to `amount`. When finance pays it, the expense posts at once — each account debited
   * with its amount on the requester's cost centre (from their employee record), the bank credited — and the
   * advance is settled by what it pays for, so it counts toward the cap from its request until it is paid. The
   * advance carries the charges: {"charges": [...], "cost_centre", …}. Check the table's minor before calling. */
  annex_status (*draw_charged)(void* provider_plugin_ptr, annex_str user_id, int64_t amount, annex_str purpose, annex_str reference,
                               annex_str actor_id, annex_str charges_json, annex_buffer* out_json, annex_buffer* err);
} annex_expenses_advances_v1;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ANNEX_SERVICES_CASH_ADVANCES_H */
