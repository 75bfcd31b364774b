#pragma once
// An MQTT 3.1.1 load generator on one epoll thread: S subscribers and P publishers on
// one topic; each publisher keeps at most `window` messages in flight end to end (sent
// but not yet received by every subscriber), so the measured rate is what the broker
// sustains and latency is not just queueing in an unbounded backlog. Payloads carry the
// send time; latency is measured per delivery in the same process (one clock).

#include <cstdint>
#include <functional>
#include <string>

namespace mqfleet::bench {

/// What to run.
struct LoadOptions {
  std::string host = "127.0.0.1";
  int port = 1883;
  int publishers = 50;
  int subscribers = 1;
  int qos = 0;                    ///< 0 or 1, for publishing and subscribing
  std::uint64_t messages = 20000; ///< per publisher
  std::size_t payload_size = 64;  ///< bytes (at least 16: publisher index + send time)
  std::uint64_t window = 32;      ///< per publisher, end-to-end in-flight messages
  std::string topic = "bench/load";
  double stall_seconds = 15;      ///< give up after this long without a delivery
  int max_connecting = 256;       ///< connection attempts in progress at once
  bool json = false;              ///< payloads are JSON objects (index and send time as hex)
  double rate = 0;                ///< total publishes per second over all publishers; 0 = closed loop only
  std::string username;           ///< CONNECT username (account); empty = none
  std::string password;           ///< CONNECT password
  std::string id_prefix;          ///< client ids are <prefix>p<N> / s<N>; empty = bl-<pid>-
};

/// What happened.
struct LoadResult {
  std::uint64_t sent = 0;
  std::uint64_t expected = 0; ///< deliveries: publishers * messages * subscribers
  std::uint64_t received = 0;
  double seconds = 0;         ///< first publish to last delivery
  double deliveries_per_second = 0;
  double p50_us = 0;
  double p99_us = 0;
  bool stalled = false;
};

/// Connects everything, runs the load and returns the figures (with BROKER_LOAD_DEBUG set,
/// a stalled run prints every connection's counters to stderr). Throws std::runtime_error
/// when connections fail.
LoadResult run_load(const LoadOptions& options);

/// Opens `connections` idle clients (keepalive 0), calls `ready` once all have their
/// CONNACK, and keeps them open until `hold` returns false (polled every 100 ms).
void run_idle(const LoadOptions& options, int connections, const std::function<void(int)>& ready,
              const std::function<bool()>& hold);

} // namespace mqfleet::bench
