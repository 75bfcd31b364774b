// Failed-login back-off (LoginGuard), the log rate limit (LogLimiter) and the cost caps
// of credential checks (issue 11, items 10-12).

#include <mqfleet/broker/credentials.hpp>
#include <mqfleet/broker/device_registry.hpp>
#include <mqfleet/broker/log_limiter.hpp>
#include <mqfleet/broker/login_guard.hpp>
#include <mqfleet/broker/work_pool.hpp>
#include <mqfleet/error.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>

using namespace mqfleet::broker;
using namespace std::chrono_literals;

TEST(LoginGuard, LocksAPeerThatFailsInABurstWithGrowingLocks) {
  LoginGuard guard;
  const auto t0 = LoginGuard::Clock::now();
  for (int i = 0; i < 20; ++i) {
    EXPECT_FALSE(guard.locked("10.0.0.1", "acme/d" + std::to_string(i), t0));
    guard.failed("10.0.0.1", "acme/d" + std::to_string(i), t0);
  }
  EXPECT_FALSE(guard.locked("10.0.0.1", "acme/x", t0)) << "a burst of 20 is free";
  guard.failed("10.0.0.1", "acme/x", t0);
  EXPECT_TRUE(guard.locked("10.0.0.1", "acme/other", t0)) << "the peer is locked, whatever id it tries";
  EXPECT_FALSE(guard.locked("10.0.0.2", "acme/other", t0)) << "other peers are not";
  EXPECT_FALSE(guard.locked("10.0.0.1", "acme/other", t0 + 1s));
  for (int i = 0; i < 2; ++i) guard.failed("10.0.0.1", "acme/y" + std::to_string(i), t0 + 1s);
  EXPECT_TRUE(guard.locked("10.0.0.1", "acme/other", t0 + 2900ms)) << "the second lock is 2 s";
  EXPECT_FALSE(guard.locked("10.0.0.1", "acme/other", t0 + 3s));
  // One failure per second is what the bucket drains: never locked again.
  for (int i = 0; i < 100; ++i) {
    const auto t = t0 + 4s + std::chrono::seconds(i);
    ASSERT_FALSE(guard.locked("10.0.0.1", "acme/z", t)) << i;
    guard.failed("10.0.0.1", "acme/z" + std::to_string(i), t);
  }
}

TEST(LoginGuard, ADeviceRetryingEverySecondsIsNeverLocked) {
  LoginGuard guard;
  const auto t0 = LoginGuard::Clock::now();
  for (int i = 0; i < 1000; ++i) {
    const auto t = t0 + std::chrono::seconds(2 * i);
    ASSERT_FALSE(guard.locked("10.0.0.1", "acme/other-" + std::to_string(i), t)) << i;
    guard.failed("10.0.0.1", "acme/misconfigured-" + std::to_string(i % 3), t);
  }
}

TEST(LoginGuard, LocksAClientIdTriedFromManyPeersAndASuccessClearsIt) {
  LoginGuard guard;
  const auto t0 = LoginGuard::Clock::now();
  for (int i = 0; i < 6; ++i) guard.failed("10.0.1." + std::to_string(i), "acme/d1", t0);
  EXPECT_TRUE(guard.locked("10.9.9.9", "acme/d1", t0));
  EXPECT_FALSE(guard.locked("10.9.9.9", "acme/d2", t0));
  guard.succeeded("acme/d1");
  EXPECT_FALSE(guard.locked("10.9.9.9", "acme/d1", t0));
}

TEST(LoginGuard, MemoryIsBoundedUnderAFloodOfDistinctKeys) {
  LoginGuard guard;
  const auto t0 = LoginGuard::Clock::now();
  for (std::size_t i = 0; i < LoginGuard::k_max_keys; ++i) guard.failed("p" + std::to_string(i), "c", t0);
  EXPECT_LE(guard.size(), LoginGuard::k_max_keys);
  guard.failed("another", "c", t0 + 10min);
  EXPECT_LE(guard.size(), LoginGuard::k_max_keys);
}

TEST(LogLimiter, LetsABurstThroughThenCountsWhatItHoldsBack) {
  LogLimiter limiter(3, 100ms);
  const auto t0 = LogLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.admit(t0), 0u);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(limiter.admit(t0 + 50ms));
  EXPECT_EQ(limiter.admit(t0 + 100ms), 1000u) << "the next line says how many were held back";
  EXPECT_FALSE(limiter.admit(t0 + 150ms));
  EXPECT_EQ(limiter.take_suppressed(), 1u);
  EXPECT_EQ(limiter.take_suppressed(), 0u);
}

TEST(Credentials, IterationsAreCapped) {
  EXPECT_NO_THROW(hash_password("pw", k_max_pbkdf2_iterations));
  EXPECT_THROW(hash_password("pw", k_max_pbkdf2_iterations + 1), mqfleet::ConfigError);
  // A hash above the cap (hand-made or from another tool) is refused, not verified.
  const std::string costly = "$7$200000$" + base64_encode(std::string(12, 's')) + "$" +
                             base64_encode(std::string(64, 'h'));
  EXPECT_FALSE(valid_password_hash(costly));
  EXPECT_FALSE(verify_password("pw", costly));
}

// Item 10: an unknown account costs what a registered device costs.
TEST(Credentials, UnknownAccountCostsWhatARealVerificationCosts) {
  Registry registry;
  registry.add_device("acme", Device{"d1", "", hash_password("k", 20000)});
  auto time_of = [&](auto&& f) {
    auto best = std::chrono::steady_clock::duration::max();
    for (int i = 0; i < 5; ++i) {
      const auto t = std::chrono::steady_clock::now();
      f();
      best = std::min(best, std::chrono::steady_clock::now() - t);
    }
    return std::chrono::duration<double>(best).count();
  };
  const double real = time_of([&] { (void)registry.authenticate("acme", "d1", "wrong"); });
  const double unknown_account = time_of([&] { (void)registry.authenticate("nobody", "d1", "wrong"); });
  const double unknown_device = time_of([&] { (void)registry.authenticate("acme", "nobody", "wrong"); });
  EXPECT_GT(unknown_account, real * 0.5) << real << " s vs " << unknown_account << " s";
  EXPECT_GT(unknown_device, real * 0.5) << real << " s vs " << unknown_device << " s";
}

TEST(WorkPool, RunsJobsOffTheCallerAndRefusesBeyondItsQueue) {
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<int> ran{0};
  {
    WorkPool pool(1, 2);
    std::promise<void> started;
    ASSERT_TRUE(pool.submit([&] {
      started.set_value();
      released.wait();
      ++ran;
    }));
    started.get_future().wait(); // the worker is busy: the next two wait in the queue
    EXPECT_TRUE(pool.submit([&] { ++ran; }));
    EXPECT_TRUE(pool.submit([&] { ++ran; }));
    EXPECT_FALSE(pool.submit([&] { ++ran; })) << "the queue holds 2";
    EXPECT_EQ(pool.queued(), 2u);
    release.set_value();
  }
  EXPECT_EQ(ran, 3) << "queued jobs run before the pool goes";
}
