#include <mqfleet/mqtt/properties.hpp>

#include "wire.hpp"

#include <mqfleet/mqtt/frame.hpp>

#include <array>

namespace mqfleet::mqtt {
namespace {

using detail::fail;
using detail::k_malformed;
using detail::k_protocol_error;

constexpr PropertyScope k_publish = scope_of(PacketType::publish);
constexpr PropertyScope k_connect = scope_of(PacketType::connect);
constexpr PropertyScope k_connack = scope_of(PacketType::connack);
constexpr PropertyScope k_subscribe = scope_of(PacketType::subscribe);
constexpr PropertyScope k_disconnect = scope_of(PacketType::disconnect);
constexpr PropertyScope k_auth = scope_of(PacketType::auth);
constexpr PropertyScope k_acks = scope_of(PacketType::puback) | scope_of(PacketType::pubrec) |
                                 scope_of(PacketType::pubrel) | scope_of(PacketType::pubcomp) |
                                 scope_of(PacketType::suback) | scope_of(PacketType::unsuback);
constexpr PropertyScope k_all = (0xFFFE & ~scope_of(PacketType::pingreq) &
                                 ~scope_of(PacketType::pingresp)) | k_will_scope;

using T = PropertyType;
using Id = PropertyId;

const std::vector<PropertyInfo> k_infos = {
    {Id::payload_format_indicator, "Payload Format Indicator", T::byte, k_publish | k_will_scope, false},
    {Id::message_expiry_interval, "Message Expiry Interval", T::four_byte_integer, k_publish | k_will_scope, false},
    {Id::content_type, "Content Type", T::utf8_string, k_publish | k_will_scope, false},
    {Id::response_topic, "Response Topic", T::utf8_string, k_publish | k_will_scope, false},
    {Id::correlation_data, "Correlation Data", T::binary_data, k_publish | k_will_scope, false},
    {Id::subscription_identifier, "Subscription Identifier", T::variable_byte_integer, k_publish | k_subscribe, true},
    {Id::session_expiry_interval, "Session Expiry Interval", T::four_byte_integer, k_connect | k_connack | k_disconnect, false},
    {Id::assigned_client_identifier, "Assigned Client Identifier", T::utf8_string, k_connack, false},
    {Id::server_keep_alive, "Server Keep Alive", T::two_byte_integer, k_connack, false},
    {Id::authentication_method, "Authentication Method", T::utf8_string, k_connect | k_connack | k_auth, false},
    {Id::authentication_data, "Authentication Data", T::binary_data, k_connect | k_connack | k_auth, false},
    {Id::request_problem_information, "Request Problem Information", T::byte, k_connect, false},
    {Id::will_delay_interval, "Will Delay Interval", T::four_byte_integer, k_will_scope, false},
    {Id::request_response_information, "Request Response Information", T::byte, k_connect, false},
    {Id::response_information, "Response Information", T::utf8_string, k_connack, false},
    {Id::server_reference, "Server Reference", T::utf8_string, k_connack | k_disconnect, false},
    {Id::reason_string, "Reason String", T::utf8_string, k_connack | k_acks | k_disconnect | k_auth, false},
    {Id::receive_maximum, "Receive Maximum", T::two_byte_integer, k_connect | k_connack, false},
    {Id::topic_alias_maximum, "Topic Alias Maximum", T::two_byte_integer, k_connect | k_connack, false},
    {Id::topic_alias, "Topic Alias", T::two_byte_integer, k_publish, false},
    {Id::maximum_qos, "Maximum QoS", T::byte, k_connack, false},
    {Id::retain_available, "Retain Available", T::byte, k_connack, false},
    {Id::user_property, "User Property", T::utf8_string_pair, k_all, true},
    {Id::maximum_packet_size, "Maximum Packet Size", T::four_byte_integer, k_connect | k_connack, false},
    {Id::wildcard_subscription_available, "Wildcard Subscription Available", T::byte, k_connack, false},
    {Id::subscription_identifier_available, "Subscription Identifier Available", T::byte, k_connack, false},
    {Id::shared_subscription_available, "Shared Subscription Available", T::byte, k_connack, false},
};

const std::array<const PropertyInfo*, 256> k_by_id = [] {
  std::array<const PropertyInfo*, 256> table{};
  for (const PropertyInfo& info : k_infos) table[static_cast<std::uint8_t>(info.id)] = &info;
  return table;
}();

/// Calls f(id, value) for every present property in identifier order.
template <typename F>
void for_each_property(const Properties& p, F&& f) {
  const auto opt = [&f](Id id, const auto& value) {
    if (value) f(id, *value);
  };
  opt(Id::payload_format_indicator, p.payload_format_indicator);
  opt(Id::message_expiry_interval, p.message_expiry_interval);
  opt(Id::content_type, p.content_type);
  opt(Id::response_topic, p.response_topic);
  opt(Id::correlation_data, p.correlation_data);
  for (const std::uint32_t id : p.subscription_identifiers) f(Id::subscription_identifier, id);
  opt(Id::session_expiry_interval, p.session_expiry_interval);
  opt(Id::assigned_client_identifier, p.assigned_client_identifier);
  opt(Id::server_keep_alive, p.server_keep_alive);
  opt(Id::authentication_method, p.authentication_method);
  opt(Id::authentication_data, p.authentication_data);
  opt(Id::request_problem_information, p.request_problem_information);
  opt(Id::will_delay_interval, p.will_delay_interval);
  opt(Id::request_response_information, p.request_response_information);
  opt(Id::response_information, p.response_information);
  opt(Id::server_reference, p.server_reference);
  opt(Id::reason_string, p.reason_string);
  opt(Id::receive_maximum, p.receive_maximum);
  opt(Id::topic_alias_maximum, p.topic_alias_maximum);
  opt(Id::topic_alias, p.topic_alias);
  opt(Id::maximum_qos, p.maximum_qos);
  opt(Id::retain_available, p.retain_available);
  for (const UserProperty& up : p.user_properties) f(Id::user_property, up);
  opt(Id::maximum_packet_size, p.maximum_packet_size);
  opt(Id::wildcard_subscription_available, p.wildcard_subscription_available);
  opt(Id::subscription_identifier_available, p.subscription_identifier_available);
  opt(Id::shared_subscription_available, p.shared_subscription_available);
}

std::string_view name_of(Id id) noexcept { return k_by_id[static_cast<std::uint8_t>(id)]->name; }

/// One decoded property value: number for integer types, text (and text2 for the value
/// of a user property) for strings and binary data.
struct PropertyValue {
  std::uint32_t number = 0;
  std::string_view text;
  std::string_view text2;
};

bool must_be_flag(Id id) noexcept {
  switch (id) {
  case Id::payload_format_indicator:
  case Id::request_problem_information:
  case Id::request_response_information:
  case Id::maximum_qos:
  case Id::retain_available:
  case Id::wildcard_subscription_available:
  case Id::subscription_identifier_available:
  case Id::shared_subscription_available: return true;
  default: return false;
  }
}

bool must_be_nonzero(Id id) noexcept {
  return id == Id::subscription_identifier || id == Id::receive_maximum || id == Id::topic_alias ||
         id == Id::maximum_packet_size;
}

/// Walks a property block, validating identifiers, scope, duplicates and value ranges,
/// and calls on_value(id, value) for each property. Allocates nothing itself.
template <typename F>
void walk_properties(std::string_view block, PropertyScope scope, F&& on_value) {
  detail::Reader r(block, "properties");
  std::uint64_t seen = 0;
  while (!r.done()) {
    const std::uint8_t raw = r.u8("property identifier");
    const PropertyInfo* info = k_by_id[raw];
    if (info == nullptr) {
      fail(k_malformed, "unknown property identifier " + std::to_string(raw), "properties");
    }
    const std::string_view field = info->name;
    if ((info->scope & scope) == 0) fail(k_malformed, std::string(field) + " is not allowed in this packet", "properties", field);
    const Id id = info->id;
    const bool repeatable = id == Id::user_property ||
                            (id == Id::subscription_identifier && (scope & k_publish) != 0);
    const std::uint64_t bit = std::uint64_t{1} << raw; // every id is below 64
    if (!repeatable && (seen & bit) != 0) fail(k_protocol_error, std::string(field) + " appears more than once", "properties", field);
    seen |= bit;
    PropertyValue value;
    switch (info->type) {
    case T::byte: value.number = r.u8(field); break;
    case T::two_byte_integer: value.number = r.u16(field); break;
    case T::four_byte_integer: value.number = r.u32(field); break;
    case T::variable_byte_integer: value.number = r.varint(field); break;
    case T::utf8_string: value.text = r.utf8(field); break;
    case T::binary_data: value.text = r.binary(field); break;
    case T::utf8_string_pair:
      value.text = r.utf8(field);
      value.text2 = r.utf8(field);
      break;
    }
    if (must_be_flag(id) && value.number > 1) fail(k_protocol_error, std::string(field) + " must be 0 or 1", "properties", field);
    if (must_be_nonzero(id) && value.number == 0) fail(k_protocol_error, std::string(field) + " must not be 0", "properties", field);
    if (id == Id::response_topic &&
        (value.text.empty() || value.text.find_first_of("+#") != std::string_view::npos)) {
      fail(k_protocol_error, "Response Topic must be a topic name without wildcards", "properties", field);
    }
    on_value(id, value);
  }
}

} // namespace

const PropertyInfo* property_info(std::uint8_t id) noexcept { return k_by_id[id]; }

const std::vector<PropertyInfo>& all_properties() { return k_infos; }

bool Properties::empty() const noexcept { return *this == Properties{}; }

std::size_t properties_size(const Properties& props) {
  std::size_t size = 0;
  for_each_property(props, [&size](Id id, const auto& value) {
    using V = std::decay_t<decltype(value)>;
    size += 1;
    if constexpr (std::is_same_v<V, std::string>) {
      size += detail::string_size(value, name_of(id));
    } else if constexpr (std::is_same_v<V, UserProperty>) {
      size += detail::string_size(value.first, "User Property") +
              detail::string_size(value.second, "User Property");
    } else if (id == Id::subscription_identifier) {
      if (value == 0 || value > k_max_variable_byte_integer) {
        throw ProtocolError(k_protocol_error, "Subscription Identifier must be 1..268435455",
                            "Subscription Identifier");
      }
      size += variable_byte_integer_size(static_cast<std::uint32_t>(value));
    } else {
      size += sizeof(V);
    }
  });
  if (size > k_max_variable_byte_integer) {
    throw ProtocolError(detail::k_packet_too_large, "properties are larger than MQTT allows");
  }
  return size;
}

namespace detail {
// Used by the packet encoders: writes the property length and the properties.
void write_properties(const Properties& props, std::size_t size, Writer& w) {
  w.varint(static_cast<std::uint32_t>(size));
  for_each_property(props, [&w](Id id, const auto& value) {
    using V = std::decay_t<decltype(value)>;
    w.u8(static_cast<std::uint8_t>(id));
    if constexpr (std::is_same_v<V, std::string>) {
      w.string(value);
    } else if constexpr (std::is_same_v<V, UserProperty>) {
      w.string(value.first);
      w.string(value.second);
    } else if constexpr (std::is_same_v<V, std::uint8_t>) {
      w.u8(value);
    } else if constexpr (std::is_same_v<V, std::uint16_t>) {
      w.u16(value);
    } else if (id == Id::subscription_identifier) {
      w.varint(value);
    } else {
      w.u32(value);
    }
  });
}
} // namespace detail

void encode_properties(const Properties& props, std::string& out) {
  const std::size_t size = properties_size(props);
  const std::size_t old = out.size();
  out.resize(old + variable_byte_integer_size(static_cast<std::uint32_t>(size)) + size);
  detail::Writer w(out.data() + old);
  detail::write_properties(props, size, w);
}

Properties decode_properties(std::string_view block, PropertyScope scope) {
  Properties p;
  walk_properties(block, scope, [&p](Id id, const PropertyValue& v) {
    const auto u8 = static_cast<std::uint8_t>(v.number);
    const auto u16 = static_cast<std::uint16_t>(v.number);
    switch (id) {
    case Id::payload_format_indicator: p.payload_format_indicator = u8; break;
    case Id::message_expiry_interval: p.message_expiry_interval = v.number; break;
    case Id::content_type: p.content_type.emplace(v.text); break;
    case Id::response_topic: p.response_topic.emplace(v.text); break;
    case Id::correlation_data: p.correlation_data.emplace(v.text); break;
    case Id::subscription_identifier: p.subscription_identifiers.push_back(v.number); break;
    case Id::session_expiry_interval: p.session_expiry_interval = v.number; break;
    case Id::assigned_client_identifier: p.assigned_client_identifier.emplace(v.text); break;
    case Id::server_keep_alive: p.server_keep_alive = u16; break;
    case Id::authentication_method: p.authentication_method.emplace(v.text); break;
    case Id::authentication_data: p.authentication_data.emplace(v.text); break;
    case Id::request_problem_information: p.request_problem_information = u8; break;
    case Id::will_delay_interval: p.will_delay_interval = v.number; break;
    case Id::request_response_information: p.request_response_information = u8; break;
    case Id::response_information: p.response_information.emplace(v.text); break;
    case Id::server_reference: p.server_reference.emplace(v.text); break;
    case Id::reason_string: p.reason_string.emplace(v.text); break;
    case Id::receive_maximum: p.receive_maximum = u16; break;
    case Id::topic_alias_maximum: p.topic_alias_maximum = u16; break;
    case Id::topic_alias: p.topic_alias = u16; break;
    case Id::maximum_qos: p.maximum_qos = u8; break;
    case Id::retain_available: p.retain_available = u8; break;
    case Id::user_property: p.user_properties.emplace_back(v.text, v.text2); break;
    case Id::maximum_packet_size: p.maximum_packet_size = v.number; break;
    case Id::wildcard_subscription_available: p.wildcard_subscription_available = u8; break;
    case Id::subscription_identifier_available: p.subscription_identifier_available = u8; break;
    case Id::shared_subscription_available: p.shared_subscription_available = u8; break;
    }
  });
  return p;
}

namespace detail {
std::uint16_t validate_publish_properties(std::string_view block) {
  std::uint16_t alias = 0;
  walk_properties(block, k_publish, [&alias](Id id, const PropertyValue& v) {
    if (id == Id::topic_alias) alias = static_cast<std::uint16_t>(v.number);
  });
  return alias;
}
} // namespace detail

} // namespace mqfleet::mqtt
