#include <mqfleet/broker/retained_store.hpp>

#include <mqfleet/mqtt/topic.hpp>

#include <gtest/gtest.h>

#include <random>
#include <set>

using namespace mqfleet::broker;

namespace {

MessagePtr message(std::string topic, std::string payload) {
  auto m = std::make_shared<Message>();
  m->topic = std::move(topic);
  m->payload = std::move(payload);
  m->retain = true;
  return m;
}

std::set<std::string> topics(RetainedStore& store, std::string_view filter) {
  std::vector<MessagePtr> out;
  store.match(filter, out);
  std::set<std::string> result;
  for (const auto& m : out) result.insert(m->topic);
  return result;
}

} // namespace

TEST(RetainedStore, SetReplacesAndEmptyPayloadDeletes) {
  RetainedStore store;
  store.set(message("a/b", "1"));
  store.set(message("a/b", "22"));
  EXPECT_EQ(store.count(), 1u);
  EXPECT_EQ(store.bytes(), 3u + 2u);
  EXPECT_EQ(store.find("a/b")->payload, "22");
  store.set(message("a/b", ""));
  EXPECT_EQ(store.count(), 0u);
  EXPECT_EQ(store.bytes(), 0u);
  EXPECT_EQ(store.find("a/b"), nullptr);
  EXPECT_FALSE(store.erase("a/b"));
}

TEST(RetainedStore, WildcardMatchTable) {
  RetainedStore store;
  for (const char* t : {"a", "a/b", "a/b/c", "a/c", "b", "/x", "$SYS/load", "a//c"}) store.set(message(t, "p"));
  EXPECT_EQ(topics(store, "#"), (std::set<std::string>{"a", "a/b", "a/b/c", "a/c", "b", "/x", "a//c"}));
  EXPECT_EQ(topics(store, "a/#"), (std::set<std::string>{"a", "a/b", "a/b/c", "a/c", "a//c"}));
  EXPECT_EQ(topics(store, "a/+"), (std::set<std::string>{"a/b", "a/c"}));
  EXPECT_EQ(topics(store, "+"), (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(topics(store, "+/+"), (std::set<std::string>{"a/b", "a/c", "/x"}));
  EXPECT_EQ(topics(store, "a/+/c"), (std::set<std::string>{"a/b/c", "a//c"}));
  EXPECT_EQ(topics(store, "$SYS/#"), (std::set<std::string>{"$SYS/load"}));
  EXPECT_EQ(topics(store, "+/load"), (std::set<std::string>{}));
  EXPECT_EQ(topics(store, "a/b"), (std::set<std::string>{"a/b"}));
  EXPECT_EQ(topics(store, "nothing/#"), (std::set<std::string>{}));
}

TEST(RetainedStore, DollarRuleInsideTenantMount) {
  RetainedStore store(1);
  store.set(message("acme/$x", "p"));
  store.set(message("acme/t", "p"));
  store.set(message("other/t", "p"));
  EXPECT_EQ(topics(store, "acme/#"), (std::set<std::string>{"acme/t"}));
  EXPECT_EQ(topics(store, "acme/+"), (std::set<std::string>{"acme/t"}));
  EXPECT_EQ(topics(store, "acme/$x"), (std::set<std::string>{"acme/$x"}));
}

TEST(RetainedStore, ExpiredMessagesAreRemovedOnMatch) {
  RetainedStore store;
  auto m = std::make_shared<Message>();
  m->topic = "t";
  m->payload = "x";
  const auto now = Clock::now();
  m->expires_at = now + std::chrono::seconds(10);
  store.set(m);
  EXPECT_EQ(topics(store, "t").size(), 1u);
  std::vector<MessagePtr> out;
  store.match("#", out, now + std::chrono::seconds(11));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(store.count(), 0u);
}

// The store against the codec's single-filter matcher on random topics and filters.
TEST(RetainedStore, AgreesWithTopicMatchesOnRandomInput) {
  std::mt19937 random(777);
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
  RetainedStore store;
  std::set<std::string> stored;
  for (int i = 0; i < 300; ++i) {
    auto topic = make(false);
    if (!mqfleet::mqtt::is_valid_topic_name(topic)) continue;
    store.set(message(topic, "p"));
    stored.insert(topic);
  }
  EXPECT_EQ(store.count(), stored.size());
  for (int i = 0; i < 1000; ++i) {
    const auto filter = make(true);
    if (!mqfleet::mqtt::is_valid_topic_filter(filter)) continue;
    std::set<std::string> expected;
    for (const auto& topic : stored)
      if (mqfleet::mqtt::topic_matches(filter, topic)) expected.insert(topic);
    ASSERT_EQ(topics(store, filter), expected) << "filter '" << filter << "'";
  }
}
