// Layering of connection settings: URL parsing, the MQFLEET_* layer, secret sources and
// the precedence flags > environment > profile > defaults (through resolve_connection).
#include "connection_flags.hpp"

#include "support/temp_dir.hpp"

#include <mqfleet/error.hpp>
#include <mqfleet/profile_resolve.hpp>
#include <mqfleet/profile_store.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <map>

namespace mqfleet {
namespace {

// Runs `statement`, expects a ConfigError whose where() contains `where_part`, and
// returns the full error text (what + where + hint) for further checks.
template <typename F> std::string config_error(F statement, const std::string& where_part) {
  try {
    statement();
  } catch (const ConfigError& e) {
    EXPECT_NE(e.where().find(where_part), std::string::npos) << "where: " << e.where() << " / what: " << e.what();
    return std::string(e.what()) + " " + e.where() + " " + e.hint();
  }
  ADD_FAILURE() << "no ConfigError (expected one about " << where_part << ")";
  return {};
}

EnvLookup map_env(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(BrokerUrl, ParsesEveryPart) {
  const auto url = parse_broker_url("mqtts://acct:s%40cret@broker.example:8884/dev/t1?client_id=dev-1&version=5&keepalive=30", "-L");
  EXPECT_TRUE(url.tls);
  EXPECT_EQ(url.host, "broker.example");
  EXPECT_EQ(url.port, 8884);
  EXPECT_EQ(url.username, "acct");
  EXPECT_EQ(url.password, "s@cret");
  EXPECT_EQ(url.client_id, "dev-1");
  EXPECT_EQ(url.version, MqttVersion::v5);
  EXPECT_EQ(url.keepalive_seconds, 30);
  EXPECT_EQ(url.topic, "dev/t1");
}

TEST(BrokerUrl, MinimalFormsAndDefaultPorts) {
  auto plain = parse_broker_url("mqtt://localhost", "-h");
  EXPECT_FALSE(plain.tls);
  EXPECT_EQ(plain.host, "localhost");
  EXPECT_FALSE(plain.port);
  EXPECT_FALSE(plain.username);
  EXPECT_EQ(overrides_from_url(plain).port, 1883);
  EXPECT_EQ(overrides_from_url(parse_broker_url("mqtts://h/", "-L")).port, 8883);
  EXPECT_EQ(overrides_from_url(parse_broker_url("mqtts://h/", "-L")).tls_enabled, true);

  auto v6 = parse_broker_url("mqtt://[::1]:1884", "-L");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 1884);

  auto user_only = parse_broker_url("tcp://bob@h:1", "-L");
  EXPECT_EQ(user_only.username, "bob");
  EXPECT_FALSE(user_only.password);
  EXPECT_TRUE(is_broker_url("mqtt://x"));
  EXPECT_FALSE(is_broker_url("broker.local"));
}

TEST(BrokerUrl, RejectsMalformedUrlsNamingTheFlag) {
  config_error([] { parse_broker_url("http://h", "-L"); }, "-L");
  config_error([] { parse_broker_url("mqtt://h:0", "-L"); }, "-L");
  config_error([] { parse_broker_url("mqtt://h:99999", "-h"); }, "-h");
  config_error([] { parse_broker_url("mqtt://h:abc", "-L"); }, "-L");
  config_error([] { parse_broker_url("mqtt://:1883", "-L"); }, "-L");
  config_error([] { parse_broker_url("mqtt://h:", "-L"); }, "-L");
  config_error([] { parse_broker_url("mqtt://[::1", "-L"); }, "-L");
  config_error([] { parse_broker_url("mqtt://::1:1883", "-L"); }, "-L");
  config_error([] { parse_broker_url("mqtt://u:p%4@h", "-L"); }, "-L");
  config_error([] { parse_broker_url("mqtt://h/?colour=red", "MQFLEET_URL"); }, "MQFLEET_URL");
  config_error([] { parse_broker_url("mqtt://h/?version=7", "-L"); }, "-L");
}

TEST(BrokerUrl, ErrorsNeverContainThePassword) {
  const std::string text = config_error([] { parse_broker_url("mqtt://u:hunter2@h:notaport", "-L"); }, "-L");
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
}

TEST(EnvironmentLayer, ReadsEveryVariable) {
  const auto o = overrides_from_environment(map_env({{"MQFLEET_HOST", "h1"},
                                                     {"MQFLEET_PORT", "1999"},
                                                     {"MQFLEET_USERNAME", "acct"},
                                                     {"MQFLEET_PASSWORD", "pw"},
                                                     {"MQFLEET_CLIENT_ID", "dev"},
                                                     {"MQFLEET_VERSION", "5"},
                                                     {"MQFLEET_KEEPALIVE", "15"},
                                                     {"MQFLEET_CONNECT_TIMEOUT", "2.5"},
                                                     {"MQFLEET_CAFILE", "/ca.pem"},
                                                     {"MQFLEET_INSECURE", "yes"},
                                                     {"MQFLEET_TLS_VERSION", "1.3"},
                                                     {"MQFLEET_ALPN", "mqtt,x-amzn"}}));
  EXPECT_EQ(o.host, "h1");
  EXPECT_EQ(o.port, 1999);
  EXPECT_EQ(o.username, "acct");
  // The password stays a reference to the variable: it is read only when connecting.
  EXPECT_EQ(o.credential, (Secret{SecretSource::env, "MQFLEET_PASSWORD"}));
  EXPECT_EQ(o.client_id, "dev");
  EXPECT_EQ(o.version, MqttVersion::v5);
  EXPECT_EQ(o.keepalive_seconds, 15);
  EXPECT_EQ(o.connect_timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(o.tls_enabled, true);  // implied by the CA file
  EXPECT_EQ(o.ca_file, "/ca.pem");
  EXPECT_EQ(o.insecure, true);
  EXPECT_EQ(o.tls_version, "tlsv1.3");
  EXPECT_EQ(o.alpn, (std::vector<std::string>{"mqtt", "x-amzn"}));
}

TEST(EnvironmentLayer, EmptyVariablesCountAsUnsetAndUrlComesFirst) {
  const auto o = overrides_from_environment(
      map_env({{"MQFLEET_HOST", ""}, {"MQFLEET_URL", "mqtts://u@urlhost"}, {"MQFLEET_PORT", "1"}}));
  EXPECT_EQ(o.host, "urlhost");
  EXPECT_EQ(o.port, 1);  // MQFLEET_PORT beats the URL's default port
  EXPECT_EQ(o.tls_enabled, true);
  EXPECT_EQ(overrides_from_environment(map_env({})), ProfileOverrides{});
  EXPECT_EQ(profile_from_environment(map_env({{"MQFLEET_PROFILE", "p"}})), "p");
  EXPECT_FALSE(profile_from_environment(map_env({{"MQFLEET_PROFILE", ""}})));
}

TEST(EnvironmentLayer, BadValuesNameTheVariable) {
  config_error([] { overrides_from_environment(map_env({{"MQFLEET_PORT", "http"}})); }, "MQFLEET_PORT");
  config_error([] { overrides_from_environment(map_env({{"MQFLEET_KEEPALIVE", "-1"}})); }, "MQFLEET_KEEPALIVE");
  config_error([] { overrides_from_environment(map_env({{"MQFLEET_VERSION", "4.0"}})); }, "MQFLEET_VERSION");
  config_error([] { overrides_from_environment(map_env({{"MQFLEET_TLS", "maybe"}})); }, "MQFLEET_TLS");
  config_error([] { overrides_from_environment(map_env({{"MQFLEET_CONNECT_TIMEOUT", "0"}})); }, "MQFLEET_CONNECT_TIMEOUT");
  config_error([] { overrides_from_environment(map_env({{"MQFLEET_URL", "ftp://h"}})); }, "MQFLEET_URL");
  config_error([] { overrides_from_environment(map_env({{"MQFLEET_PASSWORD", "a"}, {"MQFLEET_PASSWORD_FILE", "/f"}})); },
               "MQFLEET_PASSWORD_FILE");
}

TEST(Secrets, EverySourceResolves) {
  test::TempDir dir;
  const auto env = map_env({{"DEV_PW", "from-env"}, {"EMPTY_PW", ""}});
  EXPECT_EQ(resolve_secret({}, "x", "l", {}, env), "");
  EXPECT_EQ(resolve_secret({SecretSource::literal, "lit"}, "x", "l", {}, env), "lit");
  EXPECT_EQ(resolve_secret({SecretSource::env, "DEV_PW"}, "x", "l", {}, env), "from-env");
  const auto file = dir.write("pw", "from-file\r\nsecond line\n");
  EXPECT_EQ(resolve_secret({SecretSource::file, file}, "x", "l", {}, env), "from-file");
  std::string asked;
  const SecretPrompt prompt = [&](const std::string& label) {
    asked = label;
    return std::string("typed");
  };
  EXPECT_EQ(resolve_secret({SecretSource::prompt, ""}, "x", "Password: ", prompt, env), "typed");
  EXPECT_EQ(asked, "Password: ");
}

TEST(Secrets, MissingSourcesNameTheSettingNotTheSecret) {
  test::TempDir dir;
  const auto env = map_env({{"EMPTY_PW", ""}});
  auto text = config_error([&] { resolve_secret({SecretSource::env, "NO_SUCH_PW"}, "--password-env", "l", {}, env); },
                           "--password-env");
  EXPECT_NE(text.find("NO_SUCH_PW"), std::string::npos);
  config_error([&] { resolve_secret({SecretSource::env, "EMPTY_PW"}, "MQFLEET_PASSWORD", "l", {}, env); }, "MQFLEET_PASSWORD");
  text = config_error([&] { resolve_secret({SecretSource::file, dir.file("nope")}, "--password-file", "l", {}, env); },
                      "--password-file");
  EXPECT_NE(text.find(dir.file("nope")), std::string::npos);
  const auto empty = dir.write("empty", "\n");
  config_error([&] { resolve_secret({SecretSource::file, empty}, "--password-file", "l", {}, env); }, "--password-file");
  config_error([&] { resolve_secret({SecretSource::prompt, ""}, "-P", "l", {}, env); }, "-P");
}

// resolve_connection reads the real environment and the real profiles file: each test
// gets a clean MQFLEET_* environment and XDG_CONFIG_HOME in a fresh directory.
class ResolveConnection : public testing::Test {
protected:
  void SetUp() override {
    for (const auto& variable : environment_variables()) ::unsetenv(variable.name);
    ::setenv("XDG_CONFIG_HOME", m_dir.path().c_str(), 1);
  }
  void TearDown() override {
    for (const auto& variable : environment_variables()) ::unsetenv(variable.name);
  }

  void store_profile(const ConnectionProfile& profile) {
    ProfileStore store(default_profiles_path());
    store.load();
    store.put(profile, true);
    store.save();
  }

  test::TempDir m_dir;
};

TEST_F(ResolveConnection, DefaultsWithAGeneratedClientId) {
  const auto profile = cli::resolve_connection({});
  EXPECT_EQ(profile.host, "localhost");
  EXPECT_EQ(profile.effective_port(), 1883);
  EXPECT_EQ(profile.version, MqttVersion::v311);
  EXPECT_TRUE(profile.credential.empty());
  EXPECT_EQ(profile.client_id.rfind("mqfleet-", 0), 0u) << profile.client_id;
  EXPECT_EQ(profile.client_id.size(), 16u);
  EXPECT_NE(cli::resolve_connection({}).client_id, profile.client_id);
}

TEST_F(ResolveConnection, FlagsBeatEnvironmentBeatsProfileBeatsDefaults) {
  ConnectionProfile stored;
  stored.name = "lab";
  stored.host = "profile-host";
  stored.port = 1111;
  stored.username = "profile-user";
  stored.client_id = "profile-id";
  stored.keepalive_seconds = 11;
  stored.credential = {SecretSource::literal, "profile-secret"};
  store_profile(stored);

  cli::ConnectionFlags flags;
  flags.profile = "lab";
  auto profile = cli::resolve_connection(flags);
  EXPECT_EQ(profile.name, "lab");
  EXPECT_EQ(profile.host, "profile-host");
  EXPECT_EQ(profile.port, 1111);
  EXPECT_EQ(profile.credential, (Secret{SecretSource::literal, "profile-secret"}));
  EXPECT_EQ(profile.connect_timeout, std::chrono::milliseconds(10000));  // default kept

  ::setenv("MQFLEET_HOST", "env-host", 1);
  ::setenv("MQFLEET_PORT", "2222", 1);
  ::setenv("MQFLEET_PASSWORD", "env-secret", 1);
  profile = cli::resolve_connection(flags);
  EXPECT_EQ(profile.host, "env-host");
  EXPECT_EQ(profile.port, 2222);
  EXPECT_EQ(profile.username, "profile-user");
  EXPECT_EQ(profile.credential, (Secret{SecretSource::literal, "env-secret"}));

  flags.port = 3333;
  flags.password = "flag-secret";
  flags.client_id = "flag-id";
  profile = cli::resolve_connection(flags);
  EXPECT_EQ(profile.host, "env-host");
  EXPECT_EQ(profile.port, 3333);
  EXPECT_EQ(profile.client_id, "flag-id");
  EXPECT_EQ(profile.keepalive_seconds, 11);
  EXPECT_EQ(profile.credential, (Secret{SecretSource::literal, "flag-secret"}));
}

TEST_F(ResolveConnection, ProfileFromEnvironmentAndFlagOverridesIt) {
  ConnectionProfile a;
  a.name = "a";
  a.host = "host-a";
  store_profile(a);
  ConnectionProfile b;
  b.name = "b";
  b.host = "host-b";
  store_profile(b);
  ::setenv("MQFLEET_PROFILE", "a", 1);
  EXPECT_EQ(cli::resolve_connection({}).host, "host-a");
  cli::ConnectionFlags flags;
  flags.profile = "b";
  EXPECT_EQ(cli::resolve_connection(flags).host, "host-b");
  flags.profile = "missing";
  const auto text = config_error([&] { cli::resolve_connection(flags); }, "profiles.json");
  EXPECT_NE(text.find("'missing'"), std::string::npos);
  EXPECT_NE(text.find("a, b"), std::string::npos);
}

TEST_F(ResolveConnection, UrlInHostOrLocationAndExplicitFlagsOverIt) {
  cli::ConnectionFlags flags;
  flags.url = "mqtts://acct:pw@broker.example/?client_id=dev-7";
  auto profile = cli::resolve_connection(flags);
  EXPECT_EQ(profile.host, "broker.example");
  EXPECT_EQ(profile.effective_port(), 8883);
  EXPECT_TRUE(profile.tls.enabled);
  EXPECT_EQ(profile.username, "acct");
  EXPECT_EQ(profile.client_id, "dev-7");
  EXPECT_EQ(profile.credential, (Secret{SecretSource::literal, "pw"}));

  flags.host = "other";
  flags.username = "acct2";
  profile = cli::resolve_connection(flags);
  EXPECT_EQ(profile.host, "other");
  EXPECT_EQ(profile.username, "acct2");

  cli::ConnectionFlags host_url;
  host_url.host = "mqtt://h2:1999";
  profile = cli::resolve_connection(host_url);
  EXPECT_EQ(profile.host, "h2");
  EXPECT_EQ(profile.port, 1999);
  EXPECT_FALSE(profile.tls.enabled);
}

TEST_F(ResolveConnection, SecretSourcesFromFlags) {
  test::TempDir dir;
  cli::ConnectionFlags flags;
  flags.password_file = dir.write("pw", "file-secret\n");
  EXPECT_EQ(cli::resolve_connection(flags).credential.value, "file-secret");
  flags.password_file.clear();
  ::setenv("MY_DEVICE_PW", "env-var-secret", 1);
  flags.password_env = "MY_DEVICE_PW";
  EXPECT_EQ(cli::resolve_connection(flags).credential.value, "env-var-secret");
  ::unsetenv("MY_DEVICE_PW");
  auto text = config_error([&] { cli::resolve_connection(flags); }, "--password-env");
  EXPECT_NE(text.find("MY_DEVICE_PW"), std::string::npos);
  flags.password = "x";
  config_error([&] { cli::resolve_connection(flags); }, "--password-env");
}

/// Puts /dev/null on stdin for its lifetime (a test run from a terminal would prompt).
class StdinFromDevNull {
public:
  StdinFromDevNull() : m_saved(::dup(STDIN_FILENO)) {
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (m_saved < 0 || null_fd < 0 || ::dup2(null_fd, STDIN_FILENO) != STDIN_FILENO) ADD_FAILURE() << "no /dev/null on stdin";
    if (null_fd >= 0) ::close(null_fd);
  }
  ~StdinFromDevNull() {
    if (m_saved >= 0) ::dup2(m_saved, STDIN_FILENO), ::close(m_saved);
  }
  StdinFromDevNull(const StdinFromDevNull&) = delete;
  StdinFromDevNull& operator=(const StdinFromDevNull&) = delete;

private:
  int m_saved;
};

TEST_F(ResolveConnection, PromptIsRefusedWithoutATerminal) {
  StdinFromDevNull no_terminal;
  cli::ConnectionFlags flags;
  flags.password = "-";
  const auto text = config_error([&] { cli::resolve_connection(flags); }, "-P");
  EXPECT_NE(text.find("--password-env"), std::string::npos) << text;
}

TEST_F(ResolveConnection, ClientIdPrefixLikeMosquitto) {
  cli::ConnectionFlags flags;
  flags.id_prefix = "sensor-";
  EXPECT_EQ(cli::resolve_connection(flags).client_id, "sensor-" + std::to_string(::getpid()));
  flags.client_id = "x";
  config_error([&] { cli::resolve_connection(flags); }, "-I");
}

TEST_F(ResolveConnection, TlsImpliedByCaFile) {
  test::TempDir dir;
  cli::ConnectionFlags flags;
  flags.cafile = dir.write("ca.pem", "not really a certificate");
  auto profile = cli::resolve_connection(flags);
  EXPECT_TRUE(profile.tls.enabled);
  EXPECT_EQ(profile.effective_port(), 8883);
  EXPECT_EQ(profile.tls.ca_file, flags.cafile);
  flags.cafile = dir.file("missing.pem");
  config_error([&] { cli::resolve_connection(flags); }, "--cafile");
}

TEST_F(ResolveConnection, BadCombinationsNameTheFlag) {
  cli::ConnectionFlags flags;
  flags.port = 70000;
  config_error([&] { cli::resolve_connection(flags); }, "-p");
  flags = {};
  flags.version = "6";
  config_error([&] { cli::resolve_connection(flags); }, "-V");
  flags = {};
  flags.session_expiry = 60;
  config_error([&] { cli::resolve_connection(flags); }, "-x");
  flags.version = "5";
  EXPECT_EQ(cli::resolve_connection(flags).session_expiry_seconds, 60u);
  flags = {};
  flags.will_payload = "bye";
  config_error([&] { cli::resolve_connection(flags); }, "--will-topic");
  flags.will_topic = "dev/#";
  config_error([&] { cli::resolve_connection(flags); }, "--will-topic");
  flags.will_topic = "dev/status";
  flags.will_qos = 3;
  config_error([&] { cli::resolve_connection(flags); }, "--will-qos");
  flags = {};
  flags.no_clean_session = true;
  config_error([&] { cli::resolve_connection(flags); }, "-c");
  flags.client_id = "fixed";
  EXPECT_FALSE(cli::resolve_connection(flags).clean_session);
  flags = {};
  flags.keepalive = -5;
  config_error([&] { cli::resolve_connection(flags); }, "-k");
  flags = {};
  flags.connect_timeout = 0;
  config_error([&] { cli::resolve_connection(flags); }, "--connect-timeout");
  flags = {};
  flags.tls_version = "sslv3";
  config_error([&] { cli::resolve_connection(flags); }, "--tls-version");
  ::setenv("MQFLEET_PORT", "nope", 1);
  config_error([] { cli::resolve_connection({}); }, "MQFLEET_PORT");
}

TEST(EnvironmentVariables, AllDocumentedInProfilesMd) {
  const char* source_dir = std::getenv("MQFLEET_SOURCE_DIR");
  ASSERT_NE(source_dir, nullptr);
  const std::string docs = test::read_file(std::string(source_dir) + "/docs/profiles.md");
  for (const auto& variable : environment_variables())
    EXPECT_NE(docs.find(variable.name), std::string::npos) << variable.name << " is missing from docs/profiles.md";
}

} // namespace
} // namespace mqfleet
