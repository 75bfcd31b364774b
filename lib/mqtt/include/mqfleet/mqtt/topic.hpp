#pragma once
// Topic names, topic filters, wildcard matching and shared subscriptions (MQTT 5.0
// section 4.7 and 4.8.2, 3.1.1 section 4.7).

#include <cstddef>
#include <optional>
#include <string_view>

namespace mqfleet::mqtt {

/// Topics and filters are at most 65,535 bytes: they travel as a two-byte-length string.
inline constexpr std::size_t k_max_topic_length = 65535;

/// Why a topic name or filter is refused.
enum class TopicStatus {
  ok,
  empty,               ///< Zero bytes long.
  too_long,            ///< More than 65,535 bytes.
  bad_utf8,            ///< Not an allowed MQTT UTF-8 string.
  wildcard_in_name,    ///< A topic name contains '+' or '#'.
  bad_multi_level,     ///< '#' is not alone in the last level of a filter.
  bad_single_level,    ///< '+' shares its level with other characters.
  bad_shared,          ///< "$share/" without a valid group name or filter.
};

/// A short English description of a status, e.g. "'#' must be the last level".
std::string_view describe(TopicStatus status) noexcept;

/// Checks a topic name (the topic of a PUBLISH or a will): non-empty, UTF-8, no wildcards.
TopicStatus check_topic_name(std::string_view name) noexcept;

/// Checks a topic filter, including wildcard placement and "$share/group/filter".
TopicStatus check_topic_filter(std::string_view filter) noexcept;

/// True when check_topic_name(name) is ok.
bool is_valid_topic_name(std::string_view name) noexcept;

/// True when check_topic_filter(filter) is ok.
bool is_valid_topic_filter(std::string_view filter) noexcept;

/// Throws mqfleet::ProtocolError with reason 0x90 (topic name invalid) unless valid.
void validate_topic_name(std::string_view name);

/// Throws mqfleet::ProtocolError with reason 0x8F (topic filter invalid) unless valid.
void validate_topic_filter(std::string_view filter);

/// True when the filter contains '+' or '#'.
bool has_wildcards(std::string_view topic) noexcept;

/// True when the topic name is matched by the filter. Both are assumed valid; a shared
/// subscription's filter must be passed without its "$share/group/" prefix. Names that
/// begin with '$' are not matched by a filter whose first level is '+' or '#'.
bool topic_matches(std::string_view filter, std::string_view name) noexcept;

/// The parts of a shared subscription "$share/<group>/<filter>"; views into the input.
struct SharedSubscription {
  std::string_view group;
  std::string_view filter;
};

/// True when the filter starts with "$share/" (whether or not the rest is valid).
bool is_shared_subscription(std::string_view filter) noexcept;

/// Splits "$share/group/filter". nullopt when the filter is not a shared subscription or
/// its group (non-empty, no '/', '+', '#') or inner filter (non-empty, valid) is invalid.
std::optional<SharedSubscription> parse_shared_subscription(std::string_view filter) noexcept;

} // namespace mqfleet::mqtt
