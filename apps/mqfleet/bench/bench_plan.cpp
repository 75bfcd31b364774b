// BenchPlan identities, the pre-flight check of file and port limits, and CPU time.

#include "bench/bench_plan.hpp"

#include <mqfleet/bench/name_template.hpp>
#include <mqfleet/error.hpp>

#include <fmt/format.h>

#include <sys/resource.h>

#include <fstream>

namespace mqfleet::cli {

BenchPlan::Identity BenchPlan::identity(std::uint64_t index, bool subscriber) const {
  Identity id;
  id.client_id = bench::expand_template(client_id_template, {index, {}, {}}, "--client-id");
  if (subscriber) {
    id.client_id += "-sub";
  }
  id.username = bench::expand_template(username_template, {index, id.client_id, {}}, "-u");
  id.password = bench::expand_template(password_template, {index, id.client_id, id.username}, "-P");
  id.topic = bench::expand_template(subscriber ? filter_template : topic_template, {index, id.client_id, id.username},
                                    subscriber ? "--sub-topic" : "-t");
  return id;
}

std::vector<std::string> preflight(const BenchPlan& plan) {
  std::vector<std::string> warnings;
  const std::uint64_t connections =
      (plan.mode == "sub" ? 0 : plan.publishers.size()) +
      (plan.mode == "sub" || plan.mode == "pubsub" ? plan.subscribers.size() : 0);
  const std::uint64_t needed = connections + 64;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
    if (limit.rlim_max == RLIM_INFINITY || limit.rlim_max >= needed) {
      const rlim_t old = limit.rlim_cur;
      limit.rlim_cur = static_cast<rlim_t>(needed);
      if (setrlimit(RLIMIT_NOFILE, &limit) == 0) {
        warnings.push_back(fmt::format("raised the open-file limit from {} to {} for {} connections", old, needed,
                                       connections));
      }
    } else {
      throw ConfigError(fmt::format("{} connections need {} open files, but the hard limit is {}", connections, needed,
                                    limit.rlim_max),
                        "ulimit -n",
                        fmt::format("raise it (e.g. `ulimit -Hn {0}; ulimit -n {0}` as root, or LimitNOFILE= / "
                                    "/etc/security/limits.conf), or split the run with --shard",
                                    needed));
    }
  }
  std::ifstream range_file("/proc/sys/net/ipv4/ip_local_port_range");
  std::uint64_t low = 0, high = 0;
  if (range_file >> low >> high && high >= low) {
    const std::uint64_t ports = high - low + 1;
    const std::uint64_t sources = plan.bind.empty() ? 1 : plan.bind.size();
    const std::uint64_t per_source = (connections + sources - 1) / sources;
    const std::string advice = fmt::format(
        "widen the range (`sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\"`) or add source addresses with "
        "--bind 127.0.0.2,127.0.0.3,... (each gives {} more connections per broker address)",
        ports);
    if (per_source > ports) {
      throw ConfigError(fmt::format("{} connections from {} source address(es) need {} local ports each, but "
                                    "ip_local_port_range {}-{} has {}",
                                    connections, sources, per_source, low, high, ports),
                        "/proc/sys/net/ipv4/ip_local_port_range", advice);
    }
    if (per_source * 10 > ports * 8) {
      warnings.push_back(fmt::format("{} connections per source address use over 80 % of the {} local ports; {}",
                                     per_source, ports, advice));
    }
  }
  return warnings;
}

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(usage.ru_utime) + secs(usage.ru_stime);
}

} // namespace mqfleet::cli
