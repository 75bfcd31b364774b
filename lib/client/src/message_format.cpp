#include <mqfleet/message_format.hpp>

#include <mqfleet/error.hpp>
#include <mqfleet/json_depth.hpp>
#include <mqfleet/mqtt/utf8.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <limits>

namespace mqfleet {
namespace {

using OrderedJson = nlohmann::ordered_json;

constexpr std::string_view k_field_specs = "%ACDEFIjJlmPpqRrStUxX";
constexpr std::string_view k_hint =
    "see `man mosquitto_sub` (OUTPUT FORMAT): %t topic, %p payload, %q QoS, %r retain, "
    "%x hex, %j JSON, @H strftime, \\n newline; write %% for a literal %";

/// The flags, width and maximum width of one field.
struct FieldStyle {
  bool left_align = false;
  char pad = ' ';
  int width = 0;
  int precision = -1;
};

/// The moment a message arrived, split for strftime and for the fractional part.
struct Moment {
  std::time_t seconds = 0;
  long nanoseconds = 0;
};

Moment moment_of(std::chrono::system_clock::time_point when) {
  const auto since_epoch = std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch());
  auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  return {static_cast<std::time_t>(seconds.count()), static_cast<long>((since_epoch - seconds).count())};
}

std::tm local_tm(const Moment& moment) {
  std::tm result{};
  localtime_r(&moment.seconds, &result);
  return result;
}

std::string strftime_string(const char* pattern, const std::tm& tm) {
  std::array<char, 256> buffer{};
  const std::size_t length = std::strftime(buffer.data(), buffer.size(), pattern, &tm);
  return std::string(buffer.data(), length);
}

bool is_utf8(std::string_view text) { return mqtt::is_valid_utf8(text); }

std::string dump(const OrderedJson& json, int indent = -1) {
  return json.dump(indent, ' ', false, OrderedJson::error_handler_t::replace);
}

/// Pads `text` (whose display width is `length` bytes) to the style's width.
std::string padded(std::string text, const FieldStyle& style) {
  if (style.width <= 0 || static_cast<int>(text.size()) >= style.width) return text;
  const std::size_t fill = static_cast<std::size_t>(style.width) - text.size();
  if (style.left_align) return text + std::string(fill, ' ');
  return std::string(fill, style.pad) + text;
}

std::string format_int(long long value, const FieldStyle& style) {
  std::string digits = std::to_string(value);
  if (style.width <= 0 || static_cast<int>(digits.size()) >= style.width) return digits;
  if (style.left_align) return padded(std::move(digits), style);
  if (style.pad == '0' && value < 0) {
    const std::size_t fill = static_cast<std::size_t>(style.width) - digits.size();
    return "-" + std::string(fill, '0') + digits.substr(1);
  }
  return padded(std::move(digits), style);
}

std::string format_str(std::string_view value, const FieldStyle& style) {
  if (style.precision >= 0 && value.size() > static_cast<std::size_t>(style.precision))
    value = value.substr(0, static_cast<std::size_t>(style.precision));
  FieldStyle blank_padded = style;
  blank_padded.pad = ' ';  // strings are padded with blanks, like printf's %s
  return padded(std::string(value), blank_padded);
}

std::string blank(const FieldStyle& style) { return std::string(static_cast<std::size_t>(std::max(style.width, 0)), style.pad); }

std::string hex(std::string_view bytes, bool upper) {
  static constexpr std::string_view k_lower = "0123456789abcdef";
  static constexpr std::string_view k_upper = "0123456789ABCDEF";
  const std::string_view digits = upper ? k_upper : k_lower;
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    out.push_back(digits[byte >> 4]);
    out.push_back(digits[byte & 0x0F]);
  }
  return out;
}

bool has_properties(const PublishProperties& p) {
  return p.payload_is_utf8 || p.message_expiry_seconds || p.content_type || p.response_topic ||
         p.correlation_data || !p.user_properties.empty() || !p.subscription_identifiers.empty();
}

/// mosquitto_sub's %j/%J "properties" object (its hyphenated names).
OrderedJson mosquitto_properties(const PublishProperties& p) {
  OrderedJson props = OrderedJson::object();
  if (p.payload_is_utf8) props["payload-format-indicator"] = *p.payload_is_utf8 ? 1 : 0;
  if (p.message_expiry_seconds) props["message-expiry-interval"] = *p.message_expiry_seconds;
  if (p.content_type) props["content-type"] = *p.content_type;
  if (p.response_topic) props["response-topic"] = *p.response_topic;
  if (p.correlation_data) props["correlation-data"] = *p.correlation_data;
  if (!p.subscription_identifiers.empty()) props["subscription-identifier"] = p.subscription_identifiers.front();
  if (!p.user_properties.empty()) {
    OrderedJson users = OrderedJson::object();
    for (const auto& [name, value] : p.user_properties) users[name] = value;
    props["user-properties"] = std::move(users);
  }
  return props;
}

/// %j / %J. Returns nullopt for %J when the payload is not JSON.
std::optional<std::string> mosquitto_json(const ReceivedMessage& m, bool escaped, bool pretty) {
  const Moment moment = moment_of(m.received_at);
  const std::tm tm = local_tm(moment);
  char micros[24];
  std::snprintf(micros, sizeof micros, "%06ld", moment.nanoseconds / 1000);
  OrderedJson root;
  root["tst"] = strftime_string("%Y-%m-%dT%H:%M:%S.", tm) + micros + strftime_string("%z", tm);
  root["topic"] = m.topic;
  root["qos"] = m.qos;
  root["retain"] = m.retain ? 1 : 0;
  root["payloadlen"] = m.payload.size();
  if (has_properties(m.properties)) root["properties"] = mosquitto_properties(m.properties);
  if (escaped) {
    if (is_utf8(m.payload)) {
      root["payload"] = m.payload;
    } else {
      OrderedJson bytes = OrderedJson::array();
      for (unsigned char byte : m.payload) bytes.push_back(static_cast<int>(byte));
      root["payload"] = std::move(bytes);
    }
  } else {
    OrderedJson parsed = OrderedJson::parse(m.payload, nullptr, false);
    if (parsed.is_discarded()) return std::nullopt;
    root["payload"] = std::move(parsed);
  }
  return dump(root, pretty ? 2 : -1);
}

std::string user_properties_text(const PublishProperties& p) {
  std::string out;
  for (const auto& [name, value] : p.user_properties) {
    if (!out.empty()) out += ' ';
    out += name + ":" + value;
  }
  return out;
}

char escape_char(char c) {
  switch (c) {
  case '\\': return '\\';
  case '0': return '\0';
  case 'a': return '\a';
  case 'e': return '\033';
  case 'n': return '\n';
  case 'r': return '\r';
  case 't': return '\t';
  case 'v': return '\v';
  default: return 1;  // not an escape we know
  }
}

int parse_number(std::string_view format, std::size_t& i) {
  int value = 0;
  while (i < format.size() && format[i] >= '0' && format[i] <= '9') {
    if (value < 100000) value = value * 10 + (format[i] - '0');
    ++i;
  }
  return value;
}

} // namespace

MessageFormat::MessageFormat(std::string_view format, bool pretty_json) : m_pretty_json(pretty_json) {
  auto add_literal = [this](char c) {
    if (m_pieces.empty() || m_pieces.back().kind != Piece::Kind::literal) m_pieces.push_back({});
    m_pieces.back().text.push_back(c);
  };
  for (std::size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if (c == '%') {
      const std::size_t start = i++;
      Piece piece;
      piece.kind = Piece::Kind::field;
      if (i < format.size() && format[i] == '-') { piece.left_align = true; ++i; }
      if (i < format.size() && format[i] == '0') { piece.pad = '0'; ++i; }
      piece.width = parse_number(format, i);
      if (i < format.size() && format[i] == '.') { ++i; piece.precision = parse_number(format, i); }
      if (i >= format.size())
        throw ConfigError("format string ends in the middle of " + std::string(format.substr(start)), "-F",
                          std::string(k_hint));
      piece.spec = format[i];
      if (k_field_specs.find(piece.spec) == std::string_view::npos)
        throw ConfigError("unknown format specifier " + std::string(format.substr(start, i - start + 1)), "-F",
                          std::string(k_hint));
      if (piece.spec == '%') { add_literal('%'); continue; }
      if (piece.left_align) piece.pad = ' ';
      m_pieces.push_back(std::move(piece));
    } else if (c == '@') {
      if (++i >= format.size())
        throw ConfigError("format string ends with a lone @", "-F", "write @@ for a literal @");
      if (format[i] == '@') { add_literal('@'); continue; }
      Piece piece;
      piece.kind = Piece::Kind::strftime_char;
      piece.spec = format[i];
      m_pieces.push_back(std::move(piece));
    } else if (c == '\\') {
      if (++i >= format.size())
        throw ConfigError("format string ends with a lone \\", "-F", "write \\\\ for a literal backslash");
      const char escaped = escape_char(format[i]);
      if (escaped == 1)
        throw ConfigError(std::string("unknown escape \\") + format[i], "-F",
                          "the escapes are \\\\ \\0 \\a \\e \\n \\r \\t \\v");
      add_literal(escaped);
    } else {
      add_literal(c);
    }
  }
}

std::string MessageFormat::render(const ReceivedMessage& m, std::vector<std::string>* warnings) const {
  const PublishProperties& props = m.properties;
  const Moment moment = moment_of(m.received_at);
  std::optional<std::tm> tm;  // computed on first use: localtime_r is not free
  auto local = [&]() -> const std::tm& {
    if (!tm) tm = local_tm(moment);
    return *tm;
  };
  std::string out;
  for (const Piece& piece : m_pieces) {
    if (piece.kind == Piece::Kind::literal) {
      out += piece.text;
      continue;
    }
    if (piece.kind == Piece::Kind::strftime_char) {
      if (piece.spec == 'N') {
        char nanos[16];
        std::snprintf(nanos, sizeof nanos, "%09ld", moment.nanoseconds);
        out += nanos;
      } else {
        const char pattern[3] = {'%', piece.spec, '\0'};
        out += strftime_string(pattern, local());
      }
      continue;
    }
    const FieldStyle style{piece.left_align, piece.pad, piece.width, piece.precision};
    switch (piece.spec) {
    case 'A': out += blank(style); break;
    case 'C': out += props.content_type ? format_str(*props.content_type, style) : blank({false, ' ', style.width, -1}); break;
    case 'D': if (props.correlation_data) out += *props.correlation_data; break;
    case 'E': out += props.message_expiry_seconds ? format_int(*props.message_expiry_seconds, style) : blank(style); break;
    case 'F': out += props.payload_is_utf8 ? format_int(*props.payload_is_utf8 ? 1 : 0, style) : blank(style); break;
    case 'I': out += format_str(strftime_string("%FT%T%z", local()), style); break;
    case 'j': out += *mosquitto_json(m, true, m_pretty_json); break;
    case 'J': {
      // Parsing a payload nested deeper than the shared limit would overflow the stack
      // when the value is destroyed: it is printed as a string, as %j would.
      if (const auto deep = json_nesting_error(m.payload)) {
        out += *mosquitto_json(m, true, m_pretty_json);
        if (warnings)
          warnings->push_back(fmt::format("message payload on topic {} nests JSON deeper than {} levels (line {}, "
                                          "column {}); printed as a string (%J)",
                                          m.topic, k_max_json_depth, deep->line, deep->column));
        break;
      }
      auto json = mosquitto_json(m, false, m_pretty_json);
      if (json) out += *json;
      else if (warnings) warnings->push_back("message payload is not valid JSON on topic " + m.topic + " (%J)");
      break;
    }
    case 'l': out += format_int(static_cast<long long>(m.payload.size()), style); break;
    case 'm': out += format_int(m.packet_id, style); break;
    case 'P': out += user_properties_text(props); break;
    case 'p': out += padded(m.payload, {style.left_align, ' ', style.width, -1}); break;
    case 'q': out += static_cast<char>('0' + m.qos); break;
    case 'R': out += props.response_topic ? format_str(*props.response_topic, style) : blank({false, ' ', style.width, -1}); break;
    case 'r': out += m.retain ? '1' : '0'; break;
    case 'S':
      out += props.subscription_identifiers.empty() ? blank(style) : format_int(props.subscription_identifiers.front(), style);
      break;
    case 't': out += format_str(m.topic, style); break;
    case 'U': {
      char stamp[48];
      std::snprintf(stamp, sizeof stamp, "%lld.%09ld", static_cast<long long>(moment.seconds), moment.nanoseconds);
      out += stamp;
      break;
    }
    case 'x': out += padded(hex(m.payload, false), style); break;
    case 'X': out += padded(hex(m.payload, true), style); break;
    default: break;
    }
  }
  return out;
}

std::string render_payload_only(const ReceivedMessage& message) { return message.payload; }

std::string render_verbose(const ReceivedMessage& message) {
  if (message.payload.empty()) return message.topic + " (null)";
  return message.topic + " " + message.payload;
}

std::string render_jsonl(const ReceivedMessage& m) {
  const Moment moment = moment_of(m.received_at);
  std::tm utc{};
  gmtime_r(&moment.seconds, &utc);
  char millis[24];
  std::snprintf(millis, sizeof millis, ".%03ldZ", moment.nanoseconds / 1000000);
  OrderedJson root;
  root["timestamp"] = strftime_string("%Y-%m-%dT%H:%M:%S", utc) + millis;
  root["topic"] = m.topic;
  root["qos"] = m.qos;
  root["retain"] = m.retain;
  if (is_utf8(m.payload)) {
    root["payload"] = m.payload;
  } else {
    root["payload"] = base64_encode(m.payload);
    root["encoding"] = "base64";
  }
  const PublishProperties& p = m.properties;
  if (has_properties(p)) {
    OrderedJson props = OrderedJson::object();
    if (p.payload_is_utf8) props["payload_format_indicator"] = *p.payload_is_utf8 ? 1 : 0;
    if (p.message_expiry_seconds) props["message_expiry_interval"] = *p.message_expiry_seconds;
    if (p.content_type) props["content_type"] = *p.content_type;
    if (p.response_topic) props["response_topic"] = *p.response_topic;
    if (p.correlation_data) {
      if (is_utf8(*p.correlation_data)) {
        props["correlation_data"] = *p.correlation_data;
      } else {
        props["correlation_data"] = base64_encode(*p.correlation_data);
        props["correlation_data_encoding"] = "base64";
      }
    }
    if (!p.user_properties.empty()) {
      OrderedJson users = OrderedJson::array();
      for (const auto& [name, value] : p.user_properties) users.push_back({name, value});
      props["user_properties"] = std::move(users);
    }
    if (!p.subscription_identifiers.empty()) props["subscription_identifiers"] = p.subscription_identifiers;
    root["properties"] = std::move(props);
  }
  return dump(root);
}

std::string base64_encode(std::string_view data) {
  std::string out;
  // EVP_EncodeBlock takes an int length: encode in chunks that are multiples of 3 bytes.
  constexpr std::size_t k_chunk = 3 * 1024 * 1024;
  out.reserve((data.size() + 2) / 3 * 4);
  for (std::size_t offset = 0; offset < data.size(); offset += k_chunk) {
    const std::string_view part = data.substr(offset, k_chunk);
    std::string encoded((part.size() + 2) / 3 * 4 + 1, '\0');
    const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                       reinterpret_cast<const unsigned char*>(part.data()), static_cast<int>(part.size()));
    out.append(encoded.data(), static_cast<std::size_t>(length));
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0 || text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    return std::nullopt;
  if (text.empty()) return std::string();
  for (char c : text) {  // EVP_DecodeBlock skips blanks; a strict decoder must not
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                    c == '/' || c == '=';
    if (!ok) return std::nullopt;
  }
  const std::size_t first_pad = text.find('=');
  if (first_pad != std::string_view::npos &&
      (first_pad < text.size() - 2 || text.substr(first_pad).find_first_not_of('=') != std::string_view::npos))
    return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (length < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes; drop them.
  std::size_t size = static_cast<std::size_t>(length);
  if (text.ends_with("==")) size -= 2;
  else if (text.ends_with("=")) size -= 1;
  out.resize(size);
  return out;
}

} // namespace mqfleet
