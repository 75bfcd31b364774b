// `mqfleet sim --shard K/N --start-at` and `sim merge` end to end against the reference
// broker: three shard processes of one scenario cover the same devices, with the same
// payloads, as one process, and their merged report adds up; merge refuses reports that
// do not belong together and judges `expect` on the totals.

#include "support/process.hpp"
#include "support/reference_broker.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace mqfleet::test {
namespace {

constexpr int k_usage = 2, k_config = 3, k_expectation = 9;

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_file(path)); }

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// A `mqfleet sub -v` on `filter` whose subscription is known to be in place.
std::unique_ptr<Process> subscriber(int port, const std::string& filter, const std::string& probe_topic) {
  auto sub = std::make_unique<Process>(std::vector<std::string>{
      mqfleet_bin(), "sub", "-h", "127.0.0.1", "-p", std::to_string(port), "-q", "1", "-v", "-t", filter});
  for (int i = 0; i < 100; ++i) {
    run_mqfleet({"pub", "-h", "127.0.0.1", "-p", std::to_string(port), "-t", probe_topic, "-m", "probe"});
    if (sub->wait_for_stdout_line([](const std::string& l) { return l.ends_with(" probe"); }, 300ms)) return sub;
  }
  ADD_FAILURE() << "the subscriber to " << filter << " never came up";
  return sub;
}

/// Each device's payloads, in order, from "sh/<device>/t <payload>" lines.
std::map<std::string, std::vector<std::string>> payloads_by_device(const std::string& out) {
  std::map<std::string, std::vector<std::string>> by_device;
  for (const auto& line : split_lines(out)) {
    if (line.ends_with(" probe")) continue;
    const auto space = line.find(' ');
    by_device[line.substr(0, space)].push_back(line.substr(space + 1));
  }
  return by_device;
}

const char* k_scenario = R"({
  "name": "shards-e2e",
  "connection": { "host": "127.0.0.1", "port": 1883 },
  "fleets": [
    { "name": "m", "count": 24, "device_id": "m-{index:02}", "rate": "40/s",
      "telemetry": [{ "topic": "sh/{device}/t", "period": { "every": "1s", "jitter": "5%" }, "qos": 1,
                      "payload": { "v": { "type": "uniform", "min": 0, "max": 100, "decimals": 3 },
                                   "n": { "type": "counter" } } }] },
    { "name": "g", "count": 5, "device_id": "g-{index}",
      "telemetry": [{ "topic": "sh/{device}/t", "period": "700ms", "qos": 1,
                      "payload": { "w": { "type": "normal", "mean": 10, "stddev": 3, "decimals": 2 } } }] }
  ],
  "run": { "duration": "3500ms", "seed": 42, "expect": { "max_error_rate": 0, "min_delivered": "100%" } }
})";

TEST(SimShardsE2E, ThreeShardProcessesMergeIntoWhatOneProcessRuns) {
  ReferenceBrokerProcess broker;
  TempDir dir;
  const std::string file = dir.write("s.json", k_scenario);
  const std::string port = std::to_string(broker.port());

  // One process.
  auto single_sub = subscriber(broker.port(), "sh/+/t", "sh/probe/t");
  const ProcessResult single = run_mqfleet({"sim", file, "-p", port, "--no-progress", "--report", dir.file("one.json")},
                                           {}, 120s);
  ASSERT_EQ(single.exit_code, 0) << single.out << single.err;
  std::this_thread::sleep_for(500ms); // the last deliveries
  const auto single_payloads = payloads_by_device(single_sub->stdout_so_far());
  single_sub.reset();

  // Three processes on a common start.
  auto shard_sub = subscriber(broker.port(), "sh/+/t", "sh/probe/t");
  const std::string start = std::to_string(unix_ms_now() + 1500);
  std::vector<std::unique_ptr<Process>> shards;
  for (int k = 0; k < 3; ++k)
    shards.push_back(std::make_unique<Process>(std::vector<std::string>{
        mqfleet_bin(), "sim", file, "-p", port, "--no-progress", "--shard", std::to_string(k) + "/3", "--start-at",
        start, "--report", dir.file("r" + std::to_string(k) + ".json")}));
  for (auto& shard : shards) {
    const ProcessResult r = shard->wait(120s);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  std::this_thread::sleep_for(500ms);
  const auto shard_payloads = payloads_by_device(shard_sub->stdout_so_far());

  const ProcessResult merge = run_mqfleet({"sim", "merge", dir.file("r0.json"), dir.file("r1.json"),
                                           dir.file("r2.json"), "--report", dir.file("all.json")});
  ASSERT_EQ(merge.exit_code, 0) << merge.out << merge.err;
  EXPECT_NE(merge.out.find("shards 0/3 1/3 2/3 · 29 of 29 devices"), std::string::npos) << merge.out;
  EXPECT_NE(merge.out.find("expect min_delivered: 100.00% (limit 100.00%) ok"), std::string::npos) << merge.out;

  // Each shard ran its slice from the common start.
  const std::vector<int> m_devices = {8, 8, 8}, g_devices = {2, 2, 1};
  for (int k = 0; k < 3; ++k) {
    const auto r = read_json(dir.file("r" + std::to_string(k) + ".json"));
    EXPECT_EQ(r["shards"], nlohmann::json::array({std::to_string(k) + "/3"}));
    EXPECT_EQ(r["start_unix_ms"].get<std::int64_t>(), std::stoll(start));
    EXPECT_EQ(r["fleets"][0]["connects"], m_devices[static_cast<std::size_t>(k)]);
    EXPECT_EQ(r["fleets"][1]["connects"], g_devices[static_cast<std::size_t>(k)]);
    EXPECT_GE(r["elapsed_ms"].get<int>(), 3500);
    EXPECT_LT(r["elapsed_ms"].get<int>(), 5000);
  }

  // The merged report is the single run's: devices, connects, and the telemetry of
  // every device (a publication due right at the end may fall either side of the stop).
  const auto one = read_json(dir.file("one.json"));
  const auto all = read_json(dir.file("all.json"));
  EXPECT_EQ(all["scenario"], one["scenario"]);
  EXPECT_EQ(all["seed"], 42);
  EXPECT_EQ(all["passed"], true);
  for (std::size_t f = 0; f < 2; ++f) {
    for (const char* key : {"devices", "fleet_devices", "connects", "connect_attempts", "errors"})
      EXPECT_EQ(all["fleets"][f][key], one["fleets"][f][key]) << key;
    const int devices = one["fleets"][f]["devices"].get<int>();
    EXPECT_NEAR(all["fleets"][f]["telemetry"].get<int>(), one["fleets"][f]["telemetry"].get<int>(), devices);
    EXPECT_EQ(all["fleets"][f]["acknowledged"], all["fleets"][f]["published"]);
  }

  // The same devices published the same payloads, in the same order.
  ASSERT_EQ(single_payloads.size(), 29u);
  ASSERT_EQ(shard_payloads.size(), 29u);
  for (const auto& [topic, payloads] : single_payloads) {
    ASSERT_TRUE(shard_payloads.contains(topic)) << topic;
    const auto& other = shard_payloads.at(topic);
    const std::size_t common = std::min(payloads.size(), other.size());
    EXPECT_GE(common, 2u) << topic; // a loaded ASan run may publish only twice per device
    for (std::size_t i = 0; i < common; ++i) EXPECT_EQ(payloads[i], other[i]) << topic << " #" << i;
  }
}

/// Runs the two shards of a small scenario and returns their report files.
std::vector<std::string> two_shard_reports(const TempDir& dir, int port, const std::string& name) {
  const std::string file = dir.write(name + ".json", R"({
    "name": ")" + name + R"(", "connection": { "host": "127.0.0.1" },
    "fleets": [{ "name": "f", "count": 4, "device_id": ")" + name + R"(-{index}",
                 "telemetry": [{ "topic": "m/{device}", "period": "200ms", "qos": 1, "payload": { "v": 1 } }] }],
    "run": { "duration": "1s", "seed": 1, "expect": { "max_error_rate": 0 } } })");
  std::vector<std::string> reports;
  for (int k = 0; k < 2; ++k) {
    reports.push_back(dir.file(name + "-r" + std::to_string(k) + ".json"));
    const ProcessResult r = run_mqfleet({"sim", file, "-p", std::to_string(port), "--no-progress", "--shard",
                                         std::to_string(k) + "/2", "--report", reports.back()},
                                        {}, 120s);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  return reports;
}

TEST(SimShardsE2E, MergeRefusesWhatDoesNotBelongTogetherAndJudgesTheTotals) {
  ReferenceBrokerProcess broker;
  TempDir dir;
  const auto a = two_shard_reports(dir, broker.port(), "alpha");
  const auto b = two_shard_reports(dir, broker.port(), "beta");

  const ProcessResult ok = run_mqfleet({"sim", "merge", a[0], a[1]});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("expect max_error_rate: 0.00% (limit 0.00%) ok"), std::string::npos) << ok.out;

  const ProcessResult twice = run_mqfleet({"sim", "merge", a[0], a[1], a[0]});
  EXPECT_EQ(twice.exit_code, k_config);
  EXPECT_NE(twice.err.find("reports overlap"), std::string::npos) << twice.err;
  EXPECT_NE(twice.err.find(a[0] + ", " + a[0]), std::string::npos) << twice.err;

  const ProcessResult mixed = run_mqfleet({"sim", "merge", a[0], b[1]});
  EXPECT_EQ(mixed.exit_code, k_config);
  EXPECT_NE(mixed.err.find("reports of different scenarios"), std::string::npos) << mixed.err;
  EXPECT_NE(mixed.err.find("(" + a[0] + ", " + b[1] + ")"), std::string::npos) << mixed.err;

  // A shard whose publications failed: its totals miss max_error_rate 0 after the merge.
  auto failing = read_json(a[1]);
  failing["fleets"][0]["publish_failures"] = 3;
  const std::string edited = dir.write("failing.json", failing.dump());
  const ProcessResult judged = run_mqfleet({"sim", "merge", a[0], edited, "--report", dir.file("m.json")});
  EXPECT_EQ(judged.exit_code, k_expectation) << judged.err;
  EXPECT_NE(judged.out.find("FAILED"), std::string::npos) << judged.out;
  EXPECT_EQ(read_json(dir.file("m.json"))["passed"], false);

  const ProcessResult not_json = run_mqfleet({"sim", "merge", a[0], dir.write("x.json", "{\"fleets\": [")});
  EXPECT_EQ(not_json.exit_code, k_config);
  EXPECT_NE(not_json.err.find("x.json"), std::string::npos) << not_json.err;
}

TEST(SimShardsE2E, BadShardStartOrMissingSeedExitWithAClearError) {
  TempDir dir;
  const std::string unseeded = dir.write("u.json", R"({ "connection": { "host": "127.0.0.1" },
    "fleets": [{ "name": "f", "count": 2, "device_id": "u-{index}" }], "run": { "duration": "1s" } })");
  const ProcessResult no_seed = run_mqfleet({"sim", unseeded, "--shard", "0/2"});
  EXPECT_EQ(no_seed.exit_code, k_config);
  EXPECT_NE(no_seed.err.find("need one seed (--shard)"), std::string::npos) << no_seed.err;

  const ProcessResult shard = run_mqfleet({"sim", unseeded, "--seed", "1", "--shard", "2/2"});
  EXPECT_EQ(shard.exit_code, k_config);
  EXPECT_NE(shard.err.find("--shard"), std::string::npos) << shard.err;

  const ProcessResult start = run_mqfleet({"sim", unseeded, "--start-at", "soon"});
  EXPECT_EQ(start.exit_code, k_config);
  EXPECT_NE(start.err.find("(--start-at)"), std::string::npos) << start.err;

  const ProcessResult over = run_mqfleet({"sim", unseeded, "--start-at", "2020-01-01T00:00:00Z"});
  EXPECT_EQ(over.exit_code, k_config);
  EXPECT_NE(over.err.find("would already be over"), std::string::npos) << over.err;

  const ProcessResult no_file = run_mqfleet({"sim", "--shard", "0/2"});
  EXPECT_EQ(no_file.exit_code, k_usage) << no_file.err;
}

} // namespace
} // namespace mqfleet::test
