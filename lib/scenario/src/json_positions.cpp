#include "json_positions.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace mqfleet::sim::detail {

namespace {

bool is_identifier(std::string_view key) {
  if (key.empty() || std::isdigit(static_cast<unsigned char>(key.front()))) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
  });
}

} // namespace

std::string child_path(const std::string& path, std::string_view key) {
  if (is_identifier(key)) return path.empty() ? std::string(key) : path + "." + std::string(key);
  return path + "[" + nlohmann::json(std::string(key)).dump() + "]";
}

std::string item_path(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

std::string parent_path(const std::string& path) {
  if (path.empty()) return {};
  if (path.back() == ']') {
    // Find the matching '[' outside a quoted key.
    std::size_t i = path.size() - 1;
    bool quoted = path[i - 1] == '"';
    if (!quoted) {
      const std::size_t open = path.rfind('[');
      return path.substr(0, open);
    }
    // `["key"]`: walk back to the opening quote, skipping escaped quotes.
    std::size_t j = i - 2;
    while (j > 0 && !(path[j] == '"' && path[j - 1] == '[' && (j < 2 || path[j - 2] != '\\'))) --j;
    return path.substr(0, j > 0 ? j - 1 : 0);
  }
  const std::size_t dot = path.find_last_of(".]");
  if (dot == std::string::npos) return {};
  if (path[dot] == ']') return path.substr(0, dot + 1);
  return path.substr(0, dot);
}

PositionIndex::PositionIndex(std::string_view text) : m_text(text) {
  m_line_starts.push_back(0);
  std::size_t code_points = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i % k_checkpoint_bytes == 0) m_code_points_before.push_back(code_points);
    if (text[i] == '\n') m_line_starts.push_back(i + 1);
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++code_points;
  }
  skip_space();
  if (m_pos < m_text.size()) scan_value({});
}

void PositionIndex::skip_space() {
  while (m_pos < m_text.size()) {
    const char c = m_text[m_pos];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++m_pos;
    } else if (c == '/' && m_pos + 1 < m_text.size() && m_text[m_pos + 1] == '/') {
      const std::size_t end = m_text.find('\n', m_pos);
      m_pos = end == std::string_view::npos ? m_text.size() : end + 1;
    } else if (c == '/' && m_pos + 1 < m_text.size() && m_text[m_pos + 1] == '*') {
      const std::size_t end = m_text.find("*/", m_pos + 2);
      m_pos = end == std::string_view::npos ? m_text.size() : end + 2;
    } else {
      return;
    }
  }
}

std::string PositionIndex::scan_key() {
  const std::size_t start = m_pos;
  ++m_pos; // opening quote
  while (m_pos < m_text.size() && m_text[m_pos] != '"') m_pos += m_text[m_pos] == '\\' ? 2 : 1;
  ++m_pos; // closing quote
  const auto decoded = nlohmann::json::parse(m_text.substr(start, m_pos - start), nullptr, false);
  return decoded.is_string() ? decoded.get<std::string>() : std::string();
}

void PositionIndex::scan_value(const std::string& path) {
  // Text this scanner reads differently from the parser (found by fuzz_scenario) can
  // leave it at the end, e.g. after a key without a value: never read past the text.
  if (m_pos >= m_text.size()) return;
  m_values.emplace(path, m_pos);
  const char c = m_text[m_pos];
  if (c == '{') {
    ++m_pos;
    skip_space();
    while (m_pos < m_text.size() && m_text[m_pos] != '}') {
      // Every round moves on, or text this scanner does not understand (found by
      // fuzz_scenario: a '/' the parser reads as a comment) would loop forever.
      const std::size_t round_start = m_pos;
      const std::size_t key_offset = m_pos;
      const std::string child = child_path(path, scan_key());
      if (!m_keys.emplace(child, key_offset).second) {
        m_duplicates.emplace_back(child, key_offset);
        m_keys[child] = key_offset;
        m_values.erase(child);
      }
      skip_space();
      ++m_pos; // ':'
      skip_space();
      scan_value(child);
      skip_space();
      if (m_pos < m_text.size() && m_text[m_pos] == ',') {
        ++m_pos;
        skip_space();
      }
      if (m_pos == round_start) ++m_pos;
    }
    ++m_pos;
  } else if (c == '[') {
    ++m_pos;
    skip_space();
    std::size_t index = 0;
    while (m_pos < m_text.size() && m_text[m_pos] != ']') {
      const std::size_t round_start = m_pos; // every round moves on (see above)
      scan_value(item_path(path, index++));
      skip_space();
      if (m_pos < m_text.size() && m_text[m_pos] == ',') {
        ++m_pos;
        skip_space();
      }
      if (m_pos == round_start) ++m_pos;
    }
    ++m_pos;
  } else if (c == '"') {
    ++m_pos;
    while (m_pos < m_text.size() && m_text[m_pos] != '"') m_pos += m_text[m_pos] == '\\' ? 2 : 1;
    ++m_pos;
  } else {
    while (m_pos < m_text.size() && std::string_view(",]} \t\r\n/").find(m_text[m_pos]) == std::string_view::npos)
      ++m_pos;
  }
}

std::string syntax_message(const std::exception& error) {
  std::string text = error.what();
  // "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error while ..."
  const std::size_t colon = text.find(": ");
  if (text.starts_with("[json.exception") && colon != std::string::npos) text = text.substr(colon + 2);
  if (text.starts_with("syntax error while parsing ")) text = "syntax error in " + text.substr(27);
  // Drop "; last read: '...'", which echoes raw text (newlines and all).
  const std::size_t last_read = text.find("; last read: ");
  if (last_read != std::string::npos) {
    const std::size_t expected = text.find("; expected", last_read);
    text.erase(last_read, expected == std::string::npos ? std::string::npos : expected - last_read);
  }
  return text;
}

SourcePos position_of(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  int line = 1;
  int column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++column;
    }
  }
  return {line, column};
}

std::size_t PositionIndex::code_points_before(std::size_t offset) const {
  // From the checkpoint at or before offset: at most k_checkpoint_bytes are counted, so a
  // diagnostic on a long (minified) line costs the same as one on a short line.
  if (m_code_points_before.empty()) return 0; // an empty text
  // offset may be the end of the text, one past the last checkpoint's block.
  const std::size_t checkpoint = std::min(offset / k_checkpoint_bytes, m_code_points_before.size() - 1);
  std::size_t count = m_code_points_before[checkpoint];
  for (std::size_t i = checkpoint * k_checkpoint_bytes; i < offset; ++i)
    if ((static_cast<unsigned char>(m_text[i]) & 0xC0) != 0x80) ++count;
  return count;
}

SourcePos PositionIndex::at_offset(std::size_t offset) const {
  if (m_line_starts.empty()) return {};
  offset = std::min(offset, m_text.size());
  const auto it = std::upper_bound(m_line_starts.begin(), m_line_starts.end(), offset);
  const std::size_t line = static_cast<std::size_t>(it - m_line_starts.begin());
  const std::size_t start = m_line_starts[line - 1];
  const std::size_t column = code_points_before(offset) - code_points_before(start) + 1;
  return {static_cast<int>(line), static_cast<int>(column)};
}

const std::size_t* PositionIndex::value_offset(const std::string& path) const {
  const auto it = m_values.find(path);
  return it == m_values.end() ? nullptr : &it->second;
}

SourcePos PositionIndex::value(const std::string& path) const {
  std::string p = path;
  while (true) {
    const auto it = m_values.find(p);
    if (it != m_values.end()) return at_offset(it->second);
    if (p.empty()) return {};
    p = parent_path(p);
  }
}

SourcePos PositionIndex::key(const std::string& path) const {
  const auto it = m_keys.find(path);
  if (it != m_keys.end()) return at_offset(it->second);
  return value(path);
}

} // namespace mqfleet::sim::detail
