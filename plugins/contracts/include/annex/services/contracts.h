/*
 * annex/services/contracts.h — the service "org.annex.contracts" v1, provided by the contracts plugin
 * (org.annex.contracts) to plugins that list it under "uses" and require org.annex.contracts: what the
 * relationship-spending rules need to know of signed contracts, their lines and split credit, and the collections
 * (回款) received on them.
 *
 * Contracts stay the contracts plugin's: another plugin never reads its tables (the host refuses that SQL), it asks
 * this service. Strings cross as annex_str and JSON as in annex/plugin.h; money is integer minor units of the
 * contract's currency; dates are YYYY-MM-DD.
 */
#ifndef ANNEX_SERVICES_CONTRACTS_H
#define ANNEX_SERVICES_CONTRACTS_H

#include <annex/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ANNEX_SERVICE_CONTRACTS "org.annex.contracts"

/* A contract as this service gives it:
 *   {"id", "number", "party_id", "sector_id", "owner_id", "status", "currency", "total", "collected", "signed_on",
 *    "lines": [{"line_no", "product_id", "quantity", "unit_price", "amount"}],
 *    "splits": [{"user_id", "percent"}]}
 * "collected" counts the collections not reversed; "splits" is [{owner, 100}] when the credit is not split.
 * A collection: {"id", "contract_id", "received_on", "amount", "currency", "reference", "source", "reversed_on"}
 * ("reversed_on" null while it counts). */
typedef struct annex_contracts_v1 {
  uint32_t struct_size;
  uint32_t minor;
  void* provider_plugin_ptr; /* pass it back as the first argument of every function */
  /* Appends contract `id`. With a non-empty `user_id`, a contract that user may not read (contracts.contract.read)
   * answers NOT_FOUND like a missing one. */
  annex_status (*get)(void* provider_plugin_ptr, annex_str id, annex_str user_id, annex_buffer* out_json,
                      annex_buffer* err);
  /* Signed (or since completed) contracts for a query given as JSON: {"signed_from", "signed_to"} (inclusive,
   * both required), optional "party_id" and "credited_to" (a user holding a share of the credit), "after" (the
   * "next" of the previous page) and "limit" (1–1000, default 500). Appends {"items": [contract…], "next": id or
   * null}, in id order. A malformed query is refused (INVALID_ARGUMENT or UNPROCESSABLE) naming the field at fault. */
  annex_status (*signed_contracts)(void* provider_plugin_ptr, annex_str query_json, annex_buffer* out_json,
                                   annex_buffer* err);
  /* Collections for a query given as JSON: "contract_id", "received_from"/"received_to" (inclusive) and
   * "reversed_from"/"reversed_to" (the collections reversed on those days), any of them together;
   * "after" and "limit" as above. Reversed collections are listed with their "reversed_on". Appends
   * {"items": [collection…], "next": id or null}, in id order. */
  annex_status (*collections)(void* provider_plugin_ptr, annex_str query_json, annex_buffer* out_json,
                              annex_buffer* err);
  /* Appends {"contract_id", "number", "signed_on"} of the first contract signed with party `party_id` (the
   * earliest signing date), or NOT_FOUND when none is signed yet. */
  annex_status (*first_signed)(void* provider_plugin_ptr, annex_str party_id, annex_buffer* out_json,
                               annex_buffer* err);
  /* Since minor 1 (read it only when ANNEX_HAS_FIELD(table, annex_contracts_v1, states) and minor >= 1): many
   * contracts at once, for a query given as JSON {"contract_ids": [id…]} (1–1000 ids). Appends {"items":
   * [contract…]} in id order, each without "lines" and "splits"; an id of no contract is left out. Not filtered by
   * anyone's reach: for plugins that act on contracts they already hold ids of. A malformed query is refused
   * (UNPROCESSABLE) naming "contract_ids". */
  annex_status (*states)(void* provider_plugin_ptr, annex_str query_json, annex_buffer* out_json, annex_buffer* err);
} annex_contracts_v1;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ANNEX_SERVICES_CONTRACTS_H */
