// The expenses plugin: claims with policies and receipts, cash advances under a hard cap, approval through the
// host's chains, reports — under /api/v1/expenses/, on the SDK alone. Its advance ledger is the service
// org.annex.expenses.advances@1 for other plugins.
#include "advances.h"
#include "advances_service.h"
#include "categories.h"
#include "claims.h"
#include "reports.h"

#include <annex/sdk.hpp>

#include "annex_migrations.h"

namespace expenses {

class ExpensesPlugin : public annex::Plugin {
 public:
  static constexpr const char* kId = "org.annex.expenses";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kManifest = R"({
    "name": "Expenses",
    "description": "Expense claims with policies, receipts and approval; cash advances under a hard cap; settlement and reports.",
    "requires": {},
    "uses": ["annex.log@1", "annex.db@1", "annex.http@1", "annex.events@1", "annex.authz@1", "annex.audit@1",
             "annex.approvals@1", "annex.masterdata@1", "annex.directory@1", "annex.blobs@1", "annex.documents@1",
             "annex.calendar@1"],
    "provides": ["org.annex.expenses.advances@1"],
    "config_schema": {
      "type": "object",
      "properties": {
        "company_currency": {"type": "string", "minLength": 3, "maxLength": 3, "default": "CNY"},
        "claim_chain": {"type": "string", "minLength": 1, "default": "expense-claim"},
        "advance_chain": {"type": "string", "minLength": 1, "default": "cash-advance"},
        "carry_forward": {"type": "boolean", "default": false},
        "split_window_days": {"type": "integer", "minimum": 1, "maximum": 366, "default": 30},
        "advance_cap": {
          "type": "object",
          "properties": {
            "default": {"type": "integer", "minimum": 0},
            "by_role": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
          }
        },
        "categories": {"type": "object", "additionalProperties": {"type": "object"}},
        "posting": {"type": "object", "additionalProperties": {"type": "string"}}
      }
    }
  })";
  static std::span<const annex_migration> migrations() noexcept { return annex_generated::kMigrations; }

  ExpensesPlugin(const annex_host_api* api, std::string config_json)
      : annex::Plugin(api, std::move(config_json)),
        services_{host().db(), host().authz(), host().audit(), host().approvals(), host().masterdata(), host().directory(),
                  host().blobs(), host().calendar()},
        claim_repository_(host().db()),
        ledger_(host().db()) {
    nlohmann::json config = nlohmann::json::parse(this->config_json(), nullptr, false);
    try {
      settings_ = Settings::parse(config);
      if (std::optional<PostingSettings> p = parse_posting(config)) posting_ = std::make_unique<Posting>(host().documents(), *p, settings_);
    } catch (const std::invalid_argument& e) {
      std::string text = e.what();
      throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, text, text.substr(0, text.find(':')));
    }
    std::optional<int> units = services_.masterdata.currency(settings_.company_currency);
    if (!units) {
      throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT,
                         "the company currency " + settings_.company_currency + " is not a currency in master data",
                         "plugins.org.annex.expenses.company_currency");
    }
    settings_.company_minor_units = *units < 0 ? 2 : *units;
    claims_ = std::make_unique<Claims>(services_, settings_, claim_repository_, ledger_, posting_.get());
    advances_ = std::make_unique<Advances>(services_, settings_, ledger_, posting_.get());
    reports_ = std::make_unique<Reports>(services_, settings_);
    categories_ = std::make_unique<Categories>(services_, settings_);
  }

  void on_register() override {
    service_ = advances_service(*advances_);
    host().provide(ANNEX_SERVICE_EXPENSES_ADVANCES, 1, &service_);
    annex::Http http = host().http();
    auto route = [&](auto& target, const char* method, const char* path, const char* permission, const char* summary, auto handler) {
      auto* object = target.get();
      http.route(method, path, permission, summary,
                 [object, handler](const annex::Request& req, annex::Response& resp) { (object->*handler)(req, resp); });
    };
    route(categories_, "GET", "/api/v1/expenses/categories", "expenses.claim.read",
          "The expense categories with their receipt threshold and the caller's limits", &Categories::list);
    route(claims_, "POST", "/api/v1/expenses/claims", "expenses.claim.write",
          "Draft an expense claim with its lines (\"submit\": true submits it at once)", &Claims::create);
    route(claims_, "GET", "/api/v1/expenses/claims", "expenses.claim.read",
          "Claims within reach (filters: status, claimant_id, sector_id, party_id; sort, cursor, limit)", &Claims::list);
    route(claims_, "GET", "/api/v1/expenses/claims/{id}", "expenses.claim.read", "A claim with its lines and their policy results", &Claims::get);
    route(claims_, "PUT", "/api/v1/expenses/claims/{id}", "expenses.claim.write",
          "Change a draft or returned claim (fields and lines; If-Match); policies are evaluated again", &Claims::replace);
    route(claims_, "POST", "/api/v1/expenses/claims/{id}/submit", "expenses.claim.submit",
          "Submit a claim into its approval chain (blocked lines refused; warned lines need a justification)", &Claims::submit);
    route(claims_, "GET", "/api/v1/expenses/claims/{id}/review", "expenses.claim.read",
          "A claim with what deciding it needs: policy results, duplicates, reused receipts, outstanding advances, the chain's basis",
          &Claims::review);
    route(claims_, "PATCH", "/api/v1/expenses/claims/{id}/lines/{line}", "expenses.claim.review",
          "Reduce a submitted line's sanctioned amount (never raise it), with a reason", &Claims::sanction);
    // Receipts: a phone's photo or a PDF, streamed into the host's blob store (type sniffed from the bytes).
    Claims* claims = claims_.get();
    http.upload_route("POST", "/api/v1/expenses/claims/{id}/lines/{line}/receipt", "expenses.claim.write",
                      "Attach a receipt to a line of a draft or returned claim (PDF, JPEG, PNG, WebP, HEIC; raw body or a form's file)",
                      {kReceiptMaxBytes, {"application/pdf", "image/jpeg", "image/png", "image/webp", "image/heic"}},
                      [claims](const annex::Request& req, annex::Response& resp) { claims->attach_receipt(req, resp); });
    route(claims_, "GET", "/api/v1/expenses/claims/{id}/lines/{line}/receipt", "expenses.claim.read", "A line's receipt",
          &Claims::receipt);
    route(claims_, "POST", "/api/v1/expenses/claims/{id}/paid", "finance.expenses.pay", "Mark an approved or posted claim paid",
          &Claims::mark_paid);
    route(advances_, "POST", "/api/v1/expenses/advances", "expenses.advance.write",
          "Request a cash advance (refused when it would take the outstanding balance over the cap)", &Advances::request);
    route(advances_, "GET", "/api/v1/expenses/advances", "expenses.advance.read", "Advances within reach (filters: status, requester_id)",
          &Advances::list);
    route(advances_, "GET", "/api/v1/expenses/advances/balance", "expenses.advance.read",
          "Outstanding balance, cap and what is available (?user_id=)", &Advances::balance);
    route(advances_, "GET", "/api/v1/expenses/advances/{id}", "expenses.advance.read", "An advance", &Advances::get);
    route(advances_, "POST", "/api/v1/expenses/advances/{id}/paid", "finance.expenses.pay", "Mark an approved advance paid",
          &Advances::mark_paid);
    route(advances_, "POST", "/api/v1/expenses/advances/{id}/returns", "finance.expenses.pay", "Record money returned on a paid advance",
          &Advances::record_return);
    route(advances_, "GET", "/api/v1/expenses/reports/advance-ageing", "expenses.advance.read",
          "Open advances by age: 0-30, 31-60, 61-90, over 90 days", &Advances::ageing);
    route(reports_, "GET", "/api/v1/expenses/reports/spend", "expenses.claim.read",
          "Approved spend per person, cost centre, category, customer or month (?from=&to=&group_by=&format=csv)", &Reports::spend);
    route(reports_, "GET", "/api/v1/expenses/reports/exceptions", "expenses.claim.read",
          "Submitted lines that broke a policy, with their justification (?format=csv)", &Reports::exceptions);
    route(reports_, "GET", "/api/v1/expenses/reports/awaiting", "expenses.claim.read",
          "Claims awaiting posting or payment (?format=csv)", &Reports::awaiting);

    if (posting_) listen_to_finance();

    // Outcomes of claims and advances decided over the host's approval API.
    host().events().subscribe("annex.approval.*", [this](const annex::Event& e) {
      nlohmann::json payload = nlohmann::json::parse(e.payload, nullptr, false);
      if (!payload.is_object()) return;
      std::string type = payload.value("item_type", "");
      if (type == kClaim) claims_->on_approval(payload, std::string(e.idempotency_key));
      else if (type == kAdvance) advances_->on_approval(payload, std::string(e.idempotency_key));
    });
  }

 private:
  // Journal entries the finance system took or refused, and the payments it confirms (both at least once).
  void listen_to_finance() {
    const PostingSettings& p = posting_->settings();
    annex::Documents documents = host().documents();
    documents.on_outcome(p.connection, p.journal_stream, [this](const annex::Document& d) {
      nlohmann::json status = nlohmann::json::parse(d.json, nullptr, false);
      std::string key(d.key);
      if (key.rfind("claim-", 0) == 0) claims_->on_posted(key.substr(6), status);
      else if (key.rfind("advance-", 0) == 0 && key.rfind("advance-return-", 0) != 0 && key.rfind("advance-expense-", 0) != 0) {
        advances_->on_posted(key.substr(8), status);
      }
    });
    if (p.payments_stream.empty()) return;
    documents.subscribe(p.connection, p.payments_stream, [this](const annex::Document& d) {
      nlohmann::json row = nlohmann::json::parse(d.json, nullptr, false);
      if (!row.is_object() || !row.contains("entry_key") || !row["entry_key"].is_string()) {
        throw annex::Error(ANNEX_ERR_UNPROCESSABLE, "a payment confirmation names the entry_key it pays", "entry_key");
      }
      std::string key = row["entry_key"], paid_on = row.contains("paid_on") && row["paid_on"].is_string()
                                                         ? row["paid_on"].get<std::string>().substr(0, 10)
                                                         : annex::biz::format_date(annex::biz::today_utc());
      if (key.rfind("claim-", 0) == 0) claims_->paid_by_finance(key.substr(6), paid_on, std::string(d.key));
      else if (key.rfind("advance-", 0) == 0) advances_->paid_by_finance(key.substr(8), paid_on, std::string(d.key));
      else throw annex::Error(ANNEX_ERR_UNPROCESSABLE, "entry_key " + key + " is no claim's or advance's", "entry_key");
    });
  }

  Services services_;
  Settings settings_;
  ClaimRepository claim_repository_;
  AdvanceLedger ledger_;
  std::unique_ptr<Claims> claims_;
  std::unique_ptr<Advances> advances_;
  std::unique_ptr<Reports> reports_;
  std::unique_ptr<Categories> categories_;
  std::unique_ptr<Posting> posting_;
  annex_expenses_advances_v1 service_{};  // offered to other plugins; lives as long as the instance
};

}  // namespace expenses

ANNEX_PLUGIN(expenses::ExpensesPlugin)
