#pragma once
// The process exit codes, identical across subcommands. docs/exit-codes.md documents
// them; keep the two in step.

namespace mqfleet::exit_code {

inline constexpr int k_success = 0;
/// An unexpected internal error (a bug): please report it.
inline constexpr int k_internal = 1;
/// The command line was wrong (unknown flag, missing value, conflicting options).
inline constexpr int k_usage = 2;
/// A configuration problem: bad profile, unreadable file, invalid payload, bad registry.
inline constexpr int k_config = 3;
/// The broker could not be reached or refused the connection for a reason other than
/// credentials (DNS, TCP, TLS, CONNACK refusal such as bad protocol version).
inline constexpr int k_connect = 4;
/// The broker refused the credentials (CONNACK 4/5, v5 0x86/0x87/0x8C).
inline constexpr int k_auth = 5;
/// A deadline passed (-W on sub, connect timeout, disconnect drain timeout).
inline constexpr int k_timeout = 6;
/// A message was not delivered (negative acknowledgement or unacknowledged at exit).
inline constexpr int k_delivery = 7;
/// The peer violated the MQTT protocol.
inline constexpr int k_protocol = 8;
/// A scenario's or benchmark's `expect` block was not met.
inline constexpr int k_expectation = 9;
/// Stopped by SIGINT or SIGTERM (128 + SIGINT).
inline constexpr int k_interrupted = 130;

} // namespace mqfleet::exit_code
