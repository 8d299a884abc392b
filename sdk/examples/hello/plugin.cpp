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

nlohmann::json parse_body(const annex::Request& req) {
  nlohmann::json body = nlohmann::json::parse(req.body(), nullptr, false);
  if (!body.is_object()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "body must be a JSON object", "body");
  return body;
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
    "uses": ["annex.log@1", "annex.config@1", "annex.db@1", "annex.http@1", "annex.events@1", "annex.jobs@1",
             "annex.authz@1", "annex.audit@1", "annex.approvals@1"],
    "config_schema": {
      "type": "object",
      "properties": {
        "salutation": {"type": "string", "default": "Hello", "minLength": 1, "maxLength": 40},
        "tick_seconds": {"type": "integer", "default": 1, "minimum": 1, "maximum": 86400},
        "review_chain": {"type": "string", "default": "", "maxLength": 64}
      }
    }
  })";
  static std::span<const annex_migration> migrations() noexcept { return annex_generated::kMigrations; }

  HelloPlugin(const annex_host_api* api, std::string config_json)
      : annex::Plugin(api, std::move(config_json)), book_(host().db()), authz_(host().authz()) {
    nlohmann::json config = nlohmann::json::parse(this->config_json());
    salutation_ = config.value("salutation", "Hello");
    tick_seconds_ = config.value("tick_seconds", 1u);
    review_chain_ = config.value("review_chain", "");
  }

  void on_register() override {
    annex::Http http = host().http();
    http.route("POST", "/api/v1/hello/greetings", "hello.greeting.write",
               "Greet someone; the greeting belongs to the caller, in sector_id or the caller's home sector",
               [this](const annex::Request& req, annex::Response& resp) {
                 nlohmann::json body = parse_body(req);
                 std::string name = required_string(body, "name", 200);
                 std::string sector;
                 if (body.contains("sector_id")) {
                   sector = required_string(body, "sector_id", 64);
                 } else if (auto home = authz_.home_sector(req.principal_id())) {
                   sector = *home;
                 } else {
                   throw annex::Error(ANNEX_ERR_UNPROCESSABLE, "sector_id is required: you belong to no sector", "sector_id");
                 }
                 std::string owner(req.principal_id());
                 if (!authz_.may(owner, "hello.greeting.write", {kType, "", sector, owner})) {
                   throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "sector " + sector + " is outside your reach", "sector_id");
                 }
                 Greeting g = book_.add(name, salutation_, sector, owner, host().events(), host().audit());
                 resp.status(201).header("Location", "/api/v1/hello/greetings/" + std::to_string(g.id)).body(to_json(g));
               });
    http.route("GET", "/api/v1/hello/greetings/{id}", "hello.greeting.read", "Read one greeting",
               [this](const annex::Request& req, annex::Response& resp) {
                 resp.body(to_json(reachable(req, "hello.greeting.read")));
               });
    http.route("PUT", "/api/v1/hello/greetings/{id}", "hello.greeting.write", "Change the name greeted",
               [this](const annex::Request& req, annex::Response& resp) {
                 Greeting g = writable(req);
                 std::string name = required_string(parse_body(req), "name", 200);
                 resp.body(to_json(book_.rename(g, name, salutation_, std::string(req.principal_id()), host().audit())));
               });
    http.route("DELETE", "/api/v1/hello/greetings/{id}", "hello.greeting.write", "Delete a greeting",
               [this](const annex::Request& req, annex::Response& resp) {
                 book_.remove(writable(req), std::string(req.principal_id()), host().audit());
                 resp.status(204);
               });
    http.route("POST", "/api/v1/hello/greetings/{id}/move", "hello.greeting.write",
               "Move a greeting to another sector (needs records.move-sector)",
               [this](const annex::Request& req, annex::Response& resp) {
                 Greeting g = reachable(req, "hello.greeting.read");
                 std::string sector = required_string(parse_body(req), "sector_id", 64);
                 std::string actor(req.principal_id());
                 if (!authz_.may(actor, "records.move-sector", {kType, std::to_string(g.id), g.sector_id, g.owner_id})) {
                   throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "moving a record to another sector needs records.move-sector");
                 }
                 resp.body(to_json(book_.move(g, sector, actor, host().audit())));
               });
    http.route("POST", "/api/v1/hello/greetings/{id}/review", "hello.greeting.submit",
               "Put a greeting through the configured approval chain ({amount: {amount, currency}} optional)",
               [this](const annex::Request& req, annex::Response& resp) {
                 if (review_chain_.empty()) {
                   throw annex::Error(ANNEX_ERR_UNPROCESSABLE, "no review chain is configured (plugins.org.annex.hello.review_chain)");
                 }
                 Greeting g = writable(req);
                 nlohmann::json body = req.body().empty() ? nlohmann::json::object() : parse_body(req);
                 int64_t amount = 0;
                 std::string currency;
                 if (body.contains("amount")) {
                   const auto& a = body["amount"];
                   if (!a.is_object() || !a.contains("amount") || !a["amount"].is_number_integer() ||
                       !a.contains("currency") || !a["currency"].is_string()) {
                     throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "amount is {\"amount\": minor units, \"currency\": \"CNY\"}", "amount");
                   }
                   amount = a["amount"].get<int64_t>();
                   currency = a["currency"].get<std::string>();
                 }
                 std::string id = std::to_string(g.id);
                 resp.status(201).body(host().approvals().submit(
                     {review_chain_, kType, id, g.sector_id, req.principal_id(), amount, currency}));
               });
    http.route("GET", "/api/v1/hello/greetings", "hello.greeting.read", "List the greetings within reach, newest first",
               [this](const annex::Request& req, annex::Response& resp) {
                 std::optional<int64_t> before;
                 if (auto cursor = req.query_param("cursor")) before = parse_id(*cursor);
                 std::string filter = authz_.list_filter(req.principal_id(), "hello.greeting.read", kType);
                 std::vector<Greeting> page = book_.list(50, before, filter);
                 std::string out = "{\"items\":[";
                 for (size_t i = 0; i < page.size(); ++i) out += (i ? "," : "") + to_json(page[i]);
                 out += "],\"next_cursor\":";
                 out += page.size() == 50 ? annex::json_quote(std::to_string(page.back().id)) : "null";
                 resp.body(out + "}");
               });
    http.route("GET", "/api/v1/hello/stats", "hello.greeting.read", "Counters kept by the event handler and the job",
               [this](const annex::Request&, annex::Response& resp) {
                 resp.body("{\"greetings_seen\":" + std::to_string(book_.seen()) +
                           ",\"ticks\":" + std::to_string(book_.counter("ticks")) +
                           ",\"reviews\":{\"approved\":" + std::to_string(book_.counter("reviews_approved")) +
                           ",\"rejected\":" + std::to_string(book_.counter("reviews_rejected")) +
                           ",\"returned\":" + std::to_string(book_.counter("reviews_returned")) + "}}");
               });

    host().events().subscribe("hello.greeting.created", [this](const annex::Event& e) { book_.record_seen(e.idempotency_key); });
    // Outcomes of reviews decided over the host's approval API.
    host().events().subscribe("annex.approval.*", [this](const annex::Event& e) {
      nlohmann::json payload = nlohmann::json::parse(e.payload, nullptr, false);
      if (!payload.is_object() || payload.value("item_type", "") != kType) return;
      if (book_.record_seen(e.idempotency_key)) book_.bump("reviews_" + payload.value("status", std::string("unknown")));
    });
    host().jobs().schedule("tick", tick_seconds_, [this] { book_.bump("ticks"); });
  }

  // The greeting the path names, if the caller's `permission` reaches it; otherwise 404, as if it did not exist.
  Greeting reachable(const annex::Request& req, std::string_view permission) const {
    std::optional<Greeting> g = book_.find(parse_id(req.path_param("id")));
    if (!g || !authz_.may(req.principal_id(), permission, {kType, std::to_string(g->id), g->sector_id, g->owner_id})) {
      throw annex::Error(ANNEX_ERR_NOT_FOUND, "no such greeting");
    }
    return *g;
  }

  // For a change: 404 when the caller cannot even see the greeting, 403 when they see it but may not change it.
  Greeting writable(const annex::Request& req) const {
    Greeting g = reachable(req, "hello.greeting.read");
    if (!authz_.may(req.principal_id(), "hello.greeting.write", {kType, std::to_string(g.id), g.sector_id, g.owner_id})) {
      throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "you may read this greeting but not change it");
    }
    return g;
  }

  void start() override { host().info("hello started; salutation \"" + salutation_ + "\""); }

 private:
  GreetingBook book_;
  annex::Authz authz_;
  std::string salutation_;
  std::string review_chain_;
  uint32_t tick_seconds_ = 1;
};

}  // namespace hello

ANNEX_PLUGIN(hello::HelloPlugin)
