#include <mqfleet/broker/retained_store.hpp>

#include <gtest/gtest.h>

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
