// The Prometheus text exposition of /metrics: requests by route, method and status; a latency histogram per
// route; and whatever gauges the daemon adds (plugin states, pool sizes).
#pragma once

#include "http/router.h"

#include <string>
#include <vector>

namespace annex::http {

struct Gauge {
  std::string name;    // annex_plugin_up
  std::string help;
  std::vector<std::pair<std::string, double>> samples;  // label set text ("plugin=\"x\"") → value
  std::string type = "gauge";                            // or "counter"
};

std::string render_metrics(const Router& router, const RouteStats& unmatched, const std::vector<Gauge>& gauges);

}  // namespace annex::http
