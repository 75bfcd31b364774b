#pragma once
// emqtt-bench style templates for topics, client ids, usernames and passwords:
// %i = client index, %c = client id, %u = username, %% = a literal %.

#include <cstdint>
#include <string>
#include <string_view>

namespace mqfleet::bench {

/// The values a template can refer to.
struct TemplateValues {
  std::uint64_t index = 0;
  std::string_view client_id;
  std::string_view username;
};

/// Expands `text`; throws ConfigError naming `where` for an unknown %-sequence.
std::string expand_template(std::string_view text, const TemplateValues& values, std::string_view where = {});

/// True when `text` contains %-sequences (so it must be expanded per client).
bool is_template(std::string_view text) noexcept;

} // namespace mqfleet::bench
