// Durable broker state: StateStore (write, reload, replace/delete, batching) and
// Persistence (session tracking, writer thread, crash consistency of the WAL files,
// counting of the writer's backlog).

#include "persistence.hpp"

#include "support/temp_dir.hpp"

#include <mqfleet/error.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>
#include <algorithm>

namespace mqfleet::broker {
namespace {

using test::TempDir;

std::shared_ptr<Message> make(std::string topic, std::string payload, std::uint8_t qos = 1, bool retain = false) {
  auto m = std::make_shared<Message>();
  m->topic = std::move(topic);
  m->payload = std::move(payload);
  m->qos = qos;
  m->retain = retain;
  return m;
}

SubscriptionOptions qos1() {
  SubscriptionOptions options;
  options.qos = 1;
  return options;
}

StoreOp op(StoreOp::Kind kind) {
  StoreOp result;
  result.kind = kind;
  return result;
}

/// Blocks until everything recorded so far is committed.
void wait_durable(Persistence& p) {
  std::promise<bool> done;
  p.after_durable([&done](bool durable) { done.set_value(durable); });
  ASSERT_TRUE(done.get_future().get());
}

TEST(StateStore, WritesAndReloadsEveryKindOfRecord) {
  TempDir dir;
  {
    StateStore store(dir.file("data"), false);
    auto retained = make("a/r", "kept", 1, true);
    retained->properties.content_type = "text/plain";
    retained->properties.user_properties = {{"k", "v"}};
    auto message = make("a/t", std::string("bin\0ary", 7), 2);
    message->properties.correlation_data = "c1";
    std::vector<StoreOp> ops;
    auto s = op(StoreOp::Kind::put_session);
    s.key = "acme/d1";
    s.text = "acme";
    s.qos = 5;
    s.number = 3600;
    ops.push_back(s);
    auto sub = op(StoreOp::Kind::put_subscription);
    sub.key = "acme/d1";
    sub.text = "acme/t/#";
    sub.options.qos = 2;
    sub.options.no_local = true;
    sub.options.retain_handling = 2;
    sub.options.subscription_identifier = 7;
    ops.push_back(sub);
    auto r = op(StoreOp::Kind::put_retained);
    r.message = retained;
    ops.push_back(r);
    auto m = op(StoreOp::Kind::put_message);
    m.id = 10;
    m.message = message;
    ops.push_back(m);
    auto e = op(StoreOp::Kind::put_entry);
    e.id = 20;
    e.key = "acme/d1";
    e.number = 10;
    e.qos = 2;
    e.subscription_identifiers = {7, 9};
    ops.push_back(e);
    auto u = op(StoreOp::Kind::update_entry);
    u.id = 20;
    u.entry_state = EntryState::awaiting_pubrec;
    u.packet_id = 42;
    ops.push_back(u);
    store.apply(ops);
  }
  StateStore store(dir.file("data"), false);
  const auto state = store.load();
  ASSERT_EQ(state.retained.size(), 1u);
  EXPECT_EQ(state.retained[0]->topic, "a/r");
  EXPECT_EQ(state.retained[0]->payload, "kept");
  EXPECT_TRUE(state.retained[0]->retain);
  EXPECT_EQ(state.retained[0]->properties.content_type, "text/plain");
  ASSERT_EQ(state.retained[0]->properties.user_properties.size(), 1u);
  EXPECT_EQ(state.retained[0]->properties.user_properties[0].second, "v");
  ASSERT_EQ(state.sessions.size(), 1u);
  const auto& session = state.sessions[0];
  EXPECT_EQ(session.key, "acme/d1");
  EXPECT_EQ(session.account, "acme");
  EXPECT_EQ(session.protocol_version, 5);
  EXPECT_EQ(session.expiry_interval, 3600u);
  ASSERT_EQ(session.subscriptions.size(), 1u);
  EXPECT_EQ(session.subscriptions[0].first, "acme/t/#");
  EXPECT_EQ(session.subscriptions[0].second.qos, 2);
  EXPECT_TRUE(session.subscriptions[0].second.no_local);
  EXPECT_EQ(session.subscriptions[0].second.retain_handling, 2);
  EXPECT_EQ(session.subscriptions[0].second.subscription_identifier, 7u);
  ASSERT_EQ(session.entries.size(), 1u);
  const auto& entry = session.entries[0];
  EXPECT_EQ(entry.state, EntryState::awaiting_pubrec);
  EXPECT_EQ(entry.packet_id, 42);
  EXPECT_EQ(entry.delivery.qos, 2);
  EXPECT_EQ(entry.delivery.subscription_identifiers, (std::vector<std::uint32_t>{7, 9}));
  ASSERT_TRUE(entry.delivery.message);
  EXPECT_EQ(entry.delivery.message->payload, std::string("bin\0ary", 7));
  EXPECT_EQ(entry.delivery.message->properties.correlation_data, "c1");
  EXPECT_EQ(state.max_entry_id, 20u);
  EXPECT_EQ(state.max_message_id, 10u);
}

TEST(StateStore, ReplacesAndDeletes) {
  TempDir dir;
  {
    StateStore store(dir.file("data"), false);
    auto r1 = op(StoreOp::Kind::put_retained);
    r1.message = make("x", "one", 0, true);
    auto r2 = op(StoreOp::Kind::put_retained);
    r2.message = make("x", "two", 0, true);
    auto r3 = op(StoreOp::Kind::put_retained);
    r3.message = make("y", "gone", 0, true);
    auto d3 = op(StoreOp::Kind::delete_retained);
    d3.text = "y";
    store.apply({r1, r3});
    store.apply({r2, d3});
    auto s = op(StoreOp::Kind::put_session);
    s.key = "k";
    s.number = 0xFFFFFFFF;
    auto sub = op(StoreOp::Kind::put_subscription);
    sub.key = "k";
    sub.text = "f";
    auto m = op(StoreOp::Kind::put_message);
    m.id = 1;
    m.message = make("f", "p");
    auto e = op(StoreOp::Kind::put_entry);
    e.id = 1;
    e.key = "k";
    e.number = 1;
    e.qos = 1;
    store.apply({s, sub, m, e});
    auto del = op(StoreOp::Kind::delete_session);
    del.key = "k";
    store.apply({del});
  }
  StateStore store(dir.file("data"), false);
  const auto state = store.load();
  ASSERT_EQ(state.retained.size(), 1u);
  EXPECT_EQ(state.retained[0]->payload, "two");
  EXPECT_TRUE(state.sessions.empty());
}

// GET …/devices `last_seen` survives a restart: the latest time per device is kept, a
// forgotten device is gone, and the same name in two accounts is two devices.
TEST(Persistence, KeepsTheLastSeenTimeOfEachDevice) {
  TempDir dir;
  {
    Persistence p(dir.file("data"), false, nullptr);
    p.load();
    p.device_seen("acme", "d1", 1000);
    p.device_seen("acme", "d1", 2000);
    p.device_seen("beta", "d1", 3000);
    p.device_seen("acme", "gone", 4000);
    p.device_forgotten("acme", "gone");
    wait_durable(p);
  }
  StateStore store(dir.file("data"), false);
  auto seen = store.load().devices_seen;
  std::sort(seen.begin(), seen.end(), [](const DeviceSeen& a, const DeviceSeen& b) { return a.account < b.account; });
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].account, "acme");
  EXPECT_EQ(seen[0].device, "d1");
  EXPECT_EQ(seen[0].epoch_ms, 2000);
  EXPECT_EQ(seen[1].account, "beta");
  EXPECT_EQ(seen[1].epoch_ms, 3000);
}

TEST(StateStore, AnEntryAddedAndRemovedInOneBatchNeverReachesTheDisk) {
  TempDir dir;
  StateStore store(dir.file("data"), false);
  auto s = op(StoreOp::Kind::put_session);
  s.key = "k";
  s.number = 60;
  auto m = op(StoreOp::Kind::put_message);
  m.id = 1;
  m.message = make("t", "p");
  auto e = op(StoreOp::Kind::put_entry);
  e.id = 1;
  e.key = "k";
  e.number = 1;
  e.qos = 1;
  auto de = op(StoreOp::Kind::delete_entry);
  de.id = 1;
  auto dm = op(StoreOp::Kind::delete_message);
  dm.id = 1;
  store.apply({s, m, e, de, dm});
  const auto state = store.load();
  ASSERT_EQ(state.sessions.size(), 1u);
  EXPECT_TRUE(state.sessions[0].entries.empty());
  EXPECT_EQ(state.max_message_id, 0u);
}

TEST(StateStore, DropsExpiredMessagesOnLoad) {
  TempDir dir;
  {
    StateStore store(dir.file("data"), false);
    auto old = make("r", "old", 0, true);
    old->expires_at = Clock::now() - std::chrono::seconds(1);
    auto fresh = make("s", "fresh", 0, true);
    fresh->expires_at = Clock::now() + std::chrono::hours(1);
    auto r1 = op(StoreOp::Kind::put_retained);
    r1.message = old;
    auto r2 = op(StoreOp::Kind::put_retained);
    r2.message = fresh;
    store.apply({r1, r2});
  }
  StateStore store(dir.file("data"), false);
  const auto state = store.load();
  ASSERT_EQ(state.retained.size(), 1u);
  EXPECT_EQ(state.retained[0]->topic, "s");
  ASSERT_TRUE(state.retained[0]->expires_at);
  EXPECT_GT(*state.retained[0]->expires_at, Clock::now() + std::chrono::minutes(59));
}

TEST(StateStore, RefusesAFileThatIsNotADatabase) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "data");
  dir.write("data/state.db", std::string(4096, 'x'));
  EXPECT_THROW(StateStore(dir.file("data"), false), ConfigError);
}

Delivery delivery(MessagePtr message, std::uint8_t qos) {
  Delivery d;
  d.message = std::move(message);
  d.qos = qos;
  return d;
}

TEST(Persistence, TracksASessionThroughQueueInflightAndAcknowledgements) {
  TempDir dir;
  const auto m1 = make("t", "1");
  const auto m2 = make("t", "2", 2);
  const auto m3 = make("t", "3");
  const auto m4 = make("t", "4");
  {
    Persistence p(dir.file("data"), false, {});
    p.load();
    p.session_saved("s", "", 4, 0xFFFFFFFF);
    p.session_saved("gone", "", 4, 10);
    p.subscribed("s", "t", qos1());
    p.subscribed("s", "u", qos1());
    p.unsubscribed("s", "u");
    p.subscribed("not-stored", "t", qos1());
    p.queued("s", delivery(m1, 1));
    p.queued("s", delivery(m2, 2));
    p.queued("s", delivery(m3, 1));
    p.queued("s", delivery(m4, 1));
    p.queued("gone", delivery(m1, 1));
    p.session_saved("gone", "", 4, 0); // reconnected with expiry 0: no longer stored
    const auto retained_on_subscribe = make("t", "r");
    p.sent("s", retained_on_subscribe.get(), 9, 1); // not stored: changes nothing
    p.sent("s", m1.get(), 1, 1);
    p.sent("s", m2.get(), 2, 2);
    p.finished("s", 1);     // PUBACK of m1
    p.released("s", 2);     // PUBREC of m2
    p.sent("s", m4.get(), 3, 1); // m3 expired in the queue
    wait_durable(p);
  }
  Persistence p(dir.file("data"), false, {});
  const auto state = p.load();
  ASSERT_EQ(state.sessions.size(), 1u);
  const auto& s = state.sessions[0];
  EXPECT_EQ(s.key, "s");
  ASSERT_EQ(s.subscriptions.size(), 1u);
  EXPECT_EQ(s.subscriptions[0].first, "t");
  ASSERT_EQ(s.entries.size(), 2u);
  EXPECT_EQ(s.entries[0].state, EntryState::awaiting_pubcomp);
  EXPECT_EQ(s.entries[0].packet_id, 2);
  EXPECT_FALSE(s.entries[0].delivery.message);
  EXPECT_EQ(s.entries[1].state, EntryState::awaiting_puback);
  EXPECT_EQ(s.entries[1].packet_id, 3);
  ASSERT_TRUE(s.entries[1].delivery.message);
  EXPECT_EQ(s.entries[1].delivery.message->payload, "4");

  // The reloaded tracking continues where it stopped.
  p.finished("s", 2);
  p.finished("s", 3);
  wait_durable(p);
  StateStore check(dir.file("data"), false);
  const auto after = check.load();
  ASSERT_EQ(after.sessions.size(), 1u);
  EXPECT_TRUE(after.sessions[0].entries.empty());
}

TEST(Persistence, OneMessageForManySessionsIsStoredOnceAndFreedWithTheLastEntry) {
  TempDir dir;
  const auto m = make("t", "shared");
  Persistence p(dir.file("data"), false, {});
  p.load();
  p.session_saved("a", "", 4, 0xFFFFFFFF);
  p.session_saved("b", "", 4, 0xFFFFFFFF);
  p.queued("a", delivery(m, 1));
  p.queued("b", delivery(m, 1));
  wait_durable(p);
  p.session_removed("a");
  wait_durable(p);
  {
    StateStore check(dir.file("data"), false);
    const auto state = check.load();
    ASSERT_EQ(state.sessions.size(), 1u);
    ASSERT_EQ(state.sessions[0].entries.size(), 1u);
    EXPECT_EQ(state.sessions[0].entries[0].delivery.message->payload, "shared");
  }
  p.session_removed("b");
  wait_durable(p);
  StateStore check(dir.file("data"), false);
  EXPECT_TRUE(check.load().sessions.empty());
}

TEST(Persistence, ACopyTakenWithoutCleanCloseHoldsEveryCommittedChange) {
  // What `kill -9` leaves behind: state.db plus its -wal file, never checkpointed or
  // closed. Copy them while the writer is still open and load the copy.
  TempDir dir;
  Persistence p(dir.file("data"), false, {});
  p.load();
  p.session_saved("s", "", 4, 0xFFFFFFFF);
  p.subscribed("s", "t/#", qos1());
  std::vector<MessagePtr> messages;
  for (int i = 0; i < 500; ++i) {
    messages.push_back(make("t/x", std::to_string(i)));
    p.queued("s", delivery(messages.back(), 1));
    if (i % 50 == 0) p.retained(make("r/" + std::to_string(i), "v", 0, true));
  }
  wait_durable(p);
  const auto copy = dir.path() / "copy";
  std::filesystem::create_directories(copy);
  for (const char* name : {"state.db", "state.db-wal"}) {
    const auto source = dir.path() / "data" / name;
    if (std::filesystem::exists(source)) std::filesystem::copy_file(source, copy / name);
  }
  StateStore store(copy.string(), false);
  const auto state = store.load();
  EXPECT_EQ(state.retained.size(), 10u);
  ASSERT_EQ(state.sessions.size(), 1u);
  ASSERT_EQ(state.sessions[0].entries.size(), 500u);
  for (int i = 0; i < 500; ++i) EXPECT_EQ(state.sessions[0].entries[i].delivery.message->payload, std::to_string(i));
}

TEST(Persistence, CountsPendingChangesUntilTheyAreCommitted) {
  TempDir dir;
  std::vector<std::string> log;
  Persistence p(dir.file("data"), false, [&log](const std::string& line) { log.push_back(line); });
  p.load();
  EXPECT_EQ(p.pending_changes(), 0u);
  // Hold the writer thread inside a callback, so nothing is committed meanwhile: the
  // disk is "slower than the change rate".
  std::promise<void> entered;
  std::promise<void> release;
  auto released = release.get_future();
  p.after_durable([&](bool) {
    entered.set_value();
    released.wait();
  });
  entered.get_future().wait();
  constexpr std::uint64_t k_changes = 250;
  for (std::uint64_t i = 0; i < k_changes; ++i) p.retained(make("r/" + std::to_string(i), "v", 0, true));
  p.retained(make("$SYS/broker/uptime", "1", 0, true)); // not stored, not counted
  EXPECT_EQ(p.pending_changes(), k_changes);
  EXPECT_EQ(p.committed_ops(), 0u);
  release.set_value();
  wait_durable(p);
  EXPECT_EQ(p.pending_changes(), 0u);
  EXPECT_EQ(p.committed_ops(), k_changes);
  p.report_backlog(std::chrono::steady_clock::now()); // below the threshold: silent
  EXPECT_TRUE(log.empty());
}

/// Polls `done` every 20 ms for up to `timeout`.
template <class F> bool eventually(F done, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// Item 13: without --durable-ack a commit that fails (here: the file may not grow, as on
// a full disk) is retried, not dropped; everything is on disk once space returns.
TEST(Persistence, AFailedCommitIsRetriedUntilSpaceReturns) {
  TempDir dir;
  std::mutex mutex;
  std::vector<std::string> log;
  auto logged = [&](const std::string& needle) {
    std::lock_guard lock(mutex);
    return std::any_of(log.begin(), log.end(), [&](const std::string& l) { return l.find(needle) != l.npos; });
  };
  constexpr std::uint64_t k_changes = 40;
  {
    Persistence p(dir.file("data"), false, [&](const std::string& line) {
      std::lock_guard lock(mutex);
      log.push_back(line);
    });
    p.load();
    p.set_page_limit(1); // the file's current size: no new page
    for (std::uint64_t i = 0; i < k_changes; ++i)
      p.retained(make("r/" + std::to_string(i), std::string(8000, 'x'), 0, true));
    ASSERT_TRUE(eventually([&] { return logged("persistence_error"); }));
    std::this_thread::sleep_for(std::chrono::milliseconds(400)); // a few retries fail too
    EXPECT_EQ(p.pending_changes(), k_changes);
    EXPECT_EQ(p.committed_ops(), 0u);
    EXPECT_FALSE(logged("lost_changes"));
    p.set_page_limit(0); // space returns
    ASSERT_TRUE(eventually([&] { return p.pending_changes() == 0; }));
    EXPECT_EQ(p.committed_ops(), k_changes);
    EXPECT_TRUE(logged("persistence_recovered"));
    std::lock_guard lock(mutex);
    std::size_t errors = 0;
    for (const auto& line : log) errors += line.find("persistence_error") != std::string::npos ? 1 : 0;
    EXPECT_EQ(errors, 1u) << "one line per 10 s while commits keep failing";
  }
  StateStore store(dir.file("data"), false);
  EXPECT_EQ(store.load().retained.size(), k_changes);
}

// Item 14: a damaged page is a problem with the file (ConfigError, exit 3) that says
// what to do, not an internal error.
TEST(StateStore, ADamagedPageIsAConfigErrorSayingWhatToDo) {
  TempDir dir;
  {
    StateStore store(dir.file("data"), false);
    std::vector<StoreOp> ops;
    for (int i = 0; i < 200; ++i) {
      auto o = op(StoreOp::Kind::put_retained);
      o.message = make("r/" + std::to_string(i), std::string(500, 'v'), 0, true);
      ops.push_back(std::move(o));
    }
    store.apply(ops);
  }
  const auto file = dir.path() / "data" / "state.db";
  const auto size = std::filesystem::file_size(file);
  ASSERT_GE(size, 8u * 4096u);
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096); // every page but the first (the schema): the tables' pages
    const std::string garbage(size - 4096, '\xA5');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  try {
    StateStore store(dir.file("data"), false);
    store.load();
    FAIL() << "a damaged state.db loaded";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("damaged"), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("move state.db"), std::string::npos) << e.hint();
  }
}

TEST(BacklogMonitor, LogsAtMostOnceASecondWhilePastTheThresholdAndOnceWhenCleared) {
  BacklogMonitor monitor(100);
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  using std::chrono::milliseconds;
  EXPECT_EQ(monitor.check(99, t0), "");
  EXPECT_EQ(monitor.check(100, t0), R"({"event":"persistence_backlog","pending":100,"threshold":100})");
  EXPECT_EQ(monitor.check(150, t0 + milliseconds(500)), "");
  EXPECT_EQ(monitor.check(150, t0 + milliseconds(999)), "");
  EXPECT_EQ(monitor.check(170, t0 + milliseconds(1000)), R"({"event":"persistence_backlog","pending":170,"threshold":100})");
  EXPECT_EQ(monitor.check(20, t0 + milliseconds(1100)), R"({"event":"persistence_backlog_cleared","pending":20})");
  EXPECT_EQ(monitor.check(0, t0 + milliseconds(3000)), "");
  // A new backlog right after it cleared is reported at once.
  EXPECT_EQ(monitor.check(100, t0 + milliseconds(3100)), R"({"event":"persistence_backlog","pending":100,"threshold":100})");
}

} // namespace
} // namespace mqfleet::broker
