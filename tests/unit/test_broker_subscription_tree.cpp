#include <mqfleet/broker/subscription_tree.hpp>

#include <mqfleet/mqtt/topic.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace mqfleet::broker;

namespace {

SubscriptionOptions qos(std::uint8_t q, std::uint32_t id = 0) {
  SubscriptionOptions o;
  o.qos = q;
  o.subscription_identifier = id;
  return o;
}

std::set<std::string> receivers(SubscriptionTree& tree, std::string_view topic, std::string_view publisher = {}) {
  MatchResult result;
  tree.match(topic, publisher, result);
  std::set<std::string> out;
  for (const auto& m : result.subscribers) out.emplace(m.subscriber);
  return out;
}

struct MatchCase {
  const char* filter;
  const char* topic;
  bool matches;
};

} // namespace

TEST(SubscriptionTree, MatchTable) {
  const std::vector<MatchCase> cases = {
      {"a/b/c", "a/b/c", true},     {"a/b/c", "a/b", false},      {"a/b", "a/b/c", false},
      {"a/+/c", "a/b/c", true},     {"a/+/c", "a/b/d", false},    {"a/+", "a/", true},
      {"+/+", "/finance", true},    {"/+", "/finance", true},     {"+", "/finance", false},
      {"a/#", "a", true},           {"a/#", "a/b/c", true},       {"#", "a/b", true},
      {"+/#", "a", true},           {"a/+/#", "a/b", true},       {"a/+/#", "a", false},
      {"#", "$SYS/x", false},       {"+/x", "$SYS/x", false},     {"$SYS/#", "$SYS/x", true},
      {"$SYS/+", "$SYS/x", true},   {"a//b", "a//b", true},       {"a/+/b", "a//b", true},
      {"A/b", "a/b", false},        {"sport/tennis/#", "sport/tennis", true},
  };
  for (const auto& c : cases) {
    SubscriptionTree tree;
    tree.add("s", c.filter, qos(0));
    EXPECT_EQ(receivers(tree, c.topic).size() == 1, c.matches) << c.filter << " vs " << c.topic;
  }
}

TEST(SubscriptionTree, DollarRuleAppliesInsideTenantMount) {
  SubscriptionTree tree(1);
  tree.add("s", "acme/#", qos(0));
  tree.add("t", "acme/+/x", qos(0));
  tree.add("u", "acme/$foo/x", qos(0));
  EXPECT_EQ(receivers(tree, "acme/$foo/x"), (std::set<std::string>{"u"}));
  EXPECT_EQ(receivers(tree, "acme/bar/x"), (std::set<std::string>{"s", "t"}));
}

TEST(SubscriptionTree, OverlappingSubscriptionsDeliverOnceAtHighestQos) {
  SubscriptionTree tree;
  tree.add("c1", "a/+", qos(0));
  tree.add("c1", "a/#", qos(2));
  tree.add("c1", "a/b", qos(1));
  tree.add("c2", "a/b", qos(1));
  MatchResult result;
  tree.match("a/b", {}, result);
  ASSERT_EQ(result.subscribers.size(), 2u);
  std::map<std::string, std::uint8_t> got;
  for (const auto& m : result.subscribers) got[std::string(m.subscriber)] = m.qos;
  EXPECT_EQ(got["c1"], 2);
  EXPECT_EQ(got["c2"], 1);
}

TEST(SubscriptionTree, KeepsEverySubscriptionIdentifierOfMergedSubscriptions) {
  SubscriptionTree tree;
  tree.add("c1", "a/+", qos(0, 7));
  tree.add("c1", "a/#", qos(1, 9));
  tree.add("c1", "a/b", qos(1));
  MatchResult result;
  tree.match("a/b", {}, result);
  ASSERT_EQ(result.subscribers.size(), 1u);
  const auto& m = result.subscribers[0];
  std::vector<std::uint32_t> ids(result.identifiers.begin() + m.identifiers_begin,
                                 result.identifiers.begin() + m.identifiers_begin + m.identifiers_count);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::uint32_t>{7, 9}));
}

TEST(SubscriptionTree, NoLocalSkipsThePublisherOnly) {
  SubscriptionTree tree;
  SubscriptionOptions no_local = qos(1);
  no_local.no_local = true;
  tree.add("me", "chat", no_local);
  tree.add("you", "chat", no_local);
  EXPECT_EQ(receivers(tree, "chat", "me"), (std::set<std::string>{"you"}));
  // Another subscription of "me" without no-local still delivers.
  tree.add("me", "#", qos(0));
  EXPECT_EQ(receivers(tree, "chat", "me"), (std::set<std::string>{"me", "you"}));
}

TEST(SubscriptionTree, SharedSubscriptionsRoundRobinPerGroup) {
  SubscriptionTree tree;
  tree.add("w1", "$share/g/jobs/+", qos(1));
  tree.add("w2", "$share/g/jobs/+", qos(1));
  tree.add("w3", "$share/g/jobs/+", qos(1));
  tree.add("x1", "$share/h/jobs/#", qos(0));
  tree.add("plain", "jobs/+", qos(0));
  std::map<std::string, int> g_counts;
  MatchResult result;
  for (int i = 0; i < 9; ++i) {
    tree.match("jobs/1", {}, result);
    ASSERT_EQ(result.subscribers.size(), 3u); // one of g, one of h, plain
    int g_picks = 0;
    for (const auto& m : result.subscribers) {
      if (m.share_group == "g") {
        ++g_picks;
        ++g_counts[std::string(m.subscriber)];
      }
    }
    EXPECT_EQ(g_picks, 1);
  }
  EXPECT_EQ(g_counts, (std::map<std::string, int>{{"w1", 3}, {"w2", 3}, {"w3", 3}}));
}

TEST(SubscriptionTree, SharedPickSkipsIneligibleMembers) {
  SubscriptionTree tree;
  tree.add("w1", "$share/g/t", qos(1));
  tree.add("w2", "$share/g/t", qos(1));
  MatchResult result;
  const SharePredicate only_w2 = [](std::string_view s) { return s == "w2"; };
  for (int i = 0; i < 4; ++i) {
    tree.match("t", {}, result, only_w2);
    ASSERT_EQ(result.subscribers.size(), 1u);
    EXPECT_EQ(result.subscribers[0].subscriber, "w2");
  }
}

TEST(SubscriptionTree, SharedMemberRemovalKeepsRotation) {
  SubscriptionTree tree;
  tree.add("w1", "$share/g/t", qos(1));
  tree.add("w2", "$share/g/t", qos(1));
  EXPECT_TRUE(tree.remove("w1", "$share/g/t"));
  EXPECT_EQ(receivers(tree, "t"), (std::set<std::string>{"w2"}));
  EXPECT_TRUE(tree.remove("w2", "$share/g/t"));
  EXPECT_TRUE(receivers(tree, "t").empty());
  EXPECT_EQ(tree.size(), 0u);
  EXPECT_EQ(tree.node_count(), 1u);
}

TEST(SubscriptionTree, AddReplacesRemovePrunes) {
  SubscriptionTree tree;
  EXPECT_TRUE(tree.add("c", "a/b/c", qos(0)));
  EXPECT_FALSE(tree.add("c", "a/b/c", qos(2)));
  EXPECT_EQ(tree.size(), 1u);
  MatchResult result;
  tree.match("a/b/c", {}, result);
  ASSERT_EQ(result.subscribers.size(), 1u);
  EXPECT_EQ(result.subscribers[0].qos, 2);
  EXPECT_FALSE(tree.remove("c", "a/b"));
  EXPECT_FALSE(tree.remove("other", "a/b/c"));
  EXPECT_TRUE(tree.remove("c", "a/b/c"));
  EXPECT_EQ(tree.size(), 0u);
  EXPECT_EQ(tree.node_count(), 1u);
}

TEST(SubscriptionTree, RemoveAllAndSubscriptionsOf) {
  SubscriptionTree tree;
  tree.add("c", "a", qos(0));
  tree.add("c", "b/#", qos(1));
  tree.add("c", "$share/g/x", qos(1));
  tree.add("d", "a", qos(0));
  EXPECT_EQ(tree.subscriptions_of("c").size(), 3u);
  EXPECT_EQ(tree.remove_all("c"), 3u);
  EXPECT_TRUE(tree.subscriptions_of("c").empty());
  EXPECT_EQ(tree.size(), 1u);
  EXPECT_EQ(receivers(tree, "a"), (std::set<std::string>{"d"}));
  EXPECT_TRUE(receivers(tree, "x").empty());
}

TEST(SubscriptionTree, ResultIsReusedWithoutGrowing) {
  SubscriptionTree tree;
  for (int i = 0; i < 100; ++i) tree.add("c" + std::to_string(i), i % 2 ? "a/#" : "a/+", qos(1));
  MatchResult result;
  tree.match("a/b", {}, result);
  EXPECT_EQ(result.subscribers.size(), 100u);
  const auto* data = result.subscribers.data();
  const auto capacity = result.subscribers.capacity();
  for (int i = 0; i < 10; ++i) tree.match("a/b", {}, result);
  EXPECT_EQ(result.subscribers.data(), data);
  EXPECT_EQ(result.subscribers.capacity(), capacity);
}

// The tree against the codec's single-filter matcher on random filters and topics.
TEST(SubscriptionTree, AgreesWithTopicMatchesOnRandomInput) {
  std::mt19937 random(12345);
  const std::vector<std::string> words = {"a", "b", "$x", "", "c"};
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(random() % n); };
  auto make = [&](bool filter) {
    std::string text;
    const auto levels = 1 + pick(4);
    for (std::size_t i = 0; i < levels; ++i) {
      if (i) text += '/';
      const auto r = pick(10);
      if (filter && r == 0 && i + 1 == levels) text += '#';
      else if (filter && r < 3) text += '+';
      else text += words[pick(words.size())];
    }
    return text;
  };
  SubscriptionTree tree;
  std::vector<std::string> filters;
  for (int i = 0; i < 200; ++i) {
    auto filter = make(true);
    if (!mqfleet::mqtt::is_valid_topic_filter(filter)) continue;
    filters.push_back(filter);
    tree.add("s" + std::to_string(filters.size() - 1), filter, qos(0));
  }
  MatchResult result;
  for (int i = 0; i < 2000; ++i) {
    const auto topic = make(false);
    if (!mqfleet::mqtt::is_valid_topic_name(topic)) continue;
    std::set<std::string> expected;
    for (std::size_t f = 0; f < filters.size(); ++f)
      if (mqfleet::mqtt::topic_matches(filters[f], topic)) expected.insert("s" + std::to_string(f));
    tree.match(topic, {}, result);
    std::set<std::string> got;
    for (const auto& m : result.subscribers) got.emplace(m.subscriber);
    ASSERT_EQ(got, expected) << "topic '" << topic << "'";
  }
}
