#pragma once
// The scenario model: what `mqfleet sim` runs. Plain data produced by scenario_loader.hpp;
// every template and payload is already compiled, every unit already parsed.

#include <mqfleet/profile.hpp>
#include <mqfleet/sim/device.hpp>
#include <mqfleet/sim/payload.hpp>
#include <mqfleet/sim/template.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mqfleet::sim {

using Millis = std::chrono::milliseconds;

/// A duration picked uniformly in [min, max] (equal when written as one duration).
struct DurationRange {
  Millis min{0};
  Millis max{0};
};

/// The broker connection shared by every fleet: a stored profile name, or inline fields.
struct ConnectionSpec {
  std::string profile;               ///< profile name to load from the store; empty = none
  std::string preset;                ///< preset to start from ("thinger"); empty = none
  ConnectionProfile settings;        ///< inline fields (defaults where not written)
  std::vector<std::string> explicit_keys; ///< inline keys written in the file, to overlay on `profile`
};

/// How a device's credential (password) is obtained.
enum class CredentialKind {
  none,        ///< no password
  literal,     ///< the same text for every device (`value` holds it)
  env,         ///< read from environment variable `env_name`
  templated,   ///< expanded per device from `value` ("secret-{device}")
  provisioned, ///< generated and registered by `sim --provision`
};

/// A fleet's credential setting.
struct CredentialSpec {
  CredentialKind kind = CredentialKind::none;
  Template value;
  std::string env_name;
};

/// The last will, published by the broker when a device drops without DISCONNECT, and the
/// optional message the device publishes to the same topic after connecting.
struct WillSpec {
  Template topic;
  std::string payload = "offline";
  std::optional<std::string> online_payload;
  int qos = 1;
  bool retain = true;
};

/// A telemetry period: `every`, each occurrence shifted by up to ±`jitter`.
struct PeriodSpec {
  Millis every{10'000};
  Millis jitter{0};
};

/// A periodic publication of a fleet's devices.
struct TelemetrySpec {
  std::string name;
  Template topic;
  PeriodSpec period;
  int qos = 0;
  bool retain = false;
  PayloadTemplate payload;
};

/// A publication made in answer to a command.
struct ReplySpec {
  Template topic;
  int qos = 0;
  bool retain = false;
  PayloadTemplate payload;
};

/// A device field a command changes; `value` may use {request.<field>}.
struct FieldChange {
  std::string field;
  std::size_t slot = 0; ///< index into FleetSpec::field_names
  PayloadTemplate value;
};

/// A command each device subscribes to and answers.
struct CommandSpec {
  std::string name;
  Template topic;
  int qos = 0;
  DurationRange delay;
  std::optional<ReplySpec> reply;
  std::vector<FieldChange> set;
};

/// Devices going offline cleanly (DISCONNECT) now and then.
struct OfflineCycles {
  double probability = 0;  ///< chance per device per `every`
  Millis every{60'000};
  DurationRange duration;
};

/// Devices dropping abruptly (no DISCONNECT, so wills fire) now and then.
struct Drops {
  double probability = 0;  ///< chance per device per `every`
  Millis every{60'000};
  DurationRange reconnect_after;
};

/// At `at`, a `fraction` of the devices drop abruptly and reconnect all at once.
struct ReconnectStorm {
  Millis at{0};
  double fraction = 1;
  DurationRange down_for;
};

/// Failure rehearsal of a fleet.
struct BehaviourSpec {
  std::optional<OfflineCycles> offline;
  std::optional<Drops> drops;
  std::vector<ReconnectStorm> storms;
};

/// A group of identical devices.
struct FleetSpec {
  std::string name;
  std::uint64_t count = 1;
  std::uint64_t first_index = 0;
  Template device_id;
  /// Expands to "" when neither the fleet nor an inline connection names an account:
  /// the runner then uses the stored profile's username.
  Template account;
  /// Kind `none`: the runner uses the connection's credential.
  CredentialSpec credential;
  double connect_rate = 0; ///< connections per second; 0 = as fast as possible
  std::optional<int> keepalive_seconds;
  std::optional<bool> clean_session;
  std::optional<WillSpec> will;
  std::vector<std::string> field_names;    ///< the device's own fields
  std::vector<PayloadTemplate> field_init; ///< their initial values, same order
  std::vector<TelemetrySpec> telemetry;
  std::vector<CommandSpec> commands;
  BehaviourSpec behaviour;
};

/// Pass/fail thresholds that decide the exit code of a run.
struct ExpectSpec {
  std::optional<double> max_error_rate; ///< failed / attempted operations, 0..1
  std::optional<double> min_delivered;  ///< acknowledged / published, 0..1
  std::optional<Millis> max_command_rtt_p99;
};

/// When the run stops and how it is judged.
struct RunSpec {
  std::optional<Millis> duration;
  std::optional<std::uint64_t> messages; ///< total telemetry messages across fleets
  std::optional<std::uint64_t> seed;     ///< unset: the runner picks one and reports it
  ExpectSpec expect;
};

/// Stream numbers used to seed generators: telemetry i uses i, command i uses
/// k_command_stream_base + i, field initial values use k_field_stream.
inline constexpr std::uint64_t k_command_stream_base = 1u << 20;
inline constexpr std::uint64_t k_field_stream = 1u << 30;

/// A whole validated scenario.
struct Scenario {
  std::string file;
  std::string name;
  std::string description;
  ConnectionSpec connection;
  std::vector<FleetSpec> fleets;
  RunSpec run;

  /// Total devices over all fleets.
  std::uint64_t device_count() const noexcept;
  /// The device at position `n` (0-based) of fleet `fleet`: its index, account, id and
  /// initial field values (rendered with `seed`).
  DeviceState make_device(std::size_t fleet, std::uint64_t n, std::uint64_t seed) const;
};

} // namespace mqfleet::sim
