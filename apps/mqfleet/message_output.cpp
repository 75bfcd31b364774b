#include "message_output.hpp"

#include <fmt/format.h>

namespace mqfleet::cli {
namespace {

// Control characters would break a screen line: shown the way -F's escapes are written.
std::string one_line(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default:
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
        out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
      else
        out.push_back(c);
    }
  }
  return out;
}

} // namespace

MessageRenderer::MessageRenderer(const OutputStyle& style)
    : m_jsonl(style.jsonl), m_verbose(style.verbose), m_eol(!style.no_eol) {
  if (!style.format.empty()) m_format.emplace(style.format, style.pretty);
}

std::optional<std::string> MessageRenderer::render(const ReceivedMessage& message,
                                                   std::vector<std::string>* warnings) const {
  std::string text;
  if (m_jsonl) {
    text = render_jsonl(message);
    text.push_back('\n');  // one object per line, whatever -N says
    return text;
  }
  if (m_format) {
    text = m_format->render(message, warnings);
  } else if (m_verbose) {
    text = render_verbose(message);
  } else {
    if (message.payload.empty()) return std::nullopt;  // as mosquitto_sub: an empty payload prints nothing
    text = render_payload_only(message);
  }
  if (m_eol) text.push_back('\n');
  return text;
}

std::string MessageRenderer::render_line(const ReceivedMessage& message, std::vector<std::string>* warnings) const {
  return one_line(m_format ? m_format->render(message, warnings) : render_verbose(message));
}

} // namespace mqfleet::cli
