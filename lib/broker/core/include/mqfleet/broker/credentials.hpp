#pragma once
// Device credentials, stored only as salted PBKDF2-SHA512 hashes in mosquitto's format
// `$7$<iterations>$<base64 salt>$<base64 hash>` (mosquitto_passwd writes the same, so its
// hashes verify here and ours in mosquitto). Verification compares in constant time.
//
// Default iteration count: 101, mosquitto's own. Reason: every CONNECT pays one PBKDF2,
// and the broker is benchmarked on connection storms next to mosquitto; at 101
// iterations a verify costs ~0.15 ms on this machine. Generated credentials carry 144
// random bits, so the iteration count adds nothing to them; raise it (`--iterations`)
// for human-chosen passwords. Hashes record their own count, so mixed files verify.

#include <cstdint>
#include <string>
#include <string_view>

namespace mqfleet::broker {

/// The default PBKDF2 iteration count (see above).
inline constexpr std::uint32_t k_default_pbkdf2_iterations = 101;
/// The most PBKDF2 iterations a hash may have (`--iterations`, registry hashes): every
/// CONNECT pays one verification, so the count bounds what a login costs the broker
/// (~50 ms here at the cap).
inline constexpr std::uint32_t k_max_pbkdf2_iterations = 100000;
/// Salt length in bytes (mosquitto's).
inline constexpr std::size_t k_salt_bytes = 12;
/// Hash length in bytes (SHA-512 output).
inline constexpr std::size_t k_hash_bytes = 64;

/// A parsed `$7$` credential hash.
struct PasswordHash {
  std::uint32_t iterations = 0;
  std::string salt; ///< raw bytes
  std::string hash; ///< raw bytes
};

/// Hashes `password` with a fresh random salt; returns the `$7$...` string.
/// Throws ConfigError when iterations is 0 or above k_max_pbkdf2_iterations.
std::string hash_password(std::string_view password, std::uint32_t iterations = k_default_pbkdf2_iterations);

/// Parses a `$7$...` string; throws ConfigError (without echoing the text) when malformed
/// or when its iteration count is above k_max_pbkdf2_iterations.
PasswordHash parse_password_hash(std::string_view encoded);

/// True when `encoded` is a well-formed `$7$...` string.
bool valid_password_hash(std::string_view encoded) noexcept;

/// True when `password` matches `encoded` (constant-time comparison). A malformed hash
/// never matches.
bool verify_password(std::string_view password, std::string_view encoded) noexcept;

/// Burns the time of one verification at `iterations` (to answer unknown accounts and
/// devices as slowly as wrong credentials).
void verify_password_dummy(std::uint32_t iterations = k_default_pbkdf2_iterations) noexcept;

/// A new random credential: 24 characters of URL-safe base64 (144 bits, RAND_bytes).
std::string generate_credential();

/// Standard base64 (with padding), as mosquitto uses.
std::string base64_encode(std::string_view bytes);
/// Decodes standard base64; throws ConfigError when invalid.
std::string base64_decode(std::string_view text);

} // namespace mqfleet::broker
