#pragma once
// Checks and error texts shared by both client implementations: the lean client (linked
// into executables) and the Paho module (paho_connection.cpp), which links no mqfleet
// library and so takes these from a header.

#include <mqfleet/connection.hpp>
#include <mqfleet/error.hpp>

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <system_error>
#include <unistd.h>

namespace mqfleet::detail {

/// Throws ConfigError naming `flag` unless `path` is empty or a readable regular file.
inline void require_readable_file(const std::string& path, const char* flag, const char* what) {
  if (path.empty()) return;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec) || access(path.c_str(), R_OK) != 0)
    throw ConfigError(fmt::format("cannot read the {} '{}'", what, path), flag,
                      fmt::format("give a readable PEM file to {}", flag));
}

/// How a wait for acknowledgements ended, for throw_unless_delivered().
struct DrainOutcome {
  bool interrupted = false;           ///< a stop was requested during the wait
  bool lost = false;                  ///< the connection is gone
  std::string lost_cause;             ///< why, when lost
  std::chrono::milliseconds waited{}; ///< how long the wait was allowed to take
};

/// Throws InterruptedError or DeliveryError when `report` still has messages in flight or
/// refused ones; returns when every message was acknowledged. `describe_refusal` turns
/// the first refusal's reason code into words.
template <class Describe>
void throw_unless_delivered(const DeliveryReport& report, const DrainOutcome& outcome, const std::string& where,
                            Describe&& describe_refusal) {
  if (report.in_flight() > 0) {
    if (outcome.interrupted && !outcome.lost)
      throw InterruptedError("interrupted while waiting for acknowledgements", where);
    const std::string why = outcome.lost ? fmt::format("the connection was lost ({})", outcome.lost_cause)
                                         : fmt::format("none came within {} ms", outcome.waited.count());
    throw DeliveryError(-1,
                        fmt::format("{} of {} messages were not acknowledged: {}", report.in_flight(),
                                    report.published, why),
                        where, "check the broker's log and limits (max_inflight, message size, ACLs)");
  }
  if (report.failed > 0)
    throw DeliveryError(report.first_failure_reason,
                        fmt::format("{} of {} messages were refused by the broker: {}", report.failed,
                                    report.published, describe_refusal(report.first_failure_reason)),
                        where, "check the broker's ACLs, quotas and topic rules");
}

} // namespace mqfleet::detail
