// Password hashing and secret tokens (OpenSSL).
//
// Passwords are stored as PBKDF2-HMAC-SHA256 with a random 16-byte salt:
//   "pbkdf2-sha256$<iterations>$<salt, base64>$<key, base64>"
// so the iteration count can be raised later without invalidating stored hashes. Tokens are 32 random bytes,
// shown to their owner once and stored only as SHA-256: a stolen database yields no usable token.
#pragma once

#include <string>
#include <string_view>

namespace annex::auth {

inline constexpr int kDefaultPbkdf2Iterations = 600000;  // OWASP's figure for PBKDF2-HMAC-SHA256
inline constexpr size_t kMinPasswordLength = 12;

// Hashes `password` with a fresh salt. Throws std::runtime_error if OpenSSL fails.
std::string hash_password(std::string_view password, int iterations = kDefaultPbkdf2Iterations);

// True when `password` matches `encoded`; false for a wrong password or a malformed hash. Constant time in the
// comparison of the derived key.
bool verify_password(std::string_view password, std::string_view encoded);

// A new secret: `prefix` followed by 32 random bytes in unpadded base64url ("annex_pat_3q2…").
std::string new_secret(std::string_view prefix);

// The form a secret is stored and looked up in: SHA-256, hex.
std::string secret_digest(std::string_view secret);

// A random identifier: `prefix` and 16 random bytes in hex ("u_9f…").
std::string new_id(std::string_view prefix);

}  // namespace annex::auth
