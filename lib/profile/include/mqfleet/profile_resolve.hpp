#pragma once
// Building a ConnectionProfile from layers: defaults < stored profile < MQFLEET_*
// environment < command-line flags. Each layer above the profile is a ProfileOverrides
// (every field optional). Also the broker URL form and reading secrets from where they
// live. No printing, no exit: errors are ConfigError naming the flag, variable or file.

#include <mqfleet/profile.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mqfleet {

/// One layer of settings on top of a profile; only the fields that are set change it.
struct ProfileOverrides {
  std::optional<std::string> host;
  std::optional<int> port;
  std::optional<std::string> username;
  std::optional<std::string> client_id;
  std::optional<Secret> credential;
  std::optional<MqttVersion> version;
  std::optional<int> keepalive_seconds;
  std::optional<bool> clean_session;
  std::optional<std::uint32_t> session_expiry_seconds;
  std::optional<Will> will;
  std::optional<std::chrono::milliseconds> connect_timeout;
  std::optional<bool> tls_enabled;
  std::optional<std::string> ca_file;
  std::optional<std::string> ca_path;
  std::optional<std::string> cert_file;
  std::optional<std::string> key_file;
  std::optional<Secret> key_password;
  std::optional<bool> insecure;
  std::optional<std::string> tls_version;
  std::optional<std::vector<std::string>> alpn;
  std::optional<TransportKind> transport;
  std::optional<std::string> ws_path;
  std::optional<std::string> unix_path;

  bool operator==(const ProfileOverrides&) const = default;
};

/// Copies every field set in `overrides` onto `profile`.
void apply(ConnectionProfile& profile, const ProfileOverrides& overrides);

/// Copies every field set in `top` onto `base` (so `top` wins).
void merge(ProfileOverrides& base, const ProfileOverrides& top);

/// A parsed `mqtt[s]://user:pass@host:port/topic?client_id=...` URL.
struct BrokerUrl {
  bool tls = false;                       ///< mqtts:// (or ssl://, wss://)
  bool websocket = false;                 ///< ws:// or wss://: the path is the endpoint's
  std::string ws_path;                    ///< ws[s]://: "/" + the path ("/mqtt" when none)
  std::string host;
  std::optional<int> port;                ///< absent: 1883 / 8883 by scheme
  std::optional<std::string> username;
  std::optional<std::string> password;    ///< a literal secret
  std::optional<std::string> client_id;   ///< ?client_id=
  std::optional<MqttVersion> version;     ///< ?version=311
  std::optional<int> keepalive_seconds;   ///< ?keepalive=30
  std::string topic;                      ///< the path without its leading '/' (may be empty)
};

/// True when `text` looks like a URL (has a "scheme://") rather than a bare host name.
bool is_broker_url(const std::string& text);

/// Parses a broker URL. Schemes: mqtt, tcp (plain) and mqtts, ssl (TLS). User, password
/// and path are percent-decoded; IPv6 hosts go in brackets. Throws ConfigError with
/// `where` (the flag or variable the URL came from) on anything malformed.
BrokerUrl parse_broker_url(const std::string& url, const std::string& where);

/// The overrides a URL stands for: host, TLS from the scheme, the port (the scheme's
/// default when absent, so `-L mqtt://h` after a TLS profile really means 1883), and
/// whatever user, password, client id, version and keepalive it carries.
ProfileOverrides overrides_from_url(const BrokerUrl& url);

/// Looks up an environment variable; nullopt when it is unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

/// The process environment (::getenv).
EnvLookup process_environment();

/// One MQFLEET_* environment variable and what it sets.
struct EnvVariable {
  const char* name;
  const char* description;
};

/// Every MQFLEET_* variable the client understands (docs/profiles.md lists the same).
const std::vector<EnvVariable>& environment_variables();

/// The MQFLEET_* layer. Empty variables count as unset. MQFLEET_URL is applied first,
/// the single-field variables over it. MQFLEET_PASSWORD is kept as a reference to the
/// variable (read when connecting), never copied. Throws ConfigError naming the variable.
ProfileOverrides overrides_from_environment(const EnvLookup& env);

/// The profile MQFLEET_PROFILE names, if set and not empty.
std::optional<std::string> profile_from_environment(const EnvLookup& env);

/// Asks the user for a secret; `label` is the prompt text ("Password for u@host: ").
using SecretPrompt = std::function<std::string(const std::string& label)>;

/// Reads a secret from its source: literal, environment variable, first line of a file,
/// or `prompt` (a ConfigError when prompt is empty, e.g. no terminal). `where` names the
/// setting the secret came from, for errors (which never contain the secret). Returns
/// "" for SecretSource::none.
std::string resolve_secret(const Secret& secret, const std::string& where, const std::string& label,
                           const SecretPrompt& prompt, const EnvLookup& env = process_environment());

/// Checks the combination of settings in a finished profile (e.g. session expiry needs
/// MQTT 5, a client certificate needs its key); throws ConfigError naming the setting.
void validate(const ConnectionProfile& profile);

/// Parses a boolean setting: 1/0, true/false, yes/no, on/off (any case).
bool parse_bool(const std::string& text, const std::string& where);

/// Parses a decimal integer in [min, max]; throws ConfigError naming `where` otherwise.
long long parse_integer(const std::string& text, const std::string& where, long long min, long long max);

/// Normalises a TLS version ("tlsv1.2", "1.2", "tls1.3"...) to "tlsv1.2" / "tlsv1.3".
std::string parse_tls_version(const std::string& text, const std::string& where);

} // namespace mqfleet
