#include <mqfleet/broker/subscription_tree.hpp>
#include <mqfleet/broker/tenancy.hpp>

#include <gtest/gtest.h>

using namespace mqfleet::broker;

TEST(Tenancy, MountsTopicsAndFilters) {
  const TenantMount acme("acme");
  EXPECT_EQ(acme.mount_levels(), 1u);
  EXPECT_EQ(acme.mount_topic("telemetry"), "acme/telemetry");
  EXPECT_EQ(acme.mount_topic("/leading"), "acme//leading");
  EXPECT_EQ(acme.mount_filter("#"), "acme/#");
  EXPECT_EQ(acme.mount_filter("+/temp"), "acme/+/temp");
  EXPECT_EQ(acme.mount_filter("$share/workers/jobs/#"), "$share/workers/acme/jobs/#");
  EXPECT_EQ(acme.mount_filter("$share/workers/$SYS/#"), "$share/workers/acme/$SYS/#");
}

// Item 16: a tenant's $SYS is its own (the broker publishes its figures there); the
// broker-wide $SYS is never delivered to a tenant.
TEST(Tenancy, SysIsTheTenantsOwnAndReadOnly) {
  const TenantMount acme("acme");
  EXPECT_EQ(acme.mount_topic("$SYS/broker/clients"), "acme/$SYS/broker/clients");
  EXPECT_EQ(acme.mount_filter("$SYS/#"), "acme/$SYS/#");
  EXPECT_EQ(acme.unmount_topic("acme/$SYS/broker/clients"), "$SYS/broker/clients");
  EXPECT_FALSE(acme.unmount_topic("$SYS/broker/clients"));
  EXPECT_FALSE(acme.unmount_topic("other/$SYS/broker/clients"));
  EXPECT_EQ(TenantMount().unmount_topic("$SYS/broker/clients"), "$SYS/broker/clients");
  EXPECT_FALSE(acme.may_publish("$SYS/broker/clients"));
  EXPECT_FALSE(acme.may_publish("$SYS"));
  EXPECT_TRUE(acme.may_publish("$SYSTEM/x"));
  EXPECT_TRUE(acme.may_publish("telemetry"));
}

TEST(Tenancy, UnmountsOwnTopicsOnlyAndRefusesOthers) {
  const TenantMount acme("acme");
  EXPECT_EQ(acme.unmount_topic("acme/telemetry"), "telemetry");
  EXPECT_EQ(acme.unmount_topic("acme//x"), "/x");
  EXPECT_FALSE(acme.unmount_topic("acmeX/telemetry"));
  EXPECT_FALSE(acme.unmount_topic("other/telemetry"));
  EXPECT_FALSE(acme.unmount_topic("acme"));
}

TEST(Tenancy, AnonymousModeMountsNothing) {
  const TenantMount open;
  EXPECT_TRUE(open.anonymous());
  EXPECT_EQ(open.mount_levels(), 0u);
  EXPECT_EQ(open.mount_topic("a/b"), "a/b");
  EXPECT_EQ(open.mount_filter("$share/g/a/#"), "$share/g/a/#");
  EXPECT_EQ(open.unmount_topic("a/b"), "a/b");
}

TEST(Tenancy, ValidAccountNames) {
  EXPECT_TRUE(valid_account("jt"));
  EXPECT_TRUE(valid_account("acme-corp.io"));
  EXPECT_FALSE(valid_account(""));
  EXPECT_FALSE(valid_account("a/b"));
  EXPECT_FALSE(valid_account("a+"));
  EXPECT_FALSE(valid_account("#"));
  EXPECT_FALSE(valid_account("$SYS"));
  EXPECT_FALSE(valid_account(std::string("a\0b", 3)));
}

TEST(Tenancy, TwoTenantsWithTheSameTopicNamesStayIsolated) {
  SubscriptionTree tree(1);
  const TenantMount acme("acme");
  const TenantMount globex("globex");
  tree.add("acme/sub", acme.mount_filter("#"), SubscriptionOptions{});
  tree.add("globex/sub", globex.mount_filter("#"), SubscriptionOptions{});
  tree.add("globex/shared", globex.mount_filter("$share/g/telemetry"), SubscriptionOptions{});
  MatchResult result;
  tree.match(acme.mount_topic("telemetry"), {}, result);
  ASSERT_EQ(result.subscribers.size(), 1u);
  EXPECT_EQ(result.subscribers[0].subscriber, "acme/sub");
  tree.match(globex.mount_topic("telemetry"), {}, result);
  EXPECT_EQ(result.subscribers.size(), 2u);
  tree.match("$SYS/broker/uptime", {}, result);
  EXPECT_TRUE(result.subscribers.empty()) << "'#' does not match $SYS inside a tenant";
  tree.match(acme.mount_topic("$SYS/broker/uptime"), {}, result);
  EXPECT_TRUE(result.subscribers.empty()) << "'#' does not match the tenant's own $SYS either";
}
