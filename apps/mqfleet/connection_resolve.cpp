// resolve_connection: the connection flags of pub, sub, profile test... turned into one
// ConnectionProfile. Layers, lowest first: built-in defaults, the stored profile
// (--profile or MQFLEET_PROFILE), MQFLEET_* variables, command-line flags.
#include "connection_resolve.hpp"
#include "terminal_prompt.hpp"

#include <mqfleet/error.hpp>
#include <mqfleet/lean_connection.hpp>
#include <mqfleet/mqtt/topic.hpp>
#include <mqfleet/profile_resolve.hpp>
#include <mqfleet/profile_store.hpp>

#include <unistd.h>

#include <fmt/format.h>

#include <cstdlib>
#include <iostream>
#include <random>
#include <string_view>

namespace mqfleet::cli {
namespace {

// The literal -P value that asks for the credential on the terminal instead.
constexpr const char* k_prompt_password = "-";

std::string env_credential_where(const ProfileOverrides& env_layer) {
  if (!env_layer.credential) return {};
  return env_layer.credential->source == SecretSource::file ? "MQFLEET_PASSWORD_FILE" : "MQFLEET_PASSWORD";
}

SecretPrompt terminal_prompt() {
  if (!can_prompt()) return {};
  return [](const std::string& label) { return prompt_secret(label); };
}

} // namespace

std::string printable(std::string_view text, std::size_t max_chars) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (out.size() >= max_chars) {
      out += fmt::format("... ({} bytes)", text.size());
      break;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F || c >= 0x80) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  return out;
}

void require_topic_name(std::string_view topic, const std::string& where) {
  const mqtt::TopicStatus status = mqtt::check_topic_name(topic);
  if (status == mqtt::TopicStatus::ok) return;
  throw ConfigError(fmt::format("the topic '{}' {}", printable(topic), mqtt::describe(status)), where,
                    "publish to a non-empty UTF-8 topic of at most 65,535 bytes, without NUL, '+' or '#'");
}

std::string topic_from_url(const ConnectionFlags& flags) {
  if (!flags.url.empty()) {
    std::string topic = parse_broker_url(flags.url, "-L").topic;
    if (!topic.empty()) return topic;
  }
  if (!flags.host.empty() && is_broker_url(flags.host)) return parse_broker_url(flags.host, "-h").topic;
  return {};
}

bool url_has_topic(const ConnectionFlags& flags) noexcept {
  try {
    return !topic_from_url(flags).empty();
  } catch (const std::exception&) {
    return true;
  }
}

ProfileOverrides flag_overrides(const ConnectionFlags& flags, std::string& credential_where) {
  ProfileOverrides o;
  if (!flags.url.empty()) {
    merge(o, overrides_from_url(parse_broker_url(flags.url, "-L")));
    if (o.credential) credential_where = "-L";
  }
  if (!flags.host.empty()) {
    if (is_broker_url(flags.host)) {
      const auto url = overrides_from_url(parse_broker_url(flags.host, "-h"));
      if (url.credential) credential_where = "-h";
      merge(o, url);
    } else {
      o.host = flags.host;
    }
  }
  if (flags.port) {
    if (*flags.port < 1 || *flags.port > 65535)
      throw ConfigError("port " + std::to_string(*flags.port) + " is out of range", "-p", "use 1 to 65535");
    o.port = flags.port;
  }
  if (!flags.username.empty()) o.username = flags.username;

  const int sources = (flags.password ? 1 : 0) + (flags.password_env.empty() ? 0 : 1) + (flags.password_file.empty() ? 0 : 1);
  if (sources > 1)
    throw ConfigError("more than one credential source given", "-P/--password-env/--password-file",
                      "give only one of them");
  if (flags.password) {
    o.credential = *flags.password == k_prompt_password ? Secret{SecretSource::prompt, ""}
                                                        : Secret{SecretSource::literal, *flags.password};
    credential_where = "-P";
  } else if (!flags.password_env.empty()) {
    o.credential = Secret{SecretSource::env, flags.password_env};
    credential_where = "--password-env";
  } else if (!flags.password_file.empty()) {
    o.credential = Secret{SecretSource::file, flags.password_file};
    credential_where = "--password-file";
  }

  if (!flags.client_id.empty() && !flags.id_prefix.empty())
    throw ConfigError("-i and -I cannot be used together", "-I", "give a fixed client id with -i, or a prefix with -I");
  if (!flags.client_id.empty()) o.client_id = flags.client_id;
  if (!flags.id_prefix.empty()) o.client_id = flags.id_prefix + std::to_string(::getpid());

  if (!flags.version.empty()) o.version = parse_mqtt_version(flags.version);
  if (flags.keepalive) {
    if (*flags.keepalive < 0 || *flags.keepalive > 65535)
      throw ConfigError("keepalive " + std::to_string(*flags.keepalive) + " is out of range", "-k", "use 0 to 65535 seconds");
    o.keepalive_seconds = flags.keepalive;
  }
  if (flags.no_clean_session) o.clean_session = false;
  if (flags.session_expiry) o.session_expiry_seconds = flags.session_expiry;
  if (flags.connect_timeout) {
    if (!(*flags.connect_timeout > 0) || *flags.connect_timeout > 86400)
      throw ConfigError("the connect timeout must be between 0 and 86400 seconds", "--connect-timeout",
                        "give a number of seconds greater than 0, e.g. 10 or 2.5");
    o.connect_timeout = std::chrono::milliseconds(static_cast<long long>(*flags.connect_timeout * 1000 + 0.5));
  }

  if (!flags.will_topic.empty()) {
    require_topic_name(flags.will_topic, "--will-topic");
    Will will{flags.will_topic, flags.will_payload, flags.will_qos.value_or(0), flags.will_retain};
    if (will.qos < 0 || will.qos > 2) throw ConfigError("will QoS must be 0, 1 or 2", "--will-qos", "use 0, 1 or 2");
    o.will = will;
  } else if (!flags.will_payload.empty() || flags.will_qos || flags.will_retain) {
    throw ConfigError("will options given without a will topic", "--will-topic",
                      "add --will-topic TOPIC, or drop --will-payload/--will-qos/--will-retain");
  }

  if (flags.tls || !flags.cafile.empty() || !flags.capath.empty() || !flags.cert.empty()) o.tls_enabled = true;
  if (!flags.cafile.empty()) o.ca_file = flags.cafile;
  if (!flags.capath.empty()) o.ca_path = flags.capath;
  if (!flags.cert.empty()) o.cert_file = flags.cert;
  if (!flags.key.empty()) o.key_file = flags.key;
  if (!flags.key_password_env.empty()) o.key_password = Secret{SecretSource::env, flags.key_password_env};
  if (flags.insecure) o.insecure = true;
  if (!flags.tls_version.empty()) o.tls_version = parse_tls_version(flags.tls_version, "--tls-version");
  if (!flags.alpn.empty()) o.alpn = flags.alpn;
  if (flags.websocket || !flags.ws_path.empty()) {
    if (!flags.unix_path.empty())
      throw ConfigError("--ws and --unix do not go together", "--unix", "choose one transport");
    o.transport = TransportKind::websocket;
    if (!flags.ws_path.empty()) {
      if (flags.ws_path.front() != '/')
        throw ConfigError("'" + flags.ws_path + "' is not an HTTP path", "--ws-path",
                          "give a path that starts with '/', e.g. /mqtt");
      o.ws_path = flags.ws_path;
    }
  }
  if (!flags.unix_path.empty()) {
    o.transport = TransportKind::unix_socket;
    o.unix_path = flags.unix_path;
  }
  return o;
}

ConnectionProfile resolve_connection(const ConnectionFlags& flags) {
  const EnvLookup env = process_environment();
  ConnectionProfile profile;
  std::string credential_where;
  std::string key_password_where;

  std::string profile_name = flags.profile;
  if (profile_name.empty()) profile_name = profile_from_environment(env).value_or("");
  if (!profile_name.empty()) {
    ProfileStore store(default_profiles_path(env));
    store.load();
    for (const auto& warning : store.warnings()) std::cerr << "mqfleet: warning: " << warning << '\n';
    profile = store.get(profile_name);
    credential_where = "profile '" + profile_name + "' in " + store.path().string();
    key_password_where = credential_where;
  }

  const ProfileOverrides env_layer = overrides_from_environment(env);
  if (env_layer.credential) credential_where = env_credential_where(env_layer);
  if (env_layer.key_password) key_password_where = "MQFLEET_KEY_PASSWORD";
  const ProfileOverrides flag_layer = flag_overrides(flags, credential_where);
  if (flag_layer.key_password) key_password_where = "--key-password-env";
  apply(profile, env_layer);
  apply(profile, flag_layer);

  validate(profile);
  if (profile.client_id.empty()) profile.client_id = "mqfleet-" + random_hex(8);

  const SecretPrompt prompt = terminal_prompt();
  if (!profile.credential.empty()) {
    const std::string account = profile.username.empty() ? "" : profile.username + "@";
    profile.credential = Secret{SecretSource::literal,
                                resolve_secret(profile.credential, credential_where,
                                               "Credential for " + account + profile.host + ": ", prompt, env)};
  }
  if (!profile.tls.key_password.empty()) {
    profile.tls.key_password = Secret{SecretSource::literal,
                                      resolve_secret(profile.tls.key_password, key_password_where,
                                                     "Password for " + profile.tls.key_file + ": ", prompt, env)};
  }
  return profile;
}

std::string random_hex(std::size_t digits) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::random_device device;
  std::mt19937_64 engine(device());
  std::uniform_int_distribution<int> pick(0, 15);
  std::string out;
  for (std::size_t i = 0; i < digits; ++i) out += k_hex[pick(engine)];
  return out;
}

bool use_lean_client(const ConnectionProfile& profile, const char* override_variable, std::string& why_not) {
  const char* forced = std::getenv(override_variable);
  if (forced != nullptr && std::string_view(forced) == "paho") {
    why_not = std::string(override_variable) + "=paho";
    return false;
  }
  return LeanConnection::supports(profile, &why_not);
}

} // namespace mqfleet::cli
