#include "audit/signer.h"

#include "crypto/digest.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace annex::audit {
namespace {

std::string from_hex(std::string_view hex) {
  std::string out;
  if (hex.size() % 2 != 0) return out;
  auto nibble = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return {};
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

struct FileCloser {
  void operator()(FILE* f) const { if (f) fclose(f); }
};

std::string write_pem(EVP_PKEY* key, bool private_key) {
  BIO* bio = BIO_new(BIO_s_mem());
  int ok = private_key ? PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr)
                       : PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out = ok == 1 && len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string{};
  BIO_free(bio);
  if (out.empty()) throw std::runtime_error("cannot encode the audit signing key");
  return out;
}

void write_file(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, mode);
  if (fd < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + path);
}

}  // namespace

Signer::Signer(EVP_PKEY* key, bool can_sign) : key_(key, &EVP_PKEY_free), can_sign_(can_sign) {
  unsigned char raw[32];
  size_t len = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1) throw std::runtime_error("not an Ed25519 key");
  key_id_ = crypto::sha256_hex(std::string_view(reinterpret_cast<char*>(raw), len)).substr(0, 16);
}

Signer Signer::load(const std::string& path) {
  std::unique_ptr<FILE, FileCloser> f(fopen(path.c_str(), "r"));
  if (!f) throw std::runtime_error("cannot open the key file " + path + ": " + std::strerror(errno));
  EVP_PKEY* key = PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr);
  bool can_sign = key != nullptr;
  if (key == nullptr) {
    rewind(f.get());
    key = PEM_read_PUBKEY(f.get(), nullptr, nullptr, nullptr);
  }
  if (key == nullptr || EVP_PKEY_id(key) != EVP_PKEY_ED25519) {
    if (key) EVP_PKEY_free(key);
    throw std::runtime_error(path + " holds no Ed25519 key in PEM form");
  }
  return Signer(key, can_sign);
}

Signer Signer::load_or_create(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    EVP_PKEY* key = nullptr;
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
    bool ok = ctx != nullptr && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &key) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) throw std::runtime_error("cannot generate an Ed25519 key");
    Signer signer(key, true);
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    write_file(path, write_pem(key, true), 0600);
    std::filesystem::remove(path + ".pub", ec);
    write_file(path + ".pub", write_pem(key, false), 0644);
    return signer;
  }
  Signer signer = load(path);
  if (!signer.can_sign()) throw std::runtime_error(path + " holds a public key; the daemon needs the private key");
  return signer;
}

std::string Signer::sign(std::string_view message) const {
  if (!can_sign_) throw std::runtime_error("this key can only verify");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char sig[64];
  size_t len = sizeof sig;
  bool ok = ctx != nullptr && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_.get()) == 1 &&
            EVP_DigestSign(ctx, sig, &len, reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) throw std::runtime_error("Ed25519 signing failed");
  return crypto::to_hex(std::string_view(reinterpret_cast<char*>(sig), len));
}

bool Signer::verify(std::string_view message, std::string_view signature_hex) const {
  std::string sig = from_hex(signature_hex);
  if (sig.size() != 64) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key_.get()) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

std::string Signer::public_pem() const { return write_pem(key_.get(), false); }

}  // namespace annex::audit
