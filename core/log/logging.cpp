#include "log/logging.h"

#include <annex/sdk.hpp>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>

namespace annex::log {
namespace {

thread_local std::string t_request_id = "-";

class RequestIdFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    dest.append(t_request_id.data(), t_request_id.data() + t_request_id.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<RequestIdFlag>(); }
};

// The message, escaped for a JSON string.
class JsonMessageFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string escaped = json_escape(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonMessageFlag>(); }
};

std::unique_ptr<spdlog::formatter> make_formatter(const std::string& pattern) {
  auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  f->add_flag<RequestIdFlag>('*');
  f->add_flag<JsonMessageFlag>('J');
  f->set_pattern(pattern);
  return f;
}

}  // namespace

void init(const std::string& level, const std::string& json_file) {
  std::vector<spdlog::sink_ptr> sinks;
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  console->set_formatter(make_formatter("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ [%n] req=%* %v"));
  sinks.push_back(console);
  if (!json_file.empty()) {
    auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(json_file);
    file->set_formatter(make_formatter(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":"%n","request_id":"%*","message":"%J"})"));
    sinks.push_back(file);
  }
  auto logger = std::make_shared<spdlog::logger>("annexd", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
}

std::string_view current_request_id() { return t_request_id; }

RequestScope::RequestScope(std::string_view id) : previous_(std::move(t_request_id)) { t_request_id.assign(id); }
RequestScope::~RequestScope() { t_request_id = std::move(previous_); }

std::string json_escape(std::string_view text) { return annex::json_escape(text); }

}  // namespace annex::log
