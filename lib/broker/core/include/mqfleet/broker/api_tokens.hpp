#pragma once
// API tokens of the broker's HTTP listener (docs/broker.md, "Tokens"): random bearer
// tokens whose SHA-256 alone is stored in the registry. A token carries 256 random bits,
// so a fast unsalted hash is enough (nobody can guess a preimage); a slow password hash
// (credentials.hpp) would cost every REST request a PBKDF2 run for nothing.

#include <string>
#include <string_view>

namespace mqfleet::broker {

/// A new random token: "mqft_" + 43 characters of URL-safe base64 (256 bits, RAND_bytes).
std::string generate_api_token();

/// The stored form of a token: "sha256:" + 64 lowercase hex digits.
std::string hash_api_token(std::string_view token);

/// True when `hash` has the stored form of hash_api_token().
bool valid_token_hash(std::string_view hash) noexcept;

/// Compares two stored hashes in time independent of where they differ.
bool token_hashes_equal(std::string_view a, std::string_view b) noexcept;

/// True when `name` can name a token: 1..64 letters, digits, '_', '-', '.'.
bool valid_token_name(std::string_view name) noexcept;

} // namespace mqfleet::broker
