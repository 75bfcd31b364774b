#include <mqfleet/broker/credentials.hpp>
#include <mqfleet/broker/device_registry.hpp>
#include <mqfleet/broker/registry_lock.hpp>

#include <mqfleet/error.hpp>

#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mqfleet::broker;

namespace {

const std::string k_hash =
    "$7$101$O4vqgkwZVbPPauq+$LjMbPKsTlh9YHFB/zIoog0V0U1aMOG2q8zyujjb9fegqm9IDtrhO++YjreGb/F6irt//qUFj2WjaV2BwtbFxUA==";

std::string registry_text() {
  return R"({
  "version": 1,
  "accounts": {
    "jt": {"devices": {"MQTT": {"description": "test device", "credential": ")" + k_hash + R"("}}}
  },
  "rules": [
    {"effect": "allow", "action": "publish", "topic": "devices/%d/#"},
    {"effect": "allow", "action": "subscribe", "topic": "#", "account": "jt"}
  ]
})";
}

struct LoadError {
  std::string text;
  std::string pointer; ///< expected in where()
};

} // namespace

TEST(DeviceRegistry, ParsesAndAuthenticates) {
  const auto registry = Registry::parse(registry_text());
  ASSERT_NE(registry.find_device("jt", "MQTT"), nullptr);
  EXPECT_EQ(registry.find_device("jt", "MQTT")->description, "test device");
  EXPECT_EQ(registry.authenticate("jt", "MQTT", "secret"), AuthStatus::ok);
  EXPECT_EQ(registry.authenticate("jt", "MQTT", "wrong"), AuthStatus::wrong_credential);
  EXPECT_EQ(registry.authenticate("jt", "MQTT", ""), AuthStatus::wrong_credential);
  EXPECT_EQ(registry.authenticate("jt", "other", "secret"), AuthStatus::unknown_device);
  EXPECT_EQ(registry.authenticate("nobody", "MQTT", "secret"), AuthStatus::unknown_account);
  EXPECT_EQ(to_string(AuthStatus::unknown_device), "unknown device");
  EXPECT_EQ(registry.rules().rules().size(), 2u);
  EXPECT_TRUE(registry.rules().bind("jt", "MQTT").check_publish("devices/MQTT/t").allowed);
  EXPECT_FALSE(registry.rules().bind("jt", "MQTT").check_publish("devices/x/t").allowed);
}

TEST(DeviceRegistry, LoadErrorsNameTheJsonPath) {
  const std::vector<LoadError> cases = {
      {"[]", "at /"},
      {R"({"accounts": []})", "at /accounts"},
      {R"({"acounts": {}})", "at /acounts"},
      {R"({"version": 2})", "at /version"},
      {R"({"accounts": {"a/b": {}}})", "at /accounts/a~1b"},
      {R"({"accounts": {"jt": {"devices": {"d": {}}}}})", "at /accounts/jt/devices/d/credential"},
      {R"({"accounts": {"jt": {"devices": {"d": {"credential": 5}}}}})", "at /accounts/jt/devices/d/credential"},
      {R"({"accounts": {"jt": {"devices": {"d": {"credential": "$7$x"}}}}})", "at /accounts/jt/devices/d/credential"},
      {R"({"accounts": {"jt": {"devices": {"d": {"credential": "x", "colour": 1}}}}})", "at /accounts/jt/devices/d/colour"},
      {R"({"accounts": {"jt": {"devices": {"a+b": {}}}}})", "at /accounts/jt/devices/a+b"},
      {R"({"rules": {}})", "at /rules"},
      {R"({"rules": [{"effect": "maybe", "topic": "#"}]})", "at /rules/0/effect"},
      {R"({"rules": [{"effect": "allow", "topic": "#"}, {"effect": "allow"}]})", "at /rules/1/topic"},
      {R"({"rules": [{"effect": "allow", "topic": "a/#/b"}]})", "at /rules/0/topic"},
      {R"({"rules": [{"effect": "allow", "topic": "#", "action": "read"}]})", "at /rules/0/action"},
      {R"({"default_access": "sometimes"})", "at /default_access"},
  };
  for (const auto& c : cases) {
    try {
      Registry::parse(c.text, "reg.json");
      ADD_FAILURE() << "accepted: " << c.text;
    } catch (const mqfleet::ConfigError& e) {
      EXPECT_EQ(e.where(), "reg.json " + c.pointer) << c.text << " → " << e.what();
      EXPECT_FALSE(e.hint().empty());
    }
  }
}

TEST(DeviceRegistry, SyntaxErrorNamesTheFile) {
  mqfleet::test::TempDir dir;
  const auto path = dir.write("reg.json", "{ not json");
  try {
    Registry::load(path);
    FAIL();
  } catch (const mqfleet::ConfigError& e) {
    EXPECT_EQ(e.where(), path);
    EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos);
  }
  EXPECT_THROW(Registry::load(dir.file("missing.json")), mqfleet::ConfigError);
}

// Found by fuzz_registry: nlohmann throws out_of_range (not parse_error) for a number too
// large for a double, which escaped as "internal error".
TEST(DeviceRegistry, ANumberTooLargeIsAConfigError) {
  try {
    Registry::parse(R"({"version": 999998e9999999999})", "reg.json");
    FAIL();
  } catch (const mqfleet::ConfigError& e) {
    EXPECT_EQ(e.where(), "reg.json");
    EXPECT_NE(std::string(e.what()).find("number too large"), std::string::npos) << e.what();
  }
}

TEST(DeviceRegistry, ErrorsNeverContainCredentials) {
  const std::string bad_hash = "$7$101$c2FsdA==$c2VjcmV0LWxvb2tpbmc=";
  try {
    Registry::parse(R"({"accounts": {"jt": {"devices": {"d": {"credential": ")" + bad_hash + R"("}}}}})");
    FAIL();
  } catch (const mqfleet::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).find("c2Vjcm"), std::string::npos);
  }
}

TEST(DeviceRegistry, SaveIsAtomicMode0600AndRoundTrips) {
  mqfleet::test::TempDir dir;
  const auto path = dir.file("reg.json");
  auto registry = Registry::parse(registry_text());
  registry.add_device("globex", Device{"sensor-1", "roof", hash_password("pw")});
  registry.save(path);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const auto loaded = Registry::load(path);
  EXPECT_EQ(loaded.to_json(), registry.to_json());
  EXPECT_EQ(loaded.authenticate("globex", "sensor-1", "pw"), AuthStatus::ok);
  EXPECT_EQ(loaded.rules().rules(), registry.rules().rules());
  // Only the registry file is left: no temporary files.
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u);
}

TEST(DeviceRegistry, SaveIntoMissingDirectoryFailsCleanly) {
  mqfleet::test::TempDir dir;
  Registry registry;
  EXPECT_THROW(registry.save(dir.file("nope/reg.json")), mqfleet::ConfigError);
}

TEST(DeviceRegistry, Editing) {
  Registry registry;
  registry.add_device("acme", Device{"d1", "", hash_password("a")});
  EXPECT_THROW(registry.add_device("acme", Device{"d1", "", hash_password("a")}), mqfleet::ConfigError);
  EXPECT_THROW(registry.add_device("ac/me", Device{"d2", "", hash_password("a")}), mqfleet::ConfigError);
  EXPECT_THROW(registry.add_device("acme", Device{"d#", "", hash_password("a")}), mqfleet::ConfigError);
  EXPECT_THROW(registry.add_device("acme", Device{"d3", "", "plaintext"}), mqfleet::ConfigError);
  registry.set_credential("acme", "d1", hash_password("b"));
  EXPECT_EQ(registry.authenticate("acme", "d1", "b"), AuthStatus::ok);
  EXPECT_THROW(registry.set_credential("acme", "zz", hash_password("b")), mqfleet::ConfigError);
  registry.remove_device("acme", "d1");
  EXPECT_EQ(registry.find_account("acme"), nullptr);
  EXPECT_THROW(registry.remove_device("acme", "d1"), mqfleet::ConfigError);
}

TEST(DeviceRegistry, SharedSnapshotSwap) {
  RegistryPtr current = std::make_shared<const Registry>(Registry::parse(registry_text()));
  RegistryPtr reader = current; // a connection keeps its snapshot
  current = std::make_shared<const Registry>();
  EXPECT_NE(reader->find_account("jt"), nullptr);
  EXPECT_EQ(current->find_account("jt"), nullptr);
}

// The one registry lock of `mqfleet device`, `mqfleet bucket` and `sim --provision`: an
// flock on the registry's directory, held until destruction (probed without blocking).
TEST(DeviceRegistry, WidgetTypesIncludeTheMap) {
  const Widget map = parse_widget("type=map,bucket=V,field=position,items=50");
  EXPECT_EQ(map.type, "map");
  EXPECT_EQ(map.options.at("field"), "position");
  EXPECT_TRUE(valid_widget_type("map"));
  try {
    (void)parse_widget("type=globe,bucket=V");
    FAIL() << "an unknown widget type was accepted";
  } catch (const mqfleet::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("globe"), std::string::npos) << e.what();
  }
}

TEST(RegistryLock, HoldsAnExclusiveFlockOnTheRegistrysDirectory) {
  mqfleet::test::TempDir dir;
  const auto probe = [&] {
    const int fd = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    const bool free = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    const int error = errno;
    ::close(fd);
    if (!free) {
      EXPECT_EQ(error, EWOULDBLOCK);
    }
    return free;
  };
  {
    RegistryLock lock(dir.file("registry.json"));
    EXPECT_FALSE(probe());
  }
  EXPECT_TRUE(probe());
  EXPECT_THROW(RegistryLock(dir.file("missing/registry.json")), mqfleet::ConfigError);
}
