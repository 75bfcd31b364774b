// Per-account limits (issue 11 item 16): the decisions of AccountQuotas and the ledger
// RetainedStore keeps through it, without sockets.
#include <mqfleet/broker/account_quotas.hpp>
#include <mqfleet/broker/retained_store.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace mqfleet::broker {
namespace {

std::shared_ptr<Message> retained(std::string topic, std::string payload) {
  auto message = std::make_shared<Message>();
  message->topic = std::move(topic);
  message->payload = std::move(payload);
  message->retain = true;
  return message;
}

TEST(AccountQuotas, NothingIsRefusedWithoutLimits) {
  AccountQuotas quotas;
  for (int i = 0; i < 1000; ++i) {
    quotas.session_added("acme");
    quotas.subscription_added("acme");
    quotas.retained_added("acme", 1000);
  }
  EXPECT_TRUE(quotas.session_fits("acme"));
  EXPECT_TRUE(quotas.subscription_fits("acme"));
  EXPECT_TRUE(quotas.retained_fits("acme", false, 0, 1'000'000));
}

TEST(AccountQuotas, RetainedCountLimitRefusesANewTopicNotAReplacement) {
  AccountQuotas quotas(AccountLimits{.max_retained = 2});
  quotas.retained_added("acme", 10);
  EXPECT_TRUE(quotas.retained_fits("acme", false, 0, 10));
  quotas.retained_added("acme", 10);
  EXPECT_FALSE(quotas.retained_fits("acme", false, 0, 10)) << "a third topic";
  EXPECT_TRUE(quotas.retained_fits("acme", true, 10, 10)) << "replacing one of the two adds nothing";
  EXPECT_TRUE(quotas.retained_fits("globex", false, 0, 10)) << "another account has its own quota";
  quotas.retained_removed("acme", 10);
  EXPECT_TRUE(quotas.retained_fits("acme", false, 0, 10)) << "a deletion frees a place";
}

TEST(AccountQuotas, RetainedBytesLimitCountsWhatAReplacementFrees) {
  AccountQuotas quotas(AccountLimits{.max_retained_bytes = 100});
  quotas.retained_added("acme", 60);
  EXPECT_TRUE(quotas.retained_fits("acme", false, 0, 40)) << "exactly at the limit";
  EXPECT_FALSE(quotas.retained_fits("acme", false, 0, 41));
  EXPECT_TRUE(quotas.retained_fits("acme", true, 60, 100)) << "replacing the 60 bytes";
  EXPECT_FALSE(quotas.retained_fits("acme", true, 60, 101));
  EXPECT_FALSE(quotas.retained_fits("globex", false, 0, 101)) << "one message larger than the limit";
}

TEST(AccountQuotas, SessionAndSubscriptionLimitsPerAccount) {
  AccountQuotas quotas(AccountLimits{.max_sessions = 2, .max_subscriptions = 3});
  quotas.session_added("acme");
  quotas.session_added("acme");
  EXPECT_FALSE(quotas.session_fits("acme"));
  EXPECT_TRUE(quotas.session_fits("globex"));
  for (int i = 0; i < 3; ++i) quotas.subscription_added("acme");
  EXPECT_FALSE(quotas.subscription_fits("acme"));
  quotas.subscription_removed("acme");
  EXPECT_TRUE(quotas.subscription_fits("acme"));
  // A session that goes takes its subscriptions with it.
  quotas.session_removed("acme", 2);
  EXPECT_TRUE(quotas.session_fits("acme"));
  EXPECT_EQ(quotas.usage("acme").subscriptions, 0u);
  EXPECT_EQ(quotas.usage("acme").sessions, 1u);
}

TEST(AccountQuotas, ForgetsAnAccountThatHoldsNothingAndNeverWraps) {
  AccountQuotas quotas(AccountLimits{.max_sessions = 1});
  quotas.session_added("acme");
  EXPECT_EQ(quotas.accounts(), 1u);
  quotas.session_removed("acme", 0);
  EXPECT_EQ(quotas.accounts(), 0u) << "the ledger does not keep every account ever seen";
  quotas.session_removed("acme", 5); // more removed than added: stays at zero
  quotas.retained_removed("acme", 100);
  EXPECT_TRUE(quotas.session_fits("acme"));
  EXPECT_EQ(quotas.usage("acme").sessions, 0u);
  quotas.auth_failed("acme", true);
  EXPECT_EQ(quotas.usage("acme").auth_failures, 1u);
  EXPECT_EQ(quotas.usage("acme").auth_throttled, 1u);
  quotas.quota_refused("acme");
  EXPECT_EQ(quotas.usage("acme").quota_refusals, 1u);
}

TEST(AccountQuotas, AccountOfAnInternalName) {
  EXPECT_EQ(account_of("acme/telemetry/x", 1), "acme");
  EXPECT_EQ(account_of("acme/d1", 1), "acme");
  EXPECT_EQ(account_of("acme/telemetry", 0), "") << "anonymous mode is one account";
}

// The store reports every change, so the ledger stays true through replacement,
// deletion by an empty payload and expiry; $SYS (global or a tenant's) is not counted.
TEST(RetainedStoreLedger, CountsPerAccountThroughEveryChange) {
  AccountQuotas ledger;
  RetainedStore store(1);
  store.set_ledger(&ledger);
  store.set(retained("acme/a", "12345"));  // topic "a" (1) + 5
  store.set(retained("acme/bb", "123"));   // 2 + 3
  store.set(retained("globex/a", "1"));    // 1 + 1
  EXPECT_EQ(ledger.usage("acme").retained, 2u);
  EXPECT_EQ(ledger.usage("acme").retained_bytes, 11u) << "bytes of the topic as the client sees it + payload";
  EXPECT_EQ(ledger.usage("globex").retained, 1u);
  store.set(retained("acme/a", "1"));      // replaced: 1 + 1
  EXPECT_EQ(ledger.usage("acme").retained, 2u);
  EXPECT_EQ(ledger.usage("acme").retained_bytes, 7u);
  store.set(retained("acme/bb", ""));      // deleted
  EXPECT_EQ(ledger.usage("acme").retained, 1u);
  EXPECT_EQ(ledger.usage("acme").retained_bytes, 2u);
  auto expiring = retained("acme/e", "x");
  expiring->expires_at = Clock::now() - std::chrono::seconds(1);
  store.set(expiring);
  EXPECT_EQ(ledger.usage("acme").retained, 2u);
  std::vector<MessagePtr> out;
  store.match("acme/#", out);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(ledger.usage("acme").retained, 1u) << "an expired message leaves the ledger too";
  store.set(retained("$SYS/broker/uptime", "1 seconds"));
  store.set(retained("acme/$SYS/broker/uptime", "1 seconds"));
  EXPECT_EQ(ledger.usage("acme").retained, 1u) << "$SYS figures are the broker's, not the tenant's";
  EXPECT_EQ(ledger.usage("$SYS").retained, 0u);
  store.erase("globex/a");
  EXPECT_EQ(ledger.usage("globex").retained, 0u);
}

TEST(RetainedStoreLedger, AnonymousModeIsOneAccount) {
  AccountQuotas ledger;
  RetainedStore store(0);
  store.set_ledger(&ledger);
  store.set(retained("acme/a", "12"));
  store.set(retained("x", "1"));
  store.set(retained("$SYS/broker/uptime", "1"));
  EXPECT_EQ(ledger.usage("").retained, 2u);
  EXPECT_EQ(ledger.usage("").retained_bytes, (6u + 2u) + (1u + 1u)) << "the whole topic: nothing is mounted";
  std::string_view account;
  std::size_t bytes = 0;
  EXPECT_FALSE(store.counted("$SYS/x", 1, account, bytes));
  ASSERT_TRUE(store.counted("a/b", 3, account, bytes));
  EXPECT_EQ(account, "");
  EXPECT_EQ(bytes, 6u);
}

} // namespace
} // namespace mqfleet::broker
