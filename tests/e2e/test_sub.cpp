// `mqfleet sub` against a real mosquitto, with mosquitto_pub (and mosquitto_sub for
// comparison) as the independent peers. Readiness is never a sleep: `sub -d` prints
// "subscribed to <filter>" on stderr once the SUBACK is in, and the tests wait for it.
#include "support/mosquitto_broker.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <mqfleet/message_format.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

namespace mqfleet::test {
namespace {

constexpr int k_exit_connect = 4;
constexpr int k_exit_protocol = 8;
constexpr int k_exit_timeout = 6;
constexpr int k_exit_interrupted = 130;

class SubTest : public testing::Test {
protected:
  explicit SubTest(MosquittoOptions options = {}) : m_broker(std::move(options)) {}

  std::string port() const { return std::to_string(m_broker.port()); }

  std::vector<std::string> sub_argv(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{mqfleet_bin(), "sub", "-h", "127.0.0.1", "-p", port()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  /// Starts `mqfleet sub -d args...` and returns once every -t filter is acknowledged.
  std::unique_ptr<Process> start_sub(std::vector<std::string> args, ProcessOptions options = {}) {
    std::string last_filter;
    for (std::size_t i = 0; i + 1 < args.size(); ++i)
      if (args[i] == "-t") last_filter = args[i + 1];
    args.push_back("-d");
    auto process = std::make_unique<Process>(sub_argv(args), std::move(options));
    const auto ready = process->wait_for_stderr_line(
        [&](const std::string& line) { return line.find("subscribed to " + last_filter + " ") != std::string::npos; },
        30s);
    EXPECT_TRUE(ready.has_value()) << "sub did not subscribe; stderr: " << process->stderr_so_far();
    return process;
  }

  ProcessResult run_sub(const std::vector<std::string>& args, ProcessOptions options = {}) {
    return run_process(sub_argv(args), {}, 60s, std::move(options));
  }

  void mosquitto_pub(const std::vector<std::string>& args, const std::string& input = {}) {
    std::vector<std::string> argv{find_program("mosquitto_pub"), "-h", "127.0.0.1", "-p", port()};
    argv.insert(argv.end(), args.begin(), args.end());
    const ProcessResult result = run_process(argv, input, 30s);
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }

  static ProcessResult finish(Process& process) {
    ProcessResult result = process.wait(60s);
    EXPECT_FALSE(result.timed_out) << "stdout: " << result.out << "\nstderr: " << result.err;
    return result;
  }

  MosquittoBroker m_broker;
};

TEST_F(SubTest, RoundTripsAtEveryQos) {
  for (const std::string qos : {"0", "1", "2"}) {
    auto sub = start_sub({"-t", "rt/" + qos, "-q", qos, "-C", "1", "-F", "%q %t %p"});
    mosquitto_pub({"-t", "rt/" + qos, "-q", qos, "-m", "hello " + qos});
    const ProcessResult result = finish(*sub);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.out, qos + " rt/" + qos + " hello " + qos + "\n");
  }
}

TEST_F(SubTest, PrintsEachMessageAtOnceToAPipe) {
  auto sub = start_sub({"-t", "flush", "-C", "2"});
  mosquitto_pub({"-t", "flush", "-m", "first"});
  // The second message is not sent until the first one has come out of the pipe.
  EXPECT_TRUE(sub->wait_for_stdout_line([](const std::string& line) { return line == "first"; }, 30s));
  EXPECT_TRUE(sub->running());
  mosquitto_pub({"-t", "flush", "-m", "second"});
  const ProcessResult result = finish(*sub);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "first\nsecond\n");
}

TEST_F(SubTest, CountExitsWithExactlyNLines) {
  auto sub = start_sub({"-t", "count/#", "-C", "3", "-v", "-q", "1"});
  for (int i = 1; i <= 5 && sub->running(); ++i) mosquitto_pub({"-t", "count/" + std::to_string(i), "-q", "1", "-m", "m"});
  const ProcessResult result = finish(*sub);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "count/1 m\ncount/2 m\ncount/3 m\n");
}

TEST_F(SubTest, TimeoutExitsWithTheTimeoutCode) {
  const ProcessResult result = run_sub({"-t", "nothing/here", "-W", "1", "-C", "1"});
  EXPECT_EQ(result.exit_code, k_exit_timeout);
  EXPECT_EQ(result.out, "");
  EXPECT_NE(result.err.find("timed out after 1 s with 0 of 1 messages"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("(-W)"), std::string::npos) << result.err;
}

TEST_F(SubTest, CountReachedBeforeTimeoutIsSuccess) {
  mosquitto_pub({"-t", "early", "-r", "-m", "kept"});
  const ProcessResult result = run_sub({"-t", "early", "-W", "30", "-C", "1"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "kept\n");
}

TEST_F(SubTest, RetainedMessagesAndSkippingThemWithR) {
  mosquitto_pub({"-t", "ret/old", "-r", "-q", "1", "-m", "stale"});
  {
    const ProcessResult result = run_sub({"-t", "ret/#", "-C", "1", "-F", "%r %t %p"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.out, "1 ret/old stale\n");
  }
  auto sub = start_sub({"-t", "ret/#", "-R", "-C", "1", "-F", "%r %t %p"});
  mosquitto_pub({"-t", "ret/new", "-q", "1", "-m", "fresh"});
  const ProcessResult result = finish(*sub);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "0 ret/new fresh\n");
}

TEST_F(SubTest, RetainedOnlyExitsAtTheFirstFreshMessage) {
  mosquitto_pub({"-t", "ro/a", "-r", "-q", "1", "-m", "A"});
  mosquitto_pub({"-t", "ro/b", "-r", "-q", "1", "-m", "B"});
  auto sub = start_sub({"-t", "ro/#", "--retained-only", "-v"});
  mosquitto_pub({"-t", "ro/c", "-q", "1", "-m", "fresh"});
  const ProcessResult result = finish(*sub);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const auto lines = split_lines(result.out);
  EXPECT_EQ(std::set<std::string>(lines.begin(), lines.end()), (std::set<std::string>{"ro/a A", "ro/b B"}));
  EXPECT_EQ(lines.size(), 2U);
}

TEST_F(SubTest, RemoveRetainedReallyClearsThem) {
  mosquitto_pub({"-t", "rm/1", "-r", "-q", "1", "-m", "one"});
  mosquitto_pub({"-t", "rm/2", "-r", "-q", "1", "-m", "two"});
  mosquitto_pub({"-t", "rm/keep", "-r", "-q", "1", "-m", "kept"});
  mosquitto_pub({"-t", "marker", "-r", "-q", "1", "-m", "end"});
  const ProcessResult removed = run_sub({"-t", "rm/#", "-T", "rm/keep", "--remove-retained", "-C", "2", "-v"});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(split_lines(removed.out).size(), 2U) << removed.out;
  // A fresh subscriber gets the retained messages of rm/# before the marker's: only the
  // filtered-out one must be left.
  const ProcessResult after = run_sub({"-t", "rm/#", "-t", "marker", "-C", "2", "-v"});
  EXPECT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(after.out, "rm/keep kept\nmarker end\n");
}

TEST_F(SubTest, ExitAfterSubackKeepsAPersistentSession) {
  const ProcessResult init = run_sub({"-t", "queued/t", "-q", "1", "-c", "-i", "sub-e2e-persistent", "-E"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_EQ(init.out, "");
  mosquitto_pub({"-t", "queued/t", "-q", "1", "-m", "while away"});
  const ProcessResult result = run_sub({"-t", "queued/t", "-q", "1", "-c", "-i", "sub-e2e-persistent", "-C", "1"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "while away\n");
}

TEST_F(SubTest, UnsubscribeRemovesAPersistentSubscription) {
  const std::vector<std::string> session{"-c", "-i", "sub-e2e-unsubscribe", "-q", "1"};
  auto with_session = [&](std::vector<std::string> args) {
    args.insert(args.end(), session.begin(), session.end());
    return run_sub(args);
  };
  ASSERT_EQ(with_session({"-t", "unsub/a", "-t", "unsub/b", "-E"}).exit_code, 0);
  const ProcessResult removed = with_session({"-U", "unsub/a", "-E"});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  mosquitto_pub({"-t", "unsub/a", "-q", "1", "-m", "not queued"});
  mosquitto_pub({"-t", "unsub/b", "-q", "1", "-m", "queued"});
  // Queued messages arrive right after CONNACK: only unsub/b's may be there.
  const ProcessResult result = with_session({"-t", "unsub/b", "-C", "1", "-v"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "unsub/b queued\n");
}

TEST_F(SubTest, FilterOutSkipsMatchingTopics) {
  auto sub = start_sub({"-t", "fo/#", "-T", "fo/secret/#", "-T", "fo/hidden", "-C", "1", "-v"});
  mosquitto_pub({"-t", "fo/secret/x", "-q", "1", "-m", "no"});
  mosquitto_pub({"-t", "fo/hidden", "-q", "1", "-m", "no"});
  mosquitto_pub({"-t", "fo/public", "-q", "1", "-m", "yes"});
  const ProcessResult result = finish(*sub);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "fo/public yes\n");
}

TEST_F(SubTest, SeveralTopics) {
  auto sub = start_sub({"-t", "multi/a", "-t", "multi/b", "-t", "other/+", "-C", "3", "-v", "-q", "1"});
  mosquitto_pub({"-t", "multi/a", "-q", "1", "-m", "1"});
  mosquitto_pub({"-t", "unrelated", "-q", "1", "-m", "x"});
  mosquitto_pub({"-t", "multi/b", "-q", "1", "-m", "2"});
  mosquitto_pub({"-t", "other/c", "-q", "1", "-m", "3"});
  const ProcessResult result = finish(*sub);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "multi/a 1\nmulti/b 2\nother/c 3\n");
}

// --retain-as-published shows at the broker: a retained publication reaches a live
// subscription with its retain flag kept (without it, the flag is cleared).
// --retain-handling 2: the message already retained on v5m/a ("0") is not sent on
// subscribing, so the first line is the live one. (--no-local cannot show here: `sub`
// never publishes; SubWire below checks its bit on the wire.)
TEST_F(SubTest, SeveralTopicsWithV5SubscriptionOptions) {
  mosquitto_pub({"-V", "5", "-t", "v5m/a", "-q", "1", "-r", "-m", "0"});
  auto sub = start_sub({"-V", "5", "-t", "v5m/a", "-t", "v5m/b", "-C", "2", "-F", "%r %t %p", "-q", "2",
                        "--no-local", "--retain-handling", "2", "--retain-as-published"});
  mosquitto_pub({"-V", "5", "-t", "v5m/a", "-q", "2", "-r", "-m", "1"});
  mosquitto_pub({"-V", "5", "-t", "v5m/b", "-q", "2", "-m", "2"});
  const ProcessResult result = finish(*sub);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "1 v5m/a 1\n0 v5m/b 2\n");
  auto plain = start_sub({"-V", "5", "-t", "v5m/c", "-C", "1", "-F", "%r %t %p"});
  mosquitto_pub({"-V", "5", "-t", "v5m/c", "-q", "1", "-r", "-m", "3"});
  EXPECT_EQ(finish(*plain).out, "0 v5m/c 3\n");
}

// What sub asks for on the wire: a one-connection fake v5 server reads the SUBSCRIBE and
// answers with one message. No Local (0x04), Retain As Published (0x08) and Retain
// Handling (bits 4-5) must be set in each filter's options byte, next to the QoS.
TEST(SubWire, SubscriptionOptionsOnTheWire) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  Process sub({mqfleet_bin(), "sub", "-h", "127.0.0.1", "-p", std::to_string(ntohs(address.sin_port)), "-V", "5",
               "-t", "w/a", "-t", "w/b", "-q", "1", "--no-local", "--retain-as-published", "--retain-handling", "2",
               "-C", "1"});
  pollfd waiting{listener, POLLIN, 0};
  ASSERT_EQ(::poll(&waiting, 1, 30'000), 1) << "sub never connected";
  const int fd = ::accept(listener, nullptr, nullptr);
  ::close(listener);
  ASSERT_GE(fd, 0);
  const auto read_exact = [fd](std::size_t n) {
    std::string data(n, '\0');
    for (std::size_t done = 0; done < n;) {
      pollfd readable{fd, POLLIN, 0};
      if (::poll(&readable, 1, 30'000) != 1) throw std::runtime_error("timed out reading from sub");
      const ssize_t got = ::read(fd, data.data() + done, n - done);
      if (got <= 0) throw std::runtime_error("sub closed the connection");
      done += static_cast<std::size_t>(got);
    }
    return data;
  };
  const auto read_packet = [&](std::uint8_t& type) {
    type = static_cast<std::uint8_t>(read_exact(1)[0]);
    std::size_t remaining = 0;
    for (int shift = 0;; shift += 7) {
      const auto byte = static_cast<std::uint8_t>(read_exact(1)[0]);
      remaining |= static_cast<std::size_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) break;
    }
    return read_exact(remaining);
  };
  const auto send_bytes = [fd](const std::string& bytes) { ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size())); };
  std::uint8_t type = 0;
  read_packet(type);
  ASSERT_EQ(type, 0x10) << "expected CONNECT";
  send_bytes(std::string("\x20\x03\x00\x00\x00", 5));
  std::string body = read_packet(type);
  ASSERT_EQ(type, 0x82) << "expected SUBSCRIBE";
  // Packet id, then properties (a short length: one byte), then (filter, options) pairs.
  std::size_t at = 2;
  at += 1 + static_cast<std::uint8_t>(body.at(at));
  std::vector<std::pair<std::string, int>> filters;
  while (at < body.size()) {
    const std::size_t n = (static_cast<std::uint8_t>(body.at(at)) << 8) | static_cast<std::uint8_t>(body.at(at + 1));
    filters.emplace_back(body.substr(at + 2, n), static_cast<std::uint8_t>(body.at(at + 2 + n)));
    at += 3 + n;
  }
  const std::vector<std::pair<std::string, int>> expected{{"w/a", 0x2D}, {"w/b", 0x2D}};
  EXPECT_EQ(filters, expected);
  std::string suback{"\x90\x05"};
  suback += body.substr(0, 2);
  suback += std::string("\x00\x01\x01", 3);
  send_bytes(suback);
  send_bytes(std::string("\x30\x07\x00\x03w/a\x00x", 9));
  const auto result = sub.wait(30s);
  ::close(fd);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "x\n");
}

TEST_F(SubTest, RetainHandlingTwoSkipsRetainedOnSubscribe) {
  mosquitto_pub({"-t", "rh/t", "-r", "-q", "1", "-m", "stale"});
  auto sub = start_sub({"-V", "5", "-t", "rh/t", "-C", "1", "--retain-handling", "2"});
  mosquitto_pub({"-t", "rh/t", "-q", "1", "-m", "fresh"});
  const ProcessResult result = finish(*sub);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "fresh\n");
}

TEST_F(SubTest, JsonLinesWithABinaryPayload) {
  TempDir dir;
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  const std::string file = dir.write("payload.bin", binary);
  auto sub = start_sub({"-t", "bin/#", "-C", "2", "--format", "jsonl", "-q", "1"});
  mosquitto_pub({"-t", "bin/raw", "-q", "1", "-f", file});
  mosquitto_pub({"-t", "bin/text", "-q", "1", "-m", "{\"t\":21.5}"});
  const ProcessResult result = finish(*sub);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto lines = split_lines(result.out);
  ASSERT_EQ(lines.size(), 2U) << result.out;
  const auto raw = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(raw["topic"], "bin/raw");
  EXPECT_EQ(raw["qos"], 1);
  EXPECT_EQ(raw["retain"], false);
  EXPECT_EQ(raw["encoding"], "base64");
  EXPECT_EQ(base64_decode(raw["payload"].get<std::string>()), binary);
  EXPECT_EQ(raw["timestamp"].get<std::string>().back(), 'Z');
  const auto text = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(text["payload"], "{\"t\":21.5}");
  EXPECT_FALSE(text.contains("encoding"));
}

TEST_F(SubTest, JsonLinesCarryV5Properties) {
  auto sub = start_sub({"-V", "5", "-t", "v5/t", "-C", "1", "--format", "jsonl"});
  mosquitto_pub({"-V", "5", "-t", "v5/t", "-m", "x", "-D", "publish", "content-type", "text/plain", "-D", "publish",
                 "user-property", "unit", "C", "-D", "publish", "response-topic", "reply/to", "-D", "publish",
                 "message-expiry-interval", "300"});
  const ProcessResult result = finish(*sub);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto json = nlohmann::json::parse(result.out);
  const auto& props = json.at("properties");
  EXPECT_EQ(props["content_type"], "text/plain");
  EXPECT_EQ(props["response_topic"], "reply/to");
  EXPECT_EQ(props["user_properties"], nlohmann::json::parse(R"([["unit","C"]])"));
  EXPECT_GT(props["message_expiry_interval"].get<int>(), 0);
}

TEST_F(SubTest, SameOutputAsMosquittoSub) {
  const std::string format = "%t|%q|%r|%l|%x|%X|%p|%5l|%-8t|%.3t|\\t|@@|%%";
  // mosquitto_sub flushes stdout only after a message: a retained marker, delivered on
  // subscribe, tells when it is ready.
  mosquitto_pub({"-t", "cmp/0", "-r", "-q", "1", "-m", "ready"});
  for (const std::vector<std::string>& style :
       {std::vector<std::string>{"-F", format}, std::vector<std::string>{"-v"}, std::vector<std::string>{}}) {
    std::vector<std::string> peer_args{find_program("mosquitto_sub"), "-h", "127.0.0.1", "-p", port(), "-t", "cmp/#",
                                       "-C", "3", "-q", "1"};
    peer_args.insert(peer_args.end(), style.begin(), style.end());
    Process peer(peer_args);
    ASSERT_TRUE(peer.wait_for_stdout_line([](const std::string& l) { return l.find("ready") != std::string::npos; }, 30s));
    std::vector<std::string> ours_args{"-t", "cmp/#", "-C", "3", "-q", "1"};
    ours_args.insert(ours_args.end(), style.begin(), style.end());
    auto ours = start_sub(ours_args);
    mosquitto_pub({"-t", "cmp/one", "-q", "1", "-m", "hello world"});
    mosquitto_pub({"-t", "cmp/two", "-q", "1", "-m", "x"});
    const ProcessResult theirs = finish(peer);
    const ProcessResult mine = finish(*ours);
    ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
    ASSERT_EQ(mine.exit_code, 0) << mine.err;
    EXPECT_EQ(mine.out, theirs.out);
    EXPECT_EQ(split_lines(mine.out).size(), 3U) << mine.out;
  }
}

// mqfleet pub -> mqfleet sub.

TEST_F(SubTest, MqfleetPubRoundTripsAtEveryQos) {
  for (const std::string qos : {"0", "1", "2"}) {
    auto sub = start_sub({"-t", "ours/" + qos, "-q", qos, "-C", "2", "-F", "%q %r %t %p"});
    const ProcessResult pub = run_mqfleet(
        {"pub", "-h", "127.0.0.1", "-p", port(), "-t", "ours/" + qos, "-q", qos, "-m", "hello " + qos, "--repeat", "2"});
    ASSERT_EQ(pub.exit_code, 0) << pub.err;
    const ProcessResult result = finish(*sub);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.out, qos + " 0 ours/" + qos + " hello " + qos + "\n" + qos + " 0 ours/" + qos + " hello " + qos + "\n");
  }
}

TEST_F(SubTest, MqfleetPubBinaryFileThroughJsonLines) {
  TempDir dir;
  std::string binary;
  for (int i = 0; i < 4096; ++i) binary.push_back(static_cast<char>((i * 7919) & 0xFF));
  const std::string file = dir.write("blob.bin", binary);
  auto sub = start_sub({"-t", "blob", "-q", "1", "-C", "1", "--format", "jsonl"});
  const ProcessResult pub = run_mqfleet({"pub", "-h", "127.0.0.1", "-p", port(), "-t", "blob", "-q", "1", "-f", file});
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  const ProcessResult result = finish(*sub);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["encoding"], "base64");
  EXPECT_EQ(base64_decode(json["payload"].get<std::string>()), binary);
}

TEST_F(SubTest, MqfleetPubV5PropertiesThroughJsonLines) {
  auto sub = start_sub({"-V", "5", "-t", "props", "-q", "1", "-C", "1", "--format", "jsonl"});
  const ProcessResult pub =
      run_mqfleet({"pub", "-h", "127.0.0.1", "-p", port(), "-V", "5", "-t", "props", "-q", "1", "-m", "{\"t\":1}",
                   "-D", "PUBLISH", "content-type", "application/json", "-D", "PUBLISH", "user-property", "site", "lab"});
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  const ProcessResult result = finish(*sub);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["payload"], "{\"t\":1}");
  EXPECT_EQ(json["properties"]["content_type"], "application/json");
  EXPECT_EQ(json["properties"]["user_properties"], nlohmann::json::parse(R"([["site","lab"]])"));
}

TEST_F(SubTest, TwoHundredThousandLinesAtQos1AllArriveInOrder) {
  constexpr int k_lines = 200000;
  TempDir dir;
  std::string input;
  input.reserve(k_lines * 12);
  for (int i = 1; i <= k_lines; ++i) input += "line-" + std::to_string(i) + "\n";
  ProcessOptions to_file;
  to_file.stdout_file = dir.file("received.txt");
  auto sub = start_sub({"-t", "bulk/lines", "-q", "1", "-C", std::to_string(k_lines)}, to_file);
  const ProcessResult pub =
      run_mqfleet({"pub", "-h", "127.0.0.1", "-p", port(), "-t", "bulk/lines", "-q", "1", "-l"}, input, 280s);
  EXPECT_EQ(pub.exit_code, 0) << pub.err;
  const ProcessResult result = sub->wait(280s);
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const std::string received = read_file(dir.file("received.txt"));
  EXPECT_EQ(split_lines(received).size(), static_cast<std::size_t>(k_lines));
  EXPECT_TRUE(received == input) << "the subscriber did not print every line once, in order";
}

TEST_F(SubTest, InterruptExitsWith130) {
  auto sub = start_sub({"-t", "forever"});
  sub->signal(SIGINT);
  const ProcessResult result = finish(*sub);
  EXPECT_EQ(result.exit_code, k_exit_interrupted);
  // Documented: an interrupt is no error (docs/exit-codes.md), so nothing but the -d notes.
  EXPECT_EQ(result.err.find("error"), std::string::npos) << result.err;
  EXPECT_EQ(result.out, "");
}

// A closed terminal (SIGHUP) stops `sub` as it stops mosquitto_sub: before, SIGHUP was
// taken for the broker's reload and ignored by every other command, so a `sub --watch`
// whose tmux pane or ssh session went away kept running (and reconnecting) forever.
TEST_F(SubTest, HangupExitsWith130) {
  auto sub = start_sub({"-t", "forever"});
  sub->signal(SIGHUP);
  const ProcessResult result = finish(*sub);
  EXPECT_EQ(result.exit_code, k_exit_interrupted);
  EXPECT_EQ(result.err.find("error"), std::string::npos) << result.err;
}

// The lean client serves `sub` by default; MQFLEET_SUB_CLIENT=paho keeps the Paho-backed
// one reachable (and covered): retained and fresh messages at QoS 2, then a refusal-free exit.
TEST_F(SubTest, PahoClientOnRequest) {
  mosquitto_pub({"-t", "paho/r", "-q", "2", "-r", "-m", "kept"});
  ProcessOptions paho;
  paho.env["MQFLEET_SUB_CLIENT"] = "paho";
  auto sub = start_sub({"-t", "paho/#", "-q", "2", "-C", "2", "-F", "%r %q %t %p"}, paho);
  mosquitto_pub({"-t", "paho/f", "-q", "2", "-m", "fresh"});
  const ProcessResult result = finish(*sub);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "1 2 paho/r kept\n0 2 paho/f fresh\n");
  EXPECT_NE(result.err.find("using the Paho client (MQFLEET_SUB_CLIENT=paho)"), std::string::npos) << result.err;
}

TEST_F(SubTest, LeanClientByDefault) {
  auto sub = start_sub({"-t", "lean/#", "-q", "2", "-C", "1"});
  mosquitto_pub({"-t", "lean/x", "-q", "2", "-m", "fresh"});
  const ProcessResult result = finish(*sub);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "fresh\n");
  EXPECT_EQ(result.err.find("Paho"), std::string::npos) << result.err;
}

TEST_F(SubTest, ConnectionRefusedExitsWithTheConnectCode) {
  const int closed_port = free_tcp_port();
  const ProcessResult result =
      run_process({mqfleet_bin(), "sub", "-h", "127.0.0.1", "-p", std::to_string(closed_port), "-t", "x"}, {}, 60s);
  EXPECT_EQ(result.exit_code, k_exit_connect) << result.err;
  EXPECT_NE(result.err.find("mqfleet: error:"), std::string::npos);
}

// While sub waits for messages its client must send PINGREQ: mosquitto closes a connection
// silent for 1.5 x the keepalive. The wait below is the scenario, not a readiness guess.
TEST_F(SubTest, KeepaliveHoldsAnIdleSubscription) {
  auto sub = start_sub({"-t", "idle/x", "-k", "1", "-C", "1"});
  std::this_thread::sleep_for(3500ms);
  mosquitto_pub({"-t", "idle/x", "-m", "still here"});
  const ProcessResult result = finish(*sub);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "still here\n");
}

// A broker that goes away ends sub with the connect code and Connection's wording.
TEST(SubLostConnection, ExitsWithTheConnectCode) {
  std::optional<MosquittoBroker> broker(std::in_place);
  Process sub({mqfleet_bin(), "sub", "-h", "127.0.0.1", "-p", std::to_string(broker->port()), "-t", "gone/x", "-d",
               "--no-reconnect"});
  const auto ready = sub.wait_for_stderr_line(
      [](const std::string& line) { return line.find("subscribed to gone/x ") != std::string::npos; }, 30s);
  ASSERT_TRUE(ready.has_value()) << sub.stderr_so_far();
  broker.reset();
  const ProcessResult result = sub.wait(60s);
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.exit_code, k_exit_connect) << result.err;
  EXPECT_NE(result.err.find("mqfleet: error: connection lost: "), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("leave out --no-reconnect"), std::string::npos) << result.err; // a real flag
}

// The lean client's TLS read path: a small and a large (many TLS records) message.
class SubTlsTest : public SubTest {
protected:
  SubTlsTest() : SubTest(tls_options()) {}

  static MosquittoOptions tls_options() {
    MosquittoOptions options;
    options.tls = true;
    return options;
  }
};

TEST_F(SubTlsTest, ReceivesOverTls) {
  const auto& certs = m_broker.certificates();
  Process sub({mqfleet_bin(), "sub", "-h", "localhost", "-p", std::to_string(m_broker.tls_port()), "--cafile",
               certs.ca_file, "-t", "secure/x", "-q", "1", "-C", "2", "-d"});
  const auto ready = sub.wait_for_stderr_line(
      [](const std::string& line) { return line.find("subscribed to secure/x ") != std::string::npos; }, 30s);
  ASSERT_TRUE(ready.has_value()) << sub.stderr_so_far();
  const std::string large(100000, 'x'); // one argument: at most 128 kB
  mosquitto_pub({"-t", "secure/x", "-q", "1", "-m", "small"});
  mosquitto_pub({"-t", "secure/x", "-q", "1", "-m", large});
  const ProcessResult result = finish(sub);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.out == "small\n" + large + "\n") << result.out.size() << " bytes printed";
}

// mosquitto's acl_file never refuses a SUBSCRIBE (it only filters deliveries); its
// dynamic-security plugin does. Here anonymous clients may subscribe to allowed/# only.
class SubRefusalTest : public SubTest {
protected:
  SubRefusalTest() : SubTest(dynsec_options()) {}

  static MosquittoOptions dynsec_options() {
    static TempDir dir;  // lives as long as the test program; the broker reads it at start
    const std::string config = dir.write("dynsec.json", R"({
      "defaultACLAccess": {"publishClientSend": true, "publishClientReceive": true,
                           "subscribe": false, "unsubscribe": true},
      "clients": [],
      "groups": [{"groupname": "anonymous", "roles": [{"rolename": "limited"}], "clients": []}],
      "anonymousGroup": "anonymous",
      "roles": [{"rolename": "limited",
                 "acls": [{"acltype": "subscribePattern", "topic": "allowed/#", "allow": true}]}]
    })");
    MosquittoOptions options;
    options.extra_config = "plugin " + plugin_path() + "\nplugin_opt_config_file " + config + "\n";
    return options;
  }

  static std::string plugin_path() {
    for (const char* path : {"/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so",
                             "/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so",
                             "/usr/lib/mosquitto_dynamic_security.so"})
      if (std::filesystem::exists(path)) return path;
    throw std::runtime_error("mosquitto_dynamic_security.so not found (Debian package mosquitto)");
  }
};

TEST_F(SubRefusalTest, RefusedSubscriptionIsAProtocolErrorV311) {
  const ProcessResult result = run_sub({"-t", "forbidden/x"});
  EXPECT_EQ(result.exit_code, k_exit_protocol) << result.err;
  EXPECT_NE(result.err.find("refused the subscription to 'forbidden/x': unspecified error (SUBACK 0x80)"),
            std::string::npos)
      << result.err;
  EXPECT_EQ(result.out, "");
}

TEST_F(SubRefusalTest, NotAuthorizedUnderV5IsAProtocolErrorToo) {
  const ProcessResult result = run_sub({"-V", "5", "-t", "forbidden/x"});
  EXPECT_EQ(result.exit_code, k_exit_protocol) << result.err;
  EXPECT_NE(result.err.find("refused the subscription to 'forbidden/x': not authorized (SUBACK 0x87)"),
            std::string::npos)
      << result.err;
}

TEST_F(SubRefusalTest, OneRefusedFilterAmongSeveralIsNamed) {
  const ProcessResult v311 = run_sub({"-t", "allowed/x", "-t", "forbidden/y", "-t", "allowed/z"});
  EXPECT_EQ(v311.exit_code, k_exit_protocol) << v311.err;
  EXPECT_NE(v311.err.find("refused the subscription to 'forbidden/y'"), std::string::npos) << v311.err;
  const ProcessResult v5 = run_sub({"-V", "5", "-t", "allowed/x", "-t", "forbidden/y", "-t", "allowed/z"});
  EXPECT_EQ(v5.exit_code, k_exit_protocol) << v5.err;
  EXPECT_NE(v5.err.find("refused the subscription to 'forbidden/y'"), std::string::npos) << v5.err;
}

TEST_F(SubRefusalTest, AllowedSubscriptionWorks) {
  auto sub = start_sub({"-t", "allowed/x", "-t", "allowed/y", "-C", "1"});
  mosquitto_pub({"-t", "allowed/y", "-m", "ok"});
  const ProcessResult result = finish(*sub);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "ok\n");
}

} // namespace
} // namespace mqfleet::test
