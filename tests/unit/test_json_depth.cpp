// The one JSON nesting limit (mqfleet/json_depth.hpp): counted outside strings only, located
// by line and column, and cheap on a document far deeper than any stack could walk.
#include <mqfleet/json_depth.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

std::string nested(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST(JsonDepth, AcceptsADocumentExactlyAtTheLimit) {
  EXPECT_FALSE(mqfleet::json_nesting_error(nested(mqfleet::k_max_json_depth)).has_value());
  EXPECT_FALSE(mqfleet::json_nesting_error(R"({"a":{"b":[1,2,{"c":3}]}})").has_value());
}

TEST(JsonDepth, RefusesOneLevelMoreAndSaysWhere) {
  const auto error = mqfleet::json_nesting_error(nested(mqfleet::k_max_json_depth + 1));
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->offset, mqfleet::k_max_json_depth);
  EXPECT_EQ(error->line, 1u);
  EXPECT_EQ(error->column, mqfleet::k_max_json_depth + 1);
}

TEST(JsonDepth, BracketsInsideStringsDoNotCount) {
  const std::string text = "{\"s\":\"" + std::string(500, '[') + "\\\"" + std::string(500, '{') + "\"}";
  EXPECT_FALSE(mqfleet::json_nesting_error(text).has_value());
}

TEST(JsonDepth, LocatesTheBracketOnItsLine) {
  const auto error = mqfleet::json_nesting_error("{\n  \"a\": [[[\n]]]}", 3);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->line, 2u);
  EXPECT_EQ(error->column, 10u);
}

TEST(JsonDepth, ScansAHundredThousandLevelsWithoutRecursion) {
  const auto error = mqfleet::json_nesting_error(nested(100000));
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->offset, mqfleet::k_max_json_depth);
}

} // namespace
