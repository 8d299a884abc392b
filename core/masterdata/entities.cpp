#include "masterdata/entities.h"

namespace annex::masterdata {
namespace {

Field text(std::string name, bool required = false, size_t max_len = 200) {
  return Field{std::move(name), FieldType::kText, required, max_len, {}, {}};
}
Field date(std::string name, bool required = false) { return Field{std::move(name), FieldType::kDate, required, 10, {}, {}}; }
Field integer(std::string name) { return Field{std::move(name), FieldType::kInt, false, 0, {}, {}}; }
Field choice(std::string name, std::vector<std::string> allowed, std::string fallback = {}) {
  return Field{std::move(name), FieldType::kEnum, false, 40, std::move(allowed), std::move(fallback)};
}
Field status() { return choice("status", {"active", "inactive"}, "active"); }

std::vector<Entity> make() {
  return {
      {"parties", "annex_md_parties", "annex.party", {"code"}, true,
       {text("code", true, 64), text("name", true), text("tax_id", false, 64),
        choice("kind", {"customer", "supplier", "both"}, "customer"), text("region", false, 100),
        text("source", false, 100), choice("tier", {"A", "B", "C"}),
        Field{"addresses", FieldType::kJson, false, 20000, {}, {}}, Field{"contacts", FieldType::kJson, false, 20000, {}, {}},
        status()}, {}},
      {"products", "annex_md_products", "annex.product", {"code"}, false,
       {text("code", true, 64), text("name", true), text("product_group", false, 100), text("unit", false, 20),
        Field{"list_price", FieldType::kMoney, false, 0, {}, {}}, integer("repurchase_days"), status()}, {}},
      {"employees", "annex_md_employees", "annex.employee", {"number"}, false,
       {text("number", true, 64), text("name", true), text("user_id", false, 64), text("cost_centre", false, 64),
        text("manager", false, 64), text("grade", false, 32), status()},
       {"user_id"}},
      {"cost_centres", "annex_md_cost_centres", "annex.cost_centre", {"code"}, false,
       {text("code", true, 64), text("name", true), text("parent", false, 64), status()}, {}},
      {"gl_accounts", "annex_md_gl_accounts", "annex.gl_account", {"chart", "code"}, false,
       {text("chart", true, 64), text("code", true, 64), text("name", true),
        choice("type", {"asset", "liability", "equity", "revenue", "expense"}), status()}, {}},
      {"currencies", "annex_md_currencies", "annex.currency", {"code"}, false,
       {text("code", true, 3), text("name", false, 100), integer("minor_units")}, {}},
      {"exchange_rates", "annex_md_exchange_rates", "annex.exchange_rate", {"base", "quote", "rate_date"}, false,
       {text("base", true, 3), text("quote", true, 3), date("rate_date", true),
        Field{"rate", FieldType::kDecimal, true, 40, {}, {}}}, {}},
  };
}

}  // namespace

const Field* Entity::field(const std::string& n) const {
  for (const auto& f : fields) {
    if (f.name == n) return &f;
  }
  return nullptr;
}

const std::vector<Entity>& entities() {
  static const std::vector<Entity> all = make();
  return all;
}

const Entity* find_entity(const std::string& name) {
  for (const auto& e : entities()) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

}  // namespace annex::masterdata
