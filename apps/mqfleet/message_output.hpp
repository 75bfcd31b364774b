#pragma once
// How `sub`, `rr` and `sub --watch` turn a received message into text: mosquitto_sub's
// payload-only and -v styles, -F format strings and --format jsonl, chosen once from the
// output flags (one place decides, so every command prints a message the same way).

#include <mqfleet/connection.hpp>
#include <mqfleet/message_format.hpp>

#include <optional>
#include <string>
#include <vector>

namespace mqfleet::cli {

/// The output flags shared by the commands that print received messages.
struct OutputStyle {
  std::string format;      ///< -F: mosquitto_sub format string (empty: none)
  bool jsonl = false;      ///< --format jsonl
  bool verbose = false;    ///< -v: "topic payload"
  bool pretty = false;     ///< --pretty: indent %j / %J
  bool no_eol = false;     ///< -N: no newline after a message (jsonl keeps its newline)
};

/// Renders messages in one OutputStyle.
class MessageRenderer {
public:
  /// Parses -F up front, so a bad format string fails before anything connects
  /// (ConfigError naming the sequence).
  explicit MessageRenderer(const OutputStyle& style);
  /// The text for `message` with its end of line, or nullopt when nothing is printed
  /// (mosquitto_sub prints nothing for an empty payload in its default style). Warnings
  /// about the message (a %J payload that is not JSON) are appended to `warnings`.
  std::optional<std::string> render(const ReceivedMessage& message, std::vector<std::string>* warnings) const;
  /// One line for `message` without end of line, whatever the style: -F when given,
  /// otherwise "topic payload"; control characters (newlines in a payload) are shown as
  /// `\n`-style escapes so the text stays on one screen line (`sub --watch`).
  std::string render_line(const ReceivedMessage& message, std::vector<std::string>* warnings) const;

private:
  bool m_jsonl;
  bool m_verbose;
  bool m_eol;
  std::optional<MessageFormat> m_format;
};

} // namespace mqfleet::cli
