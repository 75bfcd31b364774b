// The intrusive pieces behind the broker's per-connection memory: RefPtr counting and
// the session table (IntrusiveTable).

#include "ref_ptr.hpp"
#include "session_table.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

using namespace mqfleet::broker;

namespace {

int g_destroyed = 0;

struct Entry : RefCounted {
  explicit Entry(std::string k) : key(std::move(k)) {}
  ~Entry() { ++g_destroyed; }
  std::string key;
  Entry* table_next = nullptr;
  std::string_view table_key() const noexcept { return key; }
};

class SessionTable : public ::testing::Test {
protected:
  void SetUp() override { g_destroyed = 0; }
};

TEST_F(SessionTable, RefPtrDeletesWithTheLastReference) {
  auto a = make_ref<Entry>("a");
  EXPECT_EQ(a->ref_count(), 1u);
  {
    RefPtr<Entry> b = a;
    RefPtr<Entry> c(a.get());
    EXPECT_EQ(a->ref_count(), 3u);
  }
  EXPECT_EQ(a->ref_count(), 1u);
  RefPtr<Entry> moved = std::move(a);
  EXPECT_FALSE(a);
  EXPECT_EQ(g_destroyed, 0);
  moved.reset();
  EXPECT_EQ(g_destroyed, 1);
}

TEST_F(SessionTable, TryAcquireRefusesAnObjectWithoutReferences) {
  Entry* raw = new Entry("x");
  EXPECT_FALSE(RefPtr<Entry>::try_acquire(raw)); // count 0: treated as going away
  auto owner = RefPtr<Entry>(raw);
  auto second = RefPtr<Entry>::try_acquire(raw);
  ASSERT_TRUE(second);
  EXPECT_EQ(raw->ref_count(), 2u);
  EXPECT_FALSE(RefPtr<Entry>::try_acquire(nullptr));
}

TEST_F(SessionTable, FindInsertEraseAcrossGrowth) {
  IntrusiveTable<Entry> table;
  EXPECT_EQ(table.find("missing"), nullptr);
  EXPECT_FALSE(table.erase("missing"));
  for (int i = 0; i < 1000; ++i) table.insert(make_ref<Entry>("client-" + std::to_string(i)));
  EXPECT_EQ(table.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    Entry* e = table.find("client-" + std::to_string(i));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->key, "client-" + std::to_string(i));
    EXPECT_EQ(e->ref_count(), 1u); // the table's reference
  }
  EXPECT_EQ(table.find("client-1000"), nullptr);
  for (int i = 0; i < 1000; i += 2) {
    auto removed = table.erase("client-" + std::to_string(i));
    ASSERT_TRUE(removed);
    EXPECT_EQ(removed->ref_count(), 1u); // handed to the caller
  }
  EXPECT_EQ(g_destroyed, 500);
  EXPECT_EQ(table.size(), 500u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(table.find("client-" + std::to_string(i)) != nullptr, i % 2 == 1);
}

TEST_F(SessionTable, EraseByAViewOfTheEntrysOwnKey) {
  IntrusiveTable<Entry> table;
  Entry* e = table.insert(make_ref<Entry>("self"));
  auto removed = table.erase(e->table_key());
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->key, "self");
  EXPECT_EQ(table.size(), 0u);
}

TEST_F(SessionTable, ForEachVisitsEveryEntryAndClearReleasesThem) {
  IntrusiveTable<Entry> table;
  auto kept = make_ref<Entry>("kept");
  table.insert(kept);
  for (int i = 0; i < 40; ++i) table.insert(make_ref<Entry>(std::to_string(i)));
  std::set<std::string> seen;
  table.for_each([&](Entry& e) { seen.insert(e.key); });
  EXPECT_EQ(seen.size(), 41u);
  EXPECT_TRUE(seen.count("kept"));
  table.clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(g_destroyed, 40);
  EXPECT_EQ(kept->ref_count(), 1u);
  EXPECT_EQ(kept->table_next, nullptr);
}

TEST_F(SessionTable, DestructorReleasesEntries) {
  {
    IntrusiveTable<Entry> table;
    for (int i = 0; i < 20; ++i) table.insert(make_ref<Entry>(std::to_string(i)));
  }
  EXPECT_EQ(g_destroyed, 20);
}

} // namespace
