// Topic names, filters, wildcard matching, $-topics and shared subscriptions.
#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/topic.hpp>

#include <gtest/gtest.h>

#include <string>

using namespace mqfleet::mqtt;
using namespace std::string_literals;

TEST(CodecTopic, ValidatesTopicNames) {
  for (const std::string& s : {"a"s, "a/b/c"s, "/"s, "//"s, "$SYS/broker"s, " "s, "a b"s,
                              "caf\xC3\xA9"s, std::string(k_max_topic_length, 'x')}) {
    EXPECT_EQ(check_topic_name(s), TopicStatus::ok) << s.substr(0, 40);
  }
  EXPECT_EQ(check_topic_name(""), TopicStatus::empty);
  EXPECT_EQ(check_topic_name("a/+"), TopicStatus::wildcard_in_name);
  EXPECT_EQ(check_topic_name("a/#"), TopicStatus::wildcard_in_name);
  EXPECT_EQ(check_topic_name("a+b"), TopicStatus::wildcard_in_name);
  EXPECT_EQ(check_topic_name("a\0b"s), TopicStatus::bad_utf8);
  EXPECT_EQ(check_topic_name("\xED\xA0\x80"s), TopicStatus::bad_utf8);
  EXPECT_EQ(check_topic_name(std::string(k_max_topic_length + 1, 'x')), TopicStatus::too_long);
}

TEST(CodecTopic, ValidatesTopicFilters) {
  for (const char* s : {"#", "+", "a/#", "a/+", "+/+", "+/#", "/+", "a//+/#", "/#", "$SYS/#",
                        "a/+/c", "$share/g/a/#", "$share/g/#", "$share/grp/+/x"}) {
    EXPECT_EQ(check_topic_filter(s), TopicStatus::ok) << s;
  }
  const std::pair<const char*, TopicStatus> bad[] = {
      {"", TopicStatus::empty},
      {"a#", TopicStatus::bad_multi_level},
      {"#/a", TopicStatus::bad_multi_level},
      {"a/#/b", TopicStatus::bad_multi_level},
      {"a/b#", TopicStatus::bad_multi_level},
      {"##", TopicStatus::bad_multi_level},
      {"a+", TopicStatus::bad_single_level},
      {"+a", TopicStatus::bad_single_level},
      {"a/+b/c", TopicStatus::bad_single_level},
      {"++", TopicStatus::bad_single_level},
      {"$share/", TopicStatus::bad_shared},
      {"$share/g", TopicStatus::bad_shared},
      {"$share/g/", TopicStatus::bad_shared},
      {"$share//a", TopicStatus::bad_shared},
      {"$share/g+/a", TopicStatus::bad_shared},
      {"$share/#/a", TopicStatus::bad_shared},
      {"$share/g/a#", TopicStatus::bad_shared},
  };
  for (const auto& [filter, status] : bad) {
    EXPECT_EQ(check_topic_filter(filter), status) << filter;
  }
}

TEST(CodecTopic, ThrowsProtocolErrorsWithReasonCodes) {
  try {
    validate_topic_name("a/+");
    FAIL() << "expected ProtocolError";
  } catch (const mqfleet::ProtocolError& e) {
    EXPECT_EQ(e.reason_code(), 0x90);
    EXPECT_NE(std::string(e.what()).find("wildcard"), std::string::npos);
  }
  try {
    validate_topic_filter("a/#/b");
    FAIL() << "expected ProtocolError";
  } catch (const mqfleet::ProtocolError& e) {
    EXPECT_EQ(e.reason_code(), 0x8F);
  }
  EXPECT_NO_THROW(validate_topic_name("a/b"));
  EXPECT_NO_THROW(validate_topic_filter("a/+/#"));
}

TEST(CodecTopic, MatchesFiltersAgainstNames) {
  struct Case {
    const char* filter;
    const char* name;
    bool matches;
  };
  const Case cases[] = {
      {"a/b", "a/b", true},       {"a/b", "a/c", false},       {"a/b", "a/b/c", false},
      {"a/b/c", "a/b", false},    {"#", "a", true},            {"#", "a/b/c", true},
      {"#", "/", true},           {"a/#", "a", true},          {"a/#", "a/b", true},
      {"a/#", "a/b/c", true},     {"a/#", "ab", false},        {"a/#", "b/a", false},
      {"+", "a", true},           {"+", "a/b", false},         {"+", "/", false},
      {"+/+", "/", true},         {"/+", "/a", true},          {"/+", "a", false},
      {"a/+", "a/", true},        {"a/+", "a", false},         {"a/+/c", "a/b/c", true},
      {"a/+/c", "a/b/d", false},  {"+/b/#", "a/b", true},      {"+/b/#", "a/b/c/d", true},
      {"a//b", "a//b", true},     {"a/+/b", "a//b", true},     {"a/", "a/", true},
      {"a/", "a", false},         {"a", "a/", false},          {"+/#", "a", true},
      {"#", "$SYS/x", false},     {"+/x", "$SYS/x", false},    {"+", "$SYS", false},
      {"$SYS/#", "$SYS/x", true}, {"$SYS/+", "$SYS/x", true},  {"$SYS", "$SYS", true},
      {"a/$x", "a/$x", true},     {"a/+", "a/$x", true},       {"a/#", "a/$x", true},
      {"A", "a", false},          {"sport/tennis/#", "sport/tennis/player1/score", true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(topic_matches(c.filter, c.name), c.matches) << c.filter << " vs " << c.name;
  }
}

TEST(CodecTopic, ParsesSharedSubscriptions) {
  EXPECT_TRUE(is_shared_subscription("$share/g/a"));
  EXPECT_FALSE(is_shared_subscription("$shared/g/a"));
  EXPECT_FALSE(is_shared_subscription("share/g/a"));
  const auto shared = parse_shared_subscription("$share/workers/jobs/+/high");
  ASSERT_TRUE(shared.has_value());
  EXPECT_EQ(shared->group, "workers");
  EXPECT_EQ(shared->filter, "jobs/+/high");
  EXPECT_TRUE(topic_matches(shared->filter, "jobs/x/high"));
  EXPECT_FALSE(parse_shared_subscription("a/b").has_value());
  EXPECT_FALSE(parse_shared_subscription("$share/g").has_value());
  EXPECT_FALSE(parse_shared_subscription("$share/g/").has_value());
}
