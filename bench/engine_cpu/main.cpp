// engine_cpu: measures the fast engine's CPU cost per QoS 0 message, lib/client's Paho
// Connection's for comparison, and the fast engine's memory per idle connection.
// Driven by bench/engine_vs_paho.sh; prints one `key=value` result line per run.
//
//   engine_cpu engine --port P [--host H] [-n messages] [-c clients] [-s size] [-t threads]
//   engine_cpu paho   --port P [--host H] [-n messages] [-s size]
//   engine_cpu idle   --port P --hosts a,b --bind x,y -c connections [--hold seconds] [-t threads]
#include <mqfleet/connection.hpp>
#include <mqfleet/engine/pool.hpp>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace mqfleet;
using namespace std::chrono_literals;

namespace {

struct Options {
  std::string host = "127.0.0.1";
  std::string hosts;
  std::string bind;
  int port = 1883;
  long long messages = 1'000'000;
  int clients = 4;
  int size = 64;
  unsigned threads = 1;
  int hold_seconds = 5;
};

double cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    const auto comma = text.find(',', start);
    parts.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return parts;
}

/// Publishes its share in batches: a new batch whenever the previous one was written.
class Publisher final : public engine::ClientHandler {
public:
  Publisher(long long quota, const std::string& payload, std::atomic<long long>& written,
            std::atomic<int>& done)
      : m_quota(quota), m_payload(payload), m_written(written), m_done(done) {}
  void on_connected(engine::Client& client, const engine::ConnackInfo&) override { batch(client); }
  void on_qos0_written(engine::Client& client, std::uint32_t count) override {
    m_written += count;
    m_acked += count;
    if (m_acked >= m_quota) {
      ++m_done;
      return;
    }
    batch(client);
  }
  void on_connect_failed(engine::Client&, const engine::ConnectFailure& f) override {
    fmt::print(stderr, "engine_cpu: connect failed ({}): {}\n", f.stage, f.message);
    ++m_done;
  }

private:
  void batch(engine::Client& client) {
    for (int i = 0; i < 512 && m_sent < m_quota; ++i, ++m_sent) {
      client.publish("bench/engine", m_payload, mqtt::QoS::at_most_once);
    }
  }
  long long m_quota;
  long long m_sent = 0;
  long long m_acked = 0;
  const std::string& m_payload;
  std::atomic<long long>& m_written;
  std::atomic<int>& m_done;
};

int run_engine(const Options& o) {
  const std::string payload(static_cast<std::size_t>(o.size), 'x');
  std::atomic<long long> written{0};
  std::atomic<int> done{0};
  engine::EnginePool pool(o.threads);
  std::vector<std::unique_ptr<Publisher>> handlers;
  std::vector<engine::Client*> clients;
  for (int i = 0; i < o.clients; ++i) {
    const long long quota = o.messages / o.clients + (i < o.messages % o.clients ? 1 : 0);
    handlers.push_back(std::make_unique<Publisher>(quota, payload, written, done));
    engine::ClientOptions options;
    options.host = o.host;
    options.port = static_cast<std::uint16_t>(o.port);
    options.client_id = fmt::format("engine-cpu-{}", i);
    clients.push_back(&pool.add_client(options, *handlers.back()));
  }
  const double cpu_start = cpu_seconds();
  const auto wall_start = std::chrono::steady_clock::now();
  pool.start();
  for (auto* c : clients) pool.post_to(*c, [](engine::Client& client) { client.connect(); });
  while (done.load() < o.clients) std::this_thread::sleep_for(1ms);
  const double cpu = cpu_seconds() - cpu_start;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  for (auto* c : clients) pool.post_to(*c, [](engine::Client& client) { client.disconnect(); });
  std::this_thread::sleep_for(100ms);
  pool.stop();
  fmt::print("engine messages={} cpu_s={:.3f} wall_s={:.3f} msgs_per_cpu_s={:.0f} us_per_msg={:.3f}\n",
             written.load(), cpu, wall, static_cast<double>(written.load()) / cpu,
             cpu * 1e6 / static_cast<double>(written.load()));
  return written.load() == o.messages ? 0 : 1;
}

int run_paho(const Options& o) {
  ConnectionProfile profile;
  profile.host = o.host;
  profile.port = o.port;
  profile.client_id = "engine-cpu-paho";
  Connection connection(profile);
  const double cpu_start = cpu_seconds();
  const auto wall_start = std::chrono::steady_clock::now();
  connection.connect();
  OutgoingMessage message;
  message.topic = "bench/engine";
  message.payload.assign(static_cast<std::size_t>(o.size), 'x');
  for (long long i = 0; i < o.messages; ++i) connection.publish(message);
  connection.disconnect(60s);
  const double cpu = cpu_seconds() - cpu_start;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  fmt::print("paho messages={} cpu_s={:.3f} wall_s={:.3f} msgs_per_cpu_s={:.0f} us_per_msg={:.3f}\n",
             o.messages, cpu, wall, static_cast<double>(o.messages) / cpu,
             cpu * 1e6 / static_cast<double>(o.messages));
  return 0;
}

/// Counts idle connections.
class Idle final : public engine::ClientHandler {
public:
  std::atomic<int> connected{0};
  std::atomic<int> failed{0};
  void on_connected(engine::Client&, const engine::ConnackInfo&) override { ++connected; }
  void on_connect_failed(engine::Client&, const engine::ConnectFailure& f) override {
    if (failed++ < 5) fmt::print(stderr, "engine_cpu: connect failed ({}): {}\n", f.stage, f.message);
  }
};

int run_idle(const Options& o) {
  const auto hosts = split(o.hosts.empty() ? o.host : o.hosts);
  const auto binds = split(o.bind);
  Idle handler;
  engine::EnginePool pool(o.threads);
  const long rss_before = rss_kib();
  std::vector<engine::Client*> clients;
  clients.reserve(static_cast<std::size_t>(o.clients));
  for (int i = 0; i < o.clients; ++i) {
    engine::ClientOptions options;
    options.host = hosts[static_cast<std::size_t>(i) % hosts.size()];
    if (!binds.empty()) options.bind_address = binds[static_cast<std::size_t>(i / static_cast<int>(hosts.size())) % binds.size()];
    options.port = static_cast<std::uint16_t>(o.port);
    options.client_id = fmt::format("idle-{}", i);
    options.keepalive_seconds = 120;
    clients.push_back(&pool.add_client(options, handler));
  }
  pool.start();
  const auto wall_start = std::chrono::steady_clock::now();
  // Connect in steps of 1,000 so the broker's accept backlog never overflows.
  for (int i = 0; i < o.clients; ++i) {
    pool.post_to(*clients[static_cast<std::size_t>(i)], [](engine::Client& c) { c.connect(); });
    if (i % 1000 == 999) {
      while (handler.connected + handler.failed < i - 2000) std::this_thread::sleep_for(1ms);
    }
  }
  while (handler.connected + handler.failed < o.clients) std::this_thread::sleep_for(10ms);
  const double connect_wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  std::this_thread::sleep_for(std::chrono::seconds(o.hold_seconds));
  const long rss_after = rss_kib();
  fmt::print("idle connections={} failed={} connect_wall_s={:.2f} rss_before_kib={} rss_after_kib={} "
             "bytes_per_connection={:.0f}\n",
             handler.connected.load(), handler.failed.load(), connect_wall, rss_before, rss_after,
             static_cast<double>(rss_after - rss_before) * 1024.0 / std::max(1, handler.connected.load()));
  pool.stop();
  return handler.failed.load() == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"CPU and memory of the fast engine vs Paho"};
  Options o;
  app.require_subcommand(1);
  app.set_help_flag("--help");
  for (const char* name : {"engine", "paho", "idle"}) {
    auto* sub = app.add_subcommand(name);
    sub->set_help_flag("--help");
    sub->add_option("-h,--host", o.host);
    sub->add_option("--hosts", o.hosts, "Target addresses, comma-separated (idle)");
    sub->add_option("--bind", o.bind, "Source addresses, comma-separated (idle)");
    sub->add_option("-p,--port", o.port);
    sub->add_option("-n,--messages", o.messages);
    sub->add_option("-c,--clients", o.clients);
    sub->add_option("-s,--size", o.size);
    sub->add_option("-t,--threads", o.threads);
    sub->add_option("--hold", o.hold_seconds);
  }
  CLI11_PARSE(app, argc, argv);
  const std::string mode = app.get_subcommands().front()->get_name();
  if (mode == "engine") return run_engine(o);
  if (mode == "paho") return run_paho(o);
  return run_idle(o);
}
