// The profiles file: round trip, permissions, atomic replacement, the warning about
// readable literal credentials, the JSON format and its errors.
#include "support/temp_dir.hpp"

#include <mqfleet/error.hpp>
#include <mqfleet/profile_store.hpp>

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <map>

namespace mqfleet {
namespace {

namespace fs = std::filesystem;

unsigned mode_of(const fs::path& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 07777;
}

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

ConnectionProfile full_profile() {
  ConnectionProfile p;
  p.name = "full";
  p.host = "broker.example";
  p.port = 8884;
  p.username = "acct";
  p.client_id = "dev-1";
  p.credential = {SecretSource::literal, "s3cret"};
  p.version = MqttVersion::v5;
  p.keepalive_seconds = 30;
  p.clean_session = false;
  p.session_expiry_seconds = 3600;
  p.will = Will{"dev/status", "offline", 1, true};
  p.connect_timeout = std::chrono::milliseconds(2500);
  p.reconnect = ReconnectPolicy{true, std::chrono::seconds(2), std::chrono::seconds(60)};
  p.tls.enabled = true;
  p.tls.ca_file = "/ca.pem";
  p.tls.ca_path = "/certs";
  p.tls.cert_file = "/client.pem";
  p.tls.key_file = "/client.key";
  p.tls.key_password = {SecretSource::env, "KEY_PW"};
  p.tls.insecure = true;
  p.tls.version = "tlsv1.3";
  p.tls.alpn = {"mqtt"};
  return p;
}

std::string config_error_where(const std::function<void()>& statement) {
  try {
    statement();
  } catch (const ConfigError& e) {
    return e.where() + " | " + e.what();
  }
  ADD_FAILURE() << "no ConfigError";
  return {};
}

TEST(ProfileStore, RoundTripsEverySetting) {
  test::TempDir dir;
  const auto file = dir.path() / "mqfleet" / "profiles.json";
  ProfileStore store(file);
  store.load();
  EXPECT_TRUE(store.names().empty());
  ConnectionProfile minimal;
  minimal.name = "min";
  store.put(full_profile(), false);
  store.put(minimal, false);
  store.save();

  ProfileStore again(file);
  again.load();
  EXPECT_EQ(again.names(), (std::vector<std::string>{"full", "min"}));
  EXPECT_EQ(again.get("full"), full_profile());
  EXPECT_EQ(again.get("min"), minimal);
  EXPECT_TRUE(again.warnings().empty());
}

TEST(ProfileStore, WritesMode0600InA0700Directory) {
  test::TempDir dir;
  const auto file = dir.path() / "cfg" / "mqfleet" / "profiles.json";
  ProfileStore store(file);
  store.put(full_profile(), false);
  store.save();
  EXPECT_EQ(mode_of(file), 0600u);
  EXPECT_EQ(mode_of(file.parent_path()), 0700u);
  // Replacing a file someone loosened gives 0600 again.
  ::chmod(file.c_str(), 0644);
  store.save();
  EXPECT_EQ(mode_of(file), 0600u);
}

TEST(ProfileStore, AtomicWriteLeavesNoTemporaryFile) {
  test::TempDir dir;
  const auto file = dir.path() / "profiles.json";
  ProfileStore store(file);
  for (int i = 0; i < 5; ++i) {
    ConnectionProfile p;
    p.name = "p" + std::to_string(i);
    store.put(p, false);
    store.save();
  }
  EXPECT_EQ(entries(dir.path()), (std::vector<std::string>{"profiles.json"}));
}

// A write that fails half way (a file size limit: works as root too, unlike permissions)
// leaves the old file as it was and no temporary file behind.
TEST(ProfileStore, FailedWriteKeepsTheOldFileAndNoTemporary) {
  test::TempDir dir;
  const auto sub = dir.path() / "full";
  const auto file = sub / "profiles.json";
  ProfileStore store(file);
  ConnectionProfile p;
  p.name = "old";
  store.put(p, false);
  store.save();
  const std::string before = test::read_file(file);
  p.name = "new"; // the file is well over 64 bytes
  store.put(p, false);
  // Writes past 64 bytes fail with EFBIG (SIGXFSZ ignored) until the limit is restored.
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = saved;
  small.rlim_cur = 64;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const std::string where = config_error_where([&] { store.save(); });
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_NE(where.find(file.string()), std::string::npos) << where;
  EXPECT_EQ(test::read_file(file), before);
  EXPECT_EQ(entries(sub), (std::vector<std::string>{"profiles.json"}));
}

TEST(ProfileStore, FailedRenameRemovesTheTemporaryFile) {
  test::TempDir dir;
  const auto file = dir.path() / "profiles.json";
  fs::create_directories(file / "occupied");  // a non-empty directory cannot be renamed over
  ProfileStore store(file);
  ConnectionProfile p;
  p.name = "x";
  store.put(p, false);
  EXPECT_NE(config_error_where([&] { store.save(); }).find("cannot replace"), std::string::npos);
  EXPECT_EQ(entries(dir.path()), (std::vector<std::string>{"profiles.json"}));
  EXPECT_TRUE(fs::is_directory(file));
}

TEST(ProfileStore, WarnsWhenLiteralCredentialsAreReadableByOthers) {
  test::TempDir dir;
  const auto file = dir.path() / "profiles.json";
  ProfileStore store(file);
  store.put(full_profile(), false);
  store.save();
  ::chmod(file.c_str(), 0644);
  ProfileStore loaded(file);
  loaded.load();
  ASSERT_EQ(loaded.warnings().size(), 1u);
  EXPECT_NE(loaded.warnings()[0].find("0644"), std::string::npos) << loaded.warnings()[0];
  EXPECT_NE(loaded.warnings()[0].find("chmod 600 " + file.string()), std::string::npos);
  EXPECT_EQ(loaded.warnings()[0].find("s3cret"), std::string::npos);
}

TEST(ProfileStore, NoWarningForReferencesOnly) {
  test::TempDir dir;
  const auto file = dir.path() / "profiles.json";
  ProfileStore store(file);
  auto p = full_profile();
  p.credential = {SecretSource::env, "DEV_PW"};
  store.put(p, false);
  store.save();
  ::chmod(file.c_str(), 0644);
  ProfileStore loaded(file);
  loaded.load();
  EXPECT_TRUE(loaded.warnings().empty());
}

TEST(ProfileStore, ReadsEverySecretForm) {
  test::TempDir dir;
  const auto file = dir.write("profiles.json", R"({"version": 1, "profiles": {
    "a": {"credential": "plain"},
    "b": {"credential": {"literal": "lit"}},
    "c": {"credential": {"env": "DEV_PW"}},
    "d": {"credential": {"file": "/run/pw"}},
    "e": {"credential": {"prompt": true}, "tls": {"key_password": {"env": "K"}}}
  }})");
  ProfileStore store(file);
  store.load();
  EXPECT_EQ(store.get("a").credential, (Secret{SecretSource::literal, "plain"}));
  EXPECT_EQ(store.get("b").credential, (Secret{SecretSource::literal, "lit"}));
  EXPECT_EQ(store.get("c").credential, (Secret{SecretSource::env, "DEV_PW"}));
  EXPECT_EQ(store.get("d").credential, (Secret{SecretSource::file, "/run/pw"}));
  EXPECT_EQ(store.get("e").credential, (Secret{SecretSource::prompt, ""}));
  EXPECT_EQ(store.get("e").tls.key_password, (Secret{SecretSource::env, "K"}));
  EXPECT_EQ(store.get("a").host, "localhost");
}

TEST(ProfileStore, MalformedFilesNameTheFileAndField) {
  test::TempDir dir;
  const std::map<std::string, std::string> cases{
      {"{not json", "not valid JSON"},
      {R"({"profiles": {"x": {"port": "1883"}}})", "'port'"},
      {R"({"profiles": {"x": {"port": 0}}})", "'port'"},
      {R"({"profiles": {"x": {"hots": "typo"}}})", "'hots'"},
      {R"({"profiles": {"x": {"version": "4.0"}}})", "'version'"},
      {R"({"profiles": {"x": {"credential": {"env": "A", "file": "B"}}}})", "'credential'"},
      {R"({"profiles": {"x": {"will": {"topic": "t", "qos": 3}}}})", "'qos'"},
      {R"({"profiles": {"bad name": {}}})", "bad name"},
      {R"({"version": 2, "profiles": {}})", "'version'"},
      {R"([1, 2])", "JSON object"},
  };
  for (const auto& [content, expected] : cases) {
    const auto file = dir.write("profiles.json", content);
    ProfileStore store(file);
    const auto text = config_error_where([&] { store.load(); });
    EXPECT_NE(text.find(file), std::string::npos) << content << " -> " << text;
    EXPECT_NE(text.find(expected), std::string::npos) << content << " -> " << text;
  }
}

TEST(ProfileStore, PutRefusesToReplaceUnlessAskedAndRemoveReports) {
  test::TempDir dir;
  ProfileStore store(dir.path() / "profiles.json");
  ConnectionProfile p;
  p.name = "dup";
  store.put(p, false);
  EXPECT_NE(config_error_where([&] { store.put(p, false); }).find("already exists"), std::string::npos);
  p.host = "other";
  store.put(p, true);
  EXPECT_EQ(store.get("dup").host, "other");
  EXPECT_TRUE(store.remove("dup"));
  EXPECT_FALSE(store.remove("dup"));
  EXPECT_FALSE(store.find("dup"));
  EXPECT_THROW(store.get("dup"), ConfigError);
}

TEST(ProfileStore, ShowJsonMasksLiteralSecretsOnly) {
  const auto masked = profile_to_json(full_profile(), true);
  EXPECT_EQ(masked.find("s3cret"), std::string::npos);
  EXPECT_NE(masked.find("\"credential\": \"********\""), std::string::npos) << masked;
  EXPECT_NE(masked.find("KEY_PW"), std::string::npos);  // a variable name is not a secret
  EXPECT_NE(profile_to_json(full_profile(), false).find("s3cret"), std::string::npos);
  EXPECT_EQ(profile_from_json(profile_to_json(full_profile(), false), "full", "test"), full_profile());
}

TEST(ProfileStore, PathFollowsXdgThenHome) {
  auto env = [](std::map<std::string, std::string> values) {
    return EnvLookup([values](const std::string& name) -> std::optional<std::string> {
      auto it = values.find(name);
      if (it == values.end()) return std::nullopt;
      return it->second;
    });
  };
  EXPECT_EQ(default_profiles_path(env({{"XDG_CONFIG_HOME", "/x"}, {"HOME", "/h"}})), "/x/mqfleet/profiles.json");
  EXPECT_EQ(default_profiles_path(env({{"HOME", "/h"}})), "/h/.config/mqfleet/profiles.json");
  EXPECT_EQ(default_profiles_path(env({{"XDG_CONFIG_HOME", ""}, {"HOME", "/h"}})), "/h/.config/mqfleet/profiles.json");
  EXPECT_EQ(default_profiles_path(env({{"XDG_CONFIG_HOME", "rel"}, {"HOME", "/h"}})), "/h/.config/mqfleet/profiles.json");
  EXPECT_THROW(default_profiles_path(env({})), ConfigError);
}

TEST(ProfileStore, ProfileNames) {
  for (const char* good : {"lab", "Lab-2", "a.b_c", "x"}) EXPECT_NO_THROW(check_profile_name(good)) << good;
  for (const char* bad : {"", "-x", ".hidden", "a b", "a/b", "ünï"}) EXPECT_THROW(check_profile_name(bad), ConfigError) << bad;
  EXPECT_THROW(check_profile_name(std::string(65, 'a')), ConfigError);
}

TEST(ProfileStore, PresetsStoreAndReload) {
  test::TempDir dir;
  const auto file = dir.path() / "profiles.json";
  ProfileStore store(file);
  auto p = preset("thinger");
  p.name = "dev";
  p.username = "acct";
  p.client_id = "device-1";
  p.credential = {SecretSource::env, "THINGER_PW"};
  store.put(p, false);
  store.save();
  ProfileStore loaded(file);
  loaded.load();
  const auto back = loaded.get("dev");
  EXPECT_EQ(back, p);
  EXPECT_EQ(back.host, "backend.thinger.io");
  EXPECT_EQ(back.effective_port(), 8883);
  EXPECT_TRUE(back.tls.enabled);
}

// nlohmann throws out_of_range, not parse_error, for a number too large for a double:
// both the profiles file and one profile object must turn it into a ConfigError.
TEST(ProfileStore, ANumberTooLargeIsAConfigError) {
  test::TempDir dir;
  ProfileStore store(dir.write("profiles.json", R"({"version": 1, "profiles": {"a": {"port": 1e999}}})"));
  EXPECT_THROW(store.load(), ConfigError);
  EXPECT_THROW(profile_from_json(R"({"port": 1e999})", "a", "test"), ConfigError);
}

} // namespace
} // namespace mqfleet
