// Reason codes, CONNACK return code mapping and the property table.
#include <mqfleet/mqtt/properties.hpp>
#include <mqfleet/mqtt/reason_codes.hpp>

#include <gtest/gtest.h>

using namespace mqfleet::mqtt;

TEST(CodecReasons, NamesAndDescriptions) {
  EXPECT_EQ(reason_name(ReasonCode::malformed_packet), "Malformed Packet");
  EXPECT_EQ(reason_name(ReasonCode::packet_too_large), "Packet too large");
  EXPECT_EQ(reason_name(ReasonCode::success, PacketType::disconnect), "Normal disconnection");
  EXPECT_EQ(reason_name(ReasonCode::success, PacketType::suback), "Granted QoS 0");
  EXPECT_EQ(reason_name(static_cast<ReasonCode>(0x42)), "Unknown reason code");
  EXPECT_FALSE(reason_description(ReasonCode::not_authorized).empty());
  EXPECT_TRUE(is_error(ReasonCode::unspecified_error));
  EXPECT_FALSE(is_error(ReasonCode::granted_qos_2));
  EXPECT_EQ(packet_type_name(PacketType::unsubscribe), "UNSUBSCRIBE");
}

TEST(CodecReasons, AllowedPerPacket) {
  EXPECT_TRUE(is_allowed_reason(ReasonCode::no_matching_subscribers, PacketType::puback));
  EXPECT_FALSE(is_allowed_reason(ReasonCode::no_matching_subscribers, PacketType::pubrel));
  EXPECT_TRUE(is_allowed_reason(ReasonCode::packet_identifier_not_found, PacketType::pubcomp));
  EXPECT_TRUE(is_allowed_reason(ReasonCode::session_taken_over, PacketType::disconnect));
  EXPECT_FALSE(is_allowed_reason(ReasonCode::session_taken_over, PacketType::connack));
  EXPECT_TRUE(is_allowed_reason(ReasonCode::re_authenticate, PacketType::auth));
}

TEST(CodecReasons, ConnackReturnCodesMapBothWays) {
  for (int rc = 0; rc <= 5; ++rc) {
    const auto code = static_cast<ConnackReturnCode>(rc);
    EXPECT_EQ(to_connack_return_code(from_connack_return_code(code)), code);
  }
  EXPECT_EQ(to_connack_return_code(ReasonCode::not_authorized), ConnackReturnCode::not_authorized);
  EXPECT_EQ(to_connack_return_code(ReasonCode::bad_authentication_method), ConnackReturnCode::bad_user_name_or_password);
  EXPECT_EQ(to_connack_return_code(ReasonCode::server_busy), ConnackReturnCode::server_unavailable);
  EXPECT_EQ(connack_return_code_name(ConnackReturnCode::not_authorized), "Connection Refused, not authorized");
}

TEST(CodecReasons, PropertyTableCoversAllTwentySevenProperties) {
  EXPECT_EQ(all_properties().size(), 27u);
  const PropertyInfo* alias = property_info(0x23);
  ASSERT_NE(alias, nullptr);
  EXPECT_EQ(alias->name, "Topic Alias");
  EXPECT_EQ(alias->type, PropertyType::two_byte_integer);
  EXPECT_EQ(alias->scope, scope_of(PacketType::publish));
  EXPECT_EQ(property_info(0x00), nullptr);
  EXPECT_EQ(property_info(0x2B), nullptr);
  EXPECT_TRUE(property_info(0x18)->scope & k_will_scope);
  EXPECT_TRUE(property_info(0x26)->repeatable);
}
