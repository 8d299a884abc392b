// The relationship-spending plugin (客情费, DOMAIN §1): fee standards per product or product group, the fixed
// purposes of spending, special expenses applied for before a new customer's first signing, the fees earned and
// made payable as customers pay, the monthly statements with their three signatures, the payout of a valid
// statement's fees as a cash advance, spot checks and the exceptions auditors read — under
// /api/v1/relationship-spending/, on the SDK alone. It requires the contracts plugin (contracts, lines,
// collections, through its service), the expenses plugin (its advance ledger service) and the pipeline (its
// opportunities).
#include "auditing.h"
#include "drafting.h"
#include "exception.h"
#include "fee_repository.h"
#include "partners.h"
#include "purpose.h"
#include "settings.h"
#include "special_expenses.h"
#include "spot_checks.h"
#include "standards.h"
#include "statement_repository.h"
#include "statements.h"

#include <annex/sdk.hpp>

#include "annex_migrations.h"

namespace relationship_spending {

class RelationshipSpendingPlugin : public annex::Plugin {
 public:
  static constexpr const char* kId = "org.annex.relationship-spending";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kManifest = R"({
    "name": "Relationship spending",
    "description": "Customer-relationship spending (客情费): fee standards per product or product group, and the purposes spending may serve.",
    "requires": {"org.annex.contracts": "^1.0", "org.annex.expenses": "^1.0", "org.annex.pipeline": "^1.0"},
    "uses": ["annex.log@1", "annex.db@1", "annex.http@1", "annex.authz@1", "annex.audit@1", "annex.masterdata@1",
             "annex.directory@1", "annex.calendar@1", "annex.approvals@1", "annex.events@1", "annex.jobs@1",
             "org.annex.contracts@1", "org.annex.expenses.advances@1", "org.annex.pipeline.opportunities@1"],
    "config_schema": {
      "type": "object",
      "properties": {
        "payout_policy": {"type": "string", "enum": ["full", "rate"], "default": "rate"},
        "cap": {"type": "integer", "minimum": 0, "default": 300000},
        "sample_size": {"type": "integer", "minimum": 1, "maximum": 100, "default": 3},
        "ratio_warning_bp": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 500},
        "currency": {"type": "string", "minLength": 3, "maxLength": 3, "default": "CNY"},
        "statement_chain": {"type": "string", "minLength": 1, "default": "relationship-statement"},
        "spend_window_days": {"type": "integer", "minimum": 1, "maximum": 3660, "default": 90},
        "customer_spend_limit": {"type": "integer", "minimum": 0, "default": 0},
        "threshold_margin_bp": {"type": "integer", "minimum": 1, "maximum": 5000, "default": 500},
        "round_unit": {"type": "integer", "minimum": 1, "default": 10000},
        "mad_multiple": {"type": "integer", "minimum": 1, "maximum": 100, "default": 3},
        "watch_thresholds": {"type": "array", "items": {"type": "integer", "minimum": 1}, "default": []},
        "special_expense_chain": {"type": "string", "minLength": 1, "default": "relationship-special-expense"},
        "special_expense_account": {"type": "string", "maxLength": 64, "default": ""}
      }
    }
  })";
  static std::span<const annex_migration> migrations() noexcept { return annex_generated::kMigrations; }

  RelationshipSpendingPlugin(const annex_host_api* api, std::string config_json)
      : annex::Plugin(api, std::move(config_json)),
        services_{host().db(), host().audit(), host().masterdata(), host().calendar(), host().authz(), host().approvals()},
        standard_repository_(host().db()),
        standards_(services_, standard_repository_),
        fees_(host().db()),
        statement_repository_(host().db()),
        contracts_(&host().require<annex_contracts_v1>(ANNEX_SERVICE_CONTRACTS, 1)),
        advances_(&host().require<annex_expenses_advances_v1>(ANNEX_SERVICE_EXPENSES_ADVANCES, 1)),
        spend_(host().db()),
        exceptions_(services_),
        special_expense_repository_(host().db()),
        special_expenses_(services_, settings_, special_expense_repository_, exceptions_, contracts_,
                          OpportunitiesClient(&host().require<annex_opportunities_v1>(ANNEX_SERVICE_OPPORTUNITIES, 1)), spend_),
        drafter_(services_, settings_, standards_, fees_, statement_repository_, spend_, contracts_, advances_, exceptions_,
                 special_expenses_, special_expense_repository_),
        statements_(services_, settings_, statement_repository_, fees_, spend_, drafter_, advances_, exceptions_),
        spot_check_repository_(host().db()),
        spot_checks_(services_, settings_, statement_repository_, spot_check_repository_),
        audits_(services_, settings_, statements_, spot_check_repository_, contracts_) {
    try {
      settings_ = Settings::parse(nlohmann::json::parse(this->config_json(), nullptr, false));
    } catch (const std::invalid_argument& e) {
      std::string text = e.what();
      throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, text, text.substr(0, text.find(':')));
    }
    std::optional<int> units = services_.masterdata.currency(settings_.currency);
    if (!units) {
      throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "the currency " + settings_.currency + " is not a currency in master data",
                         "plugins.org.annex.relationship-spending.currency");
    }
    settings_.currency_minor_units = *units < 0 ? 2 : *units;
  }

  // A payout an earlier run of annexd left between its reservation and its draw is finished now (the job below
  // does it while annexd runs).
  void start() override {
    try {
      for (const std::string& line : statements_.resume_payouts()) host().warn(line);
    } catch (const std::exception& e) {
      host().warn(std::string("interrupted payouts not resumed at start: ") + e.what() + " (the resume-payouts job tries again)");
    }
  }

  void on_register() override {
    annex::Http http = host().http();
    Standards* standards = &standards_;
    auto route = [&](const char* method, const char* path, const char* permission, const char* summary,
                     void (Standards::*handler)(const annex::Request&, annex::Response&)) {
      http.route(method, path, permission, summary,
                 [standards, handler](const annex::Request& req, annex::Response& resp) { (standards->*handler)(req, resp); });
    };
    route("GET", "/api/v1/relationship-spending/standards", kStandardsRead,
          "Fee standards (filters: product_id, product_group, basis, on=YYYY-MM-DD; sort, cursor, limit)", &Standards::list);
    route("POST", "/api/v1/relationship-spending/standards", kStandardsWrite,
          "A fee standard for a product or product group: an amount per unit or a rate in basis points, from a date", &Standards::create);
    route("GET", "/api/v1/relationship-spending/standards/in-force", kStandardsRead,
          "The standard in force for a product on a date (?product_id=&date=): the product's own, else its group's", &Standards::lookup);
    route("GET", "/api/v1/relationship-spending/standards/{id}", kStandardsRead, "A fee standard", &Standards::get);
    route("PATCH", "/api/v1/relationship-spending/standards/{id}", kStandardsWrite,
          "Change a standard's amount or rate, GL account, period or note (If-Match)", &Standards::change);
    route("POST", "/api/v1/relationship-spending/standards/{id}/end", kStandardsWrite,
          "End a standard on a date (effective_to; If-Match); standards are never deleted", &Standards::end);
    http.route("GET", "/api/v1/relationship-spending/purposes", "relationship.purpose.read",
               "The purposes relationship spending may serve, with their English and Chinese names", &list_purposes);

    Statements* statements = &statements_;
    auto statement_route = [&](const char* method, const char* path, const char* permission, const char* summary,
                               void (Statements::*handler)(const annex::Request&, annex::Response&)) {
      http.route(method, path, permission, summary,
                 [statements, handler](const annex::Request& req, annex::Response& resp) { (statements->*handler)(req, resp); });
    };
    statement_route("GET", "/api/v1/relationship-spending/statements", kStatementRead,
                    "Monthly statements within reach (filters: period, status, rep_id, sector_id; sort, cursor, limit)", &Statements::list);
    statement_route("POST", "/api/v1/relationship-spending/statements/draft", kStatementDraft,
                    "Draft the statements of a month that has ended ({\"period\": \"YYYY-MM\"}); drafting again adds nothing twice",
                    &Statements::draft);
    statement_route("GET", "/api/v1/relationship-spending/statements/{id}", kStatementRead,
                    "A statement: per customer, contracts, collections, fees earned, payable and recovered; its signatures", &Statements::get);
    statement_route("POST", "/api/v1/relationship-spending/statements/{id}/submit", kStatementSubmit,
                    "The rep files the statement (If-Match) into its chain: sales clerk, sales manager, finance", &Statements::submit);
    statement_route("GET", "/api/v1/relationship-spending/statements/{id}/print", kStatementRead,
                    "The statement as HTML for print, with the three signers and their times", &Statements::print);
    statement_route("POST", "/api/v1/relationship-spending/statements/{id}/payouts", kPayoutSubmit,
                    "Draw a valid statement's payable fees as a cash advance, from the 9th working day, under the cap", &Statements::payout);
    statement_route("GET", "/api/v1/relationship-spending/statements/{id}/payouts", kStatementRead, "A statement's payouts",
                    &Statements::payouts);

    SpotChecks* spot_checks = &spot_checks_;
    auto spot_check_route = [&](const char* method, const char* path, const char* permission, const char* summary,
                                void (SpotChecks::*handler)(const annex::Request&, annex::Response&)) {
      http.route(method, path, permission, summary,
                 [spot_checks, handler](const annex::Request& req, annex::Response& resp) { (spot_checks->*handler)(req, resp); });
    };
    spot_check_route("GET", "/api/v1/relationship-spending/statements/{id}/spot-check", kStatementRead,
                     "The statement's spot check: seed, content hash, the sampled customers and their outcomes", &SpotChecks::get);
    spot_check_route("POST", "/api/v1/relationship-spending/statements/{id}/spot-check", kSpotCheckDecide,
                     "Draw the spot check of a paid-out statement (the first payout draws it too)", &SpotChecks::create);
    spot_check_route("POST", "/api/v1/relationship-spending/statements/{id}/spot-check/items/{party_id}", kSpotCheckDecide,
                     "Confirm or dispute a sampled customer with a note ({\"outcome\": \"confirmed\"|\"disputed\", \"note\"})",
                     &SpotChecks::decide);
    const Audits* audits = &audits_;
    http.route("GET", "/api/v1/relationship-spending/periods/{period}", kAuditRead,
               "A month's statements within reach: state, signatures, lateness, payouts, spot checks, exceptions",
               [audits](const annex::Request& req, annex::Response& resp) { audits->period(req, resp); });
    http.route("GET", "/api/v1/relationship-spending/patterns", kAuditRead,
               "Threshold hugging, round amounts, reps far above their sector's spend-to-collected ratio, spending on unpaid "
               "customers — each with its records (?from=&to=)",
               [audits](const annex::Request& req, annex::Response& resp) { audits->patterns(req, resp); });

    http.route("GET", "/api/v1/relationship-spending/statements/{id}/evidence", kAuditRead,
               "The statement's evidence pack (ZIP): statement, frozen content, approval, contracts, collections, payouts, spot check, "
               "exceptions and the proof of their audit entries — annexctl audit verify --file checks it offline",
               [audits](const annex::Request& req, annex::Response& resp) { audits->statement_evidence(req, resp); });
    http.route("GET", "/api/v1/relationship-spending/periods/{period}/evidence", kAuditRead,
               "The evidence pack of every statement of a month within reach (ZIP)",
               [audits](const annex::Request& req, annex::Response& resp) { audits->period_evidence(req, resp); });

    // A disputed customer is an exception for finance.
    const Exceptions* recorder = &exceptions_;
    spot_checks_.on_dispute = [recorder](const SpotCheck& c, const SpotCheckItem& item) {
      recorder->record({"", ExceptionKind::kDisputedSpotCheck, c.rep_id, c.sector_id, item.party_id, kStatement, c.statement_id,
                        {{"period", c.period}, {"note", item.note.value_or("")}, {"decided_by", item.decided_by.value_or("")}}, ""},
                       item.decided_by.value_or(""));
    };
    // R9: after payout, the sample is drawn at once.
    statements_.after_payout = [spot_checks](const Statement& st) {
      try {
        spot_checks->draw(st, "");
      } catch (const annex::Error&) {
        // Drawn on demand later (POST …/spot-check); the payout stands.
      }
    };

    // R4: on the 1st of every month at 01:00 (company time), the previous month's statements.
    host().jobs().schedule("draft-statements", annex::CalendarSchedule::monthly(1, 1), [statements] { statements->draft_previous_month(); });
    // R5: a statement still unsigned after its 8th working day is flagged the next morning.
    host().jobs().schedule("flag-missing-signatures", annex::CalendarSchedule::daily(0, 30),
                           [statements] { statements->flag_missing_signatures(); });
    // A payout interrupted between its reservation and its draw (annexd stopped) is finished, or given back.
    host().jobs().schedule("resume-payouts", 60, [this, statements] {
      for (const std::string& line : statements->resume_payouts()) host().warn(line);
    }, 60);

    // Special expenses for new customers (R6), their approval outcomes, and the exceptions auditors read.
    SpecialExpenses* special = &special_expenses_;
    auto special_route = [&](const char* method, const char* path, const char* permission, const char* summary,
                             void (SpecialExpenses::*handler)(const annex::Request&, annex::Response&)) {
      http.route(method, path, permission, summary,
                 [special, handler](const annex::Request& req, annex::Response& resp) { (special->*handler)(req, resp); });
    };
    special_route("POST", "/api/v1/relationship-spending/special-expenses", kSpecialSubmit,
                  "Apply for a special expense to win a new customer, before its first contract is signed (R6); into the approval chain",
                  &SpecialExpenses::file);
    special_route("GET", "/api/v1/relationship-spending/special-expenses", kSpecialRead,
                  "Special-expense applications within reach (filters: status, rep_id, sector_id, party_id; sort, cursor, limit)",
                  &SpecialExpenses::list);
    special_route("GET", "/api/v1/relationship-spending/special-expenses/{id}", kSpecialRead,
                  "An application with its justification, its approval and the customer's first signed contract", &SpecialExpenses::get);
    special_route("POST", "/api/v1/relationship-spending/special-expenses/{id}/resubmit", kSpecialSubmit,
                  "Resubmit a returned application, with changes (If-Match); refused once the customer has signed", &SpecialExpenses::resubmit);
    const Exceptions* exceptions = &exceptions_;
    http.route("GET", "/api/v1/relationship-spending/exceptions", kExceptionsRead,
               "Exceptions for auditors within reach (filters: kind, rep_id, party_id, from, to; sort, cursor, limit)",
               [exceptions](const annex::Request& req, annex::Response& resp) { exceptions->list(req, resp); });

    // Statements' signatures and special expenses are decided over the host's approval API; the outcomes arrive
    // as events (one subscription per topic and plugin).
    host().events().subscribe("annex.approval.*", [statements, special](const annex::Event& e) {
      nlohmann::json payload = nlohmann::json::parse(e.payload, nullptr, false);
      if (!payload.is_object()) return;
      std::string type = payload.value("item_type", "");
      if (type == kStatement) statements->on_approval(payload, std::string(e.idempotency_key));
      else if (type == kSpecialExpense) special->on_approval(payload);
    });
  }

  const Settings& settings() const { return settings_; }

 private:
  Services services_;
  Settings settings_;
  StandardRepository standard_repository_;
  Standards standards_;
  FeeRepository fees_;
  StatementRepository statement_repository_;
  ContractsClient contracts_;
  AdvancesClient advances_;
  SpendRepository spend_;
  Exceptions exceptions_;  // what the rules refused or flagged, for auditors
  SpecialExpenseRepository special_expense_repository_;
  SpecialExpenses special_expenses_;
  Drafter drafter_;
  Statements statements_;
  SpotCheckRepository spot_check_repository_;
  SpotChecks spot_checks_;
  Audits audits_;
};

}  // namespace relationship_spending

ANNEX_PLUGIN(relationship_spending::RelationshipSpendingPlugin)
