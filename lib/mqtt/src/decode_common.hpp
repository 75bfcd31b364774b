#pragma once
// Private: the PUBLISH decoding shared by decode_publish and decode_publish_view.

#include <mqfleet/mqtt/frame.hpp>
#include <mqfleet/mqtt/publish_view.hpp>

#include <cstdint>
#include <string_view>

namespace mqfleet::mqtt::detail {

/// Validates a PUBLISH property block without allocating; returns its Topic Alias or 0.
std::uint16_t validate_publish_properties(std::string_view block);

/// Decodes and fully validates a PUBLISH frame into views.
PublishView decode_publish_parts(const Frame& frame, ProtocolVersion version);

} // namespace mqfleet::mqtt::detail
