// Data buckets end to end: devices of two accounts publish JSON through `mqfleet pub` to
// `mqfleet broker --registry R --data-dir D`; each account's export holds exactly what
// its devices sent; non-JSON is counted, not stored; a disabled bucket stores nothing;
// import -> export round-trips and a bad CSV imports nothing; bucket definitions edited
// while the broker runs take effect on SIGHUP without dropping connections.

#include "support/process.hpp"
#include "support/reference_broker.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <map>
#include <set>
#include <thread>
#include <tuple>

namespace mqfleet::test {
namespace {

using Json = nlohmann::json;

struct Sent {
  std::string device;
  long long ts;
  Json data;
  bool operator<(const Sent& o) const { return std::tie(device, ts) < std::tie(o.device, o.ts); }
};

std::string add_device(const std::string& registry, const std::string& account, const std::string& device) {
  auto result = run_mqfleet({"device", "add", account, device, "--registry", registry, "--generate"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  auto secret = result.out;
  while (!secret.empty() && secret.back() == '\n') secret.pop_back();
  return secret;
}

void add_bucket(const std::string& registry, std::vector<std::string> args) {
  std::vector<std::string> argv{"bucket", "add"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--registry", registry});
  auto result = run_mqfleet(argv);
  ASSERT_EQ(result.exit_code, 0) << result.err;
}

std::set<Sent> exported(const std::string& data_dir, const std::string& bucket) {
  auto result = run_mqfleet({"bucket", "export", bucket, "--data-dir", data_dir, "--format", "ndjson"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::set<Sent> points;
  for (const auto& line : split_lines(result.out)) {
    if (line.empty()) continue;
    const auto row = Json::parse(line);
    points.insert(Sent{row["device"].get<std::string>(), row["ts"].get<long long>(), row["data"]});
  }
  return points;
}

Json stats_of(const std::string& data_dir, const std::string& bucket) {
  auto result = run_mqfleet({"bucket", "stats", bucket, "--data-dir", data_dir, "--format", "json"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return Json::parse(result.out);
}

TEST(BucketsE2E, TwoAccountsExportExactlyWhatTheySent) {
  TempDir dir;
  const auto registry = dir.file("registry.json");
  const auto data_dir = dir.file("data");
  const std::map<std::string, std::vector<std::string>> fleet = {{"acme", {"a1", "a2", "a3"}}, {"globex", {"g1", "g2"}}};
  std::map<std::string, std::string> secrets;
  for (const auto& [account, devices] : fleet)
    for (const auto& device : devices) secrets[device] = add_device(registry, account, device);
  add_bucket(registry, {"acme", "acme-data", "--topic", "data/#", "--name", "Acme telemetry"});
  add_bucket(registry, {"globex", "globex-data", "--topic", "data/+/telemetry"});
  add_bucket(registry, {"acme", "acme-off", "--topic", "#", "--disabled"});

  ReferenceBrokerOptions options;
  options.allow_anonymous = false;
  options.registry_path = registry;
  options.extra_args = {"--data-dir", data_dir};
  ReferenceBrokerProcess broker(options);

  std::map<std::string, std::set<Sent>> sent;
  constexpr int k_points = 40;
  for (const auto& [account, devices] : fleet) {
    for (std::size_t d = 0; d < devices.size(); ++d) {
      const auto& device = devices[d];
      std::string lines;
      for (int i = 0; i < k_points; ++i) {
        Json data = {{"ts", 1'700'000'000'000LL + i * 1000 + static_cast<long long>(d)},
                     {"temp", 20 + i * 0.5},
                     {"pos", {{"lat", i}, {"lon", -i}}},
                     {"label", account + "," + device}};
        sent[account].insert(Sent{device, data["ts"].get<long long>(), data});
        lines += data.dump() + "\n";
      }
      lines += "not json\n[1,2,3]\n";
      auto result = run_mqfleet({"pub", "-p", std::to_string(broker.port()), "-u", account, "-i", device, "-P",
                                 secrets[device], "-t", "data/" + device + "/telemetry", "-q", "1", "-l"},
                                lines);
      ASSERT_EQ(result.exit_code, 0) << result.err;
    }
  }
  broker.process().signal(SIGTERM);
  const auto stopped = broker.process().wait(60s);
  ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_NE(stopped.err.find("bucket_rejected"), std::string::npos);

  for (const auto& [account, expected] : sent) {
    const auto got = exported(data_dir, account + "-data");
    ASSERT_EQ(got.size(), expected.size()) << account;
    auto e = expected.begin();
    for (const auto& point : got) {
      EXPECT_EQ(point.device, e->device);
      EXPECT_EQ(point.ts, e->ts);
      EXPECT_EQ(point.data, e->data);
      ++e;
    }
    const auto stats = stats_of(data_dir, account + "-data");
    EXPECT_EQ(stats["points"], expected.size());
    EXPECT_EQ(stats["devices"], fleet.at(account).size());
    EXPECT_EQ(stats["rejected"], 2 * fleet.at(account).size());
    EXPECT_EQ(stats["dropped"], 0);
    EXPECT_EQ(stats["first"], "2023-11-14T22:13:20.000Z");
  }
  EXPECT_EQ(stats_of(data_dir, "acme-off")["points"], 0);

  // CSV export -> import into another bucket -> export again: the same file.
  const auto csv = dir.file("acme.csv");
  auto result = run_mqfleet({"bucket", "export", "acme-data", "--data-dir", data_dir, "--output", csv});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto original = read_file(csv);
  EXPECT_EQ(original.rfind("ts,device,label,pos.lat,pos.lon,temp\r\n", 0), 0u) << original.substr(0, 200);
  result = run_mqfleet({"bucket", "import", "acme-copy", csv, "--data-dir", data_dir, "--create"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  result = run_mqfleet({"bucket", "export", "acme-copy", "--data-dir", data_dir});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, original);

  // A CSV with bad rows imports nothing and names the lines.
  const auto bad = dir.write("bad.csv", "ts;temp\n1000;1\nsoon;2\n3000;3;extra\n4000;4\n");
  result = run_mqfleet({"bucket", "import", "bad-copy", bad, "--data-dir", data_dir, "--create"});
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_NE(result.err.find("bad.csv:3:"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("bad.csv:4: expected 2 fields, found 3"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("nothing was imported"), std::string::npos) << result.err;
  EXPECT_EQ(stats_of(data_dir, "bad-copy")["points"], 0);

  // Other formats and selections.
  result = run_mqfleet({"bucket", "export", "globex-data", "--data-dir", data_dir, "--format", "arff", "--device", "g2",
                        "--fields", "temp", "--time", "iso"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("@attribute 'temp' numeric"), std::string::npos);
  EXPECT_EQ(split_lines(result.out).size(), 7u + k_points) << result.out;
  result = run_mqfleet({"bucket", "chart", "acme-data", "--data-dir", data_dir, "--field", "temp", "--width", "60",
                        "--height", "12"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("acme-data: temp  (120 points, min 20, max 39.5)"), std::string::npos) << result.out;
  const auto svg = dir.file("temp.svg");
  result = run_mqfleet({"bucket", "chart", "acme-data", "--data-dir", data_dir, "--field", "temp", "--svg", svg});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(read_file(svg).find("<polyline"), std::string::npos);
}

TEST(BucketsE2E, RegistryCommandsEditDefinitions) {
  TempDir dir;
  const auto registry = dir.file("registry.json");
  add_bucket(registry, {"acme", "b1", "--topic", "sensors/#", "--description", "all sensors"});
  auto result = run_mqfleet({"bucket", "add", "globex", "b1", "--topic", "x", "--registry", registry});
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_NE(result.err.find("already exists in account 'acme'"), std::string::npos) << result.err;
  result = run_mqfleet({"bucket", "add", "acme", "b2", "--topic", "$SYS/#", "--registry", registry});
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(run_mqfleet({"bucket", "disable", "b1", "--registry", registry}).exit_code, 0);
  result = run_mqfleet({"bucket", "show", "b1", "--registry", registry, "--format", "json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto shown = Json::parse(result.out);
  EXPECT_EQ(shown["enabled"], false);
  EXPECT_EQ(shown["account"], "acme");
  EXPECT_EQ(shown["topic"], "sensors/#");
  result = run_mqfleet({"bucket", "list", "--registry", registry});
  EXPECT_NE(result.out.find("b1"), std::string::npos);
  EXPECT_EQ(run_mqfleet({"bucket", "rm", "b1", "--registry", registry}).exit_code, 0);
  result = run_mqfleet({"bucket", "list", "--registry", registry, "--format", "json"});
  EXPECT_EQ(Json::parse(result.out).size(), 0u);
  // Unknown keys stay errors.
  const auto broken = dir.write("broken.json", R"({"accounts":{"a":{"buckets":{"b":{"topic":"t","colour":"red"}}}}})");
  result = run_mqfleet({"bucket", "list", "--registry", broken});
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_NE(result.err.find("unknown key 'colour'"), std::string::npos) << result.err;
}

// Counts the broker's `reload` log events so far.
std::size_t reload_count(ReferenceBrokerProcess& broker) {
  std::size_t count = 0;
  for (const auto& line : split_lines(broker.log()))
    if (line.find("\"event\":\"reload\"") != std::string::npos) ++count;
  return count;
}

// SIGHUP and waits (generously) until the broker logged reload number `expected`.
void reload(ReferenceBrokerProcess& broker, std::size_t expected) {
  broker.process().signal(SIGHUP);
  for (int i = 0; i < 3000 && reload_count(broker) < expected; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(reload_count(broker), expected) << broker.log();
  EXPECT_EQ(broker.log().find("reload_failed"), std::string::npos) << broker.log();
}

TEST(BucketsE2E, SighupReloadsBucketDefinitionsWithoutDroppingConnections) {
  TempDir dir;
  const auto registry = dir.file("registry.json");
  const auto data_dir = dir.file("data");
  const auto publisher = add_device(registry, "acme", "p1");
  const auto listener = add_device(registry, "acme", "s1");

  ReferenceBrokerOptions options;
  options.allow_anonymous = false;
  options.registry_path = registry;
  options.extra_args = {"--data-dir", data_dir};
  ReferenceBrokerProcess broker(options);
  const auto port = std::to_string(broker.port());

  // A subscriber connected before any reload; it must keep receiving after each one.
  Process sub({mqfleet_bin(), "sub", "-p", port, "-u", "acme", "-i", "s1", "-P", listener, "-t", "data/#", "-q",
               "1", "-d"});
  ASSERT_TRUE(sub.wait_for_stderr_line([](const std::string& l) { return l.find("subscribed to") != std::string::npos; },
                                       30s))
      << sub.stderr_so_far();

  // Publishes `count` JSON points with ts = first, first+1, ... and waits until the
  // subscriber printed the last one.
  auto publish = [&](long long first, int count) {
    std::string lines;
    for (int i = 0; i < count; ++i) lines += Json{{"ts", first + i}, {"v", i}}.dump() + "\n";
    auto result = run_mqfleet({"pub", "-p", port, "-u", "acme", "-i", "p1", "-P", publisher, "-t", "data/p1", "-q",
                               "1", "-l"},
                              lines);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const auto last = Json{{"ts", first + count - 1}, {"v", count - 1}}.dump();
    ASSERT_TRUE(sub.wait_for_stdout_line([&](const std::string& l) { return l == last; }, 30s))
        << "subscriber missed " << last << "\n" << sub.stdout_so_far() << sub.stderr_so_far();
  };

  constexpr int k_points = 5;
  ASSERT_NO_FATAL_FAILURE(publish(1000, k_points)); // no bucket yet: nothing stored
  add_bucket(registry, {"acme", "live", "--topic", "data/#"});
  ASSERT_NO_FATAL_FAILURE(reload(broker, 1));
  ASSERT_NO_FATAL_FAILURE(publish(2000, k_points)); // enabled: stored
  ASSERT_EQ(run_mqfleet({"bucket", "disable", "live", "--registry", registry}).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(reload(broker, 2));
  ASSERT_NO_FATAL_FAILURE(publish(3000, k_points)); // disabled: nothing stored

  // The subscriber's connection survived both reloads: one connect, no disconnect.
  ASSERT_TRUE(sub.running()) << sub.stderr_so_far();
  std::size_t connects = 0;
  for (const auto& line : split_lines(broker.log())) {
    if (line.find("\"client_id\":\"s1\"") == std::string::npos) continue;
    if (line.find("\"event\":\"connect\"") != std::string::npos) ++connects;
    EXPECT_EQ(line.find("\"event\":\"disconnect\""), std::string::npos) << line;
  }
  EXPECT_EQ(connects, 1u) << broker.log();
  sub.signal(SIGTERM);
  sub.wait(30s);

  broker.process().signal(SIGTERM); // commits everything queued
  const auto stopped = broker.process().wait(60s);
  ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
  const auto points = exported(data_dir, "live");
  ASSERT_EQ(points.size(), static_cast<std::size_t>(k_points));
  long long expected_ts = 2000;
  for (const auto& point : points) {
    EXPECT_EQ(point.device, "p1");
    EXPECT_EQ(point.ts, expected_ts++);
  }
}

} // namespace
} // namespace mqfleet::test
