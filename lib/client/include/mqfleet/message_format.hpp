#pragma once
// Rendering received messages as text, the way `mqfleet sub` prints them: mosquitto_sub's
// payload-only and -v styles, its -F format strings (see mosquitto_sub(1), "OUTPUT
// FORMAT"), and mqfleet's own JSON-lines records. Pure functions: no I/O, no clock (the
// time printed is the message's received_at), local time as mosquitto_sub does for -F.

#include <mqfleet/connection.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mqfleet {

/// A parsed mosquitto_sub -F format string, ready to render many messages.
///
/// Supported: `%%`, `%A %C %D %E %F %I %j %J %l %m %P %p %q %R %r %S %t %U %x %X` with the
/// documented flags (`-` left-align, `0` zero-pad), field width and maximum width
/// (`%10.10t`); `@X` passed to strftime as `%X`, `@N` nanoseconds, `@@`; escapes `\\ \0 \a
/// \e \n \r \t \v`. Differences from mosquitto_sub 2.0: a width on %p/%x/%X is a minimum
/// (mosquitto truncates the payload to it); absent properties print blanks to the field
/// width; %m is the packet identifier (0 for QoS 0); %A is always
/// blank (inbound topic aliases are never enabled); a %j payload that is valid UTF-8 is
/// printed as a string (mosquitto only accepts printable ASCII), otherwise as a byte array;
/// a %J payload nested deeper than k_max_json_depth (json_depth.hpp) is printed as %j
/// prints it, with a warning, rather than parsed.
class MessageFormat {
public:
  /// Parses `format`; throws ConfigError naming the offending sequence for an unknown
  /// `%` specifier, an unknown `\` escape, or a sequence cut off at the end.
  explicit MessageFormat(std::string_view format, bool pretty_json = false);

  /// The text for one message, without the end-of-line that -N suppresses. When a %J
  /// payload is not valid JSON that part renders as nothing and, if `warnings` is given,
  /// a sentence explaining it is appended there.
  std::string render(const ReceivedMessage& message, std::vector<std::string>* warnings = nullptr) const;

private:
  /// One parsed piece of the format string.
  struct Piece {
    enum class Kind { literal, field, strftime_char };
    Kind kind = Kind::literal;
    std::string text;          ///< literal text
    char spec = 0;             ///< the field / strftime letter
    bool left_align = false;   ///< `-` flag
    char pad = ' ';            ///< `0` flag gives '0'
    int width = 0;             ///< minimum width (0 = none)
    int precision = -1;        ///< maximum width (-1 = none)
  };

  std::vector<Piece> m_pieces;
  bool m_pretty_json = false;
};

/// mosquitto_sub's default style: the payload bytes as they are.
std::string render_payload_only(const ReceivedMessage& message);

/// mosquitto_sub -v: "topic payload", or "topic (null)" for an empty payload.
std::string render_verbose(const ReceivedMessage& message);

/// One JSON object (no newline): timestamp (ISO-8601 UTC, milliseconds), topic, qos,
/// retain, payload (text when valid UTF-8, else base64 with "encoding":"base64"), and
/// "properties" when any v5 property is present (snake_case names; user_properties as
/// [name, value] pairs in order; binary correlation_data as base64 with
/// "correlation_data_encoding":"base64").
std::string render_jsonl(const ReceivedMessage& message);

/// Standard base64 (RFC 4648, with padding) of `data`.
std::string base64_encode(std::string_view data);

/// Decodes standard base64 with padding; nullopt when `text` is not valid base64.
std::optional<std::string> base64_decode(std::string_view text);

} // namespace mqfleet
