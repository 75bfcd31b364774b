#pragma once
// The broker's in-memory application message: what a PUBLISH carried, with the topic
// already mounted into the broker's internal namespace (see tenancy.hpp). Messages are
// immutable once routed and shared between every session that receives them.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mqfleet::broker {

/// The clock for every expiry in the broker (sessions, wills, messages).
using Clock = std::chrono::steady_clock;

/// The MQTT v5 properties of a PUBLISH that the broker forwards unchanged.
struct MessageProperties {
  std::optional<std::uint8_t> payload_format_indicator;
  std::optional<std::string> content_type;
  std::optional<std::string> response_topic;
  std::optional<std::string> correlation_data;
  std::vector<std::pair<std::string, std::string>> user_properties;
};

/// One application message as routed by the broker.
struct Message {
  std::string topic;    ///< internal (mounted) topic name
  std::string payload;  ///< raw bytes
  std::uint8_t qos = 0; ///< QoS the publisher used
  bool retain = false;  ///< RETAIN flag the publisher set
  MessageProperties properties;
  /// When the v5 message expiry interval runs out; empty = never.
  std::optional<Clock::time_point> expires_at;

  /// True when the message expired at `now`.
  bool expired(Clock::time_point now) const noexcept { return expires_at && *expires_at <= now; }
  /// The remaining v5 message expiry interval in whole seconds (at least 1 while not
  /// expired); empty when the message has no expiry.
  std::optional<std::uint32_t> remaining_expiry(Clock::time_point now) const noexcept;
};

/// Messages are shared, never copied, on fan-out.
using MessagePtr = std::shared_ptr<const Message>;

} // namespace mqfleet::broker
