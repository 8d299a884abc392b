// SHA-256 digests (OpenSSL), as raw bytes or lower-case hex.
#pragma once

#include <string>
#include <string_view>

namespace annex::crypto {

std::string sha256(std::string_view data);      // 32 raw bytes
std::string sha256_hex(std::string_view data);  // 64 hex characters
std::string to_hex(std::string_view bytes);

}  // namespace annex::crypto
