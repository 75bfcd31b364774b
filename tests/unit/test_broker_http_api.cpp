#include "http_api.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

using namespace mqfleet::broker;

TEST(HttpApi, TargetSplitsAndDecodes) {
  const auto t = parse_target("/v1/users/ac%20me//buckets/W/data?items=5&min_ts=1&device=a+b&x=%2F");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->segments, (std::vector<std::string>{"v1", "users", "ac me", "buckets", "W", "data"}));
  ASSERT_EQ(t->query.size(), 4u);
  EXPECT_EQ(t->query[0], (std::pair<std::string, std::string>{"items", "5"}));
  EXPECT_EQ(t->query[2].second, "a b");
  EXPECT_EQ(t->query[3].second, "/");
}

TEST(HttpApi, MalformedTargetsAreRefused) {
  EXPECT_FALSE(parse_target(""));
  EXPECT_FALSE(parse_target("v1/users"));
  EXPECT_FALSE(parse_target("/v1/%zz"));
  EXPECT_FALSE(parse_target("/v1/%2"));
  EXPECT_FALSE(parse_target("/v1/%"));
  EXPECT_FALSE(parse_target("/v1/a%00b"));
  EXPECT_FALSE(parse_target("/v1?a=%G0"));
  EXPECT_TRUE(parse_target("/"));
  EXPECT_TRUE(parse_target("/?&&=&"));
}

TEST(HttpApi, TokenFromBearerHeaderOrCookie) {
  HttpRequest request;
  EXPECT_EQ(request_token(request), "");
  request.cookie = "theme=dark; mqfleet_token=abc; other=1";
  EXPECT_EQ(request_token(request), "abc");
  request.authorization = "Bearer xyz";
  EXPECT_EQ(request_token(request), "xyz") << "the header wins over the cookie";
  request.authorization = "Basic xyz";
  EXPECT_EQ(request_token(request), "abc");
}

TEST(HttpApi, ErrorBodyNamesStatusAndMessage) {
  const auto reply = http_error(400, "parameter 'items' must be an integer");
  EXPECT_EQ(reply.status, 400u);
  const auto body = nlohmann::json::parse(reply.body);
  EXPECT_EQ(body["error"]["status"], 400);
  EXPECT_EQ(body["error"]["message"], "parameter 'items' must be an integer");
}
