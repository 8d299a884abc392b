// SHA-256 (OpenSSL's), as lower-case hex: the hash that freezes a signed statement's content, and the spot-check
// draw's derivation.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace relationship_spending {

std::string sha256_hex(std::string_view data);
// `size` bytes as lower-case hex.
std::string hex(const unsigned char* bytes, size_t size);

}  // namespace relationship_spending
