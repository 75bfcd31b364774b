#include "secret_fallback.hpp"

#include <mqfleet/error.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>

namespace mqfleet::detail {

std::string resolve_secret_fallback(const Secret& secret, const char* what) {
  switch (secret.source) {
  case SecretSource::none: return {};
  case SecretSource::literal: return secret.value;
  case SecretSource::env: {
    const char* value = std::getenv(secret.value.c_str());
    if (value == nullptr)
      throw ConfigError(fmt::format("the environment variable {} holding the {} is not set", secret.value, what),
                        secret.value, "export it, or give the secret another way");
    return value;
  }
  case SecretSource::file: {
    std::ifstream in(secret.value);
    std::string line;
    if (!in || !std::getline(in, line))
      throw ConfigError(fmt::format("cannot read the {} from '{}'", what, secret.value), secret.value,
                        "give a readable file whose first line is the secret");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  case SecretSource::prompt:
    throw ConfigError(fmt::format("cannot prompt for the {} here", what), "", "give it with --password-env or --password-file");
  }
  return {};
}

} // namespace mqfleet::detail
