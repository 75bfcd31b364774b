// `mqfleet profile` black-box: the real binary, a real profiles file under a temporary
// XDG_CONFIG_HOME, and `profile test` against a real mosquitto.
#include "support/mosquitto_broker.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

namespace mqfleet::test {
namespace {

constexpr int k_config = 3;
constexpr int k_connect = 4;
constexpr int k_auth = 5;

// Runs mqfleet with its own config directory and no MQFLEET_* leaking in from outside.
class ProfileCli : public testing::Test {
protected:
  ProcessResult mqfleet(const std::vector<std::string>& args, std::map<std::string, std::string> env = {}) {
    ProcessOptions options;
    options.env = std::move(env);
    options.env["XDG_CONFIG_HOME"] = m_config.path().string();
    for (const char* name : {"MQFLEET_PROFILE", "MQFLEET_URL", "MQFLEET_HOST", "MQFLEET_PORT", "MQFLEET_USERNAME",
                             "MQFLEET_PASSWORD", "MQFLEET_PASSWORD_FILE", "MQFLEET_CLIENT_ID", "MQFLEET_VERSION"})
      if (options.env.count(name) == 0) options.unset_env.emplace_back(name);
    return run_mqfleet(args, {}, 60s, options);
  }
  std::string profiles_file() const { return m_config.file("mqfleet/profiles.json"); }

  TempDir m_config;
};

TEST_F(ProfileCli, AddListShowRemove) {
  auto r = mqfleet({"profile", "add", "lab", "-h", "broker.example", "-p", "1999", "-u", "acct", "-i", "dev-1", "-P",
                    "Sup3rSecret"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("saved profile 'lab'"), std::string::npos);
  EXPECT_EQ(r.err.find("Sup3rSecret"), std::string::npos);
  r = mqfleet({"profile", "add", "ref", "-L", "mqtts://acct@other.example/?client_id=dev-2", "--password-env", "DEV_PW"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  struct stat info {};
  ASSERT_EQ(::stat(profiles_file().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  r = mqfleet({"profile", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("lab"), std::string::npos);
  EXPECT_NE(r.out.find("broker.example:1999"), std::string::npos);
  EXPECT_NE(r.out.find("other.example:8883"), std::string::npos);

  r = mqfleet({"profile", "show", "lab"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("Sup3rSecret"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("********"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dev-1"), std::string::npos);

  r = mqfleet({"profile", "show", "lab", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("Sup3rSecret"), std::string::npos);
  const auto shown = nlohmann::json::parse(r.out);
  EXPECT_EQ(shown["name"], "lab");
  EXPECT_EQ(shown["port"], 1999);
  EXPECT_EQ(shown["credential"], "********");
  const auto ref = nlohmann::json::parse(mqfleet({"profile", "show", "ref", "--format", "json"}).out);
  EXPECT_EQ(ref["credential"]["env"], "DEV_PW");
  EXPECT_EQ(ref["tls"]["enabled"], true);

  const auto listed = nlohmann::json::parse(mqfleet({"profile", "list", "--format", "json"}).out);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0]["name"], "lab");
  EXPECT_EQ(listed[0]["credential"], "********");

  r = mqfleet({"profile", "rm", "lab"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = mqfleet({"profile", "list"});
  EXPECT_EQ(r.out.find("lab "), std::string::npos);
  EXPECT_NE(r.out.find("ref"), std::string::npos);
  EXPECT_EQ(read_file(profiles_file()).find("Sup3rSecret"), std::string::npos);
}

TEST_F(ProfileCli, ErrorsAreConfigurationErrorsWithAClearMessage) {
  auto r = mqfleet({"profile", "show", "nope"});
  EXPECT_EQ(r.exit_code, k_config);
  EXPECT_NE(r.err.find("mqfleet: error: no profile named 'nope'"), std::string::npos) << r.err;
  EXPECT_EQ(mqfleet({"profile", "rm", "nope"}).exit_code, k_config);

  ASSERT_EQ(mqfleet({"profile", "add", "dup", "-h", "a"}).exit_code, 0);
  r = mqfleet({"profile", "add", "dup", "-h", "b"});
  EXPECT_EQ(r.exit_code, k_config);
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  ASSERT_EQ(mqfleet({"profile", "add", "dup", "-h", "b", "--force"}).exit_code, 0);
  EXPECT_NE(mqfleet({"profile", "show", "dup"}).out.find("b:1883"), std::string::npos);

  r = mqfleet({"profile", "add", "bad/name", "-h", "a"});
  EXPECT_EQ(r.exit_code, k_config);
  EXPECT_NE(r.err.find("invalid profile name"), std::string::npos) << r.err;
  r = mqfleet({"profile", "add", "v", "-V", "7"});
  EXPECT_EQ(r.exit_code, k_config);
  EXPECT_NE(r.err.find("(-V)"), std::string::npos) << r.err;
  r = mqfleet({"profile", "add", "u", "-L", "mqtt://u:Hidden9@h:notaport"});
  EXPECT_EQ(r.exit_code, k_config);
  EXPECT_NE(r.err.find("(-L)"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Hidden9"), std::string::npos) << r.err;
  r = mqfleet({"profile", "add", "i", "-I", "pre-"});
  EXPECT_EQ(r.exit_code, k_config);

  m_config.write("mqfleet/profiles.json", "{ this is not json");
  r = mqfleet({"profile", "list"});
  EXPECT_EQ(r.exit_code, k_config);
  EXPECT_NE(r.err.find(profiles_file()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r.err;
}

TEST_F(ProfileCli, ParallelAddsKeepEveryProfile) {
  ProcessOptions options;
  options.env["XDG_CONFIG_HOME"] = m_config.path().string();
  std::vector<std::unique_ptr<Process>> runs;
  for (int i = 0; i < 12; ++i)
    runs.push_back(std::make_unique<Process>(
        std::vector<std::string>{mqfleet_bin(), "profile", "add", "dev" + std::to_string(i), "-h", "h", "-i",
                                 "device-" + std::to_string(i)},
        options));
  for (auto& run : runs) EXPECT_EQ(run->wait().exit_code, 0);
  const auto listed = nlohmann::json::parse(mqfleet({"profile", "list", "--format", "json"}).out);
  EXPECT_EQ(listed.size(), 12u) << listed.dump();
}

TEST_F(ProfileCli, WarnsAboutReadableLiteralCredentials) {
  ASSERT_EQ(mqfleet({"profile", "add", "lit", "-h", "a", "-P", "Visible1"}).exit_code, 0);
  ASSERT_EQ(::chmod(profiles_file().c_str(), 0644), 0);
  const auto r = mqfleet({"profile", "list"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.err.find("mqfleet: warning:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("chmod 600 " + profiles_file()), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Visible1"), std::string::npos);
}

TEST_F(ProfileCli, TestReportsConnackConnectTimeAndRoundTrip) {
  MosquittoBroker broker;
  const std::string port = std::to_string(broker.port());
  ASSERT_EQ(mqfleet({"profile", "add", "local", "-h", "127.0.0.1", "-p", port}).exit_code, 0);
  auto r = mqfleet({"profile", "test", "local"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("CONNACK       0 (accepted)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("round trip"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mqfleet/probe/"), std::string::npos) << r.out;

  r = mqfleet({"profile", "test", "local", "--format", "json", "-V", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["ok"], true);
  EXPECT_EQ(report["profile"], "local");
  EXPECT_EQ(report["version"], "5");
  EXPECT_EQ(report["connack"], 0);
  EXPECT_TRUE(report["connect_ms"].is_number());
  EXPECT_TRUE(report["round_trip_ms"].is_number());
  EXPECT_EQ(report["probe_topic"].get<std::string>().rfind("mqfleet/probe/" + report["client_id"].get<std::string>() + "/", 0), 0u);

  // No profile at all: the flags alone.
  r = mqfleet({"profile", "test", "-h", "127.0.0.1", "-p", port});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(ProfileCli, PrecedenceFlagsOverEnvironmentOverProfile) {
  MosquittoBroker broker;
  const std::string port = std::to_string(broker.port());
  const std::string closed = std::to_string(free_tcp_port());
  ASSERT_EQ(mqfleet({"profile", "add", "wrongport", "-h", "127.0.0.1", "-p", closed, "--connect-timeout", "5"}).exit_code, 0);
  EXPECT_EQ(mqfleet({"profile", "test", "wrongport"}).exit_code, k_connect);
  EXPECT_EQ(mqfleet({"profile", "test", "wrongport"}, {{"MQFLEET_PORT", port}}).exit_code, 0);
  EXPECT_EQ(mqfleet({"profile", "test", "wrongport", "-p", closed}, {{"MQFLEET_PORT", port}}).exit_code, k_connect);
  EXPECT_EQ(mqfleet({"profile", "test"}, {{"MQFLEET_PROFILE", "wrongport"}, {"MQFLEET_PORT", port}}).exit_code, 0);
}

TEST_F(ProfileCli, WrongPasswordIsAnAuthenticationFailureWithoutTheSecret) {
  MosquittoOptions options;
  options.users = {{"device", "Right-Pass-1"}};
  MosquittoBroker broker(options);
  const std::string port = std::to_string(broker.port());
  ASSERT_EQ(mqfleet({"profile", "add", "auth", "-h", "127.0.0.1", "-p", port, "-u", "device", "--password-env",
                     "DEVICE_PW"})
                .exit_code,
            0);
  auto r = mqfleet({"profile", "test", "auth"}, {{"DEVICE_PW", "Right-Pass-1"}});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  r = mqfleet({"profile", "test", "auth"}, {{"DEVICE_PW", "Wrong-Pass-2"}});
  EXPECT_EQ(r.exit_code, k_auth) << r.out << r.err;
  EXPECT_NE(r.err.find("mqfleet: error:"), std::string::npos) << r.err;
  EXPECT_EQ((r.out + r.err).find("Wrong-Pass-2"), std::string::npos) << r.out << r.err;

  r = mqfleet({"profile", "test", "auth", "--format", "json", "-P", "Wrong-Pass-3"});
  EXPECT_EQ(r.exit_code, k_auth) << r.out << r.err;
  EXPECT_EQ((r.out + r.err).find("Wrong-Pass-3"), std::string::npos) << r.out << r.err;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["ok"], false);
  EXPECT_EQ(report["connack"], 5);

  r = mqfleet({"profile", "test", "auth"});
  EXPECT_EQ(r.exit_code, k_config);
  EXPECT_NE(r.err.find("DEVICE_PW"), std::string::npos) << r.err;
}

TEST_F(ProfileCli, ProbeRefusedByTheBrokerAcl) {
  TempDir dir;
  MosquittoOptions options;
  options.extra_config = "acl_file " + dir.write("acl", "topic readwrite other/#\n");
  MosquittoBroker broker(options);
  // MQTT 5: mosquitto answers the denied probe publish with PUBACK 0x87 (not authorized).
  const auto r = mqfleet({"profile", "test", "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-V", "5",
                          "--timeout", "20", "--format", "json"});
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_NE(r.err.find("refused the probe message (reason code 0x87)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ACL"), std::string::npos) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["ok"], false);
  EXPECT_EQ(report["connack"], 0);
  EXPECT_TRUE(report["round_trip_ms"].is_null());
}

// Runs argv[1:] on a pseudo-terminal, types $ANSWER once the credential prompt shows,
// and passes on everything the terminal displayed and the exit code.
constexpr const char* k_pty_driver = R"PY(
import os, pty, select, signal, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out, sent = b"", False
while True:
    ready, _, _ = select.select([fd], [], [], 30)
    if not ready:
        os.kill(pid, signal.SIGKILL)
        break
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    if not sent and b"Credential for" in out:
        os.write(fd, os.environ["ANSWER"].encode() + b"\n")
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
)PY";

TEST_F(ProfileCli, PromptsOnATerminalWithEchoOff) {
  MosquittoOptions options;
  options.users = {{"device", "Typed-Pass-4"}};
  MosquittoBroker broker(options);
  ASSERT_EQ(mqfleet({"profile", "add", "ask", "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-u", "device",
                     "-P", "-"})
                .exit_code,
            0);
  EXPECT_EQ(nlohmann::json::parse(mqfleet({"profile", "show", "ask", "--format", "json"}).out)["credential"]["prompt"],
            true);
  // Not a terminal: refused with a hint, no hanging read.
  auto r = mqfleet({"profile", "test", "ask"});
  EXPECT_EQ(r.exit_code, k_config);
  EXPECT_NE(r.err.find("--password-env"), std::string::npos) << r.err;

  ProcessOptions pty_options;
  pty_options.env = {{"XDG_CONFIG_HOME", m_config.path().string()}, {"ANSWER", "Typed-Pass-4"}};
  r = run_process({"/usr/bin/python3", "-c", k_pty_driver, mqfleet_bin(), "profile", "test", "ask"}, {}, 60s, pty_options);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Credential for device@127.0.0.1:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("round trip"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Typed-Pass-4"), std::string::npos) << "the typed credential was echoed: " << r.out;

  pty_options.env["ANSWER"] = "Bad-Typed-5";
  r = run_process({"/usr/bin/python3", "-c", k_pty_driver, mqfleet_bin(), "profile", "test", "ask"}, {}, 60s, pty_options);
  EXPECT_EQ(r.exit_code, k_auth) << r.out << r.err;
  EXPECT_EQ(r.out.find("Bad-Typed-5"), std::string::npos) << r.out;
}

} // namespace
} // namespace mqfleet::test
