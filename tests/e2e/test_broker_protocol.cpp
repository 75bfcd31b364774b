// Protocol correctness of the reference broker at the edges (issue 11, items 1-6 and 17):
// raw-socket scenarios in py/ run against Debian's mosquitto — which validates the
// scenario where mosquitto behaves the same, and where it deviates must fail with the known
// message (an expected failure) — and against `mqfleet broker`.

#include "e2e/broker_under_test.hpp"

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

namespace mqfleet::test {
namespace {

/// One scenario, how to start each broker for it, and where mosquitto deviates.
struct Scenario {
  std::string name;
  std::string script;
  std::vector<std::string> script_args;
  std::vector<std::string> reference_args;  ///< flags for `mqfleet broker`
  std::string mosquitto_config;             ///< lines for mosquitto.conf
  std::string mosquitto_deviation;          ///< non-empty: mosquitto 2.0.11 fails this, and why
  std::string mosquitto_failure;            ///< the exact FAIL line the script then prints against mosquitto
};

std::vector<Scenario> scenarios() {
  return {
      {"clean_session_takeover", "clean_session_takeover.py", {}, {}, {}, {}, {}},
      // Two io threads: the CONNECT and the previous connection's DISCONNECT can be read
      // by different threads.
      {"client_order", "client_order.py", {"--iterations", "300"}, {"--threads", "2"}, {}, {}, {}},
      {"v5_goodbye", "v5_goodbye.py", {}, {}, {},
       "mosquitto 2.0.11 closes with unread input: the reset destroys its DISCONNECT 0x93 (measured here)",
       "FAIL: v5_goodbye.py: the connection failed (reset or broken pipe) before the DISCONNECT was read"},
      {"mqtt31", "mqtt31.py", {}, {}, {}, {}, {}},
      {"v5_small_maximum_packet_size", "v5_small_maximum_packet_size.py", {}, {}, {},
       "mosquitto 2.0.11 accepts a PUBLISH carrying a Subscription Identifier (measured here)",
       "FAIL: v5_small_maximum_packet_size.py: a PUBLISH with a Subscription Identifier did not end the connection: "
       "[Packet(type=4, flags=0x0, body=b'\\x00\\x01\\x10')]"},
      {"v5_no_matching_subscribers", "v5_no_matching_subscribers.py", {}, {}, {},
       "mosquitto 2.0.11 sends 0x10 on PUBACK but 0x00 on PUBREC (measured here)",
       "FAIL: v5_no_matching_subscribers.py: PUBREC reason 0x0 for a topic nobody subscribes, expected 0x10"},
      {"v5_server_topic_alias", "v5_server_topic_alias.py", {}, {}, {},
       "mosquitto 2.0.11 never sends topic aliases (measured here)",
       "FAIL: v5_server_topic_alias.py: only 0 messages used a bound alias; expected the repeats of a and b"},
      {"max_keepalive", "max_keepalive.py", {"--max", "10"}, {"--max-keepalive", "10"}, "max_keepalive 10\n",
       "mosquitto 2.0.11 accepts a 3.1.1 keepalive over max_keepalive (later mosquitto refuses it with 2, as we do; "
       "its v5 part passes)",
       "FAIL: max_keepalive.py: CONNACK code 0x0, expected 0x2"},
      {"subscribe_invalid_filter", "subscribe_invalid_filter.py", {}, {}, {},
       "mosquitto 2.0.11 closes the connection instead, which the spec also allows (measured here)",
       "FAIL: subscribe_invalid_filter.py: v4: the broker closed the connection on an invalid filter"},
      {"v5_will_delay_reconnect", "v5_will_delay_reconnect.py", {}, {}, {}, {}, {}},
  };
}

void PrintTo(const Scenario& scenario, std::ostream* out) { *out << scenario.script; }

class BrokerProtocol : public testing::TestWithParam<std::tuple<BrokerKind, Scenario>> {};

TEST_P(BrokerProtocol, Scenario) {
  const auto& [kind, scenario] = GetParam();
  BrokerUnderTestOptions options;
  options.extra_args = scenario.reference_args;
  options.mosquitto_config = scenario.mosquitto_config;
  BrokerUnderTest broker(kind, options);
  const auto result = run_scenario(scenario.script, broker, scenario.script_args);
  if (kind == BrokerKind::mosquitto && !scenario.mosquitto_deviation.empty()) {
    // An expected failure, as in test_broker_conformance.cpp: the known deviation, word for
    // word, so a change in mosquitto or in the script (a fix, another failure) is noticed.
    EXPECT_EQ(result.exit_code, 1) << scenario.mosquitto_deviation << "\n" << describe(result, broker);
    EXPECT_EQ(result.err, scenario.mosquitto_failure + "\n") << scenario.mosquitto_deviation;
    return;
  }
  EXPECT_EQ(result.exit_code, 0) << describe(result, broker);
}

INSTANTIATE_TEST_SUITE_P(Brokers, BrokerProtocol,
                         testing::Combine(testing::Values(BrokerKind::mosquitto, BrokerKind::reference),
                                          testing::ValuesIn(scenarios())),
                         [](const testing::TestParamInfo<BrokerProtocol::ParamType>& param_info) {
                           return to_string(std::get<0>(param_info.param)) + "_" + std::get<1>(param_info.param).name;
                         });

} // namespace
} // namespace mqfleet::test
