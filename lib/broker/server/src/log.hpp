#pragma once
// The broker's structured log: one JSON line per connect, disconnect and auth failure,
// handed to BrokerConfig::log_sink. Never contains passwords or credential hashes.
// Client-chosen fields are cut to 128 bytes (with their real length).

#include <cstddef>
#include <string_view>

namespace mqfleet::broker {

class BrokerState;
class Connection;

/// A client connected (CONNACK 0 sent).
void log_connect(const BrokerState& state, Connection& connection, bool session_present);
/// A connected client went away; the reason comes from ClientState::close_reason.
void log_disconnect(const BrokerState& state, Connection& connection);
/// A CONNECT was refused; `failed_part` says which check failed ("unknown account", ...).
/// Rate limited (BrokerState::auth_log_limiter): a line after a held-back run carries
/// "suppressed": N.
void log_refused(const BrokerState& state, Connection& connection, std::string_view client_id,
                 std::string_view account, int reason_code, std::string_view failed_part);
/// Once a second: says how many auth_failed and quota_exceeded lines were held back since the last one
/// went out, if any (a flood that stopped is still accounted for).
void log_suppressed(const BrokerState& state);
/// A retained message, session or subscription of `account` was refused by the per-account
/// limit `quota` (`limit`; for "retained" also `limit_bytes`). Rate limited (BrokerState::quota_log_limiter): 10 lines at
/// once, then one a second; the next line out carries "suppressed": N.
void log_quota(const BrokerState& state, std::string_view account, std::string_view quota, std::size_t limit,
               std::size_t limit_bytes = 0);
/// Any other event with a message (reload, reload_failed).
void log_event(const BrokerState& state, std::string_view event, std::string_view detail);

} // namespace mqfleet::broker
