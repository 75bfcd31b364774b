#include "pub/pub_input.hpp"

#include "connection_resolve.hpp"

#include <mqfleet/error.hpp>
#include <mqfleet/json_depth.hpp>
#include <mqfleet/mqtt/topic.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mqfleet::cli {
namespace {

constexpr std::size_t k_chunk = 1 << 16;

// nlohmann's message without its "[json.exception.parse_error.101] " prefix.
std::string json_reason(const nlohmann::json::exception& e) {
  std::string text = e.what();
  if (auto pos = text.find("] "); pos != std::string::npos) text = text.substr(pos + 2);
  return text;
}

// The largest Remaining Length of an MQTT packet (MQTT 5.0 section 1.5.5).
constexpr std::size_t k_max_remaining_length = 268'435'455;

std::string too_deep(const JsonDepthViolation& deep) {
  return fmt::format("the JSON nests deeper than {} levels (line {}, column {})", k_max_json_depth, deep.line,
                     deep.column);
}
constexpr const char* k_too_deep_hint = "flatten the document: mqfleet reads JSON nested up to 64 levels deep";

} // namespace

std::size_t max_payload_size(std::string_view topic) noexcept {
  // Topic length field and topic, packet identifier, the longest v5 properties length.
  const std::size_t overhead = 2 + topic.size() + 2 + 4;
  return overhead >= k_max_remaining_length ? 0 : k_max_remaining_length - overhead;
}

std::string read_message_file(const std::string& path, std::size_t limit) {
  const char* hint = "give -f a regular file that fits in one MQTT message (at most 256 MB)";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw ConfigError(fmt::format("cannot read the message file '{}': {}", path, std::strerror(errno)), "-f",
                      "give a readable file to -f");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0 || S_ISDIR(info.st_mode))
    throw ConfigError(fmt::format("the message file '{}' is a directory", path), "-f", hint);
  const auto too_large = [&] {
    return ConfigError(fmt::format("the message file '{}' is larger than {} bytes, the most one message can carry",
                                   path, limit),
                       "-f", hint);
  };
  if (S_ISREG(info.st_mode) && static_cast<std::uint64_t>(info.st_size) > limit) throw too_large();
  // Sizes of /proc files and devices say nothing: read in chunks, at most limit + 1 bytes.
  std::string content;
  if (S_ISREG(info.st_mode) && info.st_size > 0) content.reserve(static_cast<std::size_t>(info.st_size));
  for (;;) {
    if (content.size() > limit) throw too_large();
    const std::size_t want = std::min<std::size_t>(k_chunk, limit + 1 - content.size());
    const std::size_t old_size = content.size();
    content.resize(old_size + want);
    const ssize_t n = ::read(fd, content.data() + old_size, want);
    if (n < 0 && errno == EINTR) {
      content.resize(old_size);
      continue;
    }
    if (n < 0)
      throw ConfigError(fmt::format("cannot read the message file '{}': {}", path, std::strerror(errno)), "-f", hint);
    content.resize(old_size + static_cast<std::size_t>(n));
    if (n == 0) break;
  }
  return content;
}

LineReader::LineReader(int fd, std::stop_token stop, InputWait wait, std::size_t max_line)
    : m_fd(fd), m_stop(std::move(stop)), m_wait(std::move(wait)), m_max_line(max_line) {}

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
    if (m_buffer.size() - m_start > m_max_line)
      throw ConfigError(fmt::format("stdin line {} is longer than {} bytes, the most one message can carry",
                                    m_line + 1, m_max_line),
                        fmt::format("stdin line {}", m_line + 1), "split the input into smaller lines");
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
    if (m_buffer.size() - m_start > m_max_line)
      throw ConfigError(fmt::format("stdin is larger than {} bytes, the most one message can carry", m_max_line),
                        "stdin (-s)", "send a smaller input, or split it with -l");
  }
  std::string all = m_buffer.substr(m_start);
  m_start = m_buffer.size();
  return all;
}

void require_json(std::string_view payload, const std::string& where) {
  if (const auto deep = json_nesting_error(payload))
    throw ConfigError(fmt::format("the payload is not accepted: {}", too_deep(*deep)), where, k_too_deep_hint);
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
  if (const auto deep = json_nesting_error(line))
    throw ConfigError(fmt::format("--jsonl line {}: {}", line_number, too_deep(*deep)),
                      fmt::format("stdin line {}, column {}", line_number, deep->column), k_too_deep_hint);
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
      require_topic_name(message.topic, where);
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

} // namespace mqfleet::cli
