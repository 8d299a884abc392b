// The service org.annex.pipeline.opportunities@1 (annex/services/opportunities.h): what other plugins —
// the contracts plugin's attainment, a contract's link to its opportunity — may know of opportunities, without
// reading the pipeline's tables.
#include "opportunity_service.h"

#include "pipeline.h"

namespace pipeline {
namespace {

Pipeline& self(void* provider) { return *static_cast<Pipeline*>(provider); }

annex_status get(void* provider, annex_str id, annex_str user_id, annex_buffer* out_json, annex_buffer* err) {
  return annex::detail::guarded(err, [&] {
    annex::write(out_json, self(provider).opportunity_for(std::string(annex::to_view(id)), std::string(annex::to_view(user_id))).dump());
  });
}

annex_status open_weighted(void* provider, annex_str query_json, annex_buffer* out_json, annex_buffer* err) {
  return annex::detail::guarded(err, [&] {
    json query = json::parse(annex::to_view(query_json), nullptr, false);
    if (!query.is_object()) annex::rest::invalid("query", "the query must be a JSON object");
    annex::write(out_json, self(provider).open_weighted(query).dump());
  });
}

}  // namespace

annex_opportunities_v1 opportunity_service(Pipeline& pipeline) {
  annex_opportunities_v1 table{};
  table.struct_size = sizeof table;
  table.minor = 0;
  table.provider_plugin_ptr = &pipeline;
  table.get = &get;
  table.open_weighted = &open_weighted;
  return table;
}

}  // namespace pipeline
