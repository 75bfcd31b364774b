// Reports: JSON round trip, exact merge with wall-clock aligned timelines, shard
// slicing, name templates, HTML.
#include <mqfleet/bench/html.hpp>
#include <mqfleet/bench/name_template.hpp>
#include <mqfleet/bench/report.hpp>
#include <mqfleet/bench/shard.hpp>
#include <mqfleet/error.hpp>

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

using namespace mqfleet::bench;

namespace {

/// A report as a shard would write it: `seed` varies the numbers, `first_second` the timeline.
Report sample_report(unsigned seed, std::int64_t first_second, const std::string& shard) {
  std::mt19937 rng(seed);
  Report r;
  r.mode = "pubsub";
  r.config = {{"clients", 10}, {"qos", 1}};
  r.shards = {shard};
  r.start_unix_ms = first_second * 1000 + 250;
  r.end_unix_ms = r.start_unix_ms + 3000;
  r.clients = 5;
  r.qos[1].sent = 1000 + seed;
  r.qos[1].acked = 990 + seed;
  r.qos[1].failed = 10;
  r.qos[1].seen = SequenceCounts{2000 + seed, 1990, 3, 7, seed};
  r.connect.attempted = 10;
  r.connect.succeeded = 9;
  r.connect.lost = seed % 2;
  r.connect.failures["0x87 not authorized"] = 1;
  if (seed % 2 == 1) {
    r.connect.failures["tcp: connection refused"] = seed;
  }
  for (int i = 0; i < 1000; ++i) {
    r.histogram(histogram_name::k_latency).record(rng() % 100000);
    r.histogram(histogram_name::k_ack).record(rng() % 5000);
  }
  for (std::int64_t s = first_second; s < first_second + 3; ++s) {
    TimelineSecond& t = r.timeline.at(s);
    t.sent = 300 + seed;
    t.received = 600;
    t.acked = 299;
    t.errors = seed;
    for (int i = 0; i < 50; ++i) {
      t.latency.record(rng() % 20000);
    }
  }
  return r;
}

} // namespace

TEST(BenchReport, JsonRoundTripIsLossless) {
  const Report r = sample_report(3, 1'700'000'000, "0/2");
  const Report back = Report::from_json(nlohmann::json::parse(r.to_json().dump()));
  EXPECT_EQ(back.to_json(), r.to_json());
  EXPECT_EQ(back.qos[1], r.qos[1]);
  EXPECT_EQ(back.connect, r.connect);
  EXPECT_EQ(back.histograms.at("latency"), r.histograms.at("latency"));
}

TEST(BenchReport, FileRoundTripAndErrorsNameTheFile) {
  mqfleet::test::TempDir dir;
  const Report r = sample_report(1, 1'700'000'000, "0/1");
  write_report(dir.file("r.json"), r);
  EXPECT_EQ(read_report(dir.file("r.json")).to_json(), r.to_json());
  try {
    read_report(dir.write("bad.json", "{\"format\":\"something else\"}"));
    FAIL() << "no error";
  } catch (const mqfleet::ConfigError& e) {
    EXPECT_EQ(e.where(), dir.file("bad.json"));
  }
  EXPECT_THROW(read_report(dir.write("notjson.json", "{")), mqfleet::ConfigError);
  EXPECT_THROW(read_report(dir.file("missing.json")), mqfleet::ConfigError);
}

TEST(BenchReport, MergeIsTheExactSum) {
  const Report a = sample_report(1, 1'700'000'000, "0/2");
  const Report b = sample_report(2, 1'700'000'001, "1/2"); // one second later
  const Report m = merge({a, b});
  EXPECT_EQ(m.shards, (std::vector<std::string>{"0/2", "1/2"}));
  EXPECT_EQ(m.clients, 10U);
  EXPECT_EQ(m.start_unix_ms, a.start_unix_ms);
  EXPECT_EQ(m.end_unix_ms, b.end_unix_ms);
  EXPECT_EQ(m.qos[1].sent, a.qos[1].sent + b.qos[1].sent);
  EXPECT_EQ(m.qos[1].seen.reordered, 3U);
  EXPECT_EQ(m.connect.failures.at("0x87 not authorized"), 2U);
  EXPECT_EQ(m.connect.failures.at("tcp: connection refused"), 1U);
  EXPECT_EQ(m.connect.failed(), 3U);
  LatencyHistogram both = a.histograms.at("latency");
  both.merge(b.histograms.at("latency"));
  EXPECT_EQ(m.histograms.at("latency"), both);
  EXPECT_EQ(m.histograms.at("latency").count(), 2000U);
  // Timelines: a covers seconds 0,1,2 and b 1,2,3 (relative): 4 seconds, overlaps summed.
  ASSERT_EQ(m.timeline.seconds().size(), 4U);
  EXPECT_EQ(m.timeline.seconds()[0].sent, 301U);
  EXPECT_EQ(m.timeline.seconds()[1].sent, 301U + 302U);
  EXPECT_EQ(m.timeline.seconds()[3].sent, 302U);
  EXPECT_EQ(m.timeline.seconds()[1].latency.count(), 100U);
  // Merging is associative and survives the JSON trip.
  const Report c = sample_report(5, 1'699'999'990, "2/3");
  const Report left = merge({merge({a, b}), c});
  const Report all = merge({Report::from_json(a.to_json()), b, c});
  EXPECT_EQ(left.to_json()["histograms"], all.to_json()["histograms"]);
  EXPECT_EQ(left.to_json()["timeline"], all.to_json()["timeline"]);
  EXPECT_EQ(all.timeline.seconds().size(), 14U); // hole between c and a kept, zeros
}

TEST(BenchReport, MergeRefusesMixedModesAndNothing) {
  Report a = sample_report(1, 1'700'000'000, "0/2");
  Report b = sample_report(2, 1'700'000'000, "1/2");
  b.mode = "conn";
  EXPECT_THROW(merge({a, b}), mqfleet::ConfigError);
  EXPECT_THROW(merge({}), mqfleet::ConfigError);
}

/// "where: what" of the ConfigError that merge_shards() throws, or "merged".
std::string merge_shards_error(const std::vector<NamedReport>& reports) {
  try {
    merge_shards(reports);
  } catch (const mqfleet::ConfigError& e) {
    return e.where() + ": " + e.what();
  }
  return "merged";
}

TEST(BenchReport, MergeOfShardsRefusesOverlapsNamingTheFiles) {
  // sample_report: a pubsub run of 10 clients (config), each report one shard.
  const Report a = sample_report(1, 1'700'000'000, "0/2");
  const Report b = sample_report(2, 1'700'000'000, "1/2");
  EXPECT_EQ(merge_shards({{"a.json", a}, {"b.json", b}}).to_json(), merge({a, b}).to_json());
  // The same shard twice (one file given twice, or two runs with the same --shard).
  EXPECT_EQ(merge_shards_error({{"a.json", a}, {"again.json", a}}),
            "a.json, again.json: reports overlap: a.json (shard 0/2) and again.json (shard 0/2) are the same shard");
  // Slices of different N: 0/2 is clients 0-4, 1/3 is clients 4-6.
  const std::string error = merge_shards_error({{"a.json", a}, {"t.json", sample_report(3, 1'700'000'000, "1/3")}});
  EXPECT_TRUE(error.starts_with("a.json, t.json: reports overlap")) << error;
  EXPECT_NE(error.find("both cover client 4"), std::string::npos) << error;
  // A merged report carries its shards: merging it with one of them again overlaps too.
  const Report ab = merge({a, b});
  EXPECT_NE(merge_shards_error({{"ab.json", ab}, {"b.json", b}}).find("are the same shard"), std::string::npos);
  // Disjoint slices of different N merge: 0/2 (0-4) and 2/4, 3/4 (5-7, 8-9).
  EXPECT_EQ(merge_shards_error({{"a.json", a},
                                {"c.json", sample_report(3, 1'700'000'000, "2/4")},
                                {"d.json", sample_report(4, 1'700'000'000, "3/4")}}),
            "merged");
  // pubsub's --subscribers are sliced too: with 2 clients and 10 subscribers, 0/2 and 1/4
  // share no client (0 and 1) but subscriber 3 (0-4 and 3-5).
  Report s0 = a;
  s0.config["clients"] = 2;
  s0.config["subscribers"] = 10;
  const std::string subscribers =
      merge_shards_error({{"s0.json", s0}, {"t.json", sample_report(6, 1'700'000'000, "1/4")}});
  EXPECT_TRUE(subscribers.ends_with("both cover subscriber 3")) << subscribers;
  EXPECT_EQ(merge_shards_error({}), "bench merge: nothing to merge");
  Report bad = a;
  bad.shards = {"2/1"};
  const std::string invalid = merge_shards_error({{"bad.json", bad}});
  EXPECT_TRUE(invalid.starts_with("bad.json: invalid shard \"2/1\"")) << invalid;
}

TEST(BenchReport, SummaryNamesTheNumbers) {
  const std::string s = format_summary(sample_report(1, 1'700'000'000, "0/1"));
  EXPECT_NE(s.find("mode pubsub"), std::string::npos);
  EXPECT_NE(s.find("0x87 not authorized"), std::string::npos);
  EXPECT_NE(s.find("latency"), std::string::npos);
  EXPECT_NE(s.find("1001"), std::string::npos);
}

TEST(BenchHtml, SelfContainedWithSvgPlots) {
  Report r = sample_report(1, 1'700'000'000, "0/1");
  r.config["topic"] = "<script>";
  const std::string html = render_html(r);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0U);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));
  EXPECT_EQ(html.find("https://"), std::string::npos);
  std::size_t svgs = 0;
  for (auto at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) {
    ++svgs;
  }
  EXPECT_EQ(svgs, 3U);
  EXPECT_NE(html.find("<polyline"), std::string::npos);
  EXPECT_NE(html.find("Latency by percentile"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
}

TEST(BenchShard, SlicesCoverEveryClientOnce) {
  for (std::uint64_t clients : {0ULL, 1ULL, 7ULL, 10ULL, 1000ULL, 50001ULL}) {
    for (std::uint32_t n : {1U, 2U, 3U, 8U, 13U}) {
      std::uint64_t next = 0;
      std::uint64_t smallest = clients, largest = 0;
      for (std::uint32_t k = 0; k < n; ++k) {
        const ClientRange r = shard_range(clients, Shard{k, n});
        EXPECT_EQ(r.begin, next) << clients << " " << k << "/" << n;
        next = r.end;
        smallest = std::min(smallest, r.size());
        largest = std::max(largest, r.size());
      }
      EXPECT_EQ(next, clients);
      EXPECT_LE(largest - smallest, 1U);
    }
  }
  EXPECT_EQ(shard_range(10, Shard{1, 4}), (ClientRange{3, 6}));
}

TEST(BenchShard, ParseAcceptsKOfNAndRejectsTheRest) {
  EXPECT_EQ(parse_shard("0/1"), (Shard{0, 1}));
  EXPECT_EQ(parse_shard("3/4"), (Shard{3, 4}));
  EXPECT_EQ(parse_shard("3/4").to_string(), "3/4");
  for (const char* bad : {"", "4/4", "1", "/2", "1/", "a/2", "1/0", "-1/2", "1/2x", " 1/2"}) {
    try {
      parse_shard(bad);
      ADD_FAILURE() << bad;
    } catch (const mqfleet::ConfigError& e) {
      EXPECT_EQ(e.where(), "--shard");
    }
  }
}

TEST(BenchTemplate, ExpandsIndexClientIdAndUsername) {
  const TemplateValues v{42, "bench-42", "dev42"};
  EXPECT_EQ(expand_template("t/%i/%c/%u/100%%", v), "t/42/bench-42/dev42/100%");
  EXPECT_EQ(expand_template("plain", v), "plain");
  EXPECT_TRUE(is_template("a/%i"));
  EXPECT_FALSE(is_template("a/b"));
  EXPECT_THROW(expand_template("a/%x", v, "-t"), mqfleet::ConfigError);
  EXPECT_THROW(expand_template("a/%", v, "-t"), mqfleet::ConfigError);
}
