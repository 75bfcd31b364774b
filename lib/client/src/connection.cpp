// Connection as linked into executables: a thin handle on the Paho-backed implementation
// in the module mqfleet_paho.so, loaded with dlopen when the first Connection is made.
// Until then the process maps neither Paho nor the libssl/libcrypto it depends on, which
// is most of the start-up time of a one-shot `mqfleet pub` (docs/benchmarks.md).
#include <mqfleet/connection.hpp>

#include <mqfleet/error.hpp>
#include <mqfleet/profile_resolve.hpp>

#include "paho_backend.hpp"
#include "paho_sleep.hpp"

#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace mqfleet {
namespace {

constexpr const char* k_module_name = "mqfleet_paho.so";

detail::BackendStatus resolve_secret_for_module(const Secret& source, const std::string& where,
                                                const std::string& label, std::string& secret) noexcept {
  return detail::capture([&] { secret = resolve_secret(source, where, label, {}); });
}

const detail::PahoHost k_host{[]() noexcept { detail::begin_fast_sleeps(); },
                              []() noexcept { detail::end_fast_sleeps(); }, resolve_secret_for_module};

// The directory of the running executable, with a trailing slash; empty if unknown.
std::string executable_directory() {
  char path[PATH_MAX];
  const ssize_t length = readlink("/proc/self/exe", path, sizeof path - 1);
  if (length <= 0) return {};
  const std::string executable(path, static_cast<std::size_t>(length));
  return executable.substr(0, executable.rfind('/') + 1);
}

// Where the module may be: next to the executable (the mqfleet binary in its build
// directory, also when that is copied elsewhere), in ../lib/mqfleet/ from it (installed:
// <prefix>/bin/mqfleet and <prefix>/lib/mqfleet/, cmake/Install.cmake), then where this
// build put it (test and bench executables in other build directories).
std::vector<std::string> module_candidates() {
  std::vector<std::string> candidates;
  if (const std::string directory = executable_directory(); !directory.empty()) {
    candidates.push_back(directory + k_module_name);
    candidates.push_back(directory + "../lib/mqfleet/" + k_module_name);
  }
  candidates.emplace_back(MQFLEET_PAHO_MODULE_PATH);
  return candidates;
}

detail::CreatePahoBackend load_module() {
  std::string errors;
  for (const std::string& candidate : module_candidates()) {
    // RTLD_LOCAL: the module's symbols stay private; it is never unloaded, since Paho's
    // threads and OpenSSL's exit handlers outlive any one connection.
    void* handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (handle == nullptr) {
      const char* error = dlerror();
      errors += std::string(errors.empty() ? "" : "; ") + (error ? error : candidate);
      continue;
    }
    if (void* entry = dlsym(handle, detail::k_paho_entry_symbol))
      return reinterpret_cast<detail::CreatePahoBackend>(entry);
    errors += std::string(errors.empty() ? "" : "; ") + candidate + " has no " + detail::k_paho_entry_symbol;
  }
  throw ConfigError("cannot load the Paho MQTT module: " + errors, k_module_name,
                    "install libpaho-mqttpp3 (scripts/install-deps.sh) and either build the whole mqfleet "
                    "project (the module is built next to the binary) or reinstall it (the module belongs "
                    "in lib/mqfleet/ beside bin/)");
}

detail::CreatePahoBackend create_backend() {
  // Thread-safe, and retried on the next Connection if loading threw.
  static const detail::CreatePahoBackend create = load_module();
  return create;
}

std::unique_ptr<detail::PahoBackend> make_backend(ConnectionProfile profile) {
  detail::PahoBackend* backend = nullptr;
  detail::BackendStatus status;
  create_backend()(detail::k_paho_backend_version, k_host, std::move(profile), backend, status);
  detail::throw_if_failed(status);
  return std::unique_ptr<detail::PahoBackend>(backend);
}

} // namespace

void detail::ForwardStop::operator()() const noexcept { backend->request_stop(); }

Connection::Connection(ConnectionProfile profile) : m_impl(make_backend(std::move(profile))) {}

Connection::~Connection() = default;

void Connection::set_stop_token(std::stop_token token) {
  m_stop_forward.reset();
  m_impl->renew_stop();
  m_stop_forward.emplace(std::move(token), detail::ForwardStop{m_impl.get()});
}

void Connection::set_max_inflight(std::size_t max_inflight) { m_impl->set_max_inflight(max_inflight); }

void Connection::start_receiving() { m_impl->start_receiving(); }

ConnectResult Connection::connect() {
  ConnectResult result;
  detail::throw_if_failed(m_impl->connect(result));
  return result;
}

void Connection::publish(const OutgoingMessage& message) { detail::throw_if_failed(m_impl->publish(message)); }

void Connection::wait_for_acknowledgements(std::chrono::milliseconds timeout) {
  detail::throw_if_failed(m_impl->wait_for_acknowledgements(timeout));
}

std::vector<int> Connection::subscribe(const std::vector<std::string>& filters, const SubscribeOptions& options) {
  std::vector<int> granted;
  detail::throw_if_failed(m_impl->subscribe(filters, options, granted));
  return granted;
}

void Connection::unsubscribe(const std::vector<std::string>& filters) {
  detail::throw_if_failed(m_impl->unsubscribe(filters));
}

std::optional<ReceivedMessage> Connection::receive(std::chrono::milliseconds timeout) {
  std::optional<ReceivedMessage> message;
  detail::throw_if_failed(m_impl->receive(timeout, message));
  return message;
}

void Connection::disconnect(std::chrono::milliseconds drain_timeout) {
  detail::throw_if_failed(m_impl->disconnect(drain_timeout));
}

void Connection::drop() { detail::throw_if_failed(m_impl->drop()); }

bool Connection::is_connected() const { return m_impl->is_connected(); }

DeliveryReport Connection::delivery_report() const { return m_impl->delivery_report(); }

const ConnectionProfile& Connection::profile() const noexcept { return m_impl->profile(); }

} // namespace mqfleet
