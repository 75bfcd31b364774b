#pragma once
// The seam between `Connection` (linked into every executable) and its Paho-backed
// implementation, which lives in the module mqfleet_paho.so and is loaded with dlopen on
// the first Connection. Executables that never open a Connection (a plain `mqfleet pub`)
// therefore never map libpaho-mqttpp3, libpaho-mqtt3as or the OpenSSL they pull in.
// Both sides are built from this header by the same compiler in the same build, so C++
// types cross the boundary unchanged; no Paho header appears here.

#include <mqfleet/connection.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace mqfleet::detail {

/// What `Connection` does, implemented by the module (see Connection for each call).
class PahoBackend {
public:
  virtual ~PahoBackend() = default;
  virtual void set_stop_token(std::stop_token token) = 0;
  virtual void set_max_inflight(std::size_t max_inflight) = 0;
  virtual void start_receiving() = 0;
  virtual ConnectResult connect() = 0;
  virtual void publish(const OutgoingMessage& message) = 0;
  virtual void wait_for_acknowledgements(std::chrono::milliseconds timeout) = 0;
  virtual std::vector<int> subscribe(const std::vector<std::string>& filters, const SubscribeOptions& options) = 0;
  virtual void unsubscribe(const std::vector<std::string>& filters) = 0;
  virtual std::optional<ReceivedMessage> receive(std::chrono::milliseconds timeout) = 0;
  virtual void disconnect(std::chrono::milliseconds drain_timeout) = 0;
  virtual void drop() = 0;
  virtual bool is_connected() const = 0;
  virtual DeliveryReport delivery_report() const = 0;
  virtual const ConnectionProfile& profile() const noexcept = 0;
};

/// Services of the executable the module calls back into. Function pointers rather than
/// symbols exported by the executable, so the module links against no mqfleet code.
struct PahoHost {
  /// Starts/ends a FastSleepScope (paho_sleep.hpp): the executable's usleep and poll,
  /// which libpaho-mqtt3as binds to, read that state.
  void (*begin_fast_sleeps)();
  void (*end_fast_sleeps)();
  /// resolve_secret() without a prompt (profile_resolve.hpp).
  std::string (*resolve_secret)(const Secret& secret, const std::string& where, const std::string& label);
};

/// Version of this interface; the module refuses a host built from another one.
inline constexpr int k_paho_backend_version = 1;

/// The module's one exported function: a new backend for `profile`; throws ConfigError
/// for an unusable profile, like Connection's constructor.
using CreatePahoBackend = PahoBackend* (*)(int version, const PahoHost& host, ConnectionProfile profile);

/// Its symbol name.
inline constexpr const char* k_paho_entry_symbol = "mqfleet_paho_create_backend";

} // namespace mqfleet::detail
