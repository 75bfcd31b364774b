#pragma once
// The connection flags shared by pub, sub, profile test (and later sim/bench):
// mosquitto-compatible -h -p -u -P -i -V -k -L --cafile... plus --profile,
// --password-env and --password-file. resolve_connection() applies the precedence
// flags > MQFLEET_* environment > --profile > defaults.

#include <mqfleet/profile.hpp>

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace mqfleet::cli {

/// Raw values of the connection flags, as typed; unset ones stay empty / nullopt.
struct ConnectionFlags {
  std::string profile;            ///< --profile NAME
  std::string url;                ///< -L mqtt[s]://user:pass@host:port/?client_id=...
  std::string host;               ///< -h (also accepts the URL form)
  std::optional<int> port;        ///< -p
  std::string username;           ///< -u (the account)
  std::optional<std::string> password; ///< -P (literal; discouraged: visible in ps)
  std::string password_env;       ///< --password-env NAME
  std::string password_file;      ///< --password-file PATH
  std::string client_id;          ///< -i (the device id)
  std::string id_prefix;          ///< -I prefix for a generated client id
  std::string version;            ///< -V 31|311|5
  std::optional<int> keepalive;   ///< -k seconds
  bool no_clean_session = false;  ///< -c (persistent session)
  std::optional<std::uint32_t> session_expiry; ///< -x seconds (v5)
  std::optional<double> connect_timeout;        ///< --connect-timeout seconds
  std::string will_topic, will_payload;
  std::optional<int> will_qos;
  bool will_retain = false;
  bool tls = false;               ///< --tls (implied by --cafile/--capath/mqtts://)
  std::string cafile, capath, cert, key;
  std::string key_password_env;   ///< --key-password-env NAME
  bool insecure = false;
  std::string tls_version;
  std::vector<std::string> alpn;
  bool websocket = false;         ///< --ws: MQTT over WebSocket (as mosquitto 2.1)
  std::string ws_path;            ///< --ws-path PATH (default /mqtt)
  std::string unix_path;          ///< --unix PATH: a Unix-domain socket instead of host:port
};

/// Adds the TLS flags (--tls, --cafile, --capath, --cert, --key, --key-password-env,
/// --insecure, --tls-version, --alpn) and the transport flags (--ws, --ws-path, --unix):
/// every command that connects takes them, with one meaning.
void add_tls_and_transport_flags(CLI::App& command, ConnectionFlags& flags);

/// Adds every connection flag to `command`; the command must not use -h for help
/// (call command.set_help_flag("--help") first, as mosquitto uses -h for the host).
void add_connection_flags(CLI::App& command, ConnectionFlags& flags);

/// The profile to connect with: defaults < --profile < MQFLEET_* env < flags. Throws
/// ConfigError with the flag/variable/file concerned when something does not fit.
ConnectionProfile resolve_connection(const ConnectionFlags& flags);

/// True when a command should use the lean client for `profile`: unless the environment
/// variable `override_variable` is "paho" (for comparisons and as an escape hatch);
/// `why_not` then says so.
bool use_lean_client(const ConnectionProfile& profile, const char* override_variable, std::string& why_not);

} // namespace mqfleet::cli
