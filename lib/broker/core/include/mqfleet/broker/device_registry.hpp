#pragma once
// The device registry: accounts, their devices and credential hashes, and the access
// rules, stored as one JSON file (docs/registry.md documents the format). A Registry is a
// value: the broker loads one and shares it as std::shared_ptr<const Registry>, swapping
// the pointer on reload (SIGHUP); `mqfleet device` edits a copy and saves it atomically.

#include <mqfleet/broker/access_rules.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mqfleet::broker {

/// One device of an account.
struct Device {
  std::string id;          ///< the MQTT client id
  std::string description; ///< free text
  std::string credential;  ///< `$7$...` hash (credentials.hpp); never the secret
};

/// A data bucket: stores every JSON PUBLISH of its account whose topic matches `topic`
/// as a time-series point (docs/buckets.md). Ids are unique across the registry.
struct Bucket {
  std::string id;          ///< unique id (letters, digits, '_', '-', '.'; 1..64 bytes)
  std::string name;        ///< display name
  std::string description; ///< free text
  bool enabled = true;     ///< disabled buckets store nothing
  std::string topic;       ///< source topic filter in the account's view (wildcards allowed)
};

/// One widget of a dashboard: its type (timeseries, gauge, value, led, table, switch,
/// slider) and its options as given (`bucket`, `field`, `fields`, `min`, `max`, `unit`,
/// `topic`, `device`, ...; docs/broker.md, "Dashboards").
struct Widget {
  std::string type;
  std::map<std::string, std::string, std::less<>> options;
};

/// A dashboard of an account, served at /console/{account}/dashboards/{id}.
struct Dashboard {
  std::string id;
  std::string title;
  std::vector<Widget> widgets;
};

/// One account (the MQTT username), its devices keyed by device id, its buckets keyed by
/// bucket id and its dashboards keyed by dashboard id.
struct Account {
  std::string name;
  std::map<std::string, Device, std::less<>> devices;
  std::map<std::string, Bucket, std::less<>> buckets;
  std::map<std::string, Dashboard, std::less<>> dashboards;
};

/// The widget types a dashboard may hold.
bool valid_widget_type(std::string_view type) noexcept;

/// Parses a `--widget` argument: `type=gauge,bucket=W,field=t,min=0,max=50`. A piece
/// without '=' continues the previous value (`fields=temperature,humidity`). Throws
/// ConfigError naming the problem.
Widget parse_widget(std::string_view spec);

/// An API token for the broker's HTTP listener (docs/broker.md, "Tokens"). Only the
/// token's hash is stored; the token itself is shown once, by `mqfleet token add`.
struct ApiToken {
  std::string name;    ///< unique across the registry
  std::string account; ///< the account it reads and writes; empty for an admin token
  bool admin = false;  ///< admin tokens read /metrics and no account's data
  std::string hash;    ///< "sha256:<hex>" of the token (api_tokens.hpp)
};

/// The outcome of authenticate().
enum class AuthStatus : std::uint8_t {
  ok,
  unknown_account,  ///< the username is not an account
  unknown_device,   ///< the client id is not a device of that account
  wrong_credential, ///< the password does not match (or is missing)
};

/// A short text for logs: "ok", "unknown account", "unknown device", "wrong credential".
std::string_view to_string(AuthStatus status) noexcept;

/// The registry snapshot.
class Registry {
public:
  /// The file format version written by save().
  static constexpr int k_format_version = 1;

  /// An empty registry.
  Registry() = default;

  /// Reads and validates `path`. Throws ConfigError naming the file and the JSON path
  /// (e.g. `/accounts/acme/devices/d1/credential`) of the first problem.
  static Registry load(const std::filesystem::path& path);
  /// Parses registry JSON text; `source` names it in errors.
  static Registry parse(std::string_view json_text, const std::string& source = "registry");
  /// The registry as JSON text (what save() writes).
  std::string to_json() const;
  /// Writes atomically: temporary file in the same directory, fsync, rename, mode 0600.
  /// Throws ConfigError on failure (the original file is then untouched).
  void save(const std::filesystem::path& path) const;

  /// Spends what verifying a registered device's credential costs, without a device
  /// (CONNECTs without a username or with an unknown account).
  void verify_dummy() const noexcept;
  /// Checks a CONNECT: username = account, client id = device, password = credential.
  /// Unknown accounts/devices take as long as a wrong credential.
  AuthStatus authenticate(std::string_view account, std::string_view device_id,
                          std::string_view password) const noexcept;

  /// Every account by name.
  const std::map<std::string, Account, std::less<>>& accounts() const noexcept { return m_accounts; }
  /// An account, or null.
  const Account* find_account(std::string_view name) const noexcept;
  /// A device, or null.
  const Device* find_device(std::string_view account, std::string_view device_id) const noexcept;
  /// The access rules.
  const AccessRules& rules() const noexcept { return m_rules; }
  /// The API tokens by name.
  const std::map<std::string, ApiToken, std::less<>>& tokens() const noexcept { return m_tokens; }
  /// The API token whose hash matches `token`, or null (compares every stored hash in
  /// constant time, so the answer's timing says nothing about which one matched).
  const ApiToken* find_token(std::string_view token) const noexcept;
  /// Adds a token (its hash). Throws ConfigError when the name exists or is invalid, or
  /// when a non-admin token names no account.
  void add_token(ApiToken token);
  /// Removes a token. Throws ConfigError when it does not exist.
  void remove_token(std::string_view name);

  // --- editing (used by `mqfleet device`; the broker never edits) ----------------------
  /// Adds a device (creating the account). Throws ConfigError when it exists or a name
  /// is invalid.
  void add_device(std::string_view account, Device device);
  /// Removes a device (and the account when it becomes empty). Throws ConfigError when
  /// it does not exist.
  void remove_device(std::string_view account, std::string_view device_id);
  /// Replaces a device's credential hash. Throws ConfigError when it does not exist.
  void set_credential(std::string_view account, std::string_view device_id, std::string credential_hash);
  /// Replaces the access rules.
  void set_rules(AccessRules rules) { m_rules = std::move(rules); }

  // --- buckets (used by `mqfleet bucket`) ------------------------------------------------
  /// A bucket by id and its account's name, or {null, ""}.
  std::pair<const Bucket*, std::string> find_bucket(std::string_view id) const noexcept;
  /// Adds a bucket to an account (creating the account). Throws ConfigError when the id
  /// exists anywhere or the id/topic is invalid.
  void add_bucket(std::string_view account, Bucket bucket);
  /// Removes a bucket (and the account when it has neither devices nor buckets left).
  /// Throws ConfigError when it does not exist.
  void remove_bucket(std::string_view id);
  /// Adds or replaces a dashboard of an account (creating the account). Throws ConfigError
  /// when the id or a widget is invalid.
  void put_dashboard(std::string_view account, Dashboard dashboard);
  /// Removes a dashboard. Throws ConfigError when it does not exist.
  void remove_dashboard(std::string_view account, std::string_view id);
  /// Enables or disables a bucket. Throws ConfigError when it does not exist.
  void set_bucket_enabled(std::string_view id, bool enabled);

private:
  std::map<std::string, Account, std::less<>> m_accounts;
  std::map<std::string, ApiToken, std::less<>> m_tokens;
  AccessRules m_rules;
};

/// A shared immutable snapshot, swapped on reload.
using RegistryPtr = std::shared_ptr<const Registry>;

/// True when `id` can be a bucket id: 1..64 bytes of letters, digits, '_', '-', '.'.
bool valid_bucket_id(std::string_view id) noexcept;

/// True when `filter` can be a bucket's source filter: a valid topic filter, not shared,
/// not a `$` topic.
bool valid_bucket_topic(std::string_view filter) noexcept;

/// True when `id` can be a device id: 1..65535 bytes, no NUL, no `/`, `+`, `#`.
bool valid_device_id(std::string_view id) noexcept;

} // namespace mqfleet::broker
