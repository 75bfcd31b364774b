#include <mqfleet/store/point.hpp>

#include <mqfleet/json_depth.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

namespace mqfleet::store {
namespace {

/// SAX handler: accepts one top-level object and picks up its `ts` member.
struct TimestampScanner {
  using number_integer_t = Json::number_integer_t;
  using number_unsigned_t = Json::number_unsigned_t;
  using number_float_t = Json::number_float_t;
  using string_t = Json::string_t;
  using binary_t = Json::binary_t;

  int depth = 0;
  bool started = false;
  bool at_ts = false;
  std::optional<EpochMs> ts;

  bool value() {
    at_ts = false;
    return started;
  }
  bool null() { return value(); }
  bool boolean(bool) { return value(); }
  bool number_integer(number_integer_t v) {
    if (at_ts && depth == 1 && v >= 0) ts = v;
    return value();
  }
  bool number_unsigned(number_unsigned_t v) {
    if (at_ts && depth == 1 && v <= static_cast<number_unsigned_t>(std::numeric_limits<EpochMs>::max()))
      ts = static_cast<EpochMs>(v);
    return value();
  }
  bool number_float(number_float_t v, const string_t&) {
    if (at_ts && depth == 1 && std::isfinite(v) && v >= 0 && v < 9.0e18) ts = static_cast<EpochMs>(v);
    return value();
  }
  bool string(string_t&) { return value(); }
  bool binary(binary_t&) { return value(); }
  bool start_object(std::size_t) {
    if (!started) {
      if (depth != 0) return false;
      started = true;
    }
    at_ts = false;
    ++depth;
    return true;
  }
  bool key(string_t& k) {
    at_ts = depth == 1 && k == "ts";
    return true;
  }
  bool end_object() {
    --depth;
    return true;
  }
  bool start_array(std::size_t) {
    at_ts = false;
    ++depth;
    return started;
  }
  bool end_array() {
    --depth;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }
};

/// The fast path of numeric_leaves(): a strict JSON reader of the plain payloads devices
/// send. Returns false (and the caller takes the document path) on anything it does not
/// read exactly as nlohmann's parser would: escapes, bytes outside ASCII, control bytes,
/// repeated keys, deep nesting, numbers out of range, malformed input.
class LeafScanner {
public:
  LeafScanner(std::string_view text, NumericLeaves& out)
      : m_text(text), m_out(out), m_path(out.scratch_path), m_keys(out.scratch_keys) {}

  bool scan() {
    skip_space();
    if (m_pos >= m_text.size() || m_text[m_pos] != '{') return false;
    if (!object(0, 1, true)) return false;
    skip_space();
    return m_pos == m_text.size();
  }

private:
  static constexpr int k_max_depth = 32;
  static constexpr std::size_t k_max_keys = 64;

  void skip_space() {
    while (m_pos < m_text.size() &&
           (m_text[m_pos] == ' ' || m_text[m_pos] == '\t' || m_text[m_pos] == '\n' || m_text[m_pos] == '\r'))
      ++m_pos;
  }
  bool digit() const { return m_pos < m_text.size() && m_text[m_pos] >= '0' && m_text[m_pos] <= '9'; }

  bool string(std::string_view* text) {
    const std::size_t start = ++m_pos; // past the quote
    while (m_pos < m_text.size()) {
      const auto c = static_cast<unsigned char>(m_text[m_pos]);
      if (c == '"') {
        if (text != nullptr) *text = m_text.substr(start, m_pos - start);
        ++m_pos;
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
      ++m_pos;
    }
    return false;
  }

  bool literal(std::string_view word) {
    if (m_text.substr(m_pos, word.size()) != word) return false;
    m_pos += word.size();
    return true;
  }

  bool number(double& value) {
    const std::size_t start = m_pos;
    const bool negative = m_text[m_pos] == '-';
    if (negative) ++m_pos;
    // One pass: the grammar, and the digits while they fit Clinger's fast path.
    std::uint64_t digits = 0;
    int significant = 0; // digits counted from the first non-zero one
    int fraction = 0;    // digits after the point
    const auto take_digit = [&] {
      const auto d = static_cast<std::uint64_t>(m_text[m_pos] - '0');
      digits = digits * 10 + d;
      if (digits != 0) ++significant;
      ++m_pos;
    };
    if (m_pos < m_text.size() && m_text[m_pos] == '0') take_digit();
    else if (digit()) while (digit()) take_digit();
    else return false;
    bool integral = true;
    if (m_pos < m_text.size() && m_text[m_pos] == '.') {
      integral = false;
      ++m_pos;
      if (!digit()) return false;
      while (digit()) {
        take_digit();
        ++fraction;
      }
    }
    bool exponent = false;
    if (m_pos < m_text.size() && (m_text[m_pos] == 'e' || m_text[m_pos] == 'E')) {
      integral = false;
      exponent = true;
      ++m_pos;
      if (m_pos < m_text.size() && (m_text[m_pos] == '+' || m_text[m_pos] == '-')) ++m_pos;
      if (!digit()) return false;
      while (digit()) ++m_pos;
    }
    // As nlohmann: an integer is read as int64 / uint64 and converted (to the nearest
    // double); a float is the nearest double (strtod), an error when out of range.
    // Clinger's fast path: at most 15 significant digits and a power of ten up to 22 give
    // the nearest double in one exact division.
    static constexpr double k_powers[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                          1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    if (!exponent && significant <= 15 && fraction <= 22) {
      value = static_cast<double>(digits) / k_powers[fraction];
      if (negative) value = integral ? static_cast<double>(-static_cast<std::int64_t>(digits)) : -value;
      return true;
    }
    const char* first = m_text.data() + start;
    const char* last = m_text.data() + m_pos;
    if (integral) {
      if (negative) {
        std::int64_t v = 0;
        if (auto r = std::from_chars(first, last, v); r.ec == std::errc() && r.ptr == last) {
          value = static_cast<double>(v);
          return true;
        }
      } else {
        std::uint64_t v = 0;
        if (auto r = std::from_chars(first, last, v); r.ec == std::errc() && r.ptr == last) {
          value = static_cast<double>(v);
          return true;
        }
      }
    }
    auto r = std::from_chars(first, last, value);
    return r.ec == std::errc() && r.ptr == last && std::isfinite(value);
  }

  /// One value at nesting `depth`, named `m_path[0, name)`; `emit` is false inside arrays
  /// (an array is a leaf, never a number).
  bool value(std::size_t name, int depth, bool emit) {
    if (m_pos >= m_text.size()) return false;
    switch (m_text[m_pos]) {
    case '{': return object(name, depth + 1, emit);
    case '[': return array(depth + 1);
    case '"': return string(nullptr);
    case 't': return literal("true");
    case 'f': return literal("false");
    case 'n': return literal("null");
    default: {
      if (m_text[m_pos] != '-' && !digit()) return false;
      double v = 0;
      if (!number(v)) return false;
      if (emit) {
        m_out.spans.emplace_back(m_out.names.size(), name);
        m_out.names.append(m_path, 0, name);
        m_out.values.push_back(v);
      }
      return true;
    }
    }
  }

  /// An object at nesting `depth` whose keys are named `m_path[0, prefix)` + "." + key.
  bool object(std::size_t prefix, int depth, bool emit) {
    if (depth > k_max_depth) return false;
    ++m_pos; // '{'
    skip_space();
    if (m_pos < m_text.size() && m_text[m_pos] == '}') {
      ++m_pos;
      return true;
    }
    const std::size_t siblings = m_keys.size(); // this object's keys start here
    for (;;) {
      skip_space();
      std::string_view key;
      if (m_pos >= m_text.size() || m_text[m_pos] != '"' || !string(&key)) return false;
      skip_space();
      if (m_pos >= m_text.size() || m_text[m_pos] != ':') return false;
      ++m_pos;
      skip_space();
      // A repeated key: the document keeps only the last value; let it decide.
      if (emit && !remember_key(key, siblings)) return false;
      m_path.resize(prefix);
      if (prefix > 0) m_path += '.';
      m_path += key;
      if (!value(m_path.size(), depth, emit)) return false;
      skip_space();
      if (m_pos >= m_text.size()) return false;
      if (m_text[m_pos] == '}') {
        ++m_pos;
        m_keys.resize(siblings);
        return true;
      }
      if (m_text[m_pos] != ',') return false;
      ++m_pos;
    }
  }

  bool array(int depth) {
    if (depth > k_max_depth) return false;
    ++m_pos; // '['
    skip_space();
    if (m_pos < m_text.size() && m_text[m_pos] == ']') {
      ++m_pos;
      return true;
    }
    for (;;) {
      skip_space();
      if (!value(0, depth, false)) return false;
      skip_space();
      if (m_pos >= m_text.size()) return false;
      if (m_text[m_pos] == ']') {
        ++m_pos;
        return true;
      }
      if (m_text[m_pos] != ',') return false;
      ++m_pos;
    }
  }

  /// Records a key of the object whose keys start at `siblings`; false when that object
  /// has it already.
  bool remember_key(std::string_view key, std::size_t siblings) {
    if (m_keys.size() >= k_max_keys) return false;
    for (std::size_t i = siblings; i < m_keys.size(); ++i)
      if (m_keys[i] == key) return false;
    m_keys.push_back(key);
    return true;
  }

  std::string_view m_text;
  NumericLeaves& m_out;
  std::size_t m_pos = 0;
  std::string& m_path;
  std::vector<std::string_view>& m_keys; ///< the keys of the objects being read, outermost first
};

} // namespace

void NumericLeaves::clear() noexcept {
  names.clear();
  spans.clear();
  values.clear();
}

void numeric_leaves(std::string_view payload, NumericLeaves& out) {
  out.clear();
  out.scratch_keys.clear();
  if (LeafScanner(payload, out).scan()) return;
  out.clear();
  const Json object = stored_object(payload);
  std::vector<std::pair<std::string, const Json*>> leaves;
  flatten(object, leaves);
  for (const auto& [name, leaf] : leaves) {
    if (!leaf->is_number()) continue;
    out.spans.emplace_back(out.names.size(), name.size());
    out.names += name;
    out.values.push_back(leaf->get<double>());
  }
}

bool plain_json_object(std::string_view payload) {
  thread_local NumericLeaves scratch;
  scratch.clear();
  scratch.scratch_keys.clear();
  return LeafScanner(payload, scratch).scan();
}

std::optional<EpochMs> payload_timestamp(std::string_view payload, EpochMs received_ms, bool* own_ts) {
  if (own_ts != nullptr) *own_ts = false;
  // Cheap first test so that binary and plain-text payloads never reach the parser.
  std::size_t first = 0;
  while (first < payload.size() && (payload[first] == ' ' || payload[first] == '\t' || payload[first] == '\r' ||
                                    payload[first] == '\n'))
    ++first;
  if (first == payload.size() || payload[first] != '{') return std::nullopt;
  TimestampScanner scanner;
  if (!Json::sax_parse(payload.begin(), payload.end(), &scanner)) return std::nullopt;
  if (own_ts != nullptr) *own_ts = scanner.ts.has_value();
  return scanner.ts.value_or(received_ms);
}

Json stored_object(std::string_view payload, bool* unreadable) noexcept {
  if (unreadable != nullptr) *unreadable = true;
  if (json_nesting_error(payload)) return Json::object();
  try {
    auto object = Json::parse(payload.begin(), payload.end(), nullptr, false);
    if (!object.is_object()) return Json::object();
    if (unreadable != nullptr) *unreadable = false;
    return object;
  } catch (...) {
    return Json::object(); // out of memory
  }
}

void flatten(const Json& object, std::vector<std::pair<std::string, const Json*>>& out, const std::string& prefix) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object()) flatten(*it, out, key);
    else out.emplace_back(std::move(key), &*it);
  }
}

bool set_dotted(Json& object, std::string_view dotted, Json value) {
  Json* node = &object;
  for (;;) {
    const auto dot = dotted.find('.');
    const std::string part(dotted.substr(0, dot));
    if (part.empty()) return false;
    if (dot == std::string_view::npos) {
      if (node->contains(part)) return false;
      (*node)[part] = std::move(value);
      return true;
    }
    auto& child = (*node)[part];
    if (child.is_null()) child = Json::object();
    if (!child.is_object()) return false;
    node = &child;
    dotted.remove_prefix(dot + 1);
  }
}

} // namespace mqfleet::store
