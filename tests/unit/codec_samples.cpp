#include "codec_samples.hpp"

#include <string>

namespace mqfleet::test {

using namespace mqtt;

Properties full_properties(PropertyScope scope) {
  Properties p;
  const auto allowed = [scope](PropertyId id) {
    return (property_info(static_cast<std::uint8_t>(id))->scope & scope) != 0;
  };
  const bool publish = (scope & scope_of(PacketType::publish)) != 0;
  if (allowed(PropertyId::payload_format_indicator)) p.payload_format_indicator = 1;
  if (allowed(PropertyId::message_expiry_interval)) p.message_expiry_interval = 3600;
  if (allowed(PropertyId::content_type)) p.content_type = "application/json";
  if (allowed(PropertyId::response_topic)) p.response_topic = "reply/to/me";
  if (allowed(PropertyId::correlation_data)) p.correlation_data = std::string("\x00\x01\xFF", 3);
  if (allowed(PropertyId::subscription_identifier)) {
    p.subscription_identifiers = publish ? std::vector<std::uint32_t>{1, 268'435'455}
                                         : std::vector<std::uint32_t>{16'384};
  }
  if (allowed(PropertyId::session_expiry_interval)) p.session_expiry_interval = 0xFFFFFFFF;
  if (allowed(PropertyId::assigned_client_identifier)) p.assigned_client_identifier = "auto-1234";
  if (allowed(PropertyId::server_keep_alive)) p.server_keep_alive = 30;
  if (allowed(PropertyId::authentication_method)) p.authentication_method = "SCRAM-SHA-256";
  if (allowed(PropertyId::authentication_data)) p.authentication_data = std::string("\x00secret", 7);
  if (allowed(PropertyId::request_problem_information)) p.request_problem_information = 0;
  if (allowed(PropertyId::will_delay_interval)) p.will_delay_interval = 10;
  if (allowed(PropertyId::request_response_information)) p.request_response_information = 1;
  if (allowed(PropertyId::response_information)) p.response_information = "resp/";
  if (allowed(PropertyId::server_reference)) p.server_reference = "other.example:1883";
  if (allowed(PropertyId::reason_string)) p.reason_string = "because";
  if (allowed(PropertyId::receive_maximum)) p.receive_maximum = 100;
  if (allowed(PropertyId::topic_alias_maximum)) p.topic_alias_maximum = 10;
  if (allowed(PropertyId::topic_alias)) p.topic_alias = 3;
  if (allowed(PropertyId::maximum_qos)) p.maximum_qos = 1;
  if (allowed(PropertyId::retain_available)) p.retain_available = 0;
  p.user_properties = {{"k", "v"}, {"k", "v2"}, {"", ""}, {"caf\xC3\xA9", "\xF0\x9F\x98\x80"}};
  if (allowed(PropertyId::maximum_packet_size)) p.maximum_packet_size = 1'048'576;
  if (allowed(PropertyId::wildcard_subscription_available)) p.wildcard_subscription_available = 1;
  if (allowed(PropertyId::subscription_identifier_available)) p.subscription_identifier_available = 0;
  if (allowed(PropertyId::shared_subscription_available)) p.shared_subscription_available = 1;
  return p;
}

std::vector<Packet> sample_packets(ProtocolVersion version) {
  const bool v5 = version == ProtocolVersion::v5;
  const auto props = [v5](PacketType type) { return v5 ? full_properties(scope_of(type)) : Properties{}; };
  std::vector<Packet> out;

  Connect minimal;
  minimal.version = version;
  minimal.client_id = "dev-1";
  out.emplace_back(minimal);
  Connect full;
  full.version = version;
  full.client_id = "device-\xC3\xA9";
  full.clean_start = false;
  full.keep_alive = 65535;
  full.username = "account";
  full.password = std::string("p\x00ss", 4);
  full.will = Will{"devices/dev-1/status", std::string("off\x00line", 8), QoS::exactly_once, true,
                   v5 ? full_properties(k_will_scope) : Properties{}};
  full.properties = props(PacketType::connect);
  out.emplace_back(full);
  Connect empty_id;
  empty_id.version = version;
  empty_id.keep_alive = 0;
  empty_id.will = Will{"w", "", QoS::at_least_once, false, {}};
  if (v5) empty_id.password = "token-without-user";
  out.emplace_back(empty_id);

  out.emplace_back(Connack{});
  out.emplace_back(Connack{version != ProtocolVersion::v3_1, ReasonCode::success, props(PacketType::connack)});
  for (const ReasonCode rc : {ReasonCode::unsupported_protocol_version, ReasonCode::client_identifier_not_valid,
                              ReasonCode::server_unavailable, ReasonCode::bad_user_name_or_password,
                              ReasonCode::not_authorized}) {
    out.emplace_back(Connack{false, rc, {}});
  }

  out.emplace_back(Publish{"t", "", QoS::at_most_once, false, false, 0, {}});
  out.emplace_back(Publish{"telemetry/temp", "21.5", QoS::at_least_once, true, true, 1, {}});
  out.emplace_back(Publish{"a/b/c", std::string(300, '\xAB'), QoS::exactly_once, false, false, 65535,
                           props(PacketType::publish)});
  out.emplace_back(Publish{"$SYS/broker/x", std::string("\x00\x01", 2), QoS::at_least_once, false, false, 7, {}});
  if (v5) out.emplace_back(Publish{"", "aliased", QoS::at_most_once, false, false, 0, [] {
                                     Properties p;
                                     p.topic_alias = 5;
                                     return p;
                                   }()});

  out.emplace_back(Puback{1, ReasonCode::success, {}});
  out.emplace_back(Pubrec{2, ReasonCode::success, {}});
  out.emplace_back(Pubrel{3, ReasonCode::success, {}});
  out.emplace_back(Pubcomp{65535, ReasonCode::success, {}});
  if (v5) {
    out.emplace_back(Puback{4, ReasonCode::no_matching_subscribers, {}});
    out.emplace_back(Puback{5, ReasonCode::not_authorized, props(PacketType::puback)});
    out.emplace_back(Pubrec{6, ReasonCode::quota_exceeded, props(PacketType::pubrec)});
    out.emplace_back(Pubrel{7, ReasonCode::packet_identifier_not_found, props(PacketType::pubrel)});
    out.emplace_back(Pubcomp{8, ReasonCode::success, props(PacketType::pubcomp)});
  }

  Subscribe sub{10, {{"a/+/c", {QoS::at_most_once}}, {"#", {QoS::at_least_once}}, {"x/y", {QoS::exactly_once}}}, {}};
  out.emplace_back(sub);
  if (v5) {
    Subscribe sub5{11,
                   {{"a/#", {QoS::exactly_once, true, true, RetainHandling::do_not_send}},
                    {"$share/group/jobs/+", {QoS::at_least_once, false, false, RetainHandling::send_if_new}}},
                   props(PacketType::subscribe)};
    out.emplace_back(sub5);
  }
  out.emplace_back(Suback{10, {ReasonCode::granted_qos_0, ReasonCode::granted_qos_1, ReasonCode::granted_qos_2,
                               ReasonCode::unspecified_error}, {}});
  if (v5) {
    out.emplace_back(Suback{11, {ReasonCode::not_authorized, ReasonCode::topic_filter_invalid,
                                 ReasonCode::shared_subscriptions_not_supported},
                            props(PacketType::suback)});
  }
  out.emplace_back(Unsubscribe{12, {"a/+/c", "#"}, props(PacketType::unsubscribe)});
  if (v5) {
    out.emplace_back(Unsuback{12, {ReasonCode::success, ReasonCode::no_subscription_existed}, props(PacketType::unsuback)});
  } else {
    out.emplace_back(Unsuback{12, {}, {}});
  }
  out.emplace_back(Pingreq{});
  out.emplace_back(Pingresp{});
  out.emplace_back(Disconnect{});
  if (v5) {
    out.emplace_back(Disconnect{ReasonCode::disconnect_with_will_message, {}});
    out.emplace_back(Disconnect{ReasonCode::session_taken_over, props(PacketType::disconnect)});
    out.emplace_back(Auth{});
    out.emplace_back(Auth{ReasonCode::continue_authentication, props(PacketType::auth)});
  }
  return out;
}

} // namespace mqfleet::test
