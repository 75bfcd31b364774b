#pragma once
// The error hierarchy shared by every mqfleet library. Libraries throw these; only
// apps/mqfleet/main.cpp catches them, prints them and maps them to an exit code.

#include <stdexcept>
#include <string>
#include <utility>

namespace mqfleet {

/// Base of every mqfleet error: what failed, where (file, flag, host...), how to fix it.
class Error : public std::runtime_error {
public:
  Error(std::string what, std::string where = {}, std::string hint = {})
      : std::runtime_error(std::move(what)), m_where(std::move(where)), m_hint(std::move(hint)) {}

  /// The place the error refers to: a file:line, a flag, a host:port. May be empty.
  const std::string& where() const noexcept { return m_where; }
  /// One sentence telling the user how to fix it. May be empty.
  const std::string& hint() const noexcept { return m_hint; }

private:
  std::string m_where;
  std::string m_hint;
};

/// Bad or inconsistent configuration: flags, profile files, registry, scenario files.
class ConfigError : public Error {
  using Error::Error;
};

/// The network connection could not be established or was refused by the broker.
/// reason_code is the CONNACK return code (3.1/3.1.1) or v5 reason code; -1 when the
/// failure happened before any CONNACK (DNS, TCP, TLS).
class ConnectError : public Error {
public:
  ConnectError(int reason_code, std::string what, std::string where = {}, std::string hint = {})
      : Error(std::move(what), std::move(where), std::move(hint)), m_reason_code(reason_code) {}
  int reason_code() const noexcept { return m_reason_code; }
  /// True when the broker refused the credentials (3.1.1 codes 4/5, v5 0x86/0x87/0x8C).
  bool is_authentication_failure() const noexcept {
    return m_reason_code == 4 || m_reason_code == 5 || m_reason_code == 0x86 ||
           m_reason_code == 0x87 || m_reason_code == 0x8C;
  }

private:
  int m_reason_code;
};

/// A message was not delivered: negative v5 acknowledgement or unacknowledged at exit.
class DeliveryError : public Error {
public:
  DeliveryError(int reason_code, std::string what, std::string where = {}, std::string hint = {})
      : Error(std::move(what), std::move(where), std::move(hint)), m_reason_code(reason_code) {}
  int reason_code() const noexcept { return m_reason_code; }

private:
  int m_reason_code;
};

/// A deadline the user asked for (-W, connect timeout) passed.
class TimeoutError : public Error {
  using Error::Error;
};

/// The operation was stopped by SIGINT/SIGTERM.
class InterruptedError : public Error {
  using Error::Error;
};

/// The peer broke the protocol (malformed packet, unexpected packet). reason_code is
/// the MQTT v5 reason code that describes it (e.g. 0x81 malformed packet).
class ProtocolError : public Error {
public:
  ProtocolError(int reason_code, std::string what, std::string where = {}, std::string hint = {})
      : Error(std::move(what), std::move(where), std::move(hint)), m_reason_code(reason_code) {}
  int reason_code() const noexcept { return m_reason_code; }

private:
  int m_reason_code;
};

} // namespace mqfleet
