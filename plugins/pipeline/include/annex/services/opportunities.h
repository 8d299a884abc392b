/*
 * annex/services/opportunities.h — the service "org.annex.pipeline.opportunities" v1, provided by the
 * pipeline plugin (org.annex.pipeline) to plugins that list it under "uses" and require org.annex.pipeline.
 *
 * Opportunities stay the pipeline's: another plugin never reads its tables (the host refuses that SQL), it asks
 * this service. Strings cross as annex_str and JSON as in annex/plugin.h; money is integer minor units.
 */
#ifndef ANNEX_SERVICES_OPPORTUNITIES_H
#define ANNEX_SERVICES_OPPORTUNITIES_H

#include <annex/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ANNEX_SERVICE_OPPORTUNITIES "org.annex.pipeline.opportunities"

typedef struct annex_opportunities_v1 {
  uint32_t struct_size;
  uint32_t minor;
  void* provider_plugin_ptr; /* pass it back as the first argument of every function */
  /* Appends {"id", "sector_id", "owner_id", "party_id", "status", "stage", "currency", "amount", "probability",
   * "expected_close"} of opportunity `id`. With a non-empty `user_id`, an opportunity that user may not read
   * (pipeline.opportunity.read) answers NOT_FOUND like a missing one. */
  annex_status (*get)(void* provider_plugin_ptr, annex_str id, annex_str user_id, annex_buffer* out_json,
                      annex_buffer* err);
  /* The open pipeline weighted by probability, for a query given as JSON: {"owner_id": "…"} or {"sector_id": "…"},
   * with "currency" and the "from"/"to" dates (inclusive) that the expected close date falls between. Appends
   * {"weighted": minor units (rounded half away from zero), "count": opportunities}. UNPROCESSABLE naming the field
   * at fault for a malformed query, or when the sum passes what 64 bits hold. */
  annex_status (*open_weighted)(void* provider_plugin_ptr, annex_str query_json, annex_buffer* out_json,
                                annex_buffer* err);
} annex_opportunities_v1;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ANNEX_SERVICES_OPPORTUNITIES_H */
