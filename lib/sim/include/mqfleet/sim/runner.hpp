#pragma once
// Runs a scenario: the devices spread over a few shards, each shard one thread with its
// own transport (event loop) and timer queue. The caller's thread watches the clock, the
// stop token and the message budget, and reports progress through a callback (libraries
// never print).

#include <mqfleet/sim/run_report.hpp>
#include <mqfleet/scenario/scenario.hpp>
#include <mqfleet/sim/shard.hpp>
#include <mqfleet/sim/transport.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>

namespace mqfleet::sim {

/// How to run a scenario, beyond what the file says.
struct RunOptions {
  std::size_t threads = 2;                    ///< shards (event loop threads)
  std::optional<Millis> duration;             ///< overrides run.duration
  std::optional<std::uint64_t> messages;      ///< overrides run.messages
  std::uint64_t seed = 0;                     ///< the seed to use (run.seed or a picked one)
  /// `--shard K/N`: run slice K of every fleet (bench::shard_range of its positions); the
  /// message limit is split the same way. 0/1 runs everything.
  bench::Shard slice;
  /// `--start-at`: the wall clock (Unix ms) of elapsed 0, shared by every shard of a run.
  /// The ramp, storms, run.duration and timestamps count from it; the run waits for it,
  /// and a process started after it catches up (what is due fires at once). Unset: now.
  std::optional<std::int64_t> start_unix_ms;
  TransportFactory transport;                 ///< makes each shard's engine
  CredentialFn credential;                    ///< device passwords; see RunSettings
  Millis drain_timeout{5000};                 ///< wait this long for acknowledgements at the end
  Millis tick{5};                             ///< timer resolution of the shards
  std::stop_token stop;                       ///< stop early (SIGINT): a graceful stop with a report
};

/// A moment of a run, for a live status line.
struct Progress {
  std::optional<Millis> starts_in;           ///< set while waiting for --start-at
  Millis elapsed{0};
  std::optional<Millis> remaining;
  std::uint64_t devices = 0;
  std::uint64_t online = 0;
  std::uint64_t published = 0;
  std::uint64_t acknowledged = 0;
  std::uint64_t errors = 0;
  std::uint64_t commands_answered = 0;
  bool stopping = false;
};

/// Called on the caller's thread about every `progress_interval`.
using ProgressFn = std::function<void(const Progress&)>;

/// Runs `scenario` (the options' slice of it) against the broker of `connection` until its
/// duration, its message count or a stop request; returns the report with the
/// expectations evaluated. Throws ConfigError when the options cannot work (no
/// transport, zero threads).
RunReport run_scenario(const Scenario& scenario, const ConnectionProfile& connection, const RunOptions& options,
                       const ProgressFn& progress = {}, Millis progress_interval = Millis(250));

} // namespace mqfleet::sim
