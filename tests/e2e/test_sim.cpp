// `mqfleet sim` end to end against the reference broker (in this process): a 200-device
// fleet connects, publishes on schedule and answers commands; abrupt drops fire wills;
// expectations decide the exit code; --check reports problems with positions; SIGINT
// stops with a summary.

#include "support/process.hpp"
#include "support/reference_broker.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace mqfleet::test {
namespace {

std::string tool(const std::string& name) {
  const std::string path = find_program(name);
  if (path.empty()) throw std::runtime_error(name + " is not installed");
  return path;
}

/// Publishes a probe to `probe_topic` until the subscriber prints it, so the
/// subscription is known to be in place.
void await_subscription(Process& subscriber, int port, const std::string& probe_topic) {
  for (int i = 0; i < 100; ++i) {
    run_process({tool("mosquitto_pub"), "-h", "127.0.0.1", "-p", std::to_string(port), "-t", probe_topic, "-m", "probe"});
    if (subscriber.wait_for_stdout_line([](const std::string& l) { return l.find("probe") != std::string::npos; }, 300ms))
      return;
  }
  FAIL() << "the subscriber to " << probe_topic << " never came up";
}

/// The subscriber's lines without probes, once there are `count` of them (or at timeout).
std::vector<std::string> wait_lines(Process& subscriber, std::size_t count, std::chrono::milliseconds timeout = 60s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::string> lines;
  while (true) {
    lines.clear();
    for (auto& line : split_lines(subscriber.stdout_so_far()))
      if (line.find("probe") == std::string::npos) lines.push_back(line);
    if (lines.size() >= count || std::chrono::steady_clock::now() > deadline) return lines;
    std::this_thread::sleep_for(100ms);
  }
}

std::vector<std::string> sim_args(const std::string& file, int port, std::vector<std::string> more = {}) {
  std::vector<std::string> args{"sim", file, "-h", "127.0.0.1", "-p", std::to_string(port), "--no-progress"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

const char* k_fleet_200 = R"({
  "name": "e2e-200",
  "connection": { "host": "127.0.0.1", "port": 1883 },
  "fleets": [{
    "name": "sensors", "count": 200, "device_id": "s-{index:03}", "rate": "400/s", "keepalive": "30s",
    "will": { "topic": "e2e/{device}/status", "payload": "offline", "online_payload": "online", "qos": 1, "retain": false },
    "fields": { "setpoint": 20 },
    "telemetry": [{ "name": "temp", "topic": "e2e/{device}/temp", "period": { "every": "1s", "jitter": "10%" }, "qos": 1,
                    "payload": { "t": { "type": "normal", "mean": { "ref": "setpoint" }, "stddev": 0.5 },
                                 "n": { "type": "counter" } } }],
    "commands": [{ "topic": "e2e/{device}/cmd", "qos": 1, "delay": { "min": "10ms", "max": "50ms" },
                   "set": { "setpoint": "{request.value}" },
                   "reply": { "topic": "e2e/{device}/ack", "qos": 1,
                              "payload": { "id": "{request.id}", "setpoint": { "ref": "setpoint" } } } }]
  }],
  "run": { "duration": "7s", "seed": 5,
           "expect": { "max_error_rate": "0.5%", "min_delivered": "99%", "max_command_rtt_p99": "5s" } }
})";

TEST(SimE2E, TwoHundredDevicesConnectPublishAndAnswerCommands) {
  ReferenceBroker broker;
  TempDir dir;
  const std::string file = dir.write("fleet.json", k_fleet_200);
  const std::string report_file = dir.file("report.json");
  const std::string port = std::to_string(broker.port());

  Process status({tool("mosquitto_sub"), "-h", "127.0.0.1", "-p", port, "-t", "e2e/+/status", "-v"});
  Process acks({tool("mosquitto_sub"), "-h", "127.0.0.1", "-p", port, "-t", "e2e/+/ack", "-v"});
  await_subscription(status, broker.port(), "e2e/probe/status");
  await_subscription(acks, broker.port(), "e2e/probe/ack");
  // An independent subscriber (python3-paho-mqtt) counts the telemetry the broker delivered.
  const char* source = std::getenv("MQFLEET_SOURCE_DIR");
  ProcessOptions unbuffered;
  unbuffered.env["PYTHONUNBUFFERED"] = "1";
  Process counter({"/usr/bin/python3", "-B", std::string(source ? source : MQFLEET_SOURCE_DIR) +
                                                 "/tests/e2e/py/count_messages.py",
                   "--port", port, "--topic", "e2e/+/temp", "--idle", "3", "--timeout", "150"},
                  unbuffered);
  ASSERT_TRUE(counter.wait_for_stdout_line([](const std::string& l) { return l == "READY"; }, 30s))
      << counter.stderr_so_far();
  Process sim({mqfleet_bin(), "sim", file, "-h", "127.0.0.1", "-p", port, "--no-progress", "--report", report_file});

  // Every device announces itself on its status topic once connected.
  const auto online = wait_lines(status, 200);
  ASSERT_EQ(online.size(), 200u) << "not every device came online";
  std::set<std::string> devices;
  for (const auto& line : online) {
    EXPECT_NE(line.find(" online"), std::string::npos) << line;
    devices.insert(line.substr(0, line.find(' ')));
  }
  EXPECT_EQ(devices.size(), 200u);

  for (int i = 0; i < 20; ++i) {
    const std::string device = "s-" + std::string(i < 10 ? "00" : "0") + std::to_string(i);
    const auto r = run_process({tool("mosquitto_pub"), "-h", "127.0.0.1", "-p", port, "-q", "1", "-t",
                                "e2e/" + device + "/cmd", "-m",
                                R"({"id": "c)" + std::to_string(i) + R"(", "value": )" + std::to_string(30 + i) + "}"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const auto ack_lines = wait_lines(acks, 20);
  ASSERT_EQ(ack_lines.size(), 20u);
  for (const auto& line : ack_lines) {
    const auto space = line.find(' ');
    const auto body = nlohmann::json::parse(line.substr(space + 1));
    const int i = std::stoi(body["id"].get<std::string>().substr(1));
    EXPECT_EQ(body["setpoint"], 30 + i) << line;
  }

  const ProcessResult result = sim.wait(120s);
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("sensors"), std::string::npos);
  const auto report = nlohmann::json::parse(read_file(report_file));
  const auto& fleet = report["fleets"][0];
  EXPECT_EQ(fleet["connects"], 200);
  EXPECT_EQ(fleet["connect_failures"], 0);
  EXPECT_EQ(fleet["connections_lost"], 0);
  EXPECT_EQ(fleet["commands_received"], 20);
  EXPECT_EQ(fleet["commands_answered"], 20);
  EXPECT_EQ(fleet["command_rtt"]["count"], 20);
  EXPECT_EQ(fleet["acknowledged"], fleet["published"]);
  // One message per second per device for 7 s from a random phase, minus the ramp
  // (0.5 s) and the slowness of a loaded machine: about 6-7 per device.
  const auto telemetry = fleet["telemetry"].get<int>();
  EXPECT_GE(telemetry, 200 * 5);
  EXPECT_LE(telemetry, 200 * 8);
  EXPECT_EQ(report["stopped_by"], "duration");
  EXPECT_EQ(report["passed"], true);
  const auto counted = counter.wait(60s);
  EXPECT_EQ(counted.exit_code, 0) << counted.err;
  EXPECT_NE(counted.out.find("COUNT " + std::to_string(telemetry) + "\n"), std::string::npos)
      << "the sim reported " << telemetry << " telemetry messages; the independent subscriber: " << counted.out;
}

TEST(SimE2E, AbruptDropsFireTheWills) {
  ReferenceBroker broker;
  TempDir dir;
  const std::string file = dir.write("drops.json", R"({
    "connection": { "host": "127.0.0.1" },
    "fleets": [{ "name": "flaky", "count": 20, "device_id": "f-{index}",
                 "will": { "topic": "drops/{device}/status", "payload": "gone", "qos": 1, "retain": false },
                 "behaviour": { "drops": { "probability": 1, "every": "1s", "reconnect_after": "300ms" } } }],
    "run": { "duration": "4s", "seed": 1 } })");
  const std::string port = std::to_string(broker.port());
  Process wills({tool("mosquitto_sub"), "-h", "127.0.0.1", "-p", port, "-t", "drops/+/status", "-v"});
  await_subscription(wills, broker.port(), "drops/probe/status");
  const ProcessResult result = run_mqfleet(sim_args(file, broker.port(), {"--report", dir.file("r.json")}), {}, 120s);
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  const auto got = wait_lines(wills, 20, 30s);
  std::set<std::string> devices;
  for (const auto& line : got) {
    EXPECT_NE(line.find(" gone"), std::string::npos) << line;
    devices.insert(line.substr(0, line.find(' ')));
  }
  EXPECT_EQ(devices.size(), 20u); // every device dropped at least once and its will fired
  const auto report = nlohmann::json::parse(read_file(dir.file("r.json")));
  EXPECT_GE(report["fleets"][0]["drops"].get<int>(), 20);
  EXPECT_GE(report["fleets"][0]["connects"].get<int>(), 40);
}

TEST(SimE2E, UnmetExpectationExitsNine) {
  ReferenceBroker broker;
  TempDir dir;
  const std::string file = dir.write("expect.json", R"({
    "connection": { "host": "127.0.0.1" },
    "fleets": [{ "name": "quiet", "count": 5, "device_id": "q-{index}", "fields": { "x": 0 },
                 "commands": [{ "topic": "q/{device}/cmd", "set": { "x": "{request.x}" } }] }],
    "run": { "duration": "1s", "expect": { "max_command_rtt_p99": "100ms" } } })");
  const ProcessResult result = run_mqfleet(sim_args(file, broker.port()), {}, 120s);
  EXPECT_EQ(result.exit_code, 9) << result.out << result.err;
  EXPECT_NE(result.out.find("FAILED"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("no command was answered"), std::string::npos) << result.out;
}

TEST(SimE2E, UnreachableBrokerExitsFourWithTheReason) {
  TempDir dir;
  const std::string file = dir.write("down.json", R"({
    "connection": { "host": "127.0.0.1" },
    "fleets": [{ "name": "lonely", "count": 3, "device_id": "l-{index}" }],
    "run": { "duration": "1500ms" } })");
  const ProcessResult result = run_mqfleet(sim_args(file, free_tcp_port()), {}, 120s);
  EXPECT_EQ(result.exit_code, 4) << result.out << result.err;
  EXPECT_NE(result.out.find("connect failure"), std::string::npos) << result.out;
}

TEST(SimE2E, CheckReportsEveryProblemWithItsPosition) {
  TempDir dir;
  const std::string bad = dir.write("bad.json", "{\n  \"connection\": \"local\",\n  \"fleets\": [{ \"name\": \"a\", \"count\": 2,\n"
                                                "    \"device_id\": \"d-{index}\", \"telemtry\": [] }],\n"
                                                "  \"run\": { \"duration\": \"10\" }\n}\n");
  const ProcessResult result = run_mqfleet({"sim", "--check", bad});
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_NE(result.err.find("bad.json:4:"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("did you mean 'telemetry'"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("run.duration"), std::string::npos) << result.err;

  const std::string good = std::string(MQFLEET_SOURCE_DIR) + "/scenarios/weather-stations.json";
  const ProcessResult ok = run_mqfleet({"sim", "--check", good});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("ok"), std::string::npos);
}

TEST(SimE2E, SigintStopsGracefullyWithTheSummary) {
  ReferenceBroker broker;
  TempDir dir;
  const std::string file = dir.write("long.json", R"({
    "connection": { "host": "127.0.0.1" },
    "fleets": [{ "name": "steady", "count": 10, "device_id": "st-{index}",
                 "telemetry": [{ "topic": "st/{device}", "period": "200ms", "qos": 1, "payload": { "v": 1 } }] }] })");
  Process sim({mqfleet_bin(), "sim", file, "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "--no-progress",
               "--report", dir.file("r.json")});
  ASSERT_TRUE(broker.wait_for_log("st-9"));
  std::this_thread::sleep_for(1s);
  sim.signal(SIGINT);
  const ProcessResult result = sim.wait(60s);
  EXPECT_EQ(result.exit_code, 130) << result.err;
  EXPECT_NE(result.out.find("stopped by interrupted"), std::string::npos) << result.out;
  const auto report = nlohmann::json::parse(read_file(dir.file("r.json")));
  EXPECT_EQ(report["stopped_by"], "interrupted");
  EXPECT_GT(report["fleets"][0]["telemetry"].get<int>(), 0);
  EXPECT_EQ(report["fleets"][0]["acknowledged"], report["fleets"][0]["published"]);
}

} // namespace
} // namespace mqfleet::test
