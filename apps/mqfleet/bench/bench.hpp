#pragma once
// `mqfleet bench conn|pub|sub|pubsub|merge`: broker load testing in emqtt-bench's
// spirit, on the fast engine (lib/engine) or, for comparison, on Paho (`--engine paho`).
// Statistics, reports and HTML come from lib/bench.

#include "connection_flags.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mqfleet::cli {

/// Options of `mqfleet bench <mode>`, as parsed.
struct BenchOptions {
  std::string mode;                      ///< conn, pub, sub, pubsub or merge
  ConnectionFlags connection;            ///< -h -p -V -k --tls --cafile ... (-u/-P are templates)
  std::uint64_t clients = 1;             ///< -c: connections (publishers in pubsub)
  std::uint64_t subscribers = 1;         ///< --subscribers (pubsub)
  double connect_rate = 0;               ///< -R: connections per second (0 = all at once)
  double interval_ms = 0;                ///< -I: ms between messages per client
  double rate = 0;                       ///< --rate: total messages per second over all clients
  std::size_t payload_size = 256;        ///< -s
  int qos = 0;                           ///< -q
  std::string topic = "bench/%i";        ///< -t: publish topic or subscription filter template
  std::string sub_topic;                 ///< --sub-topic (pubsub): default = -t with templated levels as +
  std::string client_id = "mqfleet-bench-%i"; ///< --client-id template
  std::optional<double> duration;        ///< --duration seconds (after the warmup)
  double warmup = 0;                     ///< --warmup seconds excluded from statistics
  std::size_t inflight = 100;            ///< --inflight: QoS 1/2 window per client
  std::uint64_t count = 0;               ///< --count: messages per publisher (per subscriber in sub)
  std::vector<std::string> bind;         ///< --bind a,b: source addresses, round-robin
  std::string shard = "0/1";             ///< --shard K/N
  unsigned threads = 0;                  ///< --threads (0 = one per CPU)
  std::string report;                    ///< --report FILE.json
  std::string html;                      ///< --html FILE
  std::string engine = "fast";           ///< --engine fast|paho
  double drain_timeout = 10;             ///< --drain-timeout seconds
  bool quiet = false;                    ///< --quiet: no summary table
  std::vector<std::string> inputs;       ///< merge: report files
};

/// Adds the `bench` command with its mode subcommands to `app`.
void setup_bench(CLI::App& app);

/// Runs `bench`; returns the exit code.
int run_bench(const BenchOptions& options);

} // namespace mqfleet::cli
