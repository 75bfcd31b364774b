#include "property_flags.hpp"

#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/properties.hpp>
#include <mqfleet/mqtt/types.hpp>
#include <mqfleet/mqtt/utf8.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace mqfleet::cli {
namespace {

constexpr const char* k_where = "-D";

std::string lower(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(), [](unsigned char c) { return std::tolower(c); });
  return result;
}

// "Message Expiry Interval" -> "message-expiry-interval", mosquitto's spelling.
std::string flag_name(std::string_view spec_name) {
  std::string result = lower(spec_name);
  std::replace(result.begin(), result.end(), ' ', '-');
  return result;
}

// The packets -D can name, the scope bit of each, and the commands that send it.
struct Target {
  std::string_view name;
  mqtt::PropertyScope scope;
  bool in_pub;
  bool in_sub;
};

constexpr Target k_targets[] = {
    {"connect", mqtt::scope_of(mqtt::PacketType::connect), true, true},
    {"publish", mqtt::scope_of(mqtt::PacketType::publish), true, false},
    {"subscribe", mqtt::scope_of(mqtt::PacketType::subscribe), false, true},
    {"unsubscribe", mqtt::scope_of(mqtt::PacketType::unsubscribe), false, true},
    {"disconnect", mqtt::scope_of(mqtt::PacketType::disconnect), true, true},
    {"will", mqtt::k_will_scope, true, true},
};

// Properties a client may not send although the packet can carry them (the broker's side
// of PUBLISH), or that mqfleet does not send.
bool refused_for_client(mqtt::PropertyId id, std::string_view target) {
  if (target == "publish") return id == mqtt::PropertyId::subscription_identifier;
  if (target == "disconnect") return id == mqtt::PropertyId::server_reference || id == mqtt::PropertyId::reason_string;
  return false;
}

std::string valid_names(const Target& target) {
  std::string names;
  for (const mqtt::PropertyInfo& info : mqtt::all_properties()) {
    if ((info.scope & target.scope) == 0 || refused_for_client(info.id, target.name)) continue;
    if (!names.empty()) names += ", ";
    names += flag_name(info.name);
  }
  return names;
}

std::uint64_t parse_number(const std::string& text, std::uint64_t min, std::uint64_t max, const std::string& what) {
  std::uint64_t value = 0;
  bool ok = !text.empty() && text.size() <= 20;
  for (char c : text) {
    if (!ok) break;
    if (c < '0' || c > '9') ok = false;
    else value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (!ok || value < min || value > max)
    throw ConfigError(fmt::format("'{}' is not a valid value for {}", text, what), k_where,
                      fmt::format("give a whole number from {} to {}", min, max));
  return value;
}

std::string utf8_value(const std::string& text, const std::string& what) {
  if (!mqtt::is_valid_utf8(text) || text.size() > 65535)
    throw ConfigError(fmt::format("the value of {} is not valid MQTT UTF-8 text", what), k_where,
                      "give UTF-8 text of at most 65,535 bytes without NUL characters");
  return text;
}

// Stores one property's value (already checked for its packet) into `p`.
void set_property(mqtt::Properties& p, const mqtt::PropertyInfo& info, const std::vector<std::string>& group,
                  const std::string& what) {
  const std::string& value = group[2];
  using Id = mqtt::PropertyId;
  switch (info.id) {
  case Id::payload_format_indicator:
    p.payload_format_indicator = static_cast<std::uint8_t>(parse_number(value, 0, 1, what));
    break;
  case Id::request_problem_information:
    p.request_problem_information = static_cast<std::uint8_t>(parse_number(value, 0, 1, what));
    break;
  case Id::request_response_information:
    p.request_response_information = static_cast<std::uint8_t>(parse_number(value, 0, 1, what));
    break;
  case Id::message_expiry_interval: p.message_expiry_interval = static_cast<std::uint32_t>(parse_number(value, 0, 0xFFFFFFFF, what)); break;
  case Id::session_expiry_interval: p.session_expiry_interval = static_cast<std::uint32_t>(parse_number(value, 0, 0xFFFFFFFF, what)); break;
  case Id::will_delay_interval: p.will_delay_interval = static_cast<std::uint32_t>(parse_number(value, 0, 0xFFFFFFFF, what)); break;
  case Id::maximum_packet_size: p.maximum_packet_size = static_cast<std::uint32_t>(parse_number(value, 1, 0xFFFFFFFF, what)); break;
  case Id::receive_maximum: p.receive_maximum = static_cast<std::uint16_t>(parse_number(value, 1, 65535, what)); break;
  case Id::topic_alias_maximum: p.topic_alias_maximum = static_cast<std::uint16_t>(parse_number(value, 0, 65535, what)); break;
  case Id::topic_alias: p.topic_alias = static_cast<std::uint16_t>(parse_number(value, 1, 65535, what)); break;
  case Id::subscription_identifier:
    p.subscription_identifiers = {static_cast<std::uint32_t>(parse_number(value, 1, 268435455, what))};
    break;
  case Id::content_type: p.content_type = utf8_value(value, what); break;
  case Id::response_topic: p.response_topic = utf8_value(value, what); break;
  case Id::authentication_method: p.authentication_method = utf8_value(value, what); break;
  case Id::correlation_data: p.correlation_data = value; break;
  case Id::authentication_data: p.authentication_data = value; break;
  case Id::user_property: p.user_properties.emplace_back(utf8_value(value, what), utf8_value(group[3], what)); break;
  default:
    throw ConfigError(fmt::format("{} cannot be sent by a client", what), k_where, "drop this -D");
  }
}

mqtt::Properties& target_block(PropertyFlags& flags, mqtt::Properties& publish, std::string_view target) {
  if (target == "connect") return flags.packets.connect;
  if (target == "will") return flags.packets.will;
  if (target == "subscribe") return flags.packets.subscribe;
  if (target == "unsubscribe") return flags.packets.unsubscribe;
  if (target == "disconnect") return flags.packets.disconnect;
  return publish;
}

} // namespace

PropertyFlags parse_property_flags(const std::vector<std::vector<std::string>>& groups, std::string_view command) {
  PropertyFlags flags;
  mqtt::Properties publish;
  const bool pub = command == "pub";
  const std::string packets = pub ? "connect, publish, will or disconnect" : "connect, subscribe, unsubscribe, will or disconnect";
  for (const auto& group : groups) {
    if (group.size() < 3)
      throw ConfigError("-D expects: PACKET PROPERTY VALUE [VALUE]", k_where,
                        fmt::format("PACKET is {}; e.g. -D connect session-expiry-interval 60", packets));
    flags.any = true;
    const std::string target_name = lower(group[0]);
    const Target* target = nullptr;
    for (const Target& t : k_targets)
      if (t.name == target_name) target = &t;
    if (target == nullptr || !(pub ? target->in_pub : target->in_sub))
      throw ConfigError(fmt::format("`mqfleet {}` sends no {} packet to give properties to", command, group[0]),
                        k_where, fmt::format("-D takes {}", packets));
    const std::string name = lower(group[1]);
    const mqtt::PropertyInfo* info = nullptr;
    for (const mqtt::PropertyInfo& candidate : mqtt::all_properties())
      if (flag_name(candidate.name) == name) info = &candidate;
    if (info == nullptr || (info->scope & target->scope) == 0 || refused_for_client(info->id, target->name))
      throw ConfigError(fmt::format("'{}' is not a {} property {} can send", group[1], target_name,
                                    info == nullptr ? "mqfleet" : "a client"),
                        k_where, fmt::format("{} takes: {}", target_name, valid_names(*target)));
    const bool pair = info->type == mqtt::PropertyType::utf8_string_pair;
    if (group.size() != (pair ? 4u : 3u))
      throw ConfigError(fmt::format("-D {} {} takes {}", target_name, name, pair ? "a name and a value" : "one value"),
                        k_where, pair ? "e.g. -D connect user-property key value" : "give exactly one value");
    const std::string what = fmt::format("{} {}", target_name, name);
    if (target_name == "connect" && info->id == mqtt::PropertyId::session_expiry_interval) {
      flags.session_expiry_seconds = static_cast<std::uint32_t>(parse_number(group[2], 0, 0xFFFFFFFF, what));
      continue;
    }
    mqtt::Properties& block = target_block(flags, publish, target_name);
    set_property(block, *info, group, what);
  }
  PublishProperties& out = flags.publish;
  if (publish.payload_format_indicator) out.payload_is_utf8 = *publish.payload_format_indicator != 0;
  out.message_expiry_seconds = publish.message_expiry_interval;
  out.content_type = publish.content_type;
  out.response_topic = publish.response_topic;
  out.correlation_data = publish.correlation_data;
  out.user_properties = publish.user_properties;
  out.topic_alias = publish.topic_alias;
  return flags;
}

void apply_property_flags(const PropertyFlags& flags, const std::string& version_flag, ConnectionProfile& profile) {
  if (!flags.any) return;
  if (version_flag.empty()) profile.version = MqttVersion::v5;
  if (profile.version != MqttVersion::v5)
    throw ConfigError("-D properties need MQTT 5", k_where, "add -V 5, or drop -D");
  if (flags.session_expiry_seconds) profile.session_expiry_seconds = flags.session_expiry_seconds;
  profile.properties = flags.packets;
  if (!profile.properties.will.empty() && !profile.will)
    throw ConfigError("-D will properties given without a will", k_where, "add --will-topic TOPIC, or drop -D will");
}

PublishProperties parse_publish_properties(const std::vector<std::vector<std::string>>& groups) {
  return parse_property_flags(groups, "pub").publish;
}

} // namespace mqfleet::cli
