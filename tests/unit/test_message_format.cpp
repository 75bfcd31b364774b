// Rendering received messages: mosquitto_sub's -F specifiers, -v, and JSON lines.
#include <mqfleet/error.hpp>
#include <mqfleet/message_format.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <ctime>

namespace mqfleet {
namespace {

using namespace std::chrono_literals;

// 2023-11-14T22:13:20.123456789Z
constexpr std::int64_t k_seconds = 1700000000;
constexpr std::int64_t k_nanos = 123456789;

ReceivedMessage sample(std::string payload = "hello world") {
  ReceivedMessage m;
  m.topic = "sensors/room1/temp";
  m.payload = std::move(payload);
  m.qos = 1;
  m.retain = true;
  m.received_at = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::seconds(k_seconds) +
                                                                      std::chrono::nanoseconds(k_nanos)));
  return m;
}

ReceivedMessage with_properties() {
  ReceivedMessage m = sample("{\"t\":21.5}");
  m.properties.payload_is_utf8 = true;
  m.properties.message_expiry_seconds = 60;
  m.properties.content_type = "application/json";
  m.properties.response_topic = "reply/here";
  m.properties.correlation_data = "corr-1";
  m.properties.user_properties = {{"k", "v"}, {"k", "w"}, {"unit", "C"}};
  m.properties.subscription_identifiers = {7};
  return m;
}

std::string render(std::string_view format, const ReceivedMessage& m = sample()) {
  return MessageFormat(format).render(m);
}

class MessageFormatTest : public testing::Test {
protected:
  void SetUp() override { set_tz("UTC0"); }
  void TearDown() override { set_tz("UTC0"); }
  static void set_tz(const char* tz) {
    ::setenv("TZ", tz, 1);
    ::tzset();
  }
};

TEST_F(MessageFormatTest, MessageFields) {
  EXPECT_EQ(render("%t"), "sensors/room1/temp");
  EXPECT_EQ(render("%p"), "hello world");
  EXPECT_EQ(render("%q"), "1");
  EXPECT_EQ(render("%r"), "1");
  ReceivedMessage fresh = sample();
  fresh.retain = false;
  fresh.qos = 2;
  EXPECT_EQ(render("%r %q", fresh), "0 2");
  EXPECT_EQ(render("%l"), "11");
  EXPECT_EQ(render("%m"), "0");
  ReceivedMessage with_id = sample();
  with_id.packet_id = 4242;
  EXPECT_EQ(render("%m", with_id), "4242");
  EXPECT_EQ(render("%%"), "%");
  EXPECT_EQ(render("100%% %t"), "100% sensors/room1/temp");
  EXPECT_EQ(render("plain text"), "plain text");
  EXPECT_EQ(render(""), "");
}

TEST_F(MessageFormatTest, HexPayload) {
  const ReceivedMessage m = sample(std::string("\x00\x01\xab\xff", 4));
  EXPECT_EQ(render("%x", m), "0001abff");
  EXPECT_EQ(render("%X", m), "0001ABFF");
  EXPECT_EQ(render("%p", m), std::string("\x00\x01\xab\xff", 4));
  EXPECT_EQ(render("%l", m), "4");
  EXPECT_EQ(render("%x", sample("")), "");
}

TEST_F(MessageFormatTest, PropertiesPresent) {
  const ReceivedMessage m = with_properties();
  EXPECT_EQ(render("%C", m), "application/json");
  EXPECT_EQ(render("%D", m), "corr-1");
  EXPECT_EQ(render("%E", m), "60");
  EXPECT_EQ(render("%F", m), "1");
  EXPECT_EQ(render("%P", m), "k:v k:w unit:C");
  EXPECT_EQ(render("%R", m), "reply/here");
  EXPECT_EQ(render("%S", m), "7");
  EXPECT_EQ(render("%A", m), "");
}

TEST_F(MessageFormatTest, PropertiesAbsentPrintNothingOrBlanks) {
  EXPECT_EQ(render("[%C|%D|%E|%F|%P|%R|%S|%A]"), "[|||||||]");
  EXPECT_EQ(render("[%5C][%3E][%03S][%-2F][%4R]"), "[     ][   ][000][  ][    ]");
}

TEST_F(MessageFormatTest, WidthPrecisionAndFlags) {
  EXPECT_EQ(render("[%22t]"), "[    sensors/room1/temp]");
  EXPECT_EQ(render("[%-22t]"), "[sensors/room1/temp    ]");
  EXPECT_EQ(render("[%.7t]"), "[sensors]");
  EXPECT_EQ(render("[%10.7t]"), "[   sensors]");
  EXPECT_EQ(render("[%-10.7t]"), "[sensors   ]");
  EXPECT_EQ(render("[%3t]"), "[sensors/room1/temp]");  // width is a minimum
  EXPECT_EQ(render("[%5l]"), "[   11]");
  EXPECT_EQ(render("[%05l]"), "[00011]");
  EXPECT_EQ(render("[%-5l]"), "[11   ]");
  EXPECT_EQ(render("[%-05l]"), "[11   ]");  // '-' wins over '0'
  EXPECT_EQ(render("[%04m]"), "[0000]");
  EXPECT_EQ(render("[%14p]"), "[   hello world]");
  EXPECT_EQ(render("[%-14p]"), "[hello world   ]");
  EXPECT_EQ(render("[%6x]", sample("ab")), "[  6162]");
  EXPECT_EQ(render("[%06X]", sample("ab")), "[006162]");
  const ReceivedMessage m = with_properties();
  EXPECT_EQ(render("[%8E][%08E][%-4F]", m), "[      60][00000060][1   ]");
  EXPECT_EQ(render("[%.3C][%12.5R]", m), "[app][       reply]");
}

TEST_F(MessageFormatTest, Timestamps) {
  EXPECT_EQ(render("%I"), "2023-11-14T22:13:20+0000");
  EXPECT_EQ(render("%U"), "1700000000.123456789");
  EXPECT_EQ(render("@Y-@m-@d @H:@M:@S.@N"), "2023-11-14 22:13:20.123456789");
  EXPECT_EQ(render("@@ @s"), "@ 1700000000");
  EXPECT_EQ(render("[%26I]"), "[  2023-11-14T22:13:20+0000]");
  EXPECT_EQ(render("[%.10I]"), "[2023-11-14]");
}

TEST_F(MessageFormatTest, LocalTimeFollowsTz) {
  set_tz("XXX-2");  // POSIX: two hours east of UTC
  EXPECT_EQ(render("%I"), "2023-11-15T00:13:20+0200");
  EXPECT_EQ(render("@H"), "00");
  EXPECT_EQ(render("%U"), "1700000000.123456789");  // epoch time does not move
}

TEST_F(MessageFormatTest, Escapes) {
  EXPECT_EQ(render("%t\\t%p\\n"), "sensors/room1/temp\thello world\n");
  EXPECT_EQ(render("\\\\"), "\\");
  EXPECT_EQ(render("a\\0b"), std::string("a\0b", 3));
  EXPECT_EQ(render("\\a\\e\\r\\v"), "\a\033\r\v");
}

TEST_F(MessageFormatTest, BadFormatsAreConfigErrors) {
  for (const char* bad : {"%z", "%", "%5", "%-", "@", "\\", "\\q", "%10.3"}) {
    try {
      MessageFormat format(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.where(), "-F") << bad;
      EXPECT_FALSE(e.hint().empty()) << bad;
    }
  }
}

TEST_F(MessageFormatTest, JsonEscapedPayload) {
  const auto json = nlohmann::json::parse(render("%j", sample("say \"hi\"\n")));
  EXPECT_EQ(json["tst"], "2023-11-14T22:13:20.123456+0000");
  EXPECT_EQ(json["topic"], "sensors/room1/temp");
  EXPECT_EQ(json["qos"], 1);
  EXPECT_EQ(json["retain"], 1);
  EXPECT_EQ(json["payloadlen"], 9);
  EXPECT_EQ(json["payload"], "say \"hi\"\n");
  EXPECT_FALSE(json.contains("properties"));
}

TEST_F(MessageFormatTest, JsonBinaryPayloadIsAByteArray) {
  const auto json = nlohmann::json::parse(render("%j", sample(std::string("\xff\x00\x01", 3))));
  EXPECT_EQ(json["payload"], nlohmann::json::array({255, 0, 1}));
}

TEST_F(MessageFormatTest, JsonRawPayload) {
  const std::string text = render("%J", sample("{\"temperature\":27.5,\"ok\":true}"));
  EXPECT_NE(text.find("\"payload\":{\"temperature\":27.5,\"ok\":true}"), std::string::npos) << text;
  const auto json = nlohmann::json::parse(text);
  EXPECT_EQ(json["payload"]["temperature"], 27.5);
}

TEST_F(MessageFormatTest, JsonRawWithInvalidPayloadWarns) {
  std::vector<std::string> warnings;
  EXPECT_EQ(MessageFormat("<%J>").render(sample("not json"), &warnings), "<>");
  ASSERT_EQ(warnings.size(), 1U);
  EXPECT_NE(warnings[0].find("sensors/room1/temp"), std::string::npos);
}

TEST_F(MessageFormatTest, JsonWithProperties) {
  const auto json = nlohmann::json::parse(render("%J", with_properties()));
  const auto& props = json["properties"];
  EXPECT_EQ(props["content-type"], "application/json");
  EXPECT_EQ(props["message-expiry-interval"], 60);
  EXPECT_EQ(props["payload-format-indicator"], 1);
  EXPECT_EQ(props["response-topic"], "reply/here");
  EXPECT_EQ(props["correlation-data"], "corr-1");
  EXPECT_EQ(props["subscription-identifier"], 7);
  EXPECT_EQ(props["user-properties"]["unit"], "C");
}

TEST_F(MessageFormatTest, PrettyJsonSpansLines) {
  const std::string pretty = MessageFormat("%j", true).render(sample());
  EXPECT_NE(pretty.find('\n'), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(pretty), nlohmann::json::parse(render("%j")));
}

TEST(RenderStyles, PayloadOnlyAndVerbose) {
  EXPECT_EQ(render_payload_only(sample()), "hello world");
  EXPECT_EQ(render_verbose(sample()), "sensors/room1/temp hello world");
  EXPECT_EQ(render_verbose(sample("")), "sensors/room1/temp (null)");
}

TEST(RenderJsonl, TextPayload) {
  const std::string line = render_jsonl(sample("héllo"));
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line,
            "{\"timestamp\":\"2023-11-14T22:13:20.123Z\",\"topic\":\"sensors/room1/temp\",\"qos\":1,"
            "\"retain\":true,\"payload\":\"héllo\"}");
}

TEST(RenderJsonl, TimestampIsUtcWhateverTheTz) {
  ::setenv("TZ", "XXX-5", 1);
  ::tzset();
  const auto json = nlohmann::json::parse(render_jsonl(sample()));
  ::setenv("TZ", "UTC0", 1);
  ::tzset();
  EXPECT_EQ(json["timestamp"], "2023-11-14T22:13:20.123Z");
}

TEST(RenderJsonl, ControlCharactersStayOnOneLine) {
  const std::string line = render_jsonl(sample("a\nb\tc"));
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(line)["payload"], "a\nb\tc");
}

TEST(RenderJsonl, BinaryPayloadIsBase64AndRoundTrips) {
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(255 - i));
  for (const std::string& payload : {binary, std::string("\xff"), std::string("\xc3\x28" "ab"), std::string("a\0b", 3)}) {
    const auto json = nlohmann::json::parse(render_jsonl(sample(payload)));
    ASSERT_EQ(json.value("encoding", ""), "base64") << json.dump();
    const auto decoded = base64_decode(json["payload"].get<std::string>());
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, payload);
  }
}

TEST(RenderJsonl, EmptyPayloadIsEmptyText) {
  const auto json = nlohmann::json::parse(render_jsonl(sample("")));
  EXPECT_EQ(json["payload"], "");
  EXPECT_FALSE(json.contains("encoding"));
}

TEST(RenderJsonl, V5Properties) {
  ReceivedMessage m = with_properties();
  m.properties.correlation_data = std::string("\x01\xfe", 2);
  const auto json = nlohmann::json::parse(render_jsonl(m));
  const auto& props = json.at("properties");
  EXPECT_EQ(props["payload_format_indicator"], 1);
  EXPECT_EQ(props["message_expiry_interval"], 60);
  EXPECT_EQ(props["content_type"], "application/json");
  EXPECT_EQ(props["response_topic"], "reply/here");
  EXPECT_EQ(props["correlation_data_encoding"], "base64");
  EXPECT_EQ(base64_decode(props["correlation_data"].get<std::string>()), std::string("\x01\xfe", 2));
  EXPECT_EQ(props["user_properties"], nlohmann::json::parse(R"([["k","v"],["k","w"],["unit","C"]])"));
  EXPECT_EQ(props["subscription_identifiers"], nlohmann::json::array({7}));
  EXPECT_FALSE(nlohmann::json::parse(render_jsonl(sample())).contains("properties"));
}

TEST(Base64, KnownVectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_decode("Zg=="), "f");
  EXPECT_EQ(base64_decode("Zm8="), "fo");
  EXPECT_EQ(base64_decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(base64_decode(""), "");
}

TEST(Base64, RejectsInvalidText) {
  for (const char* bad : {"Zg=", "Z", "Zm9v YmFy", "Zm=v", "Z===", "!!!!", "Zm9\n"})
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
}

TEST(Base64, LargeRoundTrip) {
  std::string data(5 * 1024 * 1024 + 7, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 + 7);
  const std::string encoded = base64_encode(data);
  EXPECT_EQ(encoded.size(), (data.size() + 2) / 3 * 4);
  EXPECT_EQ(base64_decode(encoded), data);
}

} // namespace
} // namespace mqfleet
