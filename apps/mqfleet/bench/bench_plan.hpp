#pragma once
// What a bench run does, resolved from BenchOptions: the broker, the clients of this
// shard, the rates and the templates. Shared by the fast and the Paho runners.

#include <mqfleet/bench/report.hpp>
#include <mqfleet/bench/shard.hpp>
#include <mqfleet/profile.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace mqfleet::cli {

/// A resolved bench run.
struct BenchPlan {
  std::string mode;                     ///< conn, pub, sub, pubsub
  ConnectionProfile profile;            ///< host, port, TLS, version, keepalive
  std::string username_template;        ///< may contain %i %c
  std::string password_template;        ///< resolved secret; may contain %i %c %u
  std::string client_id_template;
  std::string topic_template;           ///< publishers' topic (sub: the filter)
  std::string filter_template;          ///< subscribers' filter (sub, pubsub)
  bench::Shard shard;
  bench::ClientRange publishers;        ///< global publisher indexes of this shard
  bench::ClientRange subscribers;       ///< global subscriber indexes of this shard (sub, pubsub)
  double connect_rate = 0;              ///< per process; 0 = all at once
  double per_client_rate = 0;           ///< messages/s per publisher; 0 = closed loop
  std::size_t payload_size = 0;
  int qos = 0;
  double duration = 10;                 ///< measured seconds; conn: hold time
  bool duration_given = false;
  double warmup = 0;
  std::size_t inflight = 100;
  std::uint64_t count = 0;              ///< 0 = unlimited
  std::vector<std::string> bind;
  unsigned threads = 0;
  double drain_timeout = 10;
  bool live_status = false;             ///< stderr is a TTY
  nlohmann::json config;                ///< for the report (no secrets)

  /// Client id, username, password and topic of a client.
  struct Identity {
    std::string client_id, username, password, topic;
  };
  /// The identity of publisher (or conn client) `index`, or of subscriber `index`.
  Identity identity(std::uint64_t index, bool subscriber) const;
};

/// Runs the plan on the fast engine; throws mqfleet errors.
bench::Report run_fast_engine(const BenchPlan& plan);

/// Runs the plan on Paho (conn and pub only); throws ConfigError for other modes.
bench::Report run_paho_engine(const BenchPlan& plan);

/// Pre-flight: checks the open-file limit (raising the soft limit when the hard one
/// allows) and the local port range against the connection count. Throws ConfigError
/// with advice when the run cannot work; returns warnings to print.
std::vector<std::string> preflight(const BenchPlan& plan);

/// Generator CPU time (user + system) of this process so far, in seconds.
double process_cpu_seconds();

} // namespace mqfleet::cli
