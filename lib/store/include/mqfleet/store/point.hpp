#pragma once
// One point of a data bucket and the rules that turn a PUBLISH payload into one
// (docs/buckets.md): the payload must be a JSON object; its `ts` member (epoch
// milliseconds) is the timestamp when present, otherwise the receive time.

#include <mqfleet/store/time_format.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mqfleet::store {

/// A stored point as read back from a bucket.
struct Point {
  EpochMs ts = 0;      ///< epoch milliseconds
  std::string device;  ///< the publisher's client id
  std::string topic;   ///< the topic in the account's view
  std::string payload; ///< the JSON object as received (compact text)
};

/// JSON with members in document order (CSV columns follow the devices' order).
using Json = nlohmann::ordered_json;

/// Validates a PUBLISH payload without building a document (the writer's hot path):
/// empty when it is not one complete JSON object; otherwise its timestamp: the
/// top-level numeric `ts` member (epoch ms; a fraction is truncated) when present and
/// non-negative, else `received_ms`. `own_ts` (optional) tells which of the two it is.
std::optional<EpochMs> payload_timestamp(std::string_view payload, EpochMs received_ms, bool* own_ts = nullptr);

/// A stored payload as an object for the readers (export, chart). Never throws and never
/// builds a value nested deeper than the shared JSON limit: a payload that is not a JSON
/// object or nests too deep (stored by an older version, or imported) reads as an empty
/// object, and `unreadable` (optional) is set.
Json stored_object(std::string_view payload, bool* unreadable = nullptr) noexcept;

/// Flattens an object into (dotted key, leaf value) pairs in document order: nested
/// objects become `a.b.c`; arrays and scalars are leaves; an empty object is dropped.
void flatten(const Json& object, std::vector<std::pair<std::string, const Json*>>& out,
             const std::string& prefix = {});

/// The numeric leaves of one stored payload, named as flatten() names them.
struct NumericLeaves {
  std::string names;                                       ///< the names, back to back
  std::vector<std::pair<std::size_t, std::size_t>> spans;  ///< (offset, length) in `names`
  std::vector<double> values;                              ///< one per span
  std::string scratch_path;                                ///< the reader's, kept between payloads
  std::vector<std::string_view> scratch_keys;              ///< the reader's, kept between payloads

  std::size_t size() const noexcept { return values.size(); }
  std::string_view name(std::size_t i) const noexcept { return std::string_view(names).substr(spans[i].first, spans[i].second); }
  void clear() noexcept;
};

/// Fills `out` with the numeric leaves of a stored payload in document order: exactly what
/// stored_object() + flatten() + is_number() give, but without building a document for
/// the common payload (ASCII strings without escapes, no repeated key, shallow); any other
/// payload takes that document path. The aggregation's hot path (REST `agg=`).
void numeric_leaves(std::string_view payload, NumericLeaves& out);

/// True when `payload` is one JSON object that numeric_leaves() reads without a document
/// (ASCII strings without escapes, no repeated key, shallow, nothing after it): its text
/// can go into a JSON reply as it is, instead of being parsed and printed again.
bool plain_json_object(std::string_view payload);

/// The inverse of flatten() for import: sets `dotted` (split at '.') inside `object`.
/// False when a dotted key collides with a leaf (e.g. `a` and `a.b`).
bool set_dotted(Json& object, std::string_view dotted, Json value);

} // namespace mqfleet::store
