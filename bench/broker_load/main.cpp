// broker_load: drives an MQTT broker with publishers and subscribers (or idle clients)
// and prints one JSON line of results. bench/broker_vs_mosquitto.sh runs it against
// mosquitto and `mqfleet broker` with the same arguments.

#include "load_client.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  mqfleet::bench::LoadOptions options;
  int idle = 0;
  CLI::App app{"MQTT 3.1.1 broker load client (epoll, batched writes)"};
  app.set_help_flag("--help");
  app.add_option("-h,--host", options.host, "broker IPv4 address");
  app.add_option("-p,--port", options.port, "broker port")->required();
  app.add_option("--publishers", options.publishers);
  app.add_option("--subscribers", options.subscribers);
  app.add_option("-q,--qos", options.qos)->check(CLI::Range(0, 1));
  app.add_option("--messages", options.messages, "messages per publisher");
  app.add_option("--payload", options.payload_size, "payload bytes (>= 16)");
  app.add_option("--window", options.window, "end-to-end in-flight messages per publisher");
  app.add_option("--topic", options.topic);
  app.add_flag("--json", options.json, "JSON-object payloads (for data buckets)");
  app.add_option("--rate", options.rate, "total publishes per second (open loop within the window); 0 = closed loop")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--username", options.username, "CONNECT username (account)");
  app.add_option("--password", options.password, "CONNECT password");
  app.add_option("--id-prefix", options.id_prefix, "client ids <prefix>p<N> / <prefix>s<N>");
  app.add_option("--stall", options.stall_seconds, "seconds without progress before giving up");
  app.add_option("--idle", idle, "open this many idle connections, print a line, hold until stdin closes");
  CLI11_PARSE(app, argc, argv);
  try {
    if (idle > 0) {
      mqfleet::bench::run_idle(
          options, idle,
          [](int n) { std::cout << fmt::format("{{\"event\":\"idle_ready\",\"connections\":{}}}", n) << std::endl; },
          [] {
            pollfd in{0, POLLIN, 0};
            if (::poll(&in, 1, 0) <= 0) return true;
            char c;
            return ::read(0, &c, 1) > 0;
          });
      return 0;
    }
    const auto r = mqfleet::bench::run_load(options);
    std::cout << fmt::format("{{\"publishers\":{},\"subscribers\":{},\"qos\":{},\"sent\":{},\"expected\":{},"
                             "\"received\":{},\"seconds\":{:.3f},\"msg_per_s\":{:.0f},\"p50_us\":{:.0f},"
                             "\"p99_us\":{:.0f},\"stalled\":{}}}",
                             options.publishers, options.subscribers, options.qos, r.sent, r.expected, r.received,
                             r.seconds, r.deliveries_per_second, r.p50_us, r.p99_us, r.stalled)
              << std::endl;
    return r.stalled ? 3 : 0;
  } catch (const std::exception& error) {
    std::cerr << "broker_load: error: " << error.what() << "\n";
    return 1;
  }
}
