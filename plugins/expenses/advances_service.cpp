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

}  // namespace

annex_expenses_advances_v1 advances_service(Advances& advances) {
  annex_expenses_advances_v1 table{};
  table.struct_size = sizeof table;
  table.minor = 0;
  table.provider_plugin_ptr = &advances;
  table.balance = &balance;
  table.draw = &draw;
  table.settle = &settle;
  return table;
}

}  // namespace expenses
