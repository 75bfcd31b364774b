// The aggregation of the REST API's `agg=` (lib/store aggregate.hpp): the fast reader of
// numeric leaves against the document path it replaces, the window arithmetic of every
// aggregate, and the database scans it and `items=` use (newest first, limit).

#include "support/temp_dir.hpp"

#include <mqfleet/store/aggregate.hpp>
#include <mqfleet/store/bucket_database.hpp>
#include <mqfleet/store/point.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace mqfleet::store {
namespace {

using Leaves = std::vector<std::pair<std::string, double>>;

Leaves fast(std::string_view payload) {
  NumericLeaves leaves;
  numeric_leaves(payload, leaves);
  Leaves out;
  for (std::size_t i = 0; i < leaves.size(); ++i) out.emplace_back(std::string(leaves.name(i)), leaves.values[i]);
  return out;
}

/// What the aggregation read before the fast path: the document, flattened, numbers only.
Leaves by_document(std::string_view payload) {
  const Json object = stored_object(payload);
  std::vector<std::pair<std::string, const Json*>> leaves;
  flatten(object, leaves);
  Leaves out;
  for (const auto& [name, leaf] : leaves)
    if (leaf->is_number()) out.emplace_back(name, leaf->get<double>());
  return out;
}

void expect_same(const Leaves& a, const Leaves& b, const std::string& payload) {
  ASSERT_EQ(a.size(), b.size()) << payload;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first) << payload;
    // Bit for bit: the sign of a zero included.
    EXPECT_EQ(std::signbit(a[i].second), std::signbit(b[i].second)) << payload;
    EXPECT_EQ(a[i].second, b[i].second) << payload;
  }
}

TEST(NumericLeaves, MatchTheDocumentOnEveryKindOfPayload) {
  const std::vector<std::string> payloads = {
      R"({"temperature":21.5,"humidity":40})",
      R"( { "a" : 1 , "b" : { "c" : -2.5e3 , "d" : { "e" : 0 } } } )",
      R"({"ts":1700000000000,"v":3,"nested":{"ts":5}})",
      R"({"s":"text","t":true,"f":false,"n":null,"arr":[1,2,{"x":3}],"num":7})",
      R"({"neg0":-0,"negf":-0.0,"big":18446744073709551615,"bigger":18446744073709551616,"min":-9223372036854775808})",
      R"({"under":-9223372036854775809,"exp":1E+2,"frac":0.1,"tiny":5e-324})",
      R"({"over":1e999})",              // out of range: the document is unreadable
      R"({"a":1,"a":2})",               // a repeated key: the last value wins
      R"({"a":{"x":1},"a":{"y":2}})",   // a repeated object key
      R"({"a.b":1,"a":{"b":2}})",       // two keys flattened to one name
      R"({"esc\"aped":1,"v":"a\nb","u":"\u00e9","w":2})",
      "{\"utf8\":\"\xc3\xa9\",\"v\":1}",
      "{\"bad\":\"\xff\",\"v\":1}",     // not UTF-8: unreadable
      R"({"v":01})", R"({"v":1.})", R"({"v":.5})", R"({"v":+1})", R"({"v":1e})", R"({"v":-})",
      R"({"v":1} x)", R"({"v":1},)", R"({"v":1)", R"({"v" 1})", R"({"v":1,})", R"({,})", R"({})",
      R"([1,2])", R"("string")", "42", "", "   ", "\xef\xbb\xbf{\"v\":1}",
      R"({"v":tru})", R"({"v":nul,"w":1})", R"({"e":{},"v":[],"w":[[]]})",
      std::string(40, '[') + std::string(40, ']'),
      "{\"deep\":" + std::string(40, '[') + std::string(40, ']') + ",\"v\":1}",
      "{\"a\":" + std::string(30, ' ') + "{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":1}}}}}}}",
  };
  std::string deep = "{\"v\":1";
  for (int i = 0; i < 40; ++i) deep += ",\"k" + std::to_string(i) + "\":{\"x\":" + std::to_string(i);
  for (int i = 0; i < 40; ++i) deep += "}";
  deep += "}";
  std::vector<std::string> all = payloads;
  all.push_back(deep);
  std::string many = "{";
  for (int i = 0; i < 100; ++i) many += (i ? ",\"f" : "\"f") + std::to_string(i) + "\":" + std::to_string(i);
  all.push_back(many + "}");
  for (const auto& payload : all) expect_same(fast(payload), by_document(payload), payload);
  // The reader's storage is reused across payloads: nothing of one leaks into the next.
  NumericLeaves reused;
  for (const auto& payload : all) {
    numeric_leaves(payload, reused);
    Leaves got;
    for (std::size_t i = 0; i < reused.size(); ++i) got.emplace_back(std::string(reused.name(i)), reused.values[i]);
    expect_same(got, by_document(payload), payload);
  }
}

TEST(NumericLeaves, NamesNestedFieldsWithDots) {
  const auto leaves = fast(R"({"env":{"t":1,"h":{"rel":2}},"x":3})");
  ASSERT_EQ(leaves.size(), 3u);
  EXPECT_EQ(leaves[0], (std::pair<std::string, double>{"env.t", 1}));
  EXPECT_EQ(leaves[1], (std::pair<std::string, double>{"env.h.rel", 2}));
  EXPECT_EQ(leaves[2], (std::pair<std::string, double>{"x", 3}));
}

TEST(NumericLeaves, PlainObjectsAreCopiedIntoRepliesOthersPrinted) {
  EXPECT_TRUE(plain_json_object(R"({"t":21.5,"s":"ok","a":[1,{"b":null}],"n":{"x":true}})"));
  EXPECT_TRUE(plain_json_object(R"( {} )"));
  EXPECT_FALSE(plain_json_object(R"({"s":"a\nb"})"));    // an escape
  EXPECT_FALSE(plain_json_object("{\"s\":\"\xc3\xa9\"}")); // not ASCII
  EXPECT_FALSE(plain_json_object(R"({"a":1,"a":2})"));    // a repeated key
  EXPECT_FALSE(plain_json_object(R"({"a":1} {"b":2})"));  // two documents
  EXPECT_FALSE(plain_json_object(R"([1])"));
  EXPECT_FALSE(plain_json_object(R"({"a":1e999})"));
  EXPECT_FALSE(plain_json_object(""));
}

std::vector<WindowAggregator::Window> aggregate(Aggregate type, std::vector<std::string> fields = {}) {
  WindowAggregator aggregator(1000, type, std::move(fields));
  aggregator.add(100, R"({"ts":100,"a":4,"b":1})");
  aggregator.add(200, R"({"a":1,"s":"x"})");
  aggregator.add(900, R"({"a":7,"b":3})");
  aggregator.add(1500, R"({"s":"only text"})"); // a window without numbers has no point
  aggregator.add(2000, R"({"a":-2})");
  aggregator.add(2999, R"({"a":2,"b":{"c":5}})");
  aggregator.add(2500, "not json");
  return aggregator.result();
}

double value(const std::vector<WindowAggregator::Window>& windows, std::size_t w, const std::string& field) {
  for (const auto& [name, v] : windows.at(w).values)
    if (name == field) return v;
  ADD_FAILURE() << "no field " << field << " in window " << w;
  return NAN;
}

TEST(WindowAggregator, EveryAggregateOfEveryWindow) {
  auto mean = aggregate(Aggregate::mean);
  ASSERT_EQ(mean.size(), 2u);
  EXPECT_EQ(mean[0].start, 0);
  EXPECT_EQ(mean[1].start, 2000);
  ASSERT_EQ(mean[0].values.size(), 2u); // a, b: sorted by name, ts left out
  EXPECT_EQ(mean[0].values[0].first, "a");
  EXPECT_EQ(mean[0].values[1].first, "b");
  EXPECT_DOUBLE_EQ(value(mean, 0, "a"), 4.0);
  EXPECT_DOUBLE_EQ(value(mean, 0, "b"), 2.0);
  EXPECT_DOUBLE_EQ(value(mean, 1, "a"), 0.0);
  EXPECT_DOUBLE_EQ(value(mean, 1, "b.c"), 5.0);
  EXPECT_DOUBLE_EQ(value(aggregate(Aggregate::count), 0, "a"), 3);
  EXPECT_DOUBLE_EQ(value(aggregate(Aggregate::sum), 0, "a"), 12);
  EXPECT_DOUBLE_EQ(value(aggregate(Aggregate::min), 0, "a"), 1);
  EXPECT_DOUBLE_EQ(value(aggregate(Aggregate::max), 0, "a"), 7);
  EXPECT_DOUBLE_EQ(value(aggregate(Aggregate::spread), 0, "a"), 6);
  EXPECT_DOUBLE_EQ(value(aggregate(Aggregate::median), 0, "a"), 4);
  EXPECT_DOUBLE_EQ(value(aggregate(Aggregate::median), 1, "a"), 0); // (-2 + 2) / 2
  EXPECT_DOUBLE_EQ(value(aggregate(Aggregate::stddev), 0, "a"), std::sqrt(6.0)); // population: (0 + 9 + 9) / 3
  const auto only_b = aggregate(Aggregate::max, {"b"});
  ASSERT_EQ(only_b.size(), 1u); // window 2000 has no plain `b`
  ASSERT_EQ(only_b[0].values.size(), 1u);
  EXPECT_DOUBLE_EQ(value(only_b, 0, "b"), 3);
}

TEST(WindowAggregator, PointsOutOfTimeOrderLandInTheirWindows) {
  WindowAggregator aggregator(10, Aggregate::sum);
  for (EpochMs ts : {25, 3, 27, 5, 14}) aggregator.add(ts, R"({"v":1})");
  const auto windows = aggregator.result();
  ASSERT_EQ(windows.size(), 3u);
  EXPECT_EQ(windows[0].start, 0);
  EXPECT_DOUBLE_EQ(windows[0].values[0].second, 2);
  EXPECT_EQ(windows[1].start, 10);
  EXPECT_DOUBLE_EQ(windows[1].values[0].second, 1);
  EXPECT_EQ(windows[2].start, 20);
  EXPECT_DOUBLE_EQ(windows[2].values[0].second, 2);
}

TEST(WindowAggregator, AggregateNames) {
  EXPECT_EQ(parse_aggregate("stddev"), Aggregate::stddev);
  EXPECT_EQ(parse_aggregate("spread"), Aggregate::spread);
  EXPECT_FALSE(parse_aggregate("mode"));
  EXPECT_FALSE(parse_aggregate(""));
}

TEST(BucketDatabase, NewestFirstWithALimitAndThePayloadScan) {
  test::TempDir dir;
  BucketDatabase db(dir.path(), true);
  const auto bucket = db.bucket_key("w");
  db.begin();
  for (EpochMs ts = 1; ts <= 10; ++ts)
    db.insert(bucket, db.device_key(ts % 2 ? "odd" : "even"), ts * 100, "t", "{\"v\":" + std::to_string(ts) + "}");
  db.insert(bucket, db.device_key("odd"), 1000, "t", R"({"v":100})"); // same ts as "even": device order
  db.commit();
  PointFilter newest;
  newest.newest_first = true;
  newest.limit = 3;
  auto cursor = db.points("w", newest);
  std::vector<std::pair<EpochMs, std::string>> got;
  for (Point p; cursor.next(p);) got.emplace_back(p.ts, p.device);
  ASSERT_EQ(got.size(), 3u);
  // Keys: "even" (key 2 of 10) stored after "odd" (key 1): descending device at ts 1000.
  EXPECT_EQ(got[0], (std::pair<EpochMs, std::string>{1000, "even"}));
  EXPECT_EQ(got[1], (std::pair<EpochMs, std::string>{1000, "odd"}));
  EXPECT_EQ(got[2], (std::pair<EpochMs, std::string>{900, "odd"}));
  PointFilter oldest{200, 600, "even"};
  oldest.limit = 2;
  std::vector<EpochMs> asc;
  auto c2 = db.points("w", oldest);
  for (Point p; c2.next(p);) asc.push_back(p.ts);
  EXPECT_EQ(asc, (std::vector<EpochMs>{200, 400}));
  std::vector<std::pair<EpochMs, std::string>> scanned;
  db.for_each_payload("w", PointFilter{900, 1000, ""},
                      [&](EpochMs ts, std::string_view payload) { scanned.emplace_back(ts, std::string(payload)); });
  ASSERT_EQ(scanned.size(), 3u);
  EXPECT_EQ(scanned[0], (std::pair<EpochMs, std::string>{900, R"({"v":9})"}));
  EXPECT_EQ(scanned[1], (std::pair<EpochMs, std::string>{1000, R"({"v":100})"}));
  EXPECT_EQ(scanned[2], (std::pair<EpochMs, std::string>{1000, R"({"v":10})"}));
  int none = 0;
  db.for_each_payload("missing", {}, [&](EpochMs, std::string_view) { ++none; });
  EXPECT_EQ(none, 0);
}

} // namespace
} // namespace mqfleet::store
