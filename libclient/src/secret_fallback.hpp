#pragma once
// Minimal secret resolution for connection.cpp until profile_resolve.hpp (resolve_secret)
// is merged: literal, environment variable, or first line of a file.

#include <mqfleet/profile.hpp>

#include <string>

namespace mqfleet::detail {

/// The secret's value; throws ConfigError naming the variable or file (never the secret).
std::string resolve_secret_fallback(const Secret& secret, const char* what);

} // namespace mqfleet::detail
