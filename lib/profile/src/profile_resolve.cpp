#include <mqfleet/profile_resolve.hpp>

#include <mqfleet/error.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <utility>

#include <unistd.h>

namespace mqfleet {
namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

template <typename T> void take(T& target, const std::optional<T>& value) {
  if (value) target = *value;
}

template <typename T> void take(std::optional<T>& target, const std::optional<T>& value) {
  if (value) target = value;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(const std::string& text, const std::string& where) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int high = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
    const int low = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
    if (high < 0 || low < 0)
      throw ConfigError("broken percent-escape in URL", where,
                        "write a literal '%' as %25 (and ':' '@' '/' in user or password as %3A %40 %2F)");
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

// Splits "a=b&c=d" and applies the known keys to `url`.
void parse_query(const std::string& query, BrokerUrl& url, const std::string& where) {
  std::size_t start = 0;
  while (start <= query.size()) {
    const std::size_t end = std::min(query.find('&', start), query.size());
    const std::string pair = query.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    const std::string key = pair.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : percent_decode(pair.substr(eq + 1), where);
    if (key == "client_id" || key == "clientid" || key == "client-id") {
      url.client_id = value;
    } else if (key == "version" || key == "protocol_version") {
      try {
        url.version = parse_mqtt_version(value);
      } catch (const ConfigError& e) {
        throw ConfigError(e.what(), where, e.hint());
      }
    } else if (key == "keepalive") {
      url.keepalive_seconds = static_cast<int>(parse_integer(value, where, 0, 65535));
    } else {
      throw ConfigError("unknown URL parameter '" + key + "'", where,
                        "the URL accepts ?client_id=, ?version= and ?keepalive=");
    }
  }
}

void parse_host_port(const std::string& authority, BrokerUrl& url, const std::string& where) {
  std::string port_text;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string::npos)
      throw ConfigError("unterminated IPv6 address in URL", where, "write it as mqtt://[::1]:1883");
    url.host = authority.substr(1, close - 1);
    const std::string rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        throw ConfigError("unexpected text after IPv6 address in URL", where, "write it as mqtt://[::1]:1883");
      port_text = rest.substr(1);
      if (port_text.empty()) throw ConfigError("empty port in URL", where, "write host:port or leave out the ':'");
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    if (colon != std::string::npos && authority.find(':') != colon)
      throw ConfigError("IPv6 address in URL must be in brackets", where, "write it as mqtt://[::1]:1883");
    url.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) throw ConfigError("empty port in URL", where, "write host:port or leave out the ':'");
    }
  }
  if (url.host.empty()) throw ConfigError("URL has no host", where, "write it as mqtt://host:port");
  if (!port_text.empty()) url.port = static_cast<int>(parse_integer(port_text, where, 1, 65535));
}

std::optional<std::string> non_empty(const EnvLookup& env, const std::string& name) {
  auto value = env(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

std::string read_first_line(const std::string& path, const std::string& where) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    throw ConfigError("cannot read the credential file '" + path + "': " + std::strerror(error), where,
                      "check the path and that the file is readable by you");
  }
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty())
    throw ConfigError("the credential file '" + path + "' is empty (the first line holds the secret)", where,
                      "write the secret on the first line of the file");
  return line;
}

} // namespace

void apply(ConnectionProfile& profile, const ProfileOverrides& o) {
  take(profile.host, o.host);
  if (o.port) profile.port = o.port;
  take(profile.username, o.username);
  take(profile.client_id, o.client_id);
  take(profile.credential, o.credential);
  take(profile.version, o.version);
  take(profile.keepalive_seconds, o.keepalive_seconds);
  take(profile.clean_session, o.clean_session);
  take(profile.session_expiry_seconds, o.session_expiry_seconds);
  take(profile.will, o.will);
  take(profile.connect_timeout, o.connect_timeout);
  take(profile.tls.enabled, o.tls_enabled);
  take(profile.tls.ca_file, o.ca_file);
  take(profile.tls.ca_path, o.ca_path);
  take(profile.tls.cert_file, o.cert_file);
  take(profile.tls.key_file, o.key_file);
  take(profile.tls.key_password, o.key_password);
  take(profile.tls.insecure, o.insecure);
  take(profile.tls.version, o.tls_version);
  take(profile.tls.alpn, o.alpn);
  take(profile.transport, o.transport);
  take(profile.ws_path, o.ws_path);
  take(profile.unix_path, o.unix_path);
}

void merge(ProfileOverrides& base, const ProfileOverrides& o) {
  take(base.host, o.host);
  take(base.port, o.port);
  take(base.username, o.username);
  take(base.client_id, o.client_id);
  take(base.credential, o.credential);
  take(base.version, o.version);
  take(base.keepalive_seconds, o.keepalive_seconds);
  take(base.clean_session, o.clean_session);
  take(base.session_expiry_seconds, o.session_expiry_seconds);
  take(base.will, o.will);
  take(base.connect_timeout, o.connect_timeout);
  take(base.tls_enabled, o.tls_enabled);
  take(base.ca_file, o.ca_file);
  take(base.ca_path, o.ca_path);
  take(base.cert_file, o.cert_file);
  take(base.key_file, o.key_file);
  take(base.key_password, o.key_password);
  take(base.insecure, o.insecure);
  take(base.tls_version, o.tls_version);
  take(base.alpn, o.alpn);
  take(base.transport, o.transport);
  take(base.ws_path, o.ws_path);
  take(base.unix_path, o.unix_path);
}

bool is_broker_url(const std::string& text) { return text.find("://") != std::string::npos; }

BrokerUrl parse_broker_url(const std::string& text, const std::string& where) {
  BrokerUrl url;
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string::npos)
    throw ConfigError("'" + text + "' is not a broker URL", where, "write it as mqtt[s]://[user[:password]@]host[:port]");
  const std::string scheme = lower(text.substr(0, scheme_end));
  if (scheme == "mqtt" || scheme == "tcp") {
    url.tls = false;
  } else if (scheme == "mqtts" || scheme == "ssl" || scheme == "tls") {
    url.tls = true;
  } else if (scheme == "ws" || scheme == "wss") {
    url.websocket = true;
    url.tls = scheme == "wss";
  } else {
    throw ConfigError("unsupported URL scheme '" + scheme + "'", where, "use mqtt://, mqtts://, ws:// or wss://");
  }
  std::string rest = text.substr(scheme_end + 3);
  std::string query;
  if (const std::size_t q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest.resize(q);
  }
  if (const std::size_t hash = rest.find('#'); hash != std::string::npos)
    throw ConfigError("'#' in broker URL", where, "a topic filter in a URL must be written %23");
  std::string path;
  if (const std::size_t slash = rest.find('/'); slash != std::string::npos) {
    path = rest.substr(slash + 1);
    rest.resize(slash);
  }
  // The user info ends at the last '@', so a password may contain an unescaped '@'.
  if (const std::size_t at = rest.rfind('@'); at != std::string::npos) {
    const std::string userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const std::size_t colon = userinfo.find(':');
    url.username = percent_decode(userinfo.substr(0, colon), where);
    if (colon != std::string::npos) url.password = percent_decode(userinfo.substr(colon + 1), where);
  }
  parse_host_port(rest, url, where);
  if (url.websocket) url.ws_path = path.empty() ? "/mqtt" : "/" + path;
  else url.topic = percent_decode(path, where);
  parse_query(query, url, where);
  return url;
}

ProfileOverrides overrides_from_url(const BrokerUrl& url) {
  ProfileOverrides o;
  o.host = url.host;
  o.tls_enabled = url.tls;
  if (url.websocket) {
    o.transport = TransportKind::websocket;
    o.ws_path = url.ws_path;
    o.port = url.port ? *url.port : (url.tls ? 443 : 80);
  } else {
    o.transport = TransportKind::tcp;
    o.port = url.port ? *url.port : (url.tls ? 8883 : 1883);
  }
  if (url.username) o.username = url.username;
  if (url.password) o.credential = Secret{SecretSource::literal, *url.password};
  if (url.client_id) o.client_id = url.client_id;
  if (url.version) o.version = url.version;
  if (url.keepalive_seconds) o.keepalive_seconds = url.keepalive_seconds;
  return o;
}

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

const std::vector<EnvVariable>& environment_variables() {
  static const std::vector<EnvVariable> variables{
      {"MQFLEET_PROFILE", "name of the stored profile to start from (like --profile)"},
      {"MQFLEET_URL", "broker URL mqtt[s]://user:pass@host:port/?client_id=... (like -L)"},
      {"MQFLEET_HOST", "broker host, or a broker URL (like -h)"},
      {"MQFLEET_PORT", "broker port (like -p)"},
      {"MQFLEET_USERNAME", "the account / user name (like -u)"},
      {"MQFLEET_PASSWORD", "the device credential; read when connecting, never stored"},
      {"MQFLEET_PASSWORD_FILE", "file whose first line is the credential (like --password-file)"},
      {"MQFLEET_CLIENT_ID", "the device id / client id (like -i)"},
      {"MQFLEET_VERSION", "MQTT version 31, 311 or 5 (like -V)"},
      {"MQFLEET_KEEPALIVE", "keepalive in seconds (like -k)"},
      {"MQFLEET_CONNECT_TIMEOUT", "connect timeout in seconds (like --connect-timeout)"},
      {"MQFLEET_TLS", "1/0: use TLS (like --tls)"},
      {"MQFLEET_CAFILE", "CA certificate file; implies TLS (like --cafile)"},
      {"MQFLEET_CAPATH", "directory of CA certificates; implies TLS (like --capath)"},
      {"MQFLEET_CERT", "client certificate file (like --cert)"},
      {"MQFLEET_KEY", "client private key file (like --key)"},
      {"MQFLEET_KEY_PASSWORD", "password of the client key; read when connecting"},
      {"MQFLEET_INSECURE", "1/0: skip certificate chain and host name checks (like --insecure)"},
      {"MQFLEET_TLS_VERSION", "tlsv1.2 or tlsv1.3 (like --tls-version)"},
      {"MQFLEET_ALPN", "comma-separated ALPN protocol names (like --alpn)"},
  };
  return variables;
}

ProfileOverrides overrides_from_environment(const EnvLookup& env) {
  ProfileOverrides o;
  if (auto url = non_empty(env, "MQFLEET_URL")) merge(o, overrides_from_url(parse_broker_url(*url, "MQFLEET_URL")));
  if (auto host = non_empty(env, "MQFLEET_HOST")) {
    if (is_broker_url(*host)) merge(o, overrides_from_url(parse_broker_url(*host, "MQFLEET_HOST")));
    else o.host = *host;
  }
  if (auto port = non_empty(env, "MQFLEET_PORT"))
    o.port = static_cast<int>(parse_integer(*port, "MQFLEET_PORT", 1, 65535));
  if (auto user = non_empty(env, "MQFLEET_USERNAME")) o.username = *user;
  const auto password = non_empty(env, "MQFLEET_PASSWORD");
  const auto password_file = non_empty(env, "MQFLEET_PASSWORD_FILE");
  if (password && password_file)
    throw ConfigError("both MQFLEET_PASSWORD and MQFLEET_PASSWORD_FILE are set", "MQFLEET_PASSWORD_FILE",
                      "unset one of them");
  if (password) o.credential = Secret{SecretSource::env, "MQFLEET_PASSWORD"};
  if (password_file) o.credential = Secret{SecretSource::file, *password_file};
  if (auto id = non_empty(env, "MQFLEET_CLIENT_ID")) o.client_id = *id;
  if (auto version = non_empty(env, "MQFLEET_VERSION")) {
    try {
      o.version = parse_mqtt_version(*version);
    } catch (const ConfigError& e) {
      throw ConfigError(e.what(), "MQFLEET_VERSION", e.hint());
    }
  }
  if (auto keepalive = non_empty(env, "MQFLEET_KEEPALIVE"))
    o.keepalive_seconds = static_cast<int>(parse_integer(*keepalive, "MQFLEET_KEEPALIVE", 0, 65535));
  if (auto timeout = non_empty(env, "MQFLEET_CONNECT_TIMEOUT")) {
    char* end = nullptr;
    const double seconds = std::strtod(timeout->c_str(), &end);
    if (end == timeout->c_str() || *end != '\0' || !(seconds > 0) || seconds > 86400)
      throw ConfigError("invalid connect timeout '" + *timeout + "'", "MQFLEET_CONNECT_TIMEOUT",
                        "give a number of seconds greater than 0, e.g. 10 or 2.5");
    o.connect_timeout = std::chrono::milliseconds(static_cast<long long>(std::llround(seconds * 1000)));
  }
  if (auto tls = non_empty(env, "MQFLEET_TLS")) o.tls_enabled = parse_bool(*tls, "MQFLEET_TLS");
  if (auto cafile = non_empty(env, "MQFLEET_CAFILE")) o.ca_file = *cafile;
  if (auto capath = non_empty(env, "MQFLEET_CAPATH")) o.ca_path = *capath;
  if ((o.ca_file || o.ca_path) && !non_empty(env, "MQFLEET_TLS")) o.tls_enabled = true;
  if (auto cert = non_empty(env, "MQFLEET_CERT")) o.cert_file = *cert;
  if (auto key = non_empty(env, "MQFLEET_KEY")) o.key_file = *key;
  if (non_empty(env, "MQFLEET_KEY_PASSWORD")) o.key_password = Secret{SecretSource::env, "MQFLEET_KEY_PASSWORD"};
  if (auto insecure = non_empty(env, "MQFLEET_INSECURE")) o.insecure = parse_bool(*insecure, "MQFLEET_INSECURE");
  if (auto version = non_empty(env, "MQFLEET_TLS_VERSION"))
    o.tls_version = parse_tls_version(*version, "MQFLEET_TLS_VERSION");
  if (auto alpn = non_empty(env, "MQFLEET_ALPN")) {
    std::vector<std::string> names;
    std::size_t start = 0;
    while (start <= alpn->size()) {
      const std::size_t end = std::min(alpn->find(',', start), alpn->size());
      if (end > start) names.push_back(alpn->substr(start, end - start));
      start = end + 1;
    }
    o.alpn = names;
  }
  return o;
}

std::optional<std::string> profile_from_environment(const EnvLookup& env) {
  return non_empty(env, "MQFLEET_PROFILE");
}

std::string resolve_secret(const Secret& secret, const std::string& where, const std::string& label,
                           const SecretPrompt& prompt, const EnvLookup& env) {
  switch (secret.source) {
  case SecretSource::none: return {};
  case SecretSource::literal: return secret.value;
  case SecretSource::env: {
    auto value = env(secret.value);
    if (!value)
      throw ConfigError("environment variable " + secret.value + " is not set", where,
                        "export " + secret.value + " with the credential, or choose another credential source");
    if (value->empty())
      throw ConfigError("environment variable " + secret.value + " is empty", where,
                        "export " + secret.value + " with the credential, or choose another credential source");
    return *value;
  }
  case SecretSource::file: return read_first_line(secret.value, where);
  case SecretSource::prompt:
    if (!prompt)
      throw ConfigError("the credential must be typed in, but there is no terminal to ask on", where,
                        "use --password-env NAME or --password-file PATH in scripts");
    return prompt(label);
  }
  return {};
}

void validate(const ConnectionProfile& profile) {
  if (profile.host.empty()) throw ConfigError("no broker host", "-h", "give a host name or address");
  if (profile.port && (*profile.port < 1 || *profile.port > 65535))
    throw ConfigError("port " + std::to_string(*profile.port) + " is out of range", "-p", "use 1 to 65535");
  if (profile.keepalive_seconds < 0 || profile.keepalive_seconds > 65535)
    throw ConfigError("keepalive out of range", "-k", "use 0 to 65535 seconds");
  if (profile.session_expiry_seconds && profile.version != MqttVersion::v5)
    throw ConfigError("session expiry needs MQTT 5", "-x", "add -V 5 or leave out -x");
  if (!profile.clean_session && profile.client_id.empty())
    throw ConfigError("a persistent session (-c) needs a fixed client id", "-c", "give one with -i ID");
  if (profile.will) {
    if (profile.will->topic.empty()) throw ConfigError("the will has no topic", "--will-topic", "give --will-topic");
    if (profile.will->topic.find_first_of("+#") != std::string::npos)
      throw ConfigError("the will topic contains a wildcard", "--will-topic", "use a topic name without + or #");
    if (profile.will->qos < 0 || profile.will->qos > 2)
      throw ConfigError("will QoS must be 0, 1 or 2", "--will-qos", "use 0, 1 or 2");
  }
  if (profile.connect_timeout.count() <= 0)
    throw ConfigError("the connect timeout must be positive", "--connect-timeout", "give a number of seconds > 0");
  if (profile.tls.cert_file.empty() != profile.tls.key_file.empty())
    throw ConfigError("a client certificate needs both --cert and --key", profile.tls.cert_file.empty() ? "--cert" : "--key",
                      "give both files, or neither");
  for (const auto& [file, flag] : {std::pair{&profile.tls.ca_file, "--cafile"}, std::pair{&profile.tls.cert_file, "--cert"},
                                   std::pair{&profile.tls.key_file, "--key"}}) {
    if (!file->empty() && ::access(file->c_str(), R_OK) != 0) {
      const int error = errno;
      throw ConfigError("cannot read '" + *file + "': " + std::strerror(error), flag, "check the path and its permissions");
    }
  }
  if (!profile.tls.ca_path.empty() && ::access(profile.tls.ca_path.c_str(), R_OK | X_OK) != 0) {
    const int error = errno;
    throw ConfigError("cannot read the directory '" + profile.tls.ca_path + "': " + std::strerror(error), "--capath",
                      "check the path and its permissions");
  }
  if (profile.reconnect.min_delay > profile.reconnect.max_delay)
    throw ConfigError("reconnect minimum delay is above the maximum", "reconnect", "make min_delay <= max_delay");
}

bool parse_bool(const std::string& text, const std::string& where) {
  const std::string v = lower(text);
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off") return false;
  throw ConfigError("'" + text + "' is not a yes/no value", where, "use 1 or 0 (true/false, yes/no, on/off)");
}

long long parse_integer(const std::string& text, const std::string& where, long long min, long long max) {
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end == text.c_str() || *end != '\0' || errno == ERANGE || value < min || value > max)
    throw ConfigError("'" + text + "' is not a number from " + std::to_string(min) + " to " + std::to_string(max), where,
                      "give a whole number in that range");
  return value;
}

std::string parse_tls_version(const std::string& text, const std::string& where) {
  std::string v = lower(text);
  for (const char* prefix : {"tlsv", "tls"}) {
    if (v.rfind(prefix, 0) == 0) {
      v = v.substr(std::strlen(prefix));
      break;
    }
  }
  if (v == "1.2") return "tlsv1.2";
  if (v == "1.3") return "tlsv1.3";
  throw ConfigError("unsupported TLS version '" + text + "'", where, "use tlsv1.2 or tlsv1.3");
}

} // namespace mqfleet
