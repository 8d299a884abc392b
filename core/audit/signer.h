// Ed25519 keys for signing the audit log's checkpoints (OpenSSL). The daemon holds the private key in a PEM file
// (mode 0600, created on first use); auditors verify with the public key alone.
#pragma once

#include <memory>
#include <string>
#include <string_view>

typedef struct evp_pkey_st EVP_PKEY;

namespace annex::audit {

class Signer {
 public:
  // Loads the private key at `path`, creating it (and `path` + ".pub", the public key) when absent.
  // Throws std::runtime_error naming the file on any problem.
  static Signer load_or_create(const std::string& path);
  // Loads a PEM file holding either a private or a public key; only verify() is usable with a public one.
  static Signer load(const std::string& path);

  // The 64-byte signature of `message`, hex-encoded. Throws when the key is public only.
  std::string sign(std::string_view message) const;
  bool verify(std::string_view message, std::string_view signature_hex) const;
  // First 16 hex characters of SHA-256 over the raw public key: names the key in each checkpoint.
  const std::string& key_id() const { return key_id_; }
  std::string public_pem() const;
  bool can_sign() const { return can_sign_; }

 private:
  Signer(EVP_PKEY* key, bool can_sign);
  std::shared_ptr<EVP_PKEY> key_;
  bool can_sign_ = false;
  std::string key_id_;
};

}  // namespace annex::audit
