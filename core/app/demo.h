// The living demo: a realistic company loaded into an empty store through the public API of a running annexd —
// so every rule applies to it as to anyone's data — for a newcomer to sign in and see every screen with data.
//
// Ten sectors; people of every role; customers, products and cost centres in master data; opportunities in every
// stage; contracts signed last month with their collections; expense claims and cash advances in every state; last
// month's relationship-spending statements drafted and taken through submission and the three signatures as far
// as each state needs. Every demo person signs in with kDemoPassword.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace annex::app {

inline constexpr const char* kDemoPassword = "annex demo 2026";

struct DemoPerson {
  std::string login, display_name, role, sector;  // sector "" for every sector
};

// The people the demo creates (besides "admin", the system administrator it signs in as).
const std::vector<DemoPerson>& demo_people();

// Loads the demo through `base_url`: `token_for(login)` gives a bearer token for a user once it exists (the
// caller issues them from the store and revokes them afterwards). Progress goes to `progress`, a line per step.
// Throws std::runtime_error naming the call that failed and the daemon's answer.
void load_demo(const std::string& base_url, const std::function<std::string(const std::string& login)>& token_for,
               std::ostream& progress);

}  // namespace annex::app
