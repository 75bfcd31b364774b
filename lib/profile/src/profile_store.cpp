#include <mqfleet/profile_store.hpp>

#include <mqfleet/error.hpp>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace mqfleet {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* k_mask = "********";
constexpr int k_format_version = 1;

std::string system_error_text(int error) { return std::strerror(error); }

Json secret_to_json(const Secret& secret, bool mask) {
  switch (secret.source) {
  case SecretSource::none: return nullptr;
  case SecretSource::literal: return mask ? Json(k_mask) : Json{{"literal", secret.value}};
  case SecretSource::env: return Json{{"env", secret.value}};
  case SecretSource::file: return Json{{"file", secret.value}};
  case SecretSource::prompt: return Json{{"prompt", true}};
  }
  return nullptr;
}

// Reads fields of one JSON object, naming the field in every error.
class Fields {
public:
  Fields(const Json& object, std::string where) : m_object(object), m_where(std::move(where)) {
    if (!object.is_object()) fail("is not a JSON object", "");
  }

  [[noreturn]] void fail(const std::string& problem, const std::string& key) const {
    throw ConfigError((key.empty() ? std::string("profile entry") : "field '" + key + "'") + " " + problem, m_where,
                      "fix the file (docs/profiles.md describes the format) or re-create the profile with `mqfleet profile add --force`");
  }

  bool has(const std::string& key) const { return m_object.contains(key) && !m_object.at(key).is_null(); }
  const Json& at(const std::string& key) const { return m_object.at(key); }

  void read(const std::string& key, std::string& out) const {
    if (!has(key)) return;
    if (!at(key).is_string()) fail("must be a string", key);
    out = at(key).get<std::string>();
  }
  void read(const std::string& key, bool& out) const {
    if (!has(key)) return;
    if (!at(key).is_boolean()) fail("must be true or false", key);
    out = at(key).get<bool>();
  }
  long long integer(const std::string& key, long long min, long long max) const {
    if (!at(key).is_number_integer()) fail("must be a whole number", key);
    const auto value = at(key).get<long long>();
    if (value < min || value > max)
      fail("must be between " + std::to_string(min) + " and " + std::to_string(max), key);
    return value;
  }
  void check_known(std::initializer_list<const char*> keys) const {
    for (const auto& item : m_object.items()) {
      if (std::none_of(keys.begin(), keys.end(), [&](const char* k) { return item.key() == k; }))
        fail("is not a known setting", item.key());
    }
  }
  const std::string& where() const { return m_where; }

private:
  const Json& m_object;
  std::string m_where;
};

Secret secret_from_json(const Json& value, const std::string& key, const Fields& parent) {
  if (value.is_string()) return Secret{SecretSource::literal, value.get<std::string>()};
  Fields fields(value, parent.where() + " " + key);
  fields.check_known({"literal", "env", "file", "prompt"});
  if (value.size() != 1) parent.fail("must hold exactly one of literal, env, file, prompt", key);
  Secret secret;
  if (fields.has("literal")) {
    secret.source = SecretSource::literal;
    fields.read("literal", secret.value);
  } else if (fields.has("env")) {
    secret.source = SecretSource::env;
    fields.read("env", secret.value);
  } else if (fields.has("file")) {
    secret.source = SecretSource::file;
    fields.read("file", secret.value);
  } else if (fields.has("prompt")) {
    bool prompt = false;
    fields.read("prompt", prompt);
    secret.source = prompt ? SecretSource::prompt : SecretSource::none;
  }
  if (secret.source != SecretSource::literal && secret.source != SecretSource::none && secret.source != SecretSource::prompt &&
      secret.value.empty())
    parent.fail("names an empty variable or file", key);
  return secret;
}

Json profile_json(const ConnectionProfile& p, bool mask) {
  Json j;
  j["host"] = p.host;
  if (p.port) j["port"] = *p.port;
  if (!p.username.empty()) j["username"] = p.username;
  if (!p.client_id.empty()) j["client_id"] = p.client_id;
  if (!p.credential.empty()) j["credential"] = secret_to_json(p.credential, mask);
  j["version"] = to_string(p.version);
  j["keepalive"] = p.keepalive_seconds;
  j["clean_session"] = p.clean_session;
  if (p.session_expiry_seconds) j["session_expiry"] = *p.session_expiry_seconds;
  if (p.will)
    j["will"] = Json{{"topic", p.will->topic}, {"payload", p.will->payload}, {"qos", p.will->qos}, {"retain", p.will->retain}};
  j["connect_timeout_ms"] = p.connect_timeout.count();
  if (p.reconnect != ReconnectPolicy{})
    j["reconnect"] = Json{{"enabled", p.reconnect.enabled},
                          {"min_delay_s", p.reconnect.min_delay.count()},
                          {"max_delay_s", p.reconnect.max_delay.count()}};
  Json tls;
  tls["enabled"] = p.tls.enabled;
  if (!p.tls.ca_file.empty()) tls["ca_file"] = p.tls.ca_file;
  if (!p.tls.ca_path.empty()) tls["ca_path"] = p.tls.ca_path;
  if (!p.tls.cert_file.empty()) tls["cert_file"] = p.tls.cert_file;
  if (!p.tls.key_file.empty()) tls["key_file"] = p.tls.key_file;
  if (!p.tls.key_password.empty()) tls["key_password"] = secret_to_json(p.tls.key_password, mask);
  if (p.tls.insecure) tls["insecure"] = true;
  if (!p.tls.version.empty()) tls["version"] = p.tls.version;
  if (!p.tls.alpn.empty()) tls["alpn"] = p.tls.alpn;
  j["tls"] = tls;
  if (p.transport == TransportKind::websocket) j["websocket"] = Json{{"path", p.ws_path}};
  if (p.transport == TransportKind::unix_socket) j["unix_socket"] = p.unix_path;
  return j;
}

ConnectionProfile profile_from(const Json& j, const std::string& name, const std::string& where) {
  ConnectionProfile p;
  p.name = name;
  const Fields f(j, where);
  f.check_known({"host", "port", "username", "client_id", "credential", "version", "keepalive", "clean_session",
                 "session_expiry", "will", "connect_timeout_ms", "reconnect", "tls", "websocket", "unix_socket"});
  f.read("host", p.host);
  if (f.has("port")) p.port = static_cast<int>(f.integer("port", 1, 65535));
  f.read("username", p.username);
  f.read("client_id", p.client_id);
  if (f.has("credential")) p.credential = secret_from_json(f.at("credential"), "credential", f);
  if (f.has("version")) {
    std::string text;
    f.read("version", text);
    try {
      p.version = parse_mqtt_version(text);
    } catch (const ConfigError&) {
      f.fail("must be \"3.1\", \"3.1.1\" or \"5\"", "version");
    }
  }
  if (f.has("keepalive")) p.keepalive_seconds = static_cast<int>(f.integer("keepalive", 0, 65535));
  f.read("clean_session", p.clean_session);
  if (f.has("session_expiry"))
    p.session_expiry_seconds = static_cast<std::uint32_t>(f.integer("session_expiry", 0, 0xFFFFFFFFLL));
  if (f.has("will")) {
    const Fields w(f.at("will"), where + " will");
    w.check_known({"topic", "payload", "qos", "retain"});
    Will will;
    w.read("topic", will.topic);
    w.read("payload", will.payload);
    if (w.has("qos")) will.qos = static_cast<int>(w.integer("qos", 0, 2));
    w.read("retain", will.retain);
    p.will = will;
  }
  if (f.has("connect_timeout_ms"))
    p.connect_timeout = std::chrono::milliseconds(f.integer("connect_timeout_ms", 1, 86'400'000));
  if (f.has("reconnect")) {
    const Fields r(f.at("reconnect"), where + " reconnect");
    r.check_known({"enabled", "min_delay_s", "max_delay_s"});
    r.read("enabled", p.reconnect.enabled);
    if (r.has("min_delay_s")) p.reconnect.min_delay = std::chrono::seconds(r.integer("min_delay_s", 0, 86400));
    if (r.has("max_delay_s")) p.reconnect.max_delay = std::chrono::seconds(r.integer("max_delay_s", 0, 86400));
  }
  if (f.has("websocket")) {
    const Fields w(f.at("websocket"), where + " websocket");
    w.check_known({"path"});
    p.transport = TransportKind::websocket;
    w.read("path", p.ws_path);
    if (p.ws_path.empty() || p.ws_path.front() != '/') w.fail("must start with '/'", "path");
  }
  if (f.has("unix_socket")) {
    p.transport = TransportKind::unix_socket;
    f.read("unix_socket", p.unix_path);
  }
  if (f.has("tls")) {
    const Fields t(f.at("tls"), where + " tls");
    t.check_known({"enabled", "ca_file", "ca_path", "cert_file", "key_file", "key_password", "insecure", "version", "alpn"});
    t.read("enabled", p.tls.enabled);
    t.read("ca_file", p.tls.ca_file);
    t.read("ca_path", p.tls.ca_path);
    t.read("cert_file", p.tls.cert_file);
    t.read("key_file", p.tls.key_file);
    if (t.has("key_password")) p.tls.key_password = secret_from_json(t.at("key_password"), "key_password", t);
    t.read("insecure", p.tls.insecure);
    t.read("version", p.tls.version);
    if (!p.tls.version.empty()) p.tls.version = parse_tls_version(p.tls.version, where + " tls.version");
    if (t.has("alpn")) {
      const Json& alpn = t.at("alpn");
      if (!alpn.is_array() || !std::all_of(alpn.begin(), alpn.end(), [](const Json& x) { return x.is_string(); }))
        t.fail("must be a list of strings", "alpn");
      for (const auto& item : alpn) p.tls.alpn.push_back(item.get<std::string>());
    }
  }
  return p;
}

void write_all(int fd, const std::string& data, const std::string& where) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw ConfigError("cannot write the profiles file: " + system_error_text(errno), where,
                        "check free space and permissions of the directory");
    }
    done += static_cast<std::size_t>(n);
  }
}

// Creates the profiles directory, readable by its owner only, when it is missing.
void ensure_directory(const std::filesystem::path& dir, const std::string& where) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) return;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw ConfigError("cannot create the directory " + dir.string() + ": " + ec.message(), where,
                      "check the permissions of its parent");
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
}

std::filesystem::path directory_of(const std::filesystem::path& file) {
  return file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
}

} // namespace

ProfileStoreLock::ProfileStoreLock(const std::filesystem::path& file) {
  const std::string where = file.string();
  ensure_directory(directory_of(file), where);
  const std::string lock_path = where + ".lock";
  m_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, S_IRUSR | S_IWUSR);
  if (m_fd < 0)
    throw ConfigError("cannot open the lock file " + lock_path + ": " + system_error_text(errno), where,
                      "check the permissions of " + directory_of(file).string());
  while (::flock(m_fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const int error = errno;
    ::close(m_fd);
    throw ConfigError("cannot lock " + lock_path + ": " + system_error_text(error), where, "");
  }
}

ProfileStoreLock::~ProfileStoreLock() {
  if (m_fd >= 0) ::close(m_fd);  // closing releases the flock
}

std::filesystem::path default_profiles_path(const EnvLookup& env) {
  if (auto xdg = env("XDG_CONFIG_HOME"); xdg && !xdg->empty() && xdg->front() == '/')
    return std::filesystem::path(*xdg) / "mqfleet" / "profiles.json";
  if (auto home = env("HOME"); home && !home->empty())
    return std::filesystem::path(*home) / ".config" / "mqfleet" / "profiles.json";
  throw ConfigError("cannot find the profiles file: neither XDG_CONFIG_HOME nor HOME is set", "XDG_CONFIG_HOME",
                    "set XDG_CONFIG_HOME (or HOME) to your configuration directory");
}

void check_profile_name(const std::string& name) {
  const bool ok = !name.empty() && name.size() <= 64 && name.front() != '-' && name.front() != '.' &&
                  std::all_of(name.begin(), name.end(), [](unsigned char c) {
                    return std::isalnum(c) || c == '.' || c == '_' || c == '-';
                  });
  if (!ok)
    throw ConfigError("invalid profile name '" + name + "'", "NAME",
                      "use 1 to 64 letters, digits, '.', '_' or '-', not starting with '-' or '.'");
}

std::string profile_to_json(const ConnectionProfile& profile, bool mask_secrets, int indent) {
  return profile_json(profile, mask_secrets).dump(indent);
}

ConnectionProfile profile_from_json(const std::string& json_text, const std::string& name, const std::string& where) {
  Json j;
  try {
    j = Json::parse(json_text);
  } catch (const Json::parse_error& e) {
    throw ConfigError(std::string("malformed JSON: ") + e.what(), where, "fix the JSON syntax");
  } catch (const Json::out_of_range&) {
    // nlohmann reports a number too large for a double (1e999) this way, not as parse_error.
    throw ConfigError("malformed JSON: a number is too large to represent", where, "fix the number");
  }
  return profile_from(j, name, where);
}

bool has_literal_secret(const ConnectionProfile& profile) {
  return profile.credential.source == SecretSource::literal || profile.tls.key_password.source == SecretSource::literal;
}

ProfileStore::ProfileStore(std::filesystem::path file) : m_path(std::move(file)) {}

void ProfileStore::load() {
  m_profiles.clear();
  m_warnings.clear();
  const std::string where = m_path.string();
  std::error_code ec;
  if (!std::filesystem::exists(m_path, ec)) return;
  std::ifstream in(m_path, std::ios::binary);
  if (!in) {
    throw ConfigError("cannot read the profiles file: " + system_error_text(errno), where,
                      "check that the file is readable by you");
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  Json root;
  try {
    root = Json::parse(buffer.str());
  } catch (const Json::parse_error& e) {
    throw ConfigError(std::string("the profiles file is not valid JSON: ") + e.what(), where,
                      "fix the JSON syntax, or move the file away to start afresh");
  } catch (const Json::out_of_range&) {
    throw ConfigError("the profiles file holds a number too large to represent", where,
                      "fix the number, or move the file away to start afresh");
  }
  const Fields top(root, where);
  top.check_known({"version", "profiles"});
  if (top.has("version") && top.integer("version", k_format_version, k_format_version) != k_format_version)
    top.fail("is not supported", "version");
  if (!top.has("profiles")) return;
  if (!top.at("profiles").is_object()) top.fail("must be an object of name: profile", "profiles");
  for (const auto& item : top.at("profiles").items()) {
    const std::string profile_where = where + ": profile '" + item.key() + "'";
    try {
      check_profile_name(item.key());
    } catch (const ConfigError& e) {
      throw ConfigError(e.what(), where, e.hint());
    }
    m_profiles[item.key()] = profile_from(item.value(), item.key(), profile_where);
  }
  struct stat info {};
  if (::stat(m_path.c_str(), &info) == 0 && (info.st_mode & 077) != 0 &&
      std::any_of(m_profiles.begin(), m_profiles.end(), [](const auto& entry) { return has_literal_secret(entry.second); })) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    m_warnings.push_back("the profiles file " + where + " holds literal credentials and is readable by others (mode " +
                         mode + "); run: chmod 600 " + where);
  }
}

void ProfileStore::save() const {
  const std::string where = m_path.string();
  const std::filesystem::path dir = directory_of(m_path);
  ensure_directory(dir, where);
  Json root;
  root["version"] = k_format_version;
  Json profiles = Json::object();
  for (const auto& [name, profile] : m_profiles) profiles[name] = profile_json(profile, false);
  root["profiles"] = profiles;
  const std::string text = root.dump(2) + "\n";

  std::string temp = (dir / (m_path.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = ::mkstemp(temp.data());
  if (fd < 0)
    throw ConfigError("cannot create a temporary file next to the profiles file: " + system_error_text(errno), where,
                      "check the permissions of " + dir.string());
  try {
    if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0)
      throw ConfigError("cannot set mode 0600 on the profiles file: " + system_error_text(errno), where, "");
    write_all(fd, text, where);
    if (::fsync(fd) != 0)
      throw ConfigError("cannot flush the profiles file to disk: " + system_error_text(errno), where,
                        "check the file system");
  } catch (...) {
    ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(temp.c_str(), m_path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    throw ConfigError("cannot replace the profiles file: " + system_error_text(error), where,
                      "check the permissions of " + dir.string());
  }
  if (const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

std::vector<std::string> ProfileStore::names() const {
  std::vector<std::string> names;
  for (const auto& entry : m_profiles) names.push_back(entry.first);
  return names;
}

std::optional<ConnectionProfile> ProfileStore::find(const std::string& name) const {
  auto it = m_profiles.find(name);
  if (it == m_profiles.end()) return std::nullopt;
  return it->second;
}

ConnectionProfile ProfileStore::get(const std::string& name) const {
  if (auto profile = find(name)) return *profile;
  std::string known;
  for (const auto& entry : m_profiles) known += (known.empty() ? "" : ", ") + entry.first;
  throw ConfigError("no profile named '" + name + "'", m_path.string(),
                    known.empty() ? "create one with `mqfleet profile add " + name + " -h HOST ...`"
                                  : "known profiles: " + known + " (see `mqfleet profile list`)");
}

void ProfileStore::put(const ConnectionProfile& profile, bool replace) {
  check_profile_name(profile.name);
  if (!replace && m_profiles.count(profile.name) != 0)
    throw ConfigError("a profile named '" + profile.name + "' already exists", m_path.string(),
                      "add --force to replace it, or choose another name");
  m_profiles[profile.name] = profile;
}

bool ProfileStore::remove(const std::string& name) { return m_profiles.erase(name) != 0; }

} // namespace mqfleet
