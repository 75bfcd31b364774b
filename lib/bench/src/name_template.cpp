#include <mqfleet/bench/name_template.hpp>

#include <mqfleet/error.hpp>

namespace mqfleet::bench {

std::string expand_template(std::string_view text, const TemplateValues& values, std::string_view where) {
  std::string out;
  out.reserve(text.size() + 16);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    const char next = i + 1 < text.size() ? text[i + 1] : '\0';
    switch (next) {
    case 'i': out += std::to_string(values.index); break;
    case 'c': out += values.client_id; break;
    case 'u': out += values.username; break;
    case '%': out.push_back('%'); break;
    default:
      throw ConfigError("unknown template sequence \"%" + std::string(next ? 1 : 0, next) + "\" in \"" +
                            std::string(text) + "\"",
                        std::string(where), "use %i (client index), %c (client id), %u (username) or %%");
    }
    ++i;
  }
  return out;
}

bool is_template(std::string_view text) noexcept {
  return text.find('%') != std::string_view::npos;
}

} // namespace mqfleet::bench
