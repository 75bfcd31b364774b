// The Debian package, as a user gets it: `cpack -G DEB` in this build directory, the .deb
// checked with dpkg-deb (name, Depends, conffiles, nothing outside mqfleet's own paths),
// unpacked with `dpkg-deb -x` into a temporary root, and the packaged binary run from
// there: the packaged broker with the packaged /etc/mqfleet/broker.json, packaged pub/sub
// through it, and the Paho module found in ../lib/mqfleet/ beside the binary.
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <set>

namespace mqfleet::test {
namespace {

namespace fs = std::filesystem;

// Builds the .deb once for all tests of this file (cpack takes a while).
class Package : public testing::Test {
protected:
  static void SetUpTestSuite() {
    s_dir = new TempDir();
    const auto result = run_process({MQFLEET_CPACK, "-G", "DEB", "--config", std::string(MQFLEET_BUILD_DIR) + "/CPackConfig.cmake",
                                     "-B", s_dir->file("pkg")},
                                    {}, std::chrono::seconds(240), {{}, {}, MQFLEET_BUILD_DIR, {}});
    s_cpack_output = result.out + result.err;
    if (result.exit_code != 0) return;
    for (const auto& entry : fs::directory_iterator(s_dir->file("pkg")))
      if (entry.path().extension() == ".deb") s_deb = entry.path().string();
    if (!s_deb.empty())
      run_process({"dpkg-deb", "-x", s_deb, s_dir->file("root")}, {}, std::chrono::seconds(60));
  }
  static void TearDownTestSuite() {
    delete s_dir;
    s_dir = nullptr;
  }
  void SetUp() override { ASSERT_FALSE(s_deb.empty()) << "cpack -G DEB produced no .deb:\n" << s_cpack_output; }

  static std::string root() { return s_dir->file("root"); }
  static std::string packaged_mqfleet() { return root() + "/usr/bin/mqfleet"; }
  static std::string dpkg_deb(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"dpkg-deb"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(s_deb);
    const auto result = run_process(argv, {}, std::chrono::seconds(60));
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.out;
  }

  static inline TempDir* s_dir = nullptr;
  static inline std::string s_deb;
  static inline std::string s_cpack_output;
};

TEST_F(Package, IsNamedAndDescribedForDebian) {
  EXPECT_EQ(fs::path(s_deb).filename().string(), std::string("mqfleet_") + MQFLEET_VERSION + "_amd64.deb");
  const std::string fields = dpkg_deb({"-f"});
  EXPECT_NE(fields.find("Package: mqfleet\n"), std::string::npos) << fields;
  ASSERT_NE(fields.find("Depends:"), std::string::npos) << fields;
  const auto depends_line = fields.substr(fields.find("Depends:"));
  EXPECT_NE(depends_line.find("libpaho-mqttpp3"), std::string::npos) << fields;
  EXPECT_NE(depends_line.find("libc6"), std::string::npos) << fields;
  EXPECT_NE(depends_line.find("adduser"), std::string::npos) << fields;
  EXPECT_NE(depends_line.find("procps"), std::string::npos) << fields;
  const auto conffiles = run_process({"sh", "-c", "dpkg-deb --ctrl-tarfile \"$1\" | tar -xO ./conffiles", "sh", s_deb});
  EXPECT_EQ(conffiles.out, "/etc/mqfleet/broker.json\n") << conffiles.err;
}

TEST_F(Package, HoldsOnlyItsOwnFiles) {
  // Every file is one of mqfleet's own paths; directories are only those leading to them.
  const std::vector<std::string> own{"./usr/bin/mqfleet",
                                     "./usr/lib/mqfleet/",
                                     "./usr/lib/systemd/system/mqfleet-broker.service",
                                     "./usr/share/doc/mqfleet/",
                                     "./usr/share/mqfleet/",
                                     "./usr/share/man/man1/mqfleet",
                                     "./usr/share/bash-completion/completions/mqfleet",
                                     "./usr/share/zsh/vendor-completions/_mqfleet",
                                     "./usr/share/fish/vendor_completions.d/mqfleet.fish",
                                     "./etc/mqfleet/"};
  const auto listing = run_process({"sh", "-c", "dpkg-deb --fsys-tarfile \"$1\" | tar -t", "sh", s_deb});
  ASSERT_EQ(listing.exit_code, 0) << listing.err;
  std::set<std::string> paths;
  for (const auto& path : split_lines(listing.out)) {
    paths.insert(path);
    bool ok = false;
    for (const auto& prefix : own)
      ok = ok || path.rfind(prefix, 0) == 0 || (path.back() == '/' && prefix.rfind(path, 0) == 0);
    EXPECT_TRUE(ok) << path << " is outside mqfleet's own files";
  }
  for (const std::string expected :
       {"./usr/bin/mqfleet", "./usr/lib/mqfleet/mqfleet_paho.so", "./usr/share/man/man1/mqfleet.1",
        "./usr/share/man/man1/mqfleet-pub.1", "./usr/share/man/man1/mqfleet-broker.1",
        "./usr/share/bash-completion/completions/mqfleet", "./usr/share/zsh/vendor-completions/_mqfleet",
        "./usr/share/fish/vendor_completions.d/mqfleet.fish", "./usr/lib/systemd/system/mqfleet-broker.service",
        "./etc/mqfleet/broker.json", "./usr/share/doc/mqfleet/README.md", "./usr/share/doc/mqfleet/broker.md",
        "./usr/share/mqfleet/scenarios/greenhouse.json"})
    EXPECT_TRUE(paths.count(expected)) << expected << " is not in the package";
}

TEST_F(Package, PackagedBinaryPublishesAndSubscribesThroughThePackagedBroker) {
  const auto version = run_process({packaged_mqfleet(), "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind(std::string("mqfleet ") + MQFLEET_VERSION + " (commit ", 0), 0u) << version.out;

  // The packaged configuration, as the service starts it; only the port (free, not 1883)
  // and the state directory (not /var/lib/mqfleet) are overridden by flags.
  TempDir state;
  Process broker({packaged_mqfleet(), "broker", "--config", root() + "/etc/mqfleet/broker.json", "--port", "0",
                  "--data-dir", state.file("data")});
  const auto line = broker.wait_for_stdout_line(
      [](const std::string& l) { return l.find("\"listening\"") != std::string::npos; }, std::chrono::seconds(30));
  ASSERT_TRUE(line) << broker.stderr_so_far();
  const std::string port = std::to_string(nlohmann::json::parse(*line)["mqtt"].get<int>());

  // Retained messages on two topics: the subscriber gets both whenever it subscribes.
  const auto lean = run_process({packaged_mqfleet(), "pub", "-h", "127.0.0.1", "-p", port, "-t", "pkg/lean", "-m",
                                 "from the lean client", "-q", "1", "-r"});
  EXPECT_EQ(lean.exit_code, 0) << lean.err;
  // Paho, loaded from the package's lib/mqfleet/ (LD_DEBUG names the file dlopen loaded).
  ProcessOptions paho;
  paho.env = {{"MQFLEET_PUB_CLIENT", "paho"}, {"LD_DEBUG", "files"}};
  const auto via_paho = run_process({packaged_mqfleet(), "pub", "-h", "127.0.0.1", "-p", port, "-t", "pkg/paho", "-m",
                                     "from paho", "-q", "1", "-r"},
                                    {}, std::chrono::seconds(60), paho);
  EXPECT_EQ(via_paho.exit_code, 0) << via_paho.err.substr(0, 4000);
  EXPECT_NE(via_paho.err.find("file=" + root() + "/usr/bin/../lib/mqfleet/mqfleet_paho.so"), std::string::npos)
      << "the Paho module was not loaded from the package";
  const auto received = run_process({packaged_mqfleet(), "sub", "-h", "127.0.0.1", "-p", port, "-t", "pkg/+", "-v",
                                     "-C", "2", "-W", "30"},
                                    {}, std::chrono::seconds(60));
  EXPECT_EQ(received.exit_code, 0) << received.err;
  auto lines = split_lines(received.out);
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<std::string>{"pkg/lean from the lean client", "pkg/paho from paho"}));
  broker.signal(SIGTERM);
  EXPECT_EQ(broker.wait(std::chrono::seconds(20)).exit_code, 0);
}

TEST_F(Package, ManPagesAndServiceUnitAreValid) {
  const auto man = run_process({"man", "-l", root() + "/usr/share/man/man1/mqfleet-pub.1"}, {}, std::chrono::seconds(30),
                               {{{"MANPAGER", "cat"}, {"MANWIDTH", "100"}}, {}, {}, {}});
  EXPECT_EQ(man.exit_code, 0) << man.err;
  EXPECT_NE(man.out.find("--qos"), std::string::npos);
  const std::string analyze = find_program("systemd-analyze");
  ASSERT_FALSE(analyze.empty()) << "systemd-analyze is not installed (scripts/install-deps.sh installs systemd)";
  // The unit as packaged, with ExecStart pointing at the unpacked binary (systemd checks
  // that the commands exist; --root would also need a whole systemd unit tree).
  TempDir dir;
  std::string unit = read_file(root() + "/usr/lib/systemd/system/mqfleet-broker.service");
  const std::string packaged_path = "ExecStart=/usr/bin/mqfleet ";
  ASSERT_NE(unit.find(packaged_path), std::string::npos) << unit;
  unit.replace(unit.find(packaged_path), packaged_path.size(), "ExecStart=" + packaged_mqfleet() + " ");
  const auto verify = run_process({analyze, "verify", "--man=no", dir.write("mqfleet-broker.service", unit)}, {},
                                  std::chrono::seconds(60));
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

} // namespace
} // namespace mqfleet::test
