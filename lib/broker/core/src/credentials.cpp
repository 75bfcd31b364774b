#include <mqfleet/broker/credentials.hpp>

#include <mqfleet/error.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <limits>

namespace mqfleet::broker {

namespace {

constexpr std::string_view k_prefix = "$7$";
constexpr std::string_view k_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string random_bytes(std::size_t n) {
  std::string bytes(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) != 1)
    throw Error("the system random generator failed", "OpenSSL RAND_bytes");
  return bytes;
}

std::string pbkdf2(std::string_view password, std::string_view salt, std::uint32_t iterations, std::size_t length) {
  std::string out(length, '\0');
  if (iterations > static_cast<std::uint32_t>(std::numeric_limits<int>::max()) ||
      PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                        static_cast<int>(iterations), EVP_sha512(), static_cast<int>(length),
                        reinterpret_cast<unsigned char*>(out.data())) != 1)
    throw Error("PBKDF2-SHA512 failed", "OpenSSL PKCS5_PBKDF2_HMAC");
  return out;
}

int decode_char(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string invalid_hash_hint() {
  return "expected $7$<iterations>$<base64 salt>$<base64 hash>; recreate it with `mqfleet device set-credential`";
}

} // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const auto v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                   static_cast<unsigned char>(bytes[i + 2]);
    out += k_alphabet[(v >> 18) & 63];
    out += k_alphabet[(v >> 12) & 63];
    out += k_alphabet[(v >> 6) & 63];
    out += k_alphabet[v & 63];
  }
  const auto left = bytes.size() - i;
  if (left == 1) {
    const auto v = static_cast<unsigned char>(bytes[i]) << 16;
    out += k_alphabet[(v >> 18) & 63];
    out += k_alphabet[(v >> 12) & 63];
    out += "==";
  } else if (left == 2) {
    const auto v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += k_alphabet[(v >> 18) & 63];
    out += k_alphabet[(v >> 12) & 63];
    out += k_alphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) throw ConfigError("invalid base64 (length is not a multiple of 4)");
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + static_cast<std::size_t>(k)];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad != 0 || (v[k] = decode_char(c)) < 0) throw ConfigError("invalid base64 character");
    }
    const auto n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>((n >> 16) & 0xFF);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(n & 0xFF);
  }
  return out;
}

std::string hash_password(std::string_view password, std::uint32_t iterations) {
  if (iterations == 0 || iterations > k_max_pbkdf2_iterations)
    throw ConfigError("invalid PBKDF2 iteration count " + std::to_string(iterations), "--iterations",
                      "use a count from 1 to " + std::to_string(k_max_pbkdf2_iterations));
  const auto salt = random_bytes(k_salt_bytes);
  const auto hash = pbkdf2(password, salt, iterations, k_hash_bytes);
  return std::string(k_prefix) + std::to_string(iterations) + "$" + base64_encode(salt) + "$" + base64_encode(hash);
}

PasswordHash parse_password_hash(std::string_view encoded) {
  if (!encoded.starts_with(k_prefix))
    throw ConfigError("credential hash is not in the $7$ (PBKDF2-SHA512) format", {}, invalid_hash_hint());
  auto rest = encoded.substr(k_prefix.size());
  const auto d1 = rest.find('$');
  if (d1 == std::string_view::npos) throw ConfigError("credential hash has no salt", {}, invalid_hash_hint());
  const auto d2 = rest.find('$', d1 + 1);
  if (d2 == std::string_view::npos || rest.find('$', d2 + 1) != std::string_view::npos)
    throw ConfigError("credential hash does not have exactly four $-separated parts", {}, invalid_hash_hint());
  PasswordHash result;
  const auto count = rest.substr(0, d1);
  const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), result.iterations);
  if (ec != std::errc{} || end != count.data() + count.size() || result.iterations == 0 ||
      result.iterations > static_cast<std::uint32_t>(std::numeric_limits<int>::max()))
    throw ConfigError("credential hash has an invalid iteration count", {}, invalid_hash_hint());
  if (result.iterations > k_max_pbkdf2_iterations)
    throw ConfigError("credential hash has more than " + std::to_string(k_max_pbkdf2_iterations) +
                          " PBKDF2 iterations (every login would cost the broker too much)",
                      {}, "set a new credential with `mqfleet device set-credential --iterations N` (N <= " +
                              std::to_string(k_max_pbkdf2_iterations) + ")");
  try {
    result.salt = base64_decode(rest.substr(d1 + 1, d2 - d1 - 1));
    result.hash = base64_decode(rest.substr(d2 + 1));
  } catch (const ConfigError&) {
    throw ConfigError("credential hash has invalid base64", {}, invalid_hash_hint());
  }
  if (result.salt.empty()) throw ConfigError("credential hash has an empty salt", {}, invalid_hash_hint());
  if (result.hash.size() != k_hash_bytes)
    throw ConfigError("credential hash is not 64 bytes (SHA-512)", {}, invalid_hash_hint());
  return result;
}

bool valid_password_hash(std::string_view encoded) noexcept {
  try {
    parse_password_hash(encoded);
    return true;
  } catch (...) {
    return false;
  }
}

bool verify_password(std::string_view password, std::string_view encoded) noexcept {
  try {
    const auto parsed = parse_password_hash(encoded);
    const auto computed = pbkdf2(password, parsed.salt, parsed.iterations, parsed.hash.size());
    return CRYPTO_memcmp(computed.data(), parsed.hash.data(), parsed.hash.size()) == 0;
  } catch (...) {
    return false;
  }
}

void verify_password_dummy(std::uint32_t iterations) noexcept {
  try {
    static const std::string salt(k_salt_bytes, 'x');
    (void)pbkdf2("dummy", salt, iterations == 0 ? 1 : iterations, k_hash_bytes);
  } catch (...) {
  }
}

std::string generate_credential() {
  auto text = base64_encode(random_bytes(18)); // 18 bytes → 24 characters, no padding
  for (auto& c : text) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return text;
}

} // namespace mqfleet::broker
