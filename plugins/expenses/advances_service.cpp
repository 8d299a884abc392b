// The service org.annex.expenses.advances@1 (annex/services/cash_advances.h) over the Advances of this
// plugin instance.
#include "advances_service.h"

namespace expenses {
namespace {

Advances& self(void* provider) { return *static_cast<Advances*>(provider); }

std::string text(annex_str s) { return std::string(annex::to_view(s)); }

annex_status balance(void* provider, annex_str user_id, annex_buffer* out_json, annex_buffer* err) {
  return annex::detail::guarded(err, [&] { annex::write(out_json, self(provider).balance_of(text(user_id)).dump()); });
}

annex_status draw(void* provider, annex_str user_id, int64_t amount, annex_str purpose, annex_str reference, annex_str actor_id,
                  annex_buffer* out_json, annex_buffer* err) {
  return annex::detail::guarded(err, [&] {
    if (text(purpose).empty()) annex::rest::invalid("purpose", "an advance names its purpose");
    std::optional<std::string> ref = reference.len > 0 ? std::optional<std::string>(text(reference)) : std::nullopt;
    annex::write(out_json, self(provider).draw(text(user_id), amount, text(purpose), std::nullopt, ref, text(actor_id)).dump());
  });
}

annex_status settle(void* provider, annex_str user_id, int64_t amount, annex_str reference, annex_str actor_id,
                    annex_buffer* out_json, annex_buffer* err) {
  return annex::detail::guarded(err, [&] {
    if (text(reference).empty()) annex::rest::invalid("reference", "a settlement names what was spent");
    annex::write(out_json, self(provider).settle(text(user_id), amount, text(reference), text(actor_id)).dump());
  });
}

annex_status draw_charged(void* provider, annex_str user_id, int64_t amount, annex_str purpose, annex_str reference, annex_str actor_id,
                          annex_str charges_json, annex_buffer* out_json, annex_buffer* err) {
  return annex::detail::guarded(err, [&] {
    if (text(purpose).empty()) annex::rest::invalid("purpose", "an advance names its purpose");
    nlohmann::json list = nlohmann::json::parse(annex::to_view(charges_json), nullptr, false);
    if (!list.is_array() || list.empty() || list.size() > 1000) annex::rest::invalid("charges", "charges are a list of 1 to 1000 accounts with amounts");
    std::vector<Charge> charges;
    for (size_t i = 0; i < list.size(); ++i) {
      const nlohmann::json& c = list[i];
      std::string at = "charges[" + std::to_string(i) + "]";
      if (!c.is_object() || !c.contains("account") || !c["account"].is_string() || c["account"].get<std::string>().empty() ||
          c["account"].get<std::string>().size() > 64) {
        annex::rest::invalid(at + ".account", "a charge names its GL account (at most 64 characters)");
      }
      if (!c.contains("amount") || !c["amount"].is_number_integer() || c["amount"].get<int64_t>() <= 0) {
        annex::rest::invalid(at + ".amount", "a charge is a whole number of minor units above zero");
      }
      std::string description = c.contains("description") && c["description"].is_string() ? c["description"].get<std::string>() : "";
      if (description.size() > 400) annex::rest::invalid(at + ".description", "at most 400 bytes");
      charges.push_back({c["account"].get<std::string>(), c["amount"].get<int64_t>(), description});
    }
    std::optional<std::string> ref = reference.len > 0 ? std::optional<std::string>(text(reference)) : std::nullopt;
    annex::write(out_json,
                 self(provider).draw(text(user_id), amount, text(purpose), std::nullopt, ref, text(actor_id), std::move(charges)).dump());
  });
}

}  // namespace

annex_expenses_advances_v1 advances_service(Advances& advances) {
  annex_expenses_advances_v1 table{};
  table.struct_size = sizeof table;
  table.minor = 1;
  table.provider_plugin_ptr = &advances;
  table.balance = &balance;
  table.draw = &draw;
  table.settle = &settle;
  table.draw_charged = &draw_charged;
  return table;
}

}  // namespace expenses
