#include <mqfleet/broker/api_tokens.hpp>

#include <mqfleet/broker/credentials.hpp>
#include <mqfleet/error.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>

namespace mqfleet::broker {
namespace {
constexpr std::string_view k_prefix = "sha256:";
constexpr std::string_view k_token_prefix = "mqft_";
} // namespace

std::string generate_api_token() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw Error("cannot draw random bytes for the token", "RAND_bytes", "check the system's entropy source");
  std::string text = base64_encode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  std::string token(k_token_prefix);
  for (char c : text) {
    if (c == '=') continue;
    token += c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return token;
}

std::string hash_api_token(std::string_view token) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(token.data(), token.size(), digest.data(), &length, EVP_sha256(), nullptr);
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out(k_prefix);
  for (unsigned int i = 0; i < length; ++i) {
    out += k_hex[digest[i] >> 4];
    out += k_hex[digest[i] & 0xF];
  }
  return out;
}

bool valid_token_hash(std::string_view hash) noexcept {
  if (hash.size() != k_prefix.size() + 64 || hash.substr(0, k_prefix.size()) != k_prefix) return false;
  for (char c : hash.substr(k_prefix.size()))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool token_hashes_equal(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool valid_token_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
      return false;
  return true;
}

} // namespace mqfleet::broker
