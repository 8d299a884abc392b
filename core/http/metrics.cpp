#include "http/metrics.h"

#include <cstdio>
#include <sstream>

namespace annex::http {
namespace {

std::string label_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string number(double v) {
  char text[64];
  std::snprintf(text, sizeof text, "%.9g", v);
  return text;
}

void write_route(std::ostringstream& out, const std::string& labels, const RouteStats& stats, bool& wrote_any) {
  (void)wrote_any;
  for (int status = 0; status < 600; ++status) {
    uint64_t n = stats.by_status[status].load(std::memory_order_relaxed);
    if (n == 0) continue;
    out << "annex_http_requests_total{" << labels << ",status=\"" << status << "\"} " << n << "\n";
  }
}

void write_histogram(std::ostringstream& out, const std::string& labels, const RouteStats& stats) {
  uint64_t count = stats.count.load(std::memory_order_relaxed);
  if (count == 0) return;
  uint64_t cumulative = 0;
  for (size_t b = 0; b < kLatencyBuckets.size(); ++b) {
    cumulative += stats.buckets[b].load(std::memory_order_relaxed);
    out << "annex_http_request_duration_seconds_bucket{" << labels << ",le=\"" << number(kLatencyBuckets[b])
        << "\"} " << cumulative << "\n";
  }
  cumulative += stats.buckets[kLatencyBuckets.size()].load(std::memory_order_relaxed);
  out << "annex_http_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << cumulative << "\n";
  out << "annex_http_request_duration_seconds_sum{" << labels << "} "
      << number(stats.sum_micros.load(std::memory_order_relaxed) / 1e6) << "\n";
  out << "annex_http_request_duration_seconds_count{" << labels << "} " << cumulative << "\n";
}

}  // namespace

std::string render_metrics(const Router& router, const RouteStats& unmatched, const std::vector<Gauge>& gauges) {
  std::ostringstream out;
  auto routes = router.routes();
  bool any = false;
  out << "# HELP annex_http_requests_total HTTP requests answered, by route template, method and status.\n"
      << "# TYPE annex_http_requests_total counter\n";
  for (const auto& r : routes) {
    write_route(out, "route=\"" + label_escape(r->path) + "\",method=\"" + r->method + "\"", *r->stats, any);
  }
  write_route(out, "route=\"unmatched\",method=\"\"", unmatched, any);
  out << "# HELP annex_http_request_duration_seconds Time from routing to response, by route template.\n"
      << "# TYPE annex_http_request_duration_seconds histogram\n";
  for (const auto& r : routes) {
    write_histogram(out, "route=\"" + label_escape(r->path) + "\",method=\"" + r->method + "\"", *r->stats);
  }
  for (const Gauge& g : gauges) {
    out << "# HELP " << g.name << " " << g.help << "\n# TYPE " << g.name << " " << g.type << "\n";
    for (const auto& [labels, value] : g.samples) {
      out << g.name << (labels.empty() ? "" : "{" + labels + "}") << " " << number(value) << "\n";
    }
  }
  return out.str();
}

}  // namespace annex::http
