#include <mqfleet/store/point.hpp>

#include <mqfleet/json_depth.hpp>

#include <cmath>
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

} // namespace

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
