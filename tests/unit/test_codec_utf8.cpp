// MQTT UTF-8 rules: well-formed, no U+0000, no surrogates; discouraged characters reported.
#include <mqfleet/mqtt/utf8.hpp>

#include <gtest/gtest.h>

#include <string>

using namespace mqfleet::mqtt;
using namespace std::string_literals;

namespace {

struct Utf8Case {
  std::string input;
  Utf8Status status;
  std::size_t offset;
};

} // namespace

TEST(CodecUtf8, AcceptsWellFormedStrings) {
  for (const std::string& s : {""s, "plain ascii"s, "caf\xC3\xA9"s, "\xE2\x82\xAC uro"s,
                              "\xF0\x9F\x98\x80 emoji"s, "\xF4\x8F\xBF\xBD"s, "\xED\x9F\xBF"s}) {
    EXPECT_TRUE(is_valid_utf8(s)) << s;
    EXPECT_EQ(check_utf8(s).status, Utf8Status::ok) << s;
  }
}

TEST(CodecUtf8, RejectsForbiddenAndIllFormedStrings) {
  const Utf8Case cases[] = {
      {"a\0b"s, Utf8Status::null_char, 1},
      {"\xED\xA0\x80"s, Utf8Status::surrogate, 0},      // U+D800
      {"ab\xED\xBF\xBF"s, Utf8Status::surrogate, 2},    // U+DFFF
      {"\xC0\x80"s, Utf8Status::ill_formed, 0},         // overlong NUL
      {"\xC1\xBF"s, Utf8Status::ill_formed, 0},         // overlong
      {"\xE0\x80\xAF"s, Utf8Status::ill_formed, 0},     // overlong '/'
      {"\xF0\x80\x80\xAF"s, Utf8Status::ill_formed, 0}, // overlong 4-byte
      {"\xF4\x90\x80\x80"s, Utf8Status::ill_formed, 0}, // U+110000
      {"\xF5\x80\x80\x80"s, Utf8Status::ill_formed, 0},
      {"\xFF"s, Utf8Status::ill_formed, 0},
      {"x\x80"s, Utf8Status::ill_formed, 1},            // lone continuation
      {"xy\xC3"s, Utf8Status::ill_formed, 2},           // truncated
      {"\xE2\x82"s, Utf8Status::ill_formed, 0},
      {"\xE2\x28\xA1"s, Utf8Status::ill_formed, 0},     // bad continuation
  };
  for (const auto& c : cases) {
    const Utf8Check check = check_utf8(c.input);
    EXPECT_EQ(check.status, c.status) << testing::PrintToString(c.input);
    EXPECT_EQ(check.error_offset, c.offset) << testing::PrintToString(c.input);
    EXPECT_FALSE(is_valid_utf8(c.input));
  }
}

TEST(CodecUtf8, ReportsDiscouragedCharactersWithoutRefusingThem) {
  for (const std::string& s : {"a\x01"s, "tab\there"s, "\x7F"s, "\xC2\x80"s, "\xC2\x9F"s,
                              "\xEF\xBF\xBE"s, "\xEF\xB7\x90"s, "\xF0\x9F\xBF\xBF"s}) {
    const Utf8Check check = check_utf8(s);
    EXPECT_EQ(check.status, Utf8Status::ok) << testing::PrintToString(s);
    EXPECT_TRUE(check.has_discouraged) << testing::PrintToString(s);
    EXPECT_TRUE(is_valid_utf8(s));
  }
  EXPECT_EQ(check_utf8("ok\x1F"s).discouraged_offset, 2u);
  EXPECT_FALSE(check_utf8("caf\xC3\xA9"s).has_discouraged);
}

TEST(CodecUtf8, DescribesEveryStatus) {
  EXPECT_EQ(describe(Utf8Status::null_char), "contains U+0000");
  EXPECT_FALSE(describe(Utf8Status::surrogate).empty());
}
