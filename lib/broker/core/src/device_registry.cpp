#include <mqfleet/broker/device_registry.hpp>

#include <mqfleet/broker/api_tokens.hpp>
#include <mqfleet/broker/credentials.hpp>
#include <mqfleet/broker/tenancy.hpp>
#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/topic.hpp>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace mqfleet::broker {

using Json = nlohmann::ordered_json;

namespace {

std::string pointer_token(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

/// Builds errors that name the file and the JSON pointer of the offending value.
struct Reader {
  const std::string& source;

  [[noreturn]] void fail(const std::string& pointer, const std::string& what, const std::string& hint = {}) const {
    throw ConfigError(what, source + " at " + (pointer.empty() ? "/" : pointer),
                      hint.empty() ? "see docs/registry.md for the registry format" : hint);
  }

  void expect_object(const Json& value, const std::string& pointer) const {
    if (!value.is_object()) fail(pointer, "expected a JSON object");
  }

  void only_keys(const Json& object, const std::string& pointer, std::initializer_list<std::string_view> keys) const {
    for (const auto& [key, value] : object.items()) {
      bool known = false;
      for (auto k : keys) known = known || key == k;
      if (!known) fail(pointer + "/" + pointer_token(key), "unknown key '" + key + "'");
    }
  }

  std::string string_at(const Json& object, const std::string& pointer, const char* key, bool required) const {
    auto it = object.find(key);
    if (it == object.end()) {
      if (required) fail(pointer + "/" + key, std::string("missing required key '") + key + "'");
      return {};
    }
    if (!it->is_string()) fail(pointer + "/" + key, std::string("'") + key + "' must be a string");
    return it->get<std::string>();
  }
};

Effect parse_effect(const Reader& reader, const std::string& text, const std::string& pointer) {
  if (text == "allow") return Effect::allow;
  if (text == "deny") return Effect::deny;
  reader.fail(pointer, "invalid effect '" + text + "'", "use \"allow\" or \"deny\"");
}

const char* effect_name(Effect effect) { return effect == Effect::allow ? "allow" : "deny"; }

const char* action_name(RuleAction action) {
  switch (action) {
  case RuleAction::publish: return "publish";
  case RuleAction::subscribe: return "subscribe";
  case RuleAction::both: return "both";
  }
  return "both";
}

std::string system_error(int error) { return std::strerror(error); }

} // namespace

std::string_view to_string(AuthStatus status) noexcept {
  switch (status) {
  case AuthStatus::ok: return "ok";
  case AuthStatus::unknown_account: return "unknown account";
  case AuthStatus::unknown_device: return "unknown device";
  case AuthStatus::wrong_credential: return "wrong credential";
  }
  return "unknown";
}

bool valid_bucket_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool valid_bucket_topic(std::string_view filter) noexcept {
  return mqtt::is_valid_topic_filter(filter) && !mqtt::is_shared_subscription(filter) &&
         (filter.empty() || filter.front() != '$');
}

bool valid_device_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 65535) return false;
  return id.find_first_of(std::string_view("/+#\0", 4)) == std::string_view::npos;
}

Registry Registry::parse(std::string_view json_text, const std::string& source) {
  const Reader reader{source};
  Json root;
  try {
    root = Json::parse(json_text.begin(), json_text.end());
  } catch (const Json::parse_error& e) {
    throw ConfigError("the registry is not valid JSON (byte " + std::to_string(e.byte) + ")", source,
                      "fix the JSON syntax; see docs/registry.md");
  } catch (const Json::out_of_range&) {
    // nlohmann reports a number too large for a double (1e999) this way, not as parse_error.
    throw ConfigError("the registry holds a number too large to represent", source,
                      "write every number within the range of a double; see docs/registry.md");
  }
  reader.expect_object(root, "");
  reader.only_keys(root, "", {"version", "accounts", "rules", "default_access", "tokens"});
  if (auto version = root.find("version"); version != root.end()) {
    if (!version->is_number_integer() || version->get<long long>() != k_format_version)
      reader.fail("/version", "unsupported registry version", "this mqfleet reads version 1");
  }

  Registry registry;
  if (auto accounts = root.find("accounts"); accounts != root.end()) {
    reader.expect_object(*accounts, "/accounts");
    for (const auto& [name, account_json] : accounts->items()) {
      const auto account_ptr = "/accounts/" + pointer_token(name);
      if (!valid_account(name))
        reader.fail(account_ptr, "invalid account name '" + name + "'",
                    "account names are non-empty, without '/', '+', '#' and without a leading '$'");
      reader.expect_object(account_json, account_ptr);
      reader.only_keys(account_json, account_ptr, {"devices", "buckets", "dashboards"});
      Account account{name, {}, {}, {}};
      if (auto devices = account_json.find("devices"); devices != account_json.end()) {
        reader.expect_object(*devices, account_ptr + "/devices");
        for (const auto& [id, device_json] : devices->items()) {
          const auto device_ptr = account_ptr + "/devices/" + pointer_token(id);
          if (!valid_device_id(id))
            reader.fail(device_ptr, "invalid device id '" + id + "'", "device ids are non-empty, without '/', '+', '#'");
          reader.expect_object(device_json, device_ptr);
          reader.only_keys(device_json, device_ptr, {"description", "credential"});
          Device device{id, reader.string_at(device_json, device_ptr, "description", false),
                        reader.string_at(device_json, device_ptr, "credential", true)};
          try {
            parse_password_hash(device.credential);
          } catch (const ConfigError& e) {
            reader.fail(device_ptr + "/credential", e.what(), e.hint());
          }
          account.devices.emplace(id, std::move(device));
        }
      }
      if (auto buckets = account_json.find("buckets"); buckets != account_json.end()) {
        reader.expect_object(*buckets, account_ptr + "/buckets");
        for (const auto& [id, bucket_json] : buckets->items()) {
          const auto bucket_ptr = account_ptr + "/buckets/" + pointer_token(id);
          if (!valid_bucket_id(id))
            reader.fail(bucket_ptr, "invalid bucket id '" + id + "'",
                        "bucket ids are 1..64 letters, digits, '_', '-' or '.'");
          if (registry.find_bucket(id).first != nullptr || account.buckets.contains(id))
            reader.fail(bucket_ptr, "duplicate bucket id '" + id + "'", "bucket ids are unique across accounts");
          reader.expect_object(bucket_json, bucket_ptr);
          reader.only_keys(bucket_json, bucket_ptr, {"name", "description", "enabled", "topic"});
          Bucket bucket{id, reader.string_at(bucket_json, bucket_ptr, "name", false),
                        reader.string_at(bucket_json, bucket_ptr, "description", false), true,
                        reader.string_at(bucket_json, bucket_ptr, "topic", true)};
          if (auto enabled = bucket_json.find("enabled"); enabled != bucket_json.end()) {
            if (!enabled->is_boolean()) reader.fail(bucket_ptr + "/enabled", "'enabled' must be true or false");
            bucket.enabled = enabled->get<bool>();
          }
          if (!valid_bucket_topic(bucket.topic))
            reader.fail(bucket_ptr + "/topic", "invalid bucket topic filter '" + bucket.topic + "'",
                        "use a topic filter in the account's view such as devices/+/telemetry (no $share/, no $)");
          account.buckets.emplace(id, std::move(bucket));
        }
      }
      if (auto dashboards = account_json.find("dashboards"); dashboards != account_json.end()) {
        reader.expect_object(*dashboards, account_ptr + "/dashboards");
        for (const auto& [id, dashboard_json] : dashboards->items()) {
          const auto dashboard_ptr = account_ptr + "/dashboards/" + pointer_token(id);
          if (!valid_bucket_id(id))
            reader.fail(dashboard_ptr, "invalid dashboard id '" + id + "'",
                        "dashboard ids are 1..64 letters, digits, '_', '-' or '.'");
          reader.expect_object(dashboard_json, dashboard_ptr);
          reader.only_keys(dashboard_json, dashboard_ptr, {"title", "widgets"});
          Dashboard dashboard{id, reader.string_at(dashboard_json, dashboard_ptr, "title", false), {}};
          if (auto widgets = dashboard_json.find("widgets"); widgets != dashboard_json.end()) {
            if (!widgets->is_array()) reader.fail(dashboard_ptr + "/widgets", "'widgets' must be an array");
            for (std::size_t i = 0; i < widgets->size(); ++i) {
              const auto& widget_json = (*widgets)[i];
              const auto widget_ptr = dashboard_ptr + "/widgets/" + std::to_string(i);
              reader.expect_object(widget_json, widget_ptr);
              Widget widget;
              for (const auto& [key, value] : widget_json.items()) {
                if (!value.is_string()) reader.fail(widget_ptr + "/" + pointer_token(key), "widget options are strings");
                if (key == "type") widget.type = value.get<std::string>();
                else widget.options.emplace(key, value.get<std::string>());
              }
              if (!valid_widget_type(widget.type))
                reader.fail(widget_ptr + "/type", "invalid widget type '" + widget.type + "'",
                            "use timeseries, gauge, value, led, table, map, switch or slider");
              dashboard.widgets.push_back(std::move(widget));
            }
          }
          account.dashboards.emplace(id, std::move(dashboard));
        }
      }
      registry.m_accounts.emplace(name, std::move(account));
    }
  }

  if (auto tokens = root.find("tokens"); tokens != root.end()) {
    reader.expect_object(*tokens, "/tokens");
    for (const auto& [name, token_json] : tokens->items()) {
      const auto token_ptr = "/tokens/" + pointer_token(name);
      reader.expect_object(token_json, token_ptr);
      reader.only_keys(token_json, token_ptr, {"account", "admin", "hash"});
      ApiToken token;
      token.name = name;
      token.account = reader.string_at(token_json, token_ptr, "account", false);
      if (auto admin = token_json.find("admin"); admin != token_json.end()) {
        if (!admin->is_boolean()) reader.fail(token_ptr + "/admin", "'admin' must be true or false");
        token.admin = admin->get<bool>();
      }
      token.hash = reader.string_at(token_json, token_ptr, "hash", true);
      if (!valid_token_hash(token.hash))
        reader.fail(token_ptr + "/hash", "invalid token hash", "create tokens with `mqfleet token add`");
      if (!valid_token_name(name)) reader.fail(token_ptr, "invalid token name", "use letters, digits, '_', '-', '.'");
      if (token.admin == !token.account.empty())
        reader.fail(token_ptr, "a token has either an account or \"admin\": true", "recreate it with `mqfleet token add`");
      registry.m_tokens.emplace(name, std::move(token));
    }
  }

  std::vector<AccessRule> rules;
  if (auto rules_json = root.find("rules"); rules_json != root.end()) {
    if (!rules_json->is_array()) reader.fail("/rules", "'rules' must be an array of rule objects");
    for (std::size_t i = 0; i < rules_json->size(); ++i) {
      const auto& rule_json = (*rules_json)[i];
      const auto rule_ptr = "/rules/" + std::to_string(i);
      reader.expect_object(rule_json, rule_ptr);
      reader.only_keys(rule_json, rule_ptr, {"effect", "action", "topic", "account", "device"});
      AccessRule rule;
      rule.effect = parse_effect(reader, reader.string_at(rule_json, rule_ptr, "effect", true), rule_ptr + "/effect");
      const auto action = reader.string_at(rule_json, rule_ptr, "action", false);
      if (action.empty() || action == "both") rule.action = RuleAction::both;
      else if (action == "publish") rule.action = RuleAction::publish;
      else if (action == "subscribe") rule.action = RuleAction::subscribe;
      else reader.fail(rule_ptr + "/action", "invalid action '" + action + "'", "use \"publish\", \"subscribe\" or \"both\"");
      rule.topic = reader.string_at(rule_json, rule_ptr, "topic", true);
      if (!mqtt::is_valid_topic_filter(rule.topic) || mqtt::is_shared_subscription(rule.topic))
        reader.fail(rule_ptr + "/topic", "invalid topic filter '" + rule.topic + "'",
                    "use a topic filter such as devices/%d/# (no $share/ prefix)");
      rule.account = reader.string_at(rule_json, rule_ptr, "account", false);
      rule.device = reader.string_at(rule_json, rule_ptr, "device", false);
      rules.push_back(std::move(rule));
    }
  }
  std::optional<Effect> default_effect;
  if (root.contains("default_access")) {
    const auto text = reader.string_at(root, "", "default_access", true);
    default_effect = parse_effect(reader, text, "/default_access");
  }
  registry.m_rules = AccessRules(std::move(rules), default_effect);
  return registry;
}

Registry Registry::load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigError("cannot read the device registry: " + system_error(errno), path.string(),
                      "create it with `mqfleet device add ACCOUNT DEVICE --registry " + path.string() + "`");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path.string());
}

std::string Registry::to_json() const {
  Json root = Json::object();
  root["version"] = k_format_version;
  Json accounts = Json::object();
  for (const auto& [name, account] : m_accounts) {
    Json devices = Json::object();
    for (const auto& [id, device] : account.devices) {
      Json d = Json::object();
      d["description"] = device.description;
      d["credential"] = device.credential;
      devices[id] = std::move(d);
    }
    Json account_json = Json{{"devices", std::move(devices)}};
    if (!account.buckets.empty()) {
      Json buckets = Json::object();
      for (const auto& [id, bucket] : account.buckets) {
        Json b = Json::object();
        b["name"] = bucket.name;
        b["description"] = bucket.description;
        b["enabled"] = bucket.enabled;
        b["topic"] = bucket.topic;
        buckets[id] = std::move(b);
      }
      account_json["buckets"] = std::move(buckets);
    }
    if (!account.dashboards.empty()) {
      Json dashboards = Json::object();
      for (const auto& [id, dashboard] : account.dashboards) {
        Json widgets = Json::array();
        for (const auto& widget : dashboard.widgets) {
          Json w = Json::object();
          w["type"] = widget.type;
          for (const auto& [key, value] : widget.options) w[key] = value;
          widgets.push_back(std::move(w));
        }
        dashboards[id] = Json{{"title", dashboard.title}, {"widgets", std::move(widgets)}};
      }
      account_json["dashboards"] = std::move(dashboards);
    }
    accounts[name] = std::move(account_json);
  }
  root["accounts"] = std::move(accounts);
  if (!m_tokens.empty()) {
    Json tokens = Json::object();
    for (const auto& [name, token] : m_tokens) {
      Json t = Json::object();
      if (token.admin) t["admin"] = true;
      else t["account"] = token.account;
      t["hash"] = token.hash;
      tokens[name] = std::move(t);
    }
    root["tokens"] = std::move(tokens);
  }
  Json rules = Json::array();
  for (const auto& rule : m_rules.rules()) {
    Json r = Json::object();
    r["effect"] = effect_name(rule.effect);
    r["action"] = action_name(rule.action);
    r["topic"] = rule.topic;
    if (!rule.account.empty()) r["account"] = rule.account;
    if (!rule.device.empty()) r["device"] = rule.device;
    rules.push_back(std::move(r));
  }
  root["rules"] = std::move(rules);
  if (m_rules.explicit_default()) root["default_access"] = effect_name(m_rules.default_effect());
  return root.dump(2) + "\n";
}

void Registry::save(const std::filesystem::path& path) const {
  const auto text = to_json();
  const auto directory = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  auto temp_template = (directory / ("." + path.filename().string() + ".XXXXXX")).string();
  const int fd = ::mkstemp(temp_template.data());
  if (fd < 0)
    throw ConfigError("cannot create a temporary file next to the registry: " + system_error(errno), path.string(),
                      "check that the directory exists and is writable");
  const std::string temp = temp_template;
  auto fail = [&](const std::string& what) {
    const int error = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    throw ConfigError(what + ": " + system_error(error), path.string(), "check the disk and the directory permissions");
  };
  if (::fchmod(fd, 0600) != 0) fail("cannot set mode 0600 on the registry");
  std::size_t written = 0;
  while (written < text.size()) {
    const auto n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write the registry");
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) fail("cannot flush the registry to disk");
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    throw ConfigError("cannot write the registry: " + system_error(error), path.string());
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    throw ConfigError("cannot replace the registry: " + system_error(error), path.string(),
                      "check the directory permissions");
  }
  // Make the rename itself durable.
  if (const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY); dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

AuthStatus Registry::authenticate(std::string_view account, std::string_view device_id,
                                  std::string_view password) const noexcept {
  const auto* found_account = find_account(account);
  if (found_account == nullptr) {
    verify_dummy();
    return AuthStatus::unknown_account;
  }
  auto device = found_account->devices.find(device_id);
  if (device == found_account->devices.end()) {
    // Cost what a device of this account costs, so timing does not tell ids apart.
    std::uint32_t iterations = k_default_pbkdf2_iterations;
    if (!found_account->devices.empty()) {
      try {
        iterations = parse_password_hash(found_account->devices.begin()->second.credential).iterations;
      } catch (...) {
      }
    }
    verify_password_dummy(iterations);
    return AuthStatus::unknown_device;
  }
  return verify_password(password, device->second.credential) ? AuthStatus::ok : AuthStatus::wrong_credential;
}

void Registry::verify_dummy() const noexcept {
  // Cost what a registered device costs, so timing does not tell accounts apart.
  std::uint32_t iterations = k_default_pbkdf2_iterations;
  for (const auto& [name, account] : m_accounts) {
    if (account.devices.empty()) continue;
    try {
      iterations = parse_password_hash(account.devices.begin()->second.credential).iterations;
    } catch (...) {
    }
    break;
  }
  verify_password_dummy(iterations);
}

const Account* Registry::find_account(std::string_view name) const noexcept {
  auto it = m_accounts.find(name);
  return it == m_accounts.end() ? nullptr : &it->second;
}

const Device* Registry::find_device(std::string_view account, std::string_view device_id) const noexcept {
  const auto* found = find_account(account);
  if (found == nullptr) return nullptr;
  auto it = found->devices.find(device_id);
  return it == found->devices.end() ? nullptr : &it->second;
}

void Registry::add_device(std::string_view account, Device device) {
  if (!valid_account(account))
    throw ConfigError("invalid account name '" + std::string(account) + "'", "ACCOUNT",
                      "account names are non-empty, without '/', '+', '#' and without a leading '$'");
  if (!valid_device_id(device.id))
    throw ConfigError("invalid device id '" + device.id + "'", "DEVICE", "device ids are non-empty, without '/', '+', '#'");
  if (!valid_password_hash(device.credential)) throw ConfigError("invalid credential hash", "DEVICE");
  auto it = m_accounts.find(account);
  if (it == m_accounts.end()) it = m_accounts.emplace(std::string(account), Account{std::string(account), {}, {}, {}}).first;
  if (it->second.devices.contains(device.id))
    throw ConfigError("device '" + device.id + "' already exists in account '" + std::string(account) + "'", "DEVICE",
                      "use `mqfleet device set-credential` to change its credential, or `rm` it first");
  auto id = device.id;
  it->second.devices.emplace(std::move(id), std::move(device));
}

void Registry::remove_device(std::string_view account, std::string_view device_id) {
  auto it = m_accounts.find(account);
  if (it == m_accounts.end() || !it->second.devices.contains(device_id))
    throw ConfigError("no device '" + std::string(device_id) + "' in account '" + std::string(account) + "'", "DEVICE",
                      "list the devices with `mqfleet device list`");
  it->second.devices.erase(it->second.devices.find(device_id));
  if (it->second.devices.empty() && it->second.buckets.empty()) m_accounts.erase(it);
}

std::pair<const Bucket*, std::string> Registry::find_bucket(std::string_view id) const noexcept {
  for (const auto& [name, account] : m_accounts) {
    if (auto it = account.buckets.find(id); it != account.buckets.end()) return {&it->second, name};
  }
  return {nullptr, {}};
}

void Registry::add_bucket(std::string_view account, Bucket bucket) {
  if (!valid_account(account))
    throw ConfigError("invalid account name '" + std::string(account) + "'", "ACCOUNT",
                      "account names are non-empty, without '/', '+', '#' and without a leading '$'");
  if (!valid_bucket_id(bucket.id))
    throw ConfigError("invalid bucket id '" + bucket.id + "'", "ID", "bucket ids are 1..64 letters, digits, '_', '-' or '.'");
  if (!valid_bucket_topic(bucket.topic))
    throw ConfigError("invalid bucket topic filter '" + bucket.topic + "'", "--topic",
                      "use a topic filter in the account's view such as devices/+/telemetry (no $share/, no $)");
  if (auto [existing, owner] = find_bucket(bucket.id); existing != nullptr)
    throw ConfigError("bucket '" + bucket.id + "' already exists in account '" + owner + "'", "ID",
                      "bucket ids are unique across accounts; choose another id or `rm` it first");
  auto it = m_accounts.find(account);
  if (it == m_accounts.end()) it = m_accounts.emplace(std::string(account), Account{std::string(account), {}, {}, {}}).first;
  auto id = bucket.id;
  it->second.buckets.emplace(std::move(id), std::move(bucket));
}

void Registry::remove_bucket(std::string_view id) {
  for (auto it = m_accounts.begin(); it != m_accounts.end(); ++it) {
    auto found = it->second.buckets.find(id);
    if (found == it->second.buckets.end()) continue;
    it->second.buckets.erase(found);
    if (it->second.devices.empty() && it->second.buckets.empty()) m_accounts.erase(it);
    return;
  }
  throw ConfigError("no bucket '" + std::string(id) + "'", "ID", "list the buckets with `mqfleet bucket list`");
}

void Registry::set_bucket_enabled(std::string_view id, bool enabled) {
  for (auto& [name, account] : m_accounts) {
    if (auto it = account.buckets.find(id); it != account.buckets.end()) {
      it->second.enabled = enabled;
      return;
    }
  }
  throw ConfigError("no bucket '" + std::string(id) + "'", "ID", "list the buckets with `mqfleet bucket list`");
}

void Registry::set_credential(std::string_view account, std::string_view device_id, std::string credential_hash) {
  if (!valid_password_hash(credential_hash)) throw ConfigError("invalid credential hash", "DEVICE");
  auto it = m_accounts.find(account);
  if (it == m_accounts.end() || !it->second.devices.contains(device_id))
    throw ConfigError("no device '" + std::string(device_id) + "' in account '" + std::string(account) + "'", "DEVICE",
                      "list the devices with `mqfleet device list`");
  it->second.devices.find(device_id)->second.credential = std::move(credential_hash);
}

} // namespace mqfleet::broker

namespace mqfleet::broker {

const ApiToken* Registry::find_token(std::string_view token) const noexcept {
  if (token.empty()) return nullptr;
  const std::string hash = hash_api_token(token);
  const ApiToken* found = nullptr;
  for (const auto& [name, entry] : m_tokens)
    if (token_hashes_equal(entry.hash, hash)) found = &entry;
  return found;
}

void Registry::add_token(ApiToken token) {
  if (!valid_token_name(token.name))
    throw ConfigError("invalid token name '" + token.name + "'", "NAME", "use 1..64 letters, digits, '_', '-', '.'");
  if (!token.admin && !valid_account(token.account))
    throw ConfigError("invalid account '" + token.account + "'", "ACCOUNT", "give the account the token belongs to");
  if (m_tokens.contains(token.name))
    throw ConfigError("a token named '" + token.name + "' exists", "NAME",
                      "choose another name or remove it with `mqfleet token rm`");
  auto name = token.name;
  m_tokens.emplace(std::move(name), std::move(token));
}

void Registry::remove_token(std::string_view name) {
  auto it = m_tokens.find(name);
  if (it == m_tokens.end())
    throw ConfigError("no token '" + std::string(name) + "'", "NAME", "list the tokens with `mqfleet token list`");
  m_tokens.erase(it);
}

} // namespace mqfleet::broker

namespace mqfleet::broker {

bool valid_widget_type(std::string_view type) noexcept {
  for (std::string_view known : {"timeseries", "gauge", "value", "led", "table", "switch", "slider", "map"})
    if (type == known) return true;
  return false;
}

Widget parse_widget(std::string_view spec) {
  Widget widget;
  std::string last_key;
  while (!spec.empty()) {
    const auto comma = spec.find(',');
    const auto piece = spec.substr(0, comma);
    const auto eq = piece.find('=');
    if (eq == std::string_view::npos) {
      if (last_key.empty() || piece.empty())
        throw ConfigError("invalid widget '" + std::string(spec) + "'", "--widget",
                          "give key=value pairs such as type=gauge,bucket=W,field=temperature");
      widget.options[last_key] += "," + std::string(piece);
    } else {
      const std::string key(piece.substr(0, eq));
      const std::string value(piece.substr(eq + 1));
      if (key.empty()) throw ConfigError("empty key in widget", "--widget", "give key=value pairs");
      if (key == "type") {
        widget.type = value;
        last_key.clear();
      } else {
        widget.options[key] = value;
        last_key = key;
      }
    }
    if (comma == std::string_view::npos) break;
    spec.remove_prefix(comma + 1);
  }
  if (!valid_widget_type(widget.type))
    throw ConfigError("invalid widget type '" + widget.type + "'", "--widget",
                      "use type=timeseries, gauge, value, led, table, map, switch or slider");
  return widget;
}

void Registry::put_dashboard(std::string_view account, Dashboard dashboard) {
  if (!valid_account(account))
    throw ConfigError("invalid account name '" + std::string(account) + "'", "ACCOUNT",
                      "account names are non-empty, without '/', '+', '#' and without a leading '$'");
  if (!valid_bucket_id(dashboard.id))
    throw ConfigError("invalid dashboard id '" + dashboard.id + "'", "ID", "use 1..64 letters, digits, '_', '-' or '.'");
  for (const auto& widget : dashboard.widgets)
    if (!valid_widget_type(widget.type))
      throw ConfigError("invalid widget type '" + widget.type + "'", "--widget",
                        "use timeseries, gauge, value, led, table, map, switch or slider");
  auto it = m_accounts.find(account);
  if (it == m_accounts.end()) it = m_accounts.emplace(std::string(account), Account{std::string(account), {}, {}, {}}).first;
  auto id = dashboard.id;
  it->second.dashboards.insert_or_assign(std::move(id), std::move(dashboard));
}

void Registry::remove_dashboard(std::string_view account, std::string_view id) {
  auto it = m_accounts.find(account);
  if (it == m_accounts.end() || it->second.dashboards.erase(std::string(id)) == 0)
    throw ConfigError("no dashboard '" + std::string(id) + "' in account '" + std::string(account) + "'", "ID",
                      "list them with `mqfleet dashboard list`");
}

} // namespace mqfleet::broker
