// `mqfleet rr` end to end: against mosquitto with an MQTT 5 responder (python3-paho-mqtt,
// py/rr_responder.py) that echoes the correlation data, and against the reference broker
// with `mqfleet sim` devices answering commands (no MQTT 5 properties in their replies).
#include "support/mosquitto_broker.hpp"
#include "support/process.hpp"
#include "support/reference_broker.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace mqfleet::test {
namespace {

constexpr int k_exit_config = 3;
constexpr int k_exit_usage = 2;
constexpr int k_exit_timeout = 6;

std::string source_dir() {
  const char* dir = std::getenv("MQFLEET_SOURCE_DIR");
  return dir != nullptr ? dir : ".";
}

class RrTest : public testing::Test {
protected:
  std::string port() const { return std::to_string(m_broker.port()); }

  std::vector<std::string> rr_argv(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{mqfleet_bin(), "rr", "-h", "127.0.0.1", "-p", port()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  /// Starts the responder on `request_topic` and returns once it is subscribed.
  std::unique_ptr<Process> start_responder(const std::string& request_topic, std::vector<std::string> more = {}) {
    std::vector<std::string> argv{"/usr/bin/python3", "-B", source_dir() + "/tests/e2e/py/rr_responder.py",
                                  "--port", port(), "--request-topic", request_topic};
    argv.insert(argv.end(), more.begin(), more.end());
    auto responder = std::make_unique<Process>(argv);
    const auto ready = responder->wait_for_stdout_line([](const std::string& l) { return l == "ready"; }, 30s);
    EXPECT_TRUE(ready.has_value()) << "responder did not subscribe: " << responder->stderr_so_far();
    return responder;
  }

  MosquittoBroker m_broker;
};

TEST_F(RrTest, PrintsTheResponseWithTheRoundTrip) {
  auto responder = start_responder("svc/echo");
  const auto r = run_process(rr_argv({"-t", "svc/echo", "-e", "svc/echo/reply", "-m", "hello", "-W", "10",
                                      "--latency"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "re: hello\n");
  EXPECT_NE(r.err.find("mqfleet rr: round trip "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" ms"), std::string::npos) << r.err;
  EXPECT_EQ(responder->wait(30s).exit_code, 0);
}

TEST_F(RrTest, OutputOptionsAsSub) {
  auto responder = start_responder("svc/fmt", {"--count", "2"});
  auto r = run_process(rr_argv({"-t", "svc/fmt", "-e", "svc/fmt/reply", "-m", "x", "-W", "10", "-v"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "svc/fmt/reply re: x\n");
  // -F: the correlation data the responder echoed is the one rr sent.
  r = run_process(rr_argv({"-t", "svc/fmt", "-e", "svc/fmt/reply", "-m", "y", "-W", "10", "-N",
                           "--correlation-data", "req-42", "-F", "%t|%D|%p"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "svc/fmt/reply|req-42|re: y");
}

TEST_F(RrTest, SkipsAResponseWithOtherCorrelationData) {
  auto responder = start_responder("svc/busy", {"--decoy"});
  const auto r = run_process(rr_argv({"-t", "svc/busy", "-e", "svc/busy/reply", "-m", "mine", "-W", "10", "-d"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "re: mine\n");
  EXPECT_NE(r.err.find("skipped a differently correlated message"), std::string::npos) << r.err;
}

TEST_F(RrTest, NoResponseExitsWithTheTimeoutCode) {
  const auto r = run_process(rr_argv({"-t", "svc/nobody", "-e", "svc/nobody/reply", "-m", "?", "-W", "1"}));
  EXPECT_EQ(r.exit_code, k_exit_timeout) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("mqfleet: error: no response on 'svc/nobody/reply' within 1 s (-W)"), std::string::npos) << r.err;
}

TEST_F(RrTest, ARetainedMessageOnTheResponseTopicIsNotTheResponse) {
  const auto pub = run_process({find_program("mosquitto_pub"), "-h", "127.0.0.1", "-p", port(), "-t", "svc/old/reply",
                                "-m", "stale", "-r", "-q", "1"});
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  for (const std::string version : {"5", "311"}) {
    const auto r = run_process(rr_argv({"-t", "svc/old", "-e", "svc/old/reply", "-m", "?", "-W", "1", "-V", version}));
    EXPECT_EQ(r.exit_code, k_exit_timeout) << version << ": " << r.out << r.err;
    EXPECT_EQ(r.out, "") << version;
  }
}

TEST_F(RrTest, BadInputIsRefusedBeforeConnecting) {
  auto r = run_process(rr_argv({"-t", "svc/a", "-e", "svc/+/reply", "-m", "x"}));
  EXPECT_EQ(r.exit_code, k_exit_config) << r.err;
  EXPECT_NE(r.err.find("not a valid response topic"), std::string::npos) << r.err;
  r = run_process(rr_argv({"-t", "svc/a", "-e", "svc/reply"}));  // no request payload
  EXPECT_EQ(r.exit_code, k_exit_usage) << r.err;
  r = run_process(rr_argv({"-t", "svc/a", "-e", "svc/reply", "-m", "x", "-V", "311", "--correlation-data", "c"}));
  EXPECT_EQ(r.exit_code, k_exit_config) << r.err;
  TempDir dir;
  r = run_process(rr_argv({"-t", "svc/a", "-e", "svc/reply", "-f", dir.path().string()}));
  EXPECT_EQ(r.exit_code, k_exit_config) << r.err;
  EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
  r = run_process(rr_argv({"-t", "svc/a", "-e", "svc/reply", "-f", "/dev/zero"}), {}, 120s);  // read as pub -f: bounded
  EXPECT_EQ(r.exit_code, k_exit_config) << r.err;
  EXPECT_NE(r.err.find("larger than"), std::string::npos) << r.err;
}

// The simulator's command devices answer on a fixed reply topic with the request's id in
// the payload, and no MQTT 5 properties: rr takes the first non-retained reply there.
TEST(RrSim, ASimulatedDeviceAnswersTheRequest) {
  ReferenceBroker broker;
  TempDir dir;
  const std::string port = std::to_string(broker.port());
  const std::string file = dir.write("fleet.json", R"({
    "name": "rr-e2e",
    "connection": { "host": "127.0.0.1" },
    "fleets": [{
      "name": "zones", "count": 2, "device_id": "zone-{index}", "keepalive": "30s",
      "will": { "topic": "rr/{device}/status", "payload": "offline", "online_payload": "online", "retain": true },
      "fields": { "setpoint": 20 },
      "commands": [{ "topic": "rr/{device}/cmd", "qos": 1, "delay": { "min": "5ms", "max": "20ms" },
                     "set": { "setpoint": "{request.value}" },
                     "reply": { "topic": "rr/{device}/ack", "qos": 1,
                                "payload": { "id": "{request.id}", "setpoint": { "ref": "setpoint" } } } }]
    }],
    "run": { "duration": "60s" }
  })");
  Process sim({mqfleet_bin(), "sim", file, "-h", "127.0.0.1", "-p", port, "--no-progress"});
  // The retained online status comes after the command subscription is in force.
  const auto online = run_process({mqfleet_bin(), "sub", "-h", "127.0.0.1", "-p", port, "-t", "rr/zone-1/status",
                                   "-C", "1", "-W", "30"});
  ASSERT_EQ(online.exit_code, 0) << online.err << "\nsim: " << sim.stderr_so_far();
  ASSERT_EQ(online.out, "online\n");

  const auto r = run_process({mqfleet_bin(), "rr", "-h", "127.0.0.1", "-p", port, "-t", "rr/zone-1/cmd", "-e",
                              "rr/zone-1/ack", "-q", "1", "-m", R"({"id": "r-7", "value": 23})", "-W", "10",
                              "--latency"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto reply = nlohmann::json::parse(r.out);
  EXPECT_EQ(reply["id"], "r-7");
  EXPECT_EQ(reply["setpoint"], 23);
  EXPECT_NE(r.err.find("round trip"), std::string::npos) << r.err;
  sim.signal(SIGINT);
  EXPECT_FALSE(sim.wait(60s).timed_out);
}

} // namespace
} // namespace mqfleet::test
