#pragma once
// Input handling for `mqfleet pub`: a stop-aware line reader over a file descriptor,
// JSON payload checks, --jsonl records and -D properties.

#include "property_flags.hpp"

#include <mqfleet/connection.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace mqfleet::cli {

/// Waits until `fd` is readable or the time passes (true: readable), doing other work
/// meanwhile, e.g. keeping a connection alive.
using InputWait = std::function<bool(int fd, std::chrono::milliseconds timeout)>;

/// Reads lines from a descriptor in large chunks; notices a stop request within
/// ~100 ms even when no input arrives (signals are handled on another thread).
class LineReader {
public:
  /// Reads `fd`; when no input is ready it calls `wait` (if given) instead of blocking
  /// in poll(), so a single-threaded client can serve its connection meanwhile.
  /// A line (or -s input) longer than `max_line` bytes is a ConfigError naming it.
  LineReader(int fd, std::stop_token stop, InputWait wait = {}, std::size_t max_line = 268'435'455);
  /// The next line without its newline (and without a trailing CR); nullopt at end of
  /// input or when stop was requested. The view is valid until the next call.
  std::optional<std::string_view> next();
  /// Everything left on the descriptor (for -s).
  std::string read_all();
  /// Number of the line last returned (1-based).
  std::size_t line_number() const noexcept { return m_line; }

private:
  bool fill();

  int m_fd;
  std::stop_token m_stop;
  InputWait m_wait;
  std::string m_buffer;
  std::size_t m_start = 0;
  bool m_eof = false;
  std::size_t m_line = 0;
  std::size_t m_max_line;
};

/// Throws ConfigError saying where (`where`: "-m", "-f FILE", "stdin line N") the payload
/// is not valid JSON, at which offset, and how to fix it.
void require_json(std::string_view payload, const std::string& where);

/// One --jsonl record turned into a message (defaults: `qos`, `retain`); throws
/// ConfigError naming the line.
OutgoingMessage parse_jsonl_record(std::string_view line, std::size_t line_number, int qos, bool retain,
                                   bool require_json_payload);

/// The largest payload one PUBLISH to `topic` can carry (the protocol's limit).
std::size_t max_payload_size(std::string_view topic) noexcept;

/// The content of a -f file, read in chunks with memory bounded by `limit`: a directory,
/// an unreadable file or one larger than `limit` (endless devices included) is a
/// ConfigError naming the file.
std::string read_message_file(const std::string& path, std::size_t limit);

} // namespace mqfleet::cli
