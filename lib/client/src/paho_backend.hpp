#pragma once
// The seam between `Connection` (linked into every executable) and its Paho-backed
// implementation, which lives in the module mqfleet_paho.so and is loaded with dlopen on
// the first Connection. Executables that never open a Connection (a plain `mqfleet pub`)
// therefore never map libpaho-mqttpp3, libpaho-mqtt3as or the OpenSSL they pull in.
//
// The mqfleet binary links libstdc++ statically while the module gets the shared
// libstdc++ through libpaho-mqttpp3, so one process holds two copies of the C++ runtime.
// Both are GCC's, built from the same headers, and allocate with the same malloc, so
// values (strings, vectors, optionals, the profile) cross this seam unchanged. What each
// copy keeps to itself does not cross:
// - no exception: every call is noexcept and returns a BackendStatus, which Connection
//   turns back into the matching mqfleet error (each copy has its own unwinder and
//   exception state);
// - no synchronisation object: a stop request is forwarded with request_stop() instead of
//   sharing a std::stop_token, whose waits and wake-ups run through per-copy state.
// No Paho header appears here.

#include <mqfleet/connection.hpp>
#include <mqfleet/error.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <vector>

namespace mqfleet::detail {

/// Which mqfleet error a failed call carries back across the seam.
enum class BackendErrorKind { none, config, connect, delivery, timeout, interrupted, protocol, other };

/// The outcome of a call across the seam: success, or the error as data.
struct BackendStatus {
  BackendErrorKind kind = BackendErrorKind::none;
  int reason_code = -1; ///< for connect, delivery and protocol errors
  std::string what;
  std::string where;
  std::string hint;

  /// True when the call succeeded.
  bool ok() const noexcept { return kind == BackendErrorKind::none; }
};

/// The exception being handled (call only inside a catch block), as a BackendStatus.
inline BackendStatus status_of_current_exception() noexcept {
  try {
    throw;
  } catch (const ConnectError& e) {
    return {BackendErrorKind::connect, e.reason_code(), e.what(), e.where(), e.hint()};
  } catch (const DeliveryError& e) {
    return {BackendErrorKind::delivery, e.reason_code(), e.what(), e.where(), e.hint()};
  } catch (const ProtocolError& e) {
    return {BackendErrorKind::protocol, e.reason_code(), e.what(), e.where(), e.hint()};
  } catch (const ConfigError& e) {
    return {BackendErrorKind::config, -1, e.what(), e.where(), e.hint()};
  } catch (const TimeoutError& e) {
    return {BackendErrorKind::timeout, -1, e.what(), e.where(), e.hint()};
  } catch (const InterruptedError& e) {
    return {BackendErrorKind::interrupted, -1, e.what(), e.where(), e.hint()};
  } catch (const Error& e) {
    return {BackendErrorKind::other, -1, e.what(), e.where(), e.hint()};
  } catch (const std::exception& e) {
    return {BackendErrorKind::other, -1, e.what(), {}, {}};
  } catch (...) {
    return {BackendErrorKind::other, -1, "unknown error in the Paho module", {}, {}};
  }
}

/// Runs `work`, turning whatever it throws into a BackendStatus.
template <class Work>
BackendStatus capture(Work&& work) noexcept {
  try {
    work();
    return {};
  } catch (...) {
    return status_of_current_exception();
  }
}

/// Throws the mqfleet error a failed status carries; returns when it is ok.
inline void throw_if_failed(BackendStatus status) {
  switch (status.kind) {
  case BackendErrorKind::none: return;
  case BackendErrorKind::config: throw ConfigError(std::move(status.what), std::move(status.where), std::move(status.hint));
  case BackendErrorKind::connect:
    throw ConnectError(status.reason_code, std::move(status.what), std::move(status.where), std::move(status.hint));
  case BackendErrorKind::delivery:
    throw DeliveryError(status.reason_code, std::move(status.what), std::move(status.where), std::move(status.hint));
  case BackendErrorKind::timeout: throw TimeoutError(std::move(status.what), std::move(status.where), std::move(status.hint));
  case BackendErrorKind::interrupted:
    throw InterruptedError(std::move(status.what), std::move(status.where), std::move(status.hint));
  case BackendErrorKind::protocol:
    throw ProtocolError(status.reason_code, std::move(status.what), std::move(status.where), std::move(status.hint));
  case BackendErrorKind::other: break;
  }
  throw Error(std::move(status.what), std::move(status.where), std::move(status.hint));
}

/// What `Connection` does, implemented by the module (see Connection for each call).
/// Results come back through the reference parameters when the status is ok.
class PahoBackend {
public:
  virtual ~PahoBackend() = default;
  /// Makes blocking calls stop (InterruptedError) until renew_stop(); any thread.
  virtual void request_stop() noexcept = 0;
  /// Forgets an earlier request_stop(); only from the thread making the other calls.
  virtual void renew_stop() noexcept = 0;
  virtual void set_max_inflight(std::size_t max_inflight) noexcept = 0;
  virtual void start_receiving() noexcept = 0;
  virtual BackendStatus connect(ConnectResult& result) noexcept = 0;
  virtual BackendStatus publish(const OutgoingMessage& message) noexcept = 0;
  virtual BackendStatus wait_for_acknowledgements(std::chrono::milliseconds timeout) noexcept = 0;
  virtual BackendStatus subscribe(const std::vector<std::string>& filters, const SubscribeOptions& options,
                                  std::vector<int>& granted) noexcept = 0;
  virtual BackendStatus unsubscribe(const std::vector<std::string>& filters) noexcept = 0;
  virtual BackendStatus receive(std::chrono::milliseconds timeout, std::optional<ReceivedMessage>& message) noexcept = 0;
  virtual BackendStatus disconnect(std::chrono::milliseconds drain_timeout) noexcept = 0;
  virtual BackendStatus drop() noexcept = 0;
  virtual bool is_connected() const noexcept = 0;
  virtual DeliveryReport delivery_report() const noexcept = 0;
  virtual const ConnectionProfile& profile() const noexcept = 0;
};

/// Services of the executable the module calls back into. Function pointers rather than
/// symbols exported by the executable, so the module links against no mqfleet code.
struct PahoHost {
  /// Starts/ends a FastSleepScope (paho_sleep.hpp): the executable's usleep and poll,
  /// which libpaho-mqtt3as binds to, read that state.
  void (*begin_fast_sleeps)() noexcept;
  void (*end_fast_sleeps)() noexcept;
  /// resolve_secret() without a prompt (profile_resolve.hpp), into `secret`.
  BackendStatus (*resolve_secret)(const Secret& source, const std::string& where, const std::string& label,
                                  std::string& secret) noexcept;
};

/// Version of this interface; the module refuses a host built from another one.
inline constexpr int k_paho_backend_version = 3;

/// The module's one exported function (extern "C", so it returns nothing: a C function
/// cannot return a C++ type): a new backend for `profile` into `backend` and an ok
/// `status`, or in `status` the ConfigError Connection's constructor throws for an
/// unusable profile.
using CreatePahoBackend = void (*)(int version, const PahoHost& host, ConnectionProfile profile,
                                   PahoBackend*& backend, BackendStatus& status) noexcept;

/// Its symbol name; the interface version is part of it, so a module from another build
/// is refused by name before its function could be called with the wrong signature.
inline constexpr const char* k_paho_entry_symbol = "mqfleet_paho_create_backend_v3";

} // namespace mqfleet::detail
