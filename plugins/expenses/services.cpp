#include "services.h"

namespace expenses {

std::vector<std::string> roles_of(const annex::Directory& directory, const std::string& user_id) {
  std::vector<std::string> out;
  std::optional<std::string> user = directory.user(user_id);
  if (!user) return out;
  nlohmann::json u = nlohmann::json::parse(*user, nullptr, false);
  for (const auto& r : u.value("roles", nlohmann::json::array())) {
    if (r.is_object() && r.contains("role")) out.push_back(r["role"].get<std::string>());
  }
  return out;
}

Claimant claimant(const Services& services, const std::string& user_id) {
  Claimant out{roles_of(services.directory, user_id), std::nullopt, std::nullopt};
  if (std::optional<std::string> employee = services.masterdata.find("employees", nlohmann::json{{"user_id", user_id}}.dump())) {
    nlohmann::json e = nlohmann::json::parse(*employee, nullptr, false);
    auto text = [&](const char* key) {
      return e.is_object() && e.contains(key) && e[key].is_string() && !e[key].get<std::string>().empty()
                 ? std::optional<std::string>(e[key].get<std::string>())
                 : std::nullopt;
    };
    out.grade = text("grade");
    out.cost_centre = text("cost_centre");
  }
  return out;
}

std::string shown(const Settings& settings, int64_t minor) {
  return annex::biz::Money(minor, {settings.company_currency, settings.company_minor_units}).decimal() + " " +
         settings.company_currency;
}

}  // namespace expenses
