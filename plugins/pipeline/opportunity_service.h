// The function table of org.annex.pipeline.opportunities@1, bound to one Pipeline.
#pragma once

#include <annex/services/opportunities.h>

namespace pipeline {

class Pipeline;

annex_opportunities_v1 opportunity_service(Pipeline& pipeline);

}  // namespace pipeline
