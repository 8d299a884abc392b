// The purposes relationship spending may serve (R10), a fixed list: every spend names one.
#pragma once

#include <annex/sdk.hpp>

#include <span>
#include <string>

namespace relationship_spending {

struct Purpose {
  const char* code;     // what records store: "buyer"
  const char* name_en;
  const char* name_zh;  // as the company's regulation words it
};

// The five purposes, in the regulation's order.
std::span<const Purpose> purposes();

// The purpose with this code; refuses any other with UNPROCESSABLE naming `field` and listing the codes.
const Purpose& purpose_field(const std::string& code, const std::string& field);

// GET /api/v1/relationship-spending/purposes: {"items": [{"code", "names": {"en", "zh"}}]}.
void list_purposes(const annex::Request& req, annex::Response& resp);

}  // namespace relationship_spending
