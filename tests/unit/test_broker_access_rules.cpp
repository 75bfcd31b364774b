#include <mqfleet/broker/access_rules.hpp>

#include <mqfleet/error.hpp>

#include <gtest/gtest.h>

using namespace mqfleet::broker;

namespace {

AccessRule rule(Effect effect, RuleAction action, std::string topic, std::string account = {}, std::string device = {}) {
  return AccessRule{effect, action, std::move(topic), std::move(account), std::move(device)};
}

} // namespace

TEST(AccessRules, NoRulesAllowsEverything) {
  const AccessRules rules;
  const auto bound = rules.bind("acme", "d1");
  EXPECT_TRUE(bound.check_publish("anything").allowed);
  EXPECT_TRUE(bound.check_subscribe("#").allowed);
  EXPECT_FALSE(bound.check_publish("x").rule);
}

TEST(AccessRules, DevicePublishesOnlyUnderItsOwnTopic) {
  const AccessRules rules({
      rule(Effect::allow, RuleAction::publish, "devices/%d/#"),
      rule(Effect::allow, RuleAction::subscribe, "#"),
  });
  const auto d1 = rules.bind("acme", "d1");
  EXPECT_TRUE(d1.check_publish("devices/d1/temp").allowed);
  EXPECT_TRUE(d1.check_publish("devices/d1").allowed);
  EXPECT_FALSE(d1.check_publish("devices/d2/temp").allowed);
  EXPECT_FALSE(d1.check_publish("telemetry").allowed);
  EXPECT_FALSE(d1.check_publish("telemetry").rule) << "decided by the default";
  EXPECT_TRUE(d1.check_subscribe("devices/+/temp").allowed);
  EXPECT_EQ(d1.check_subscribe("a").rule, 1u);
}

TEST(AccessRules, FirstMatchWins) {
  const AccessRules rules({
      rule(Effect::deny, RuleAction::publish, "cmd/#", "", "guest"),
      rule(Effect::allow, RuleAction::both, "#"),
  });
  EXPECT_FALSE(rules.bind("acme", "guest").check_publish("cmd/reboot").allowed);
  EXPECT_TRUE(rules.bind("acme", "guest").check_publish("data").allowed);
  EXPECT_TRUE(rules.bind("acme", "admin").check_publish("cmd/reboot").allowed);
  EXPECT_TRUE(rules.bind("acme", "guest").check_subscribe("cmd/#").allowed) << "rule 0 governs publish only";
}

TEST(AccessRules, AccountPlaceholderAndAccountScope) {
  const AccessRules rules({
      rule(Effect::allow, RuleAction::both, "shared/%a/#"),
      rule(Effect::allow, RuleAction::publish, "billing/#", "acme"),
  });
  EXPECT_TRUE(rules.bind("acme", "d").check_publish("shared/acme/x").allowed);
  EXPECT_FALSE(rules.bind("acme", "d").check_publish("shared/globex/x").allowed);
  EXPECT_TRUE(rules.bind("acme", "d").check_publish("billing/q1").allowed);
  EXPECT_FALSE(rules.bind("globex", "d").check_publish("billing/q1").allowed);
}

TEST(AccessRules, PlaceholdersNeverWidenOrApplyWhenEmpty) {
  const AccessRules rules({rule(Effect::allow, RuleAction::both, "devices/%d/#")},
                          Effect::deny);
  // A device id with wildcard characters does not turn the rule into "devices/#".
  EXPECT_FALSE(rules.bind("acme", "+").check_publish("devices/x/y").allowed);
  EXPECT_FALSE(rules.bind("acme", "#").check_subscribe("devices/#").allowed);
  // Anonymous mode without a client id: %d cannot be satisfied.
  EXPECT_FALSE(rules.bind("", "").check_publish("devices//y").allowed);
}

TEST(AccessRules, AnonymousModeRulesWithoutAccount) {
  const AccessRules rules({
      rule(Effect::deny, RuleAction::both, "private/#"),
      rule(Effect::allow, RuleAction::both, "#"),
  });
  const auto anyone = rules.bind("", "client-7");
  EXPECT_TRUE(anyone.check_publish("public/x").allowed);
  EXPECT_FALSE(anyone.check_publish("private/x").allowed);
  EXPECT_FALSE(anyone.check_receive("private/x").allowed);
  EXPECT_TRUE(anyone.check_receive("public/x").allowed);
}

TEST(AccessRules, SubscribeAllowNeedsCoverDenyAppliesOnOverlap) {
  const AccessRules rules({
      rule(Effect::deny, RuleAction::subscribe, "secret/#"),
      rule(Effect::allow, RuleAction::subscribe, "sensors/#"),
      rule(Effect::allow, RuleAction::subscribe, "public/+/data"),
  });
  const auto b = rules.bind("acme", "d");
  EXPECT_TRUE(b.check_subscribe("sensors/#").allowed);
  EXPECT_TRUE(b.check_subscribe("sensors/+/t").allowed);
  EXPECT_TRUE(b.check_subscribe("sensors").allowed);
  EXPECT_TRUE(b.check_subscribe("public/x/data").allowed);
  EXPECT_TRUE(b.check_subscribe("public/+/data").allowed);
  EXPECT_FALSE(b.check_subscribe("public/#").allowed) << "not covered by public/+/data";
  EXPECT_FALSE(b.check_subscribe("#").allowed) << "overlaps the deny rule";
  EXPECT_EQ(b.check_subscribe("#").rule, 0u);
  EXPECT_FALSE(b.check_subscribe("+/x").allowed);
  EXPECT_FALSE(b.check_subscribe("secret/a").allowed);
}

struct FilterPair {
  const char* a;
  const char* b;
  bool covers; // a covers b
  bool overlap;
};

TEST(AccessRules, CoverAndOverlapTable) {
  const std::vector<FilterPair> table = {
      {"#", "a/b", true, true},          {"#", "#", true, true},
      {"a/#", "a", true, true},          {"a/#", "a/+/c", true, true},
      {"a/+", "a/b", true, true},        {"a/+", "a/#", false, true},
      {"a/b", "a/+", false, true},       {"a/b", "a/c", false, false},
      {"+/b", "a/+", false, true},       {"a", "a/b", false, false},
      {"a", "a/#", false, true},         {"#", "$SYS/x", false, false},
      {"+/x", "$SYS/x", false, false},   {"$SYS/#", "$SYS/x", true, true},
      {"a/+/+", "a/b", false, false},    {"+", "+", true, true},
  };
  for (const auto& row : table) {
    EXPECT_EQ(filter_covers(row.a, row.b), row.covers) << row.a << " covers " << row.b;
    EXPECT_EQ(filters_overlap(row.a, row.b), row.overlap) << row.a << " overlaps " << row.b;
    EXPECT_EQ(filters_overlap(row.b, row.a), row.overlap) << row.b << " overlaps " << row.a;
  }
}

TEST(AccessRules, InvalidRuleTopicIsAConfigError) {
  EXPECT_THROW(AccessRules({rule(Effect::allow, RuleAction::both, "a/#/b")}), mqfleet::ConfigError);
  EXPECT_THROW(AccessRules({rule(Effect::allow, RuleAction::both, "$share/g/a")}), mqfleet::ConfigError);
}

TEST(AccessRules, ExplicitDefault) {
  const AccessRules rules({rule(Effect::deny, RuleAction::publish, "x")}, Effect::allow);
  EXPECT_TRUE(rules.bind("a", "d").check_publish("y").allowed);
  EXPECT_FALSE(rules.bind("a", "d").check_publish("x").allowed);
}
