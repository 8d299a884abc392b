// SHA-256 (OpenSSL's), as lower-case hex: the hash that freezes a signed statement's content, and the spot-check
// draw's derivation.
#pragma once

#include <string>
#include <string_view>

namespace relationship_spending {

std::string sha256_hex(std::string_view data);

}  // namespace relationship_spending
