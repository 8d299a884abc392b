// The hello plugin's descriptor and registration: routes, the event subscription and the job.
#include <annex/sdk.hpp>

#include <nlohmann/json.hpp>

#include "annex_migrations.h"
#include "greeting_book.h"

namespace hello {
namespace {

int64_t parse_id(std::string_view text) {
  int64_t id = 0;
  if (text.empty() || text.size() > 18) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "id must be a positive integer", "id");
  for (char c : text) {
    if (c < '0' || c > '9') throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "id must be a positive integer", "id");
    id = id * 10 + (c - '0');
  }
  return id;
}

std::string required_string(const nlohmann::json& body, const char* field, size_t max_len) {
  auto it = body.find(field);
  if (it == body.end() || !it->is_string()) {
    throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, std::string(field) + " is required and must be a string", field);
  }
  std::string value = it->get<std::string>();
  if (value.empty() || value.size() > max_len) {
    throw annex::Error(ANNEX_ERR_UNPROCESSABLE,
                       std::string(field) + " must be 1 to " + std::to_string(max_len) + " bytes long", field);
  }
  return value;
}

}  // namespace

class HelloPlugin : public annex::Plugin {
 public:
  static constexpr const char* kId = "org.annex.hello";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kManifest = R"({
    "name": "Hello",
    "description": "Example plugin: stores greetings, counts events, runs a job.",
    "requires": {},
    "uses": ["annex.log@1", "annex.config@1", "annex.db@1", "annex.http@1", "annex.events@1", "annex.jobs@1"],
    "config_schema": {
      "type": "object",
      "properties": {
        "salutation": {"type": "string", "default": "Hello", "minLength": 1, "maxLength": 40},
        "tick_seconds": {"type": "integer", "default": 1, "minimum": 1, "maximum": 86400}
      }
    }
  })";
  static std::span<const annex_migration> migrations() noexcept { return annex_generated::kMigrations; }

  HelloPlugin(const annex_host_api* api, std::string config_json)
      : annex::Plugin(api, std::move(config_json)), book_(host().db()) {
    nlohmann::json config = nlohmann::json::parse(this->config_json());
    salutation_ = config.value("salutation", "Hello");
    tick_seconds_ = config.value("tick_seconds", 1u);
  }

  void on_register() override {
    annex::Http http = host().http();
    http.route("POST", "/api/v1/hello/greetings", "hello.greeting.write", "Greet someone and store the greeting",
               [this](const annex::Request& req, annex::Response& resp) {
                 nlohmann::json body = nlohmann::json::parse(req.body(), nullptr, false);
                 if (!body.is_object()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "body must be a JSON object");
                 std::string name = required_string(body, "name", 200);
                 Greeting g = book_.add(name, salutation_, host().events());
                 resp.status(201).header("Location", "/api/v1/hello/greetings/" + std::to_string(g.id)).body(to_json(g));
               });
    http.route("GET", "/api/v1/hello/greetings/{id}", "hello.greeting.read", "Read one greeting",
               [this](const annex::Request& req, annex::Response& resp) {
                 std::optional<Greeting> g = book_.find(parse_id(req.path_param("id")));
                 if (!g) throw annex::Error(ANNEX_ERR_NOT_FOUND, "no such greeting");
                 resp.body(to_json(*g));
               });
    http.route("GET", "/api/v1/hello/greetings", "hello.greeting.read", "List greetings, newest first",
               [this](const annex::Request& req, annex::Response& resp) {
                 std::optional<int64_t> before;
                 if (auto cursor = req.query_param("cursor")) before = parse_id(*cursor);
                 std::vector<Greeting> page = book_.list(50, before);
                 std::string out = "{\"items\":[";
                 for (size_t i = 0; i < page.size(); ++i) out += (i ? "," : "") + to_json(page[i]);
                 out += "],\"next_cursor\":";
                 out += page.size() == 50 ? annex::json_quote(std::to_string(page.back().id)) : "null";
                 resp.body(out + "}");
               });
    http.route("GET", "/api/v1/hello/stats", "hello.greeting.read", "Counters kept by the event handler and the job",
               [this](const annex::Request&, annex::Response& resp) {
                 resp.body("{\"greetings_seen\":" + std::to_string(book_.seen()) +
                           ",\"ticks\":" + std::to_string(book_.counter("ticks")) + "}");
               });

    host().events().subscribe("hello.greeting.created", [this](const annex::Event& e) { book_.record_seen(e.idempotency_key); });
    host().jobs().schedule("tick", tick_seconds_, [this] { book_.bump("ticks"); });
  }

  void start() override { host().info("hello started; salutation \"" + salutation_ + "\""); }

 private:
  GreetingBook book_;
  std::string salutation_;
  uint32_t tick_seconds_ = 1;
};

}  // namespace hello

ANNEX_PLUGIN(hello::HelloPlugin)
