#pragma once
// Where each value and key of a JSON document sits in its text. nlohmann_json 3.11 reports
// a byte offset only for syntax errors (its SAX events carry no position), so after it
// has accepted the text a second, tiny scanner walks the same text and records the byte
// offset of every value and every object key under its JSON path.

#include <mqfleet/scenario/diagnostic.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mqfleet::sim::detail {

/// A 1-based line and column (code points); {0, 0} means unknown.
struct SourcePos {
  int line = 0;
  int column = 0;
};

/// `path.key`, or `path["odd key"]` when the key is not an identifier.
std::string child_path(const std::string& path, std::string_view key);
/// `path[index]`.
std::string item_path(const std::string& path, std::size_t index);

/// Positions of every value and key of a syntactically valid JSON-with-comments text.
class PositionIndex {
public:
  PositionIndex() = default;
  /// Scans `text`, which nlohmann has already parsed successfully with comments allowed.
  explicit PositionIndex(std::string_view text);

  /// The position of the value at `path`, or of its closest recorded parent.
  SourcePos value(const std::string& path) const;
  /// The position of the key that introduces `path`; falls back to value().
  SourcePos key(const std::string& path) const;
  /// The position of a byte offset in the text.
  SourcePos at_offset(std::size_t offset) const;
  /// The byte offset where the value at `path` starts, if recorded.
  const std::size_t* value_offset(const std::string& path) const;
  /// The text the index was built from.
  std::string_view text() const noexcept { return m_text; }

  /// Paths of keys that appear twice in the same object, with the second key's offset.
  const std::vector<std::pair<std::string, std::size_t>>& duplicates() const noexcept { return m_duplicates; }

private:
  /// Code points (UTF-8 lead bytes) in the text before `offset`.
  std::size_t code_points_before(std::size_t offset) const;
  void skip_space();
  void scan_value(const std::string& path);
  std::string scan_key();

  std::string_view m_text;
  std::size_t m_pos = 0;
  std::vector<std::size_t> m_line_starts;
  /// Code points before every k_checkpoint_bytes-th byte: columns in O(1) per lookup.
  static constexpr std::size_t k_checkpoint_bytes = 64;
  std::vector<std::size_t> m_code_points_before;
  std::unordered_map<std::string, std::size_t> m_values;
  std::unordered_map<std::string, std::size_t> m_keys;
  std::vector<std::pair<std::string, std::size_t>> m_duplicates;
};

/// The position of a byte offset in any text (used for syntax errors, before scanning).
SourcePos position_of(std::string_view text, std::size_t offset);

/// nlohmann's parse error text without its "[json.exception...] parse error at line..:" prefix.
std::string syntax_message(const std::exception& error);

/// The parent of a path: "a.b[2]" -> "a.b", "a" -> "".
std::string parent_path(const std::string& path);

} // namespace mqfleet::sim::detail
