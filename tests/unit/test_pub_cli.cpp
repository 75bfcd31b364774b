// `mqfleet pub` in-process: flag parsing, payload checks, --jsonl records, -D properties
// and the stop-aware line reader. No network.
#include "cli.hpp"
#include "pub/pub.hpp"
#include "exit_codes.hpp"
#include "pub/pub_input.hpp"

#include <mqfleet/error.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

namespace mqfleet::cli {
namespace {

// Parses `args` (after "pub") and returns the options the command would run with.
PubOptions parse_pub(std::vector<std::string> args) {
  CLI::App app;
  auto options = std::make_shared<PubOptions>();
  add_pub_command(app, options);
  args.insert(args.begin(), "pub");
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  app.parse(reversed);
  return *options;
}

template <typename F> std::string config_error_text(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return std::string(e.what()) + " | " + e.where() + " | " + e.hint();
  }
  return "no ConfigError";
}

TEST(PubCli, ParsesMosquittoFlags) {
  const PubOptions o = parse_pub({"-h", "broker.example", "-p", "1884", "-u", "alice", "-i", "dev-1", "-t", "a/b",
                                  "-m", "hello", "-q", "2", "-r", "-V", "5", "-k", "30", "-c", "--repeat", "3",
                                  "--repeat-delay", "0.5", "--will-topic", "w", "--will-payload", "bye", "--will-qos",
                                  "1", "--will-retain", "-d"});
  EXPECT_EQ(o.connection.host, "broker.example");
  EXPECT_EQ(o.connection.port, 1884);
  EXPECT_EQ(o.connection.username, "alice");
  EXPECT_EQ(o.connection.client_id, "dev-1");
  EXPECT_EQ(o.connection.version, "5");
  EXPECT_EQ(o.connection.keepalive, 30);
  EXPECT_TRUE(o.connection.no_clean_session);
  EXPECT_EQ(o.connection.will_topic, "w");
  EXPECT_EQ(o.connection.will_payload, "bye");
  EXPECT_EQ(o.connection.will_qos, 1);
  EXPECT_TRUE(o.connection.will_retain);
  EXPECT_EQ(o.topic, "a/b");
  EXPECT_EQ(o.message, "hello");
  EXPECT_EQ(o.qos, 2);
  EXPECT_TRUE(o.retain);
  EXPECT_EQ(o.repeat, 3);
  EXPECT_DOUBLE_EQ(o.repeat_delay, 0.5);
  EXPECT_TRUE(o.debug);
}

TEST(PubCli, ParsesTlsAndSecretFlags) {
  const PubOptions o = parse_pub({"-t", "x", "-n", "--cafile", "ca.pem", "--capath", "/etc/ssl/certs", "--cert",
                                  "c.pem", "--key", "k.pem", "--insecure", "--tls-version", "tlsv1.2", "--alpn",
                                  "mqtt", "--password-env", "PW", "--key-password-env", "KPW", "--connect-timeout",
                                  "2.5", "--profile", "home", "-L", "mqtts://h:8883/"});
  EXPECT_EQ(o.connection.cafile, "ca.pem");
  EXPECT_EQ(o.connection.capath, "/etc/ssl/certs");
  EXPECT_EQ(o.connection.cert, "c.pem");
  EXPECT_EQ(o.connection.key, "k.pem");
  EXPECT_TRUE(o.connection.insecure);
  EXPECT_EQ(o.connection.tls_version, "tlsv1.2");
  EXPECT_EQ(o.connection.alpn, std::vector<std::string>{"mqtt"});
  EXPECT_EQ(o.connection.password_env, "PW");
  EXPECT_EQ(o.connection.key_password_env, "KPW");
  EXPECT_DOUBLE_EQ(*o.connection.connect_timeout, 2.5);
  EXPECT_EQ(o.connection.profile, "home");
  EXPECT_EQ(o.connection.url, "mqtts://h:8883/");
  EXPECT_TRUE(o.null_message);
}

TEST(PubCli, DashDGroupsKeepTheirValues) {
  const PubOptions o = parse_pub({"-t", "x", "-m", "1", "-D", "PUBLISH", "user-property", "k", "v", "-D", "PUBLISH",
                                  "content-type", "application/json"});
  ASSERT_EQ(o.properties.size(), 2u);
  EXPECT_EQ(o.properties[0], (std::vector<std::string>{"PUBLISH", "user-property", "k", "v"}));
  EXPECT_EQ(o.properties[1], (std::vector<std::string>{"PUBLISH", "content-type", "application/json"}));
}

TEST(PubCli, JsonlNeedsNoTopic) {
  const PubOptions o = parse_pub({"--jsonl", "-q", "1"});
  EXPECT_TRUE(o.jsonl);
  EXPECT_TRUE(o.topic.empty());
}

TEST(PubCli, RejectsBadCombinations) {
  EXPECT_THROW(parse_pub({"-t", "x", "-m", "a", "-l"}), CLI::ParseError);
  EXPECT_THROW(parse_pub({"-t", "x", "-f", "a", "-n"}), CLI::ParseError);
  EXPECT_THROW(parse_pub({"-m", "a"}), CLI::ParseError);            // no topic
  EXPECT_THROW(parse_pub({"-t", "x"}), CLI::ParseError);            // no message source
  EXPECT_THROW(parse_pub({"-t", "x", "-m", "a", "-q", "3"}), CLI::ParseError);
  EXPECT_THROW(parse_pub({"-t", "x", "-l", "--repeat", "2"}), CLI::ParseError);
  EXPECT_THROW(parse_pub({"-t", "x", "-m", "a", "-p", "70000"}), CLI::ParseError);
}

TEST(PubCli, UsageErrorsExitWithTheUsageCode) {
  CLI::App app;
  setup_app(app);
  testing::internal::CaptureStderr();
  testing::internal::CaptureStdout();
  EXPECT_EQ(run(app, {"pub", "-m", "no topic"}), exit_code::k_usage);
  testing::internal::GetCapturedStdout();
  EXPECT_NE(testing::internal::GetCapturedStderr().find("topic"), std::string::npos);
}

TEST(PubInput, RequireJsonSaysWhereAndHow) {
  EXPECT_NO_THROW(require_json(R"({"t":21.5})", "-m"));
  EXPECT_NO_THROW(require_json("42", "-m"));
  const std::string text = config_error_text([] { require_json("{t:1}", "stdin line 7"); });
  EXPECT_NE(text.find("not valid JSON"), std::string::npos) << text;
  EXPECT_NE(text.find("stdin line 7"), std::string::npos) << text;
  EXPECT_NE(text.find("drop --json"), std::string::npos) << text;
}

TEST(PubInput, JsonlRecords) {
  OutgoingMessage m = parse_jsonl_record(R"({"topic":"a/b","payload":{"t":1},"qos":1,"retain":true})", 1, 0, false,
                                         false);
  EXPECT_EQ(m.topic, "a/b");
  EXPECT_EQ(m.payload, R"({"t":1})");
  EXPECT_EQ(m.qos, 1);
  EXPECT_TRUE(m.retain);
  m = parse_jsonl_record(R"({"topic":"c","payload":"plain text"})", 2, 2, false, false);
  EXPECT_EQ(m.payload, "plain text");
  EXPECT_EQ(m.qos, 2);
  EXPECT_FALSE(m.retain);
  m = parse_jsonl_record(R"({"topic":"c","payload":{"seq":1,"temperature":20.5,"a":[true,null]}})", 3, 0, false, false);
  EXPECT_EQ(m.payload, R"({"seq":1,"temperature":20.5,"a":[true,null]})") << "keys keep their order";
  m = parse_jsonl_record(R"({"topic":"c"})", 3, 0, false, false);
  EXPECT_EQ(m.payload, "");
}

TEST(PubInput, JsonlErrorsNameTheLine) {
  for (const char* bad : {R"({"payload":1})", R"([1,2])", R"({"topic":"a","qos":5})", R"({"topic":"a","retain":1})",
                          R"({"topic":"a","colour":"red"})", "not json", R"({"topic":""})"}) {
    const std::string text = config_error_text([&] { parse_jsonl_record(bad, 12, 0, false, false); });
    EXPECT_NE(text.find("line 12"), std::string::npos) << bad << " -> " << text;
  }
  const std::string text = config_error_text([] { parse_jsonl_record(R"({"topic":"a","payload":"{x"})", 4, 0, false, true); });
  EXPECT_NE(text.find("not valid JSON"), std::string::npos) << text;
}

TEST(PubInput, PublishProperties) {
  const PublishProperties p = parse_publish_properties({{"PUBLISH", "user-property", "k", "v"},
                                                        {"publish", "content-type", "application/json"},
                                                        {"PUBLISH", "message-expiry-interval", "60"},
                                                        {"PUBLISH", "response-topic", "r/t"},
                                                        {"PUBLISH", "correlation-data", "abc"},
                                                        {"PUBLISH", "payload-format-indicator", "1"}});
  EXPECT_EQ(p.user_properties, (std::vector<UserProperty>{{"k", "v"}}));
  EXPECT_EQ(p.content_type, "application/json");
  EXPECT_EQ(p.message_expiry_seconds, 60u);
  EXPECT_EQ(p.response_topic, "r/t");
  EXPECT_EQ(p.correlation_data, "abc");
  EXPECT_EQ(p.payload_is_utf8, true);
  EXPECT_THROW(parse_publish_properties({{"CONNECT", "content-type", "x"}}), ConfigError);
  EXPECT_THROW(parse_publish_properties({{"PUBLISH", "colour", "x"}}), ConfigError);
  EXPECT_THROW(parse_publish_properties({{"PUBLISH", "user-property", "k"}}), ConfigError);
  EXPECT_THROW(parse_publish_properties({{"PUBLISH", "message-expiry-interval", "-1"}}), ConfigError);
}

TEST(PropertyFlags, EveryPacketOfEachCommand) {
  const PropertyFlags sub = parse_property_flags({{"connect", "session-expiry-interval", "60"},
                                                  {"CONNECT", "receive-maximum", "10"},
                                                  {"connect", "user-property", "a", "b"},
                                                  {"connect", "authentication-method", "m"},
                                                  {"will", "will-delay-interval", "5"},
                                                  {"subscribe", "subscription-identifier", "7"},
                                                  {"unsubscribe", "user-property", "u", "v"},
                                                  {"disconnect", "session-expiry-interval", "0"}},
                                                 "sub");
  EXPECT_EQ(sub.session_expiry_seconds, 60u);
  EXPECT_EQ(sub.packets.connect.receive_maximum, 10);
  EXPECT_EQ(sub.packets.connect.user_properties, (std::vector<mqtt::UserProperty>{{"a", "b"}}));
  EXPECT_EQ(sub.packets.connect.authentication_method, "m");
  EXPECT_EQ(sub.packets.will.will_delay_interval, 5u);
  EXPECT_EQ(sub.packets.subscribe.subscription_identifiers, (std::vector<std::uint32_t>{7}));
  EXPECT_EQ(sub.packets.unsubscribe.user_properties.size(), 1u);
  EXPECT_EQ(sub.packets.disconnect.session_expiry_interval, 0u);
  // Not a packet this command sends, not a property the packet carries, bad values.
  for (const auto& bad : std::vector<std::vector<std::string>>{{"publish", "content-type", "x"},
                                                               {"connect", "content-type", "x"},
                                                               {"subscribe", "subscription-identifier", "0"},
                                                               {"connect", "receive-maximum", "65536"},
                                                               {"connect", "request-problem-information", "2"},
                                                               {"connect", "colour", "red"},
                                                               {"auth", "authentication-method", "x"}}) {
    const std::string text = config_error_text([&] { parse_property_flags({bad}, "sub"); });
    EXPECT_NE(text.find(" | -D | "), std::string::npos) << bad[0] << " " << bad[1] << " -> " << text;
  }
  EXPECT_THROW(parse_property_flags({{"subscribe", "user-property", "k", "v"}}, "pub"), ConfigError);
  EXPECT_THROW(parse_property_flags({{"publish", "subscription-identifier", "1"}}, "pub"), ConfigError);
  EXPECT_THROW(parse_property_flags({{"publish", "topic-alias", "0"}}, "pub"), ConfigError);
  EXPECT_THROW(parse_property_flags({{"publish", "topic-alias", "65536"}}, "pub"), ConfigError);
  EXPECT_EQ(parse_property_flags({{"publish", "topic-alias", "7"}}, "pub").publish.topic_alias, 7);
  EXPECT_NO_THROW(parse_property_flags({{"publish", "user-property", "k", "v"}}, "pub"));
}

TEST(PubInput, LineReaderSplitsLinesAcrossChunks) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const std::string data = "one\r\ntwo\n\nthree";
  ASSERT_EQ(write(fds[1], data.data(), data.size()), static_cast<ssize_t>(data.size()));
  close(fds[1]);
  LineReader reader(fds[0], std::stop_token{});
  std::vector<std::string> lines;
  while (auto line = reader.next()) lines.emplace_back(*line);
  close(fds[0]);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "", "three"}));
  EXPECT_EQ(reader.line_number(), 4u);
}

TEST(PubInput, LineReaderStopsOnRequestWithoutInput) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::stop_source stop;
  LineReader reader(fds[0], stop.get_token());
  stop.request_stop();
  EXPECT_FALSE(reader.next().has_value());
  close(fds[0]);
  close(fds[1]);
}

} // namespace
} // namespace mqfleet::cli
