#include "pub/pub_input.hpp"

#include <mqfleet/error.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <poll.h>
#include <unistd.h>

namespace mqfleet::cli {
namespace {

constexpr std::size_t k_chunk = 1 << 16;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// nlohmann's message without its "[json.exception.parse_error.101] " prefix.
std::string json_reason(const nlohmann::json::exception& e) {
  std::string text = e.what();
  if (auto pos = text.find("] "); pos != std::string::npos) text = text.substr(pos + 2);
  return text;
}

std::uint32_t parse_u32(const std::string& text, const std::string& name) {
  try {
    std::size_t used = 0;
    const unsigned long long value = std::stoull(text, &used);
    if (used == text.size() && value <= 0xFFFFFFFFull) return static_cast<std::uint32_t>(value);
  } catch (const std::exception&) {
    // Falls through to the error below.
  }
  throw ConfigError(fmt::format("'{}' is not a valid value for {}", text, name), "-D",
                    "give a whole number of seconds between 0 and 4294967295");
}

} // namespace

LineReader::LineReader(int fd, std::stop_token stop, InputWait wait)
    : m_fd(fd), m_stop(std::move(stop)), m_wait(std::move(wait)) {}

bool LineReader::fill() {
  if (m_eof) return false;
  if (m_start > 0) {
    m_buffer.erase(0, m_start);
    m_start = 0;
  }
  for (;;) {
    if (m_stop.stop_requested()) return false;
    pollfd p{m_fd, POLLIN, 0};
    const int ready = poll(&p, 1, m_wait ? 0 : 100);
    if (ready == 0 && m_wait) {
      m_wait(m_fd, std::chrono::milliseconds(100));
      continue;
    }
    if (ready == 0 || (ready < 0 && errno == EINTR)) continue;
    const std::size_t old_size = m_buffer.size();
    m_buffer.resize(old_size + k_chunk);
    const ssize_t n = read(m_fd, m_buffer.data() + old_size, k_chunk);
    if (n < 0 && errno == EINTR) {
      m_buffer.resize(old_size);
      continue;
    }
    m_buffer.resize(old_size + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
    if (n <= 0) {
      m_eof = true;
      return false;
    }
    return true;
  }
}

std::optional<std::string_view> LineReader::next() {
  for (;;) {
    const auto newline = m_buffer.find('\n', m_start);
    if (newline != std::string::npos) {
      std::string_view line(m_buffer.data() + m_start, newline - m_start);
      m_start = newline + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      ++m_line;
      return line;
    }
    if (!fill()) {
      if (m_stop.stop_requested() || m_start >= m_buffer.size()) return std::nullopt;
      // The last line had no newline.
      std::string_view line(m_buffer.data() + m_start, m_buffer.size() - m_start);
      m_start = m_buffer.size();
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      ++m_line;
      return line;
    }
  }
}

std::string LineReader::read_all() {
  while (fill()) {
  }
  std::string all = m_buffer.substr(m_start);
  m_start = m_buffer.size();
  return all;
}

void require_json(std::string_view payload, const std::string& where) {
  if (nlohmann::json::accept(payload)) return;
  try {
    const nlohmann::json parsed = nlohmann::json::parse(payload);
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(fmt::format("the payload is not valid JSON: {}", json_reason(e)), where,
                      "fix the JSON (strings need double quotes, no trailing commas), or drop --json");
  }
}

OutgoingMessage parse_jsonl_record(std::string_view line, std::size_t line_number, int qos, bool retain,
                                   bool require_json_payload) {
  const std::string where = fmt::format("stdin line {}", line_number);
  const char* hint = R"(each line must be an object like {"topic":"a/b","payload":{"t":21.5},"qos":1,"retain":false})";
  // ordered_json: a JSON payload is re-serialised with its keys in the order given.
  nlohmann::ordered_json record;
  try {
    record = nlohmann::ordered_json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(fmt::format("--jsonl line {} is not valid JSON: {}", line_number, json_reason(e)), where, hint);
  }
  if (!record.is_object())
    throw ConfigError(fmt::format("--jsonl line {} is not a JSON object", line_number), where, hint);
  OutgoingMessage message;
  message.qos = qos;
  message.retain = retain;
  for (const auto& [key, value] : record.items()) {
    if (key == "topic") {
      if (!value.is_string() || value.get_ref<const std::string&>().empty())
        throw ConfigError(fmt::format("--jsonl line {}: \"topic\" must be a non-empty string", line_number), where, hint);
      message.topic = value.get<std::string>();
    } else if (key == "payload") {
      if (value.is_string()) {
        message.payload = value.get<std::string>();
        if (require_json_payload) require_json(message.payload, where + " \"payload\"");
      } else {
        message.payload = value.dump();
      }
    } else if (key == "qos") {
      if (!value.is_number_integer() || value.get<int>() < 0 || value.get<int>() > 2)
        throw ConfigError(fmt::format("--jsonl line {}: \"qos\" must be 0, 1 or 2", line_number), where, hint);
      message.qos = value.get<int>();
    } else if (key == "retain") {
      if (!value.is_boolean())
        throw ConfigError(fmt::format("--jsonl line {}: \"retain\" must be true or false", line_number), where, hint);
      message.retain = value.get<bool>();
    } else {
      throw ConfigError(fmt::format("--jsonl line {}: unknown key \"{}\"", line_number, key), where,
                        "use only topic, payload, qos and retain");
    }
  }
  if (message.topic.empty())
    throw ConfigError(fmt::format("--jsonl line {} has no \"topic\"", line_number), where, hint);
  return message;
}

PublishProperties parse_publish_properties(const std::vector<std::vector<std::string>>& groups) {
  PublishProperties properties;
  for (const auto& group : groups) {
    if (group.size() < 3 || lower(group[0]) != "publish")
      throw ConfigError("-D expects: PUBLISH <property> <value> [value]", "-D",
                        "e.g. -D PUBLISH content-type application/json or -D PUBLISH user-property key value");
    const std::string name = lower(group[1]);
    const bool pair = name == "user-property";
    if (group.size() != (pair ? 4u : 3u))
      throw ConfigError(fmt::format("-D PUBLISH {} takes {} value(s)", name, pair ? 2 : 1), "-D",
                        pair ? "give a name and a value" : "give exactly one value");
    const std::string& value = group[2];
    if (pair) properties.user_properties.emplace_back(value, group[3]);
    else if (name == "content-type") properties.content_type = value;
    else if (name == "message-expiry-interval") properties.message_expiry_seconds = parse_u32(value, name);
    else if (name == "response-topic") properties.response_topic = value;
    else if (name == "correlation-data") properties.correlation_data = value;
    else if (name == "payload-format-indicator") {
      if (value != "0" && value != "1")
        throw ConfigError("payload-format-indicator must be 0 or 1", "-D", "1 means the payload is UTF-8 text");
      properties.payload_is_utf8 = value == "1";
    } else {
      throw ConfigError(fmt::format("unknown PUBLISH property '{}'", group[1]), "-D",
                        "use content-type, correlation-data, message-expiry-interval, payload-format-indicator, "
                        "response-topic or user-property");
    }
  }
  return properties;
}

} // namespace mqfleet::cli
