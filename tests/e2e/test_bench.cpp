// `mqfleet bench` end to end against Debian's mosquitto and the reference broker: short
// runs of every mode with assertions on counts, shard merging, and coordinated omission
// (a stopped broker must show in the open-loop latency). Timeouts only guard against hangs.
#include <mqfleet/bench/histogram.hpp>

#include "support/mosquitto_broker.hpp"
#include "support/process.hpp"
#include "support/reference_broker.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <thread>

namespace mqfleet::test {
namespace {

constexpr int k_usage = 2, k_config = 3, k_connect = 4;

nlohmann::json read_json(const std::string& path) {
  return nlohmann::json::parse(read_file(path));
}

/// `bench <mode> -h 127.0.0.1 -p port <rest>` from {"bench", mode, rest...}.
std::vector<std::string> with_port(int port, std::vector<std::string> args) {
  args.insert(args.begin() + 2, {"-h", "127.0.0.1", "-p", std::to_string(port)});
  return args;
}

/// The same as a child process's argv (the binary first).
std::vector<std::string> bench_argv(int port, std::vector<std::string> args) {
  args = with_port(port, std::move(args));
  args.insert(args.begin(), mqfleet_bin());
  return args;
}

ProcessResult bench(int port, std::vector<std::string> args) {
  return run_mqfleet(with_port(port, std::move(args)), {}, 120s);
}

std::uint64_t counter(const nlohmann::json& report, int qos, const char* name) {
  return report.at("qos").at(std::to_string(qos)).at(name).get<std::uint64_t>();
}

/// Runs a pubsub at QoS 1 against a broker on `port`; every message must arrive once.
void expect_pubsub_without_loss(int port) {
  TempDir dir;
  const auto result = bench(port, {"bench", "pubsub", "-c", "4", "--subscribers", "2", "-q", "1", "--rate", "400",
                                   "--duration", "2", "--threads", "2", "-t", "e2e/%i/data", "--report",
                                   dir.file("r.json")});
  ASSERT_EQ(result.exit_code, 0) << result.err << result.out;
  const auto r = read_json(dir.file("r.json"));
  const std::uint64_t sent = counter(r, 1, "sent");
  EXPECT_GT(sent, 0U);
  EXPECT_EQ(counter(r, 1, "acked"), sent);
  EXPECT_EQ(counter(r, 1, "unique"), 2 * sent) << r.at("qos").dump();
  EXPECT_EQ(counter(r, 1, "lost"), 0U);
  EXPECT_EQ(counter(r, 1, "failed"), 0U);
  EXPECT_EQ(r.at("histograms").at("latency").at("count").get<std::uint64_t>(), counter(r, 1, "received"));
  EXPECT_EQ(r.at("connect").at("succeeded").get<int>(), 6);
  EXPECT_NE(result.out.find("latency"), std::string::npos) << result.out;
}

TEST(BenchE2E, ConnAgainstTheReferenceBroker) {
  ReferenceBrokerProcess broker;
  TempDir dir;
  const auto result = bench(broker.port(), {"bench", "conn", "-c", "50", "-R", "1000", "--report",
                                            dir.file("r.json"), "--html", dir.file("r.html")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto r = read_json(dir.file("r.json"));
  EXPECT_EQ(r.at("connect").at("attempted").get<int>(), 50);
  EXPECT_EQ(r.at("connect").at("succeeded").get<int>(), 50);
  EXPECT_EQ(r.at("histograms").at("connect").at("count").get<int>(), 50);
  EXPECT_NE(read_file(dir.file("r.html")).find("<svg"), std::string::npos);
}

TEST(BenchE2E, ConnRefusedByCredentialsCountsTheReason) {
  MosquittoOptions options;
  options.users = {{"alice", "secret"}};
  MosquittoBroker broker(options);
  TempDir dir;
  const auto bad = bench(broker.port(), {"bench", "conn", "-c", "3", "-u", "alice", "-P", "wrong-%i", "--report",
                                         dir.file("r.json")});
  EXPECT_EQ(bad.exit_code, 5) << bad.err;
  EXPECT_EQ(bad.err.find("wrong-"), std::string::npos) << bad.err;
  const auto r = read_json(dir.file("r.json"));
  ASSERT_EQ(r.at("connect").at("failures").size(), 1U) << r.at("connect").dump();
  EXPECT_EQ(r.at("connect").at("failures").begin().value().get<int>(), 3);
  const auto good = bench(broker.port(), {"bench", "conn", "-c", "3", "-u", "alice", "--password-env", "BENCH_PW"});
  EXPECT_EQ(good.exit_code, k_config) << "BENCH_PW is unset: " << good.err;
}

TEST(BenchE2E, PubQos1CountAgainstMosquitto) {
  MosquittoBroker broker;
  TempDir dir;
  const auto result = bench(broker.port(), {"bench", "pub", "-c", "4", "-q", "1", "--count", "250", "--inflight",
                                            "20", "-s", "64", "--report", dir.file("r.json")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto r = read_json(dir.file("r.json"));
  EXPECT_EQ(counter(r, 1, "sent"), 1000U);
  EXPECT_EQ(counter(r, 1, "acked"), 1000U);
  EXPECT_EQ(r.at("histograms").at("ack").at("count").get<int>(), 1000);
}

TEST(BenchE2E, PubWithPahoEngineForComparison) {
  MosquittoBroker broker;
  TempDir dir;
  const auto result = bench(broker.port(), {"bench", "pub", "--engine", "paho", "-c", "2", "-q", "1", "--count",
                                            "100", "--report", dir.file("r.json")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto r = read_json(dir.file("r.json"));
  EXPECT_EQ(counter(r, 1, "sent"), 200U);
  EXPECT_EQ(counter(r, 1, "acked"), 200U);
  const auto sub = bench(broker.port(), {"bench", "pubsub", "--engine", "paho"});
  EXPECT_EQ(sub.exit_code, k_config) << sub.err;
}

TEST(BenchE2E, SubCountsWhatAnotherBenchPublishes) {
  MosquittoBroker broker;
  TempDir dir;
  Process sub(bench_argv(broker.port(), {"bench", "sub", "-c", "2", "-q", "1", "-t", "feed/#",
                                        "--count", "300", "--report", dir.file("sub.json")}));
  ASSERT_TRUE(sub.wait_for_stderr_line([](const std::string& l) { return l.find("measuring") != std::string::npos; },
                                       60s))
      << sub.stderr_so_far();
  const auto pub = bench(broker.port(), {"bench", "pub", "-c", "3", "-q", "1", "--count", "100", "-t", "feed/%i"});
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  const auto result = sub.wait(60s);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto r = read_json(dir.file("sub.json"));
  EXPECT_EQ(counter(r, 1, "received"), 600U);
  EXPECT_EQ(counter(r, 1, "duplicated"), 0U);
  EXPECT_EQ(r.at("histograms").at("latency").at("count").get<int>(), 600);
}

TEST(BenchE2E, PubsubQos1WithoutLossAgainstMosquitto) {
  MosquittoBroker broker;
  expect_pubsub_without_loss(broker.port());
}

TEST(BenchE2E, PubsubQos1WithoutLossAgainstTheReferenceBroker) {
  ReferenceBrokerProcess broker;
  expect_pubsub_without_loss(broker.port());
}

TEST(BenchE2E, MergeOfTwoShardsIsTheSum) {
  ReferenceBrokerProcess broker;
  TempDir dir;
  for (const char* shard : {"0", "1"}) {
    const auto result = bench(broker.port(), {"bench", "pub", "-c", "5", "-q", "1", "--count", "40", "--shard",
                                              std::string(shard) + "/2", "--report", dir.file(std::string(shard) + ".json")});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  const auto merged = run_mqfleet({"bench", "merge", dir.file("0.json"), dir.file("1.json"), "--report",
                                   dir.file("m.json"), "--html", dir.file("m.html")});
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  const auto a = read_json(dir.file("0.json"));
  const auto b = read_json(dir.file("1.json"));
  const auto m = read_json(dir.file("m.json"));
  EXPECT_EQ(a.at("clients").get<int>(), 3); // the first 5 % 2 shards take one more
  EXPECT_EQ(b.at("clients").get<int>(), 2);
  EXPECT_EQ(m.at("clients").get<int>(), 5);
  EXPECT_EQ(counter(m, 1, "sent"), 200U);
  EXPECT_EQ(counter(m, 1, "acked"), counter(a, 1, "acked") + counter(b, 1, "acked"));
  EXPECT_EQ(m.at("histograms").at("ack").at("count").get<std::uint64_t>(),
            a.at("histograms").at("ack").at("count").get<std::uint64_t>() +
                b.at("histograms").at("ack").at("count").get<std::uint64_t>());
  EXPECT_EQ(m.at("histograms").at("ack").at("sum").get<std::uint64_t>(),
            a.at("histograms").at("ack").at("sum").get<std::uint64_t>() +
                b.at("histograms").at("ack").at("sum").get<std::uint64_t>());
  std::uint64_t timeline_sent = 0;
  for (const auto& s : m.at("timeline")) {
    timeline_sent += s.at("sent").get<std::uint64_t>();
  }
  EXPECT_EQ(timeline_sent, 200U);
  EXPECT_EQ(m.at("shards"), (nlohmann::json{"0/2", "1/2"}));
  // A shard merged twice would count its clients twice: refused, naming both files.
  const auto twice = run_mqfleet({"bench", "merge", dir.file("0.json"), dir.file("1.json"), dir.file("0.json")});
  EXPECT_EQ(twice.exit_code, k_config) << twice.err;
  EXPECT_NE(twice.err.find("reports overlap"), std::string::npos) << twice.err;
  EXPECT_NE(twice.err.find("are the same shard"), std::string::npos) << twice.err;
  const auto again = run_mqfleet({"bench", "merge", dir.file("m.json"), dir.file("1.json")});
  EXPECT_EQ(again.exit_code, k_config) << again.err;
}

// Open loop at QoS 1 with a window of 2 per publisher: while the broker is stopped for
// 300 ms the publishers cannot send, so the ~300 messages due in that time leave late.
// Measured from the intended send time (open loop) they carry the stall, ~200 of them by
// more than 100 ms (each counted once per subscriber); measured from the actual send time
// only the few in flight would.
TEST(BenchE2E, StoppedBrokerShowsInTheOpenLoopLatency) {
  ReferenceBrokerProcess broker;
  TempDir dir;
  Process run(bench_argv(broker.port(), {"bench", "pubsub", "-c", "2", "--rate", "1000", "-q", "1", "--inflight", "2",
                                        "--duration", "4", "--threads", "1", "--report", dir.file("r.json")}));
  ASSERT_TRUE(run.wait_for_stderr_line(
      [](const std::string& l) { return l.find("publishers starting") != std::string::npos; }, 60s))
      << run.stderr_so_far();
  std::this_thread::sleep_for(1s);
  broker.process().signal(SIGSTOP);
  std::this_thread::sleep_for(300ms);
  broker.process().signal(SIGCONT);
  const auto result = run.wait(120s);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto r = read_json(dir.file("r.json"));
  const auto& latency = r.at("histograms").at("latency");
  const auto histogram = bench::LatencyHistogram::from_json(latency);
  std::uint64_t late = 0;
  for (const auto& bucket : latency.at("buckets"))
    if (histogram.bucket_lowest(bucket.at(0).get<std::size_t>()) >= 100'000U) late += bucket.at(1).get<std::uint64_t>();
  EXPECT_GE(late, 100U) << "samples over 100 ms of " << histogram.count() << "; p99 " << histogram.percentile(99);
  EXPECT_GE(histogram.max(), 250'000U);
}

// Ctrl-C stops the run, still writes the report of what was measured, and exits 130.
TEST(BenchE2E, InterruptWritesTheReportAndExits130) {
  ReferenceBrokerProcess broker;
  TempDir dir;
  Process run(bench_argv(broker.port(), {"bench", "pub", "-c", "2", "--rate", "200", "-q", "1", "--duration", "60",
                                        "--threads", "1", "--report", dir.file("r.json")}));
  ASSERT_TRUE(run.wait_for_stderr_line(
      [](const std::string& l) { return l.find("publishers starting") != std::string::npos; }, 60s))
      << run.stderr_so_far();
  std::this_thread::sleep_for(1s);
  run.signal(SIGINT);
  const auto result = run.wait(30s);
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.exit_code, 130) << result.err;
  const auto r = read_json(dir.file("r.json"));
  EXPECT_GT(r.at("qos").at("1").at("sent").get<std::uint64_t>(), 0U) << r.dump();
  EXPECT_GT(r.at("qos").at("1").at("acked").get<std::uint64_t>(), 0U);
}

// QoS 1 messages still unacknowledged at the end (the broker stopped for good) exit 7,
// after the summary and the report.
TEST(BenchE2E, UnacknowledgedAtQos1Exits7) {
  ReferenceBrokerProcess broker;
  TempDir dir;
  Process run(bench_argv(broker.port(), {"bench", "pub", "-c", "1", "--rate", "100", "-q", "1", "--duration", "2",
                                        "--drain-timeout", "1", "--threads", "1", "--report", dir.file("r.json")}));
  ASSERT_TRUE(run.wait_for_stderr_line(
      [](const std::string& l) { return l.find("publishers starting") != std::string::npos; }, 60s))
      << run.stderr_so_far();
  std::this_thread::sleep_for(500ms);
  broker.process().signal(SIGSTOP);
  const auto result = run.wait(60s);
  broker.process().signal(SIGCONT);
  EXPECT_EQ(result.exit_code, 7) << result.err;
  const auto q1 = read_json(dir.file("r.json")).at("qos").at("1");
  EXPECT_GT(q1.at("sent").get<std::uint64_t>(), q1.at("acked").get<std::uint64_t>()) << q1.dump();
}

TEST(BenchE2E, BadInputExitsWithAClearError) {
  const auto shard = run_mqfleet({"bench", "pub", "--shard", "2/2"});
  EXPECT_EQ(shard.exit_code, k_config);
  EXPECT_NE(shard.err.find("--shard"), std::string::npos) << shard.err;
  const auto both = run_mqfleet({"bench", "pub", "-I", "10", "--rate", "100"});
  EXPECT_EQ(both.exit_code, k_usage) << both.err;
  const auto small = run_mqfleet({"bench", "pubsub", "-s", "8"});
  EXPECT_EQ(small.exit_code, k_config);
  EXPECT_NE(small.err.find("-s"), std::string::npos) << small.err;
  const auto tmpl = run_mqfleet({"bench", "pub", "-t", "a/%z"});
  EXPECT_EQ(tmpl.exit_code, k_config);
  EXPECT_NE(tmpl.err.find("%z"), std::string::npos) << tmpl.err;
  const auto qos = run_mqfleet({"bench", "pub", "-q", "3"});
  EXPECT_EQ(qos.exit_code, k_usage);
  const auto merge = run_mqfleet({"bench", "merge", "/nonexistent/report.json"});
  EXPECT_EQ(merge.exit_code, k_config);
  const auto nobody = run_mqfleet({"bench", "conn", "-p", std::to_string(free_tcp_port()), "-c", "2"});
  EXPECT_EQ(nobody.exit_code, k_connect) << nobody.err;
}

} // namespace
} // namespace mqfleet::test
