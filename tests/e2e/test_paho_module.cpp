// The Paho module (lib/client/src/paho_backend.hpp) end to end, as the dynamic loader
// reports it (LD_DEBUG): a lean `mqfleet pub` or `sub` maps neither Paho nor the module;
// the Paho client loads the module from next to the binary, and libpaho-mqtt3as then
// binds usleep and poll to the executable's definitions (lib/client/src/paho_sleep.cpp),
// which is what keeps Paho's 100 ms sleeps out of connect and shutdown.
#include "support/mosquitto_broker.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace mqfleet::test {
namespace {

// True when LD_DEBUG=bindings output shows `library` binding `symbol` to the mqfleet binary.
bool bound_to_executable(const std::string& ld_debug, const std::string& library, const std::string& symbol) {
  const std::string executable = std::filesystem::path(mqfleet_bin()).filename().string();
  std::istringstream lines(ld_debug);
  for (std::string line; std::getline(lines, line);) {
    const auto file = line.find("binding file ");
    const auto to = line.find(" to ");
    if (file == std::string::npos || to == std::string::npos) continue;
    if (line.find("`" + symbol + "'") == std::string::npos) continue;
    if (line.substr(file, to - file).find(library) == std::string::npos) continue;
    const std::string target = line.substr(to + 4, line.find(" [", to + 4) - (to + 4));
    if (std::filesystem::path(target).filename().string() == executable) return true;
  }
  return false;
}

// Paho's OpenSSL (the shared libcrypto.so; mqfleet's own is linked statically) has no frame
// pointers, so ASan's fast unwinder stops inside it and an allocation Paho leaks on a failed
// TLS set-up loses the libpaho frame that tests/sanitizers/lsan.supp suppresses. Children
// that set up TLS through Paho unwind the slow (DWARF) way instead, which keeps that frame.
void unwind_slowly(ProcessOptions& options) {
  const char* current = std::getenv("ASAN_OPTIONS");
  options.env["ASAN_OPTIONS"] = std::string(current ? current : "") + ":fast_unwind_on_malloc=0";
}

TEST(PahoModule, LeanPubLoadsNeitherPahoNorTheModule) {
  MosquittoBroker broker;
  ProcessOptions options;
  options.env["LD_DEBUG"] = "files";
  const auto result =
      run_mqfleet({"pub", "-p", std::to_string(broker.port()), "-t", "module/lean", "-q", "1", "-m", "x"}, {}, 60s,
                  options);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("libc.so"), std::string::npos) << "LD_DEBUG reported nothing:\n" << result.err;
  EXPECT_EQ(result.err.find("libpaho"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("mqfleet_paho.so"), std::string::npos) << result.err;
}

TEST(PahoModule, LeanSubLoadsNeitherPahoNorTheModule) {
  MosquittoBroker broker;
  ProcessOptions options;
  options.env["LD_DEBUG"] = "files";
  // -E: subscribe, wait for the SUBACK, disconnect; the whole receiving path but no wait.
  const auto result =
      run_mqfleet({"sub", "-p", std::to_string(broker.port()), "-t", "module/lean", "-q", "2", "-E"}, {}, 60s, options);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("libc.so"), std::string::npos) << "LD_DEBUG reported nothing:\n" << result.err;
  EXPECT_EQ(result.err.find("libpaho"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("mqfleet_paho.so"), std::string::npos) << result.err;
}

TEST(PahoModule, PahoClientBindsTheExecutablesSleepAndPoll) {
  MosquittoBroker broker;
  ProcessOptions options;
  options.env["LD_DEBUG"] = "files,bindings";
  options.env["MQFLEET_PUB_CLIENT"] = "paho";
  const auto result =
      run_mqfleet({"pub", "-p", std::to_string(broker.port()), "-t", "module/paho", "-q", "1", "-m", "x"}, {}, 60s,
                  options);
  EXPECT_EQ(result.exit_code, 0) << result.err.substr(result.err.size() > 4000 ? result.err.size() - 4000 : 0);
  EXPECT_TRUE(bound_to_executable(result.err, "libpaho-mqtt3as.so", "usleep"));
  EXPECT_TRUE(bound_to_executable(result.err, "libpaho-mqtt3as.so", "poll"));
  const std::string module = (std::filesystem::path(mqfleet_bin()).parent_path() / "mqfleet_paho.so").string();
  EXPECT_NE(result.err.find("file=" + module), std::string::npos) << "the module was not loaded from " << module;
}

// Errors raised inside the module cross the seam as data (paho_backend.hpp) and reach the
// user as the mqfleet error they were, with its exit code, whichever C++ runtime each side
// uses: a configuration error from the module's constructor (a directory passes the
// command line's readability check but is no CA file) and a refused connection.
TEST(PahoModule, ErrorsFromInsideTheModuleKeepTheirExitCodes) {
  MosquittoBroker broker;
  const std::string directory = std::filesystem::temp_directory_path().string();
  ProcessOptions paho;
  paho.env["MQFLEET_SUB_CLIENT"] = "paho"; // `sub` would use the lean client otherwise
  unwind_slowly(paho);
  const auto not_a_file = run_mqfleet({"sub", "-p", std::to_string(broker.port()), "-t", "module/x", "-C", "1",
                                       "--cafile", directory},
                                      {}, 60s, paho);
  EXPECT_EQ(not_a_file.exit_code, 3) << not_a_file.err;
  EXPECT_NE(not_a_file.err.find("cannot read the CA file '" + directory + "'"), std::string::npos) << not_a_file.err;

  MosquittoOptions with_users;
  with_users.users["alice"] = "right-password";
  MosquittoBroker secured(with_users);
  const auto refused = run_mqfleet({"sub", "-p", std::to_string(secured.port()), "-t", "module/x", "-C", "1", "-u",
                                    "alice", "-P", "wrong-password"},
                                   {}, 60s, paho);
  EXPECT_EQ(refused.exit_code, 5) << refused.err;
  EXPECT_NE(refused.err.find("CONNACK"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.err.find("wrong-password"), std::string::npos) << "the secret was printed";
}

} // namespace
} // namespace mqfleet::test
