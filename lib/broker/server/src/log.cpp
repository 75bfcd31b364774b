#include "log.hpp"

#include "broker_state.hpp"
#include "connection.hpp"

#include <mqfleet/mqtt/types.hpp>

#include <nlohmann/json.hpp>

#include <chrono>

namespace mqfleet::broker {
namespace {

using Json = nlohmann::ordered_json;

Json base(std::string_view event) {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  return Json{{"event", event}, {"ts", static_cast<double>(ms) / 1000.0}};
}

/// Longest text of a client-chosen field in a log line (client ids may be 64 KiB).
constexpr std::size_t k_max_field = 128;

/// The field as logged: at most k_max_field bytes, then how long it really was.
std::string clip(std::string_view text) {
  if (text.size() <= k_max_field) return std::string(text);
  return std::string(text.substr(0, k_max_field)) + "...(" + std::to_string(text.size()) + " bytes)";
}

void emit(const BrokerState& state, const Json& line) {
  // Client ids and usernames may be arbitrary bytes: never throw on invalid UTF-8.
  state.log(line.dump(-1, ' ', false, Json::error_handler_t::replace));
}

} // namespace

void log_connect(const BrokerState& state, Connection& connection, bool session_present) {
  const ClientState& client = connection.client();
  Json line = base("connect");
  line["client_id"] = clip(client.client_id());
  line["account"] = clip(client.account());
  line["peer"] = connection.peer();
  line["tls"] = connection.is_tls();
  line["protocol"] = std::string(mqtt::version_name(client.version));
  line["session_present"] = session_present;
  emit(state, line);
}

void log_disconnect(const BrokerState& state, Connection& connection) {
  const ClientState& client = connection.client();
  Json line = base("disconnect");
  line["client_id"] = clip(client.client_id());
  line["account"] = clip(client.account());
  line["peer"] = connection.peer();
  line["reason"] = clip(client.close_reason());
  line["graceful"] = client.graceful;
  emit(state, line);
}

void log_refused(const BrokerState& state, Connection& connection, std::string_view client_id,
                 std::string_view account, int reason_code, std::string_view failed_part) {
  const auto suppressed = state.auth_log_limiter().admit(std::chrono::steady_clock::now());
  if (!suppressed) return;
  Json line = base("auth_failed");
  line["client_id"] = clip(client_id);
  line["account"] = clip(account);
  line["peer"] = connection.peer();
  line["reason_code"] = reason_code;
  line["failed"] = failed_part;
  if (*suppressed != 0) line["suppressed"] = *suppressed;
  emit(state, line);
}

void log_quota(const BrokerState& state, std::string_view account, std::string_view quota, std::size_t limit,
               std::size_t limit_bytes) {
  const auto suppressed = state.quota_log_limiter().admit(std::chrono::steady_clock::now());
  if (!suppressed) return;
  Json line = base("quota_exceeded");
  line["account"] = clip(account);
  line["quota"] = quota;
  line["limit"] = limit;
  if (limit_bytes != 0) line["limit_bytes"] = limit_bytes;
  if (*suppressed != 0) line["suppressed"] = *suppressed;
  emit(state, line);
}

void log_suppressed(const BrokerState& state) {
  for (auto [limiter, event] : {std::pair{&state.auth_log_limiter(), "auth_failed"},
                                std::pair{&state.quota_log_limiter(), "quota_exceeded"}}) {
    const auto count = limiter->take_suppressed();
    if (count == 0) continue;
    Json line = base("log_suppressed");
    line["suppressed_event"] = event;
    line["count"] = count;
    emit(state, line);
  }
}

void log_event(const BrokerState& state, std::string_view event, std::string_view detail) {
  Json line = base(event);
  line["detail"] = detail;
  emit(state, line);
}

} // namespace mqfleet::broker
