// The Paho-backed implementation of Connection. Built into the module mqfleet_paho.so
// (loaded on first use by connection.cpp), never into an executable: see paho_backend.hpp.
#include "client_checks.hpp"
#include "paho_backend.hpp"
#include "paho_convert.hpp"

#include <mqfleet/error.hpp>

#include <mqtt/async_client.h>

#include <fmt/format.h>

#include <arpa/inet.h>
#include <condition_variable>
#include <deque>
#include <dirent.h>
#include <filesystem>
#include <mutex>
#include <netinet/in.h>
#include <random>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mqfleet {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Paho counts every queued command against this limit, connected or not (default 100);
// our own in-flight window is the real bound, so this only has to stay out of the way.
constexpr int k_paho_buffer_limit = 1'000'000;
constexpr std::size_t k_default_max_inflight = 1000;

std::string random_client_id() {
  std::random_device device;
  return fmt::format("mqfleet-{}-{:08x}", getpid(), device());
}

void require_directory(const std::string& path, const char* flag) {
  if (path.empty()) return;
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec))
    throw ConfigError(fmt::format("'{}' is not a directory", path), flag,
                      "give a directory of hashed CA certificates (see openssl rehash)");
}

int ssl_version(const std::string& version) {
  if (version.empty() || version == "tlsv1.3") return MQTT_SSL_VERSION_DEFAULT;
  if (version == "tlsv1.2") return MQTT_SSL_VERSION_TLS_1_2;
  if (version == "tlsv1.1") return MQTT_SSL_VERSION_TLS_1_1;
  if (version == "tlsv1") return MQTT_SSL_VERSION_TLS_1_0;
  throw ConfigError(fmt::format("unknown TLS version '{}'", version), "--tls-version",
                    "use tlsv1.2 or tlsv1.3");
}

// The TCP socket of this process connected to `port`, when exactly one exists; -1 otherwise.
int only_socket_to_port(int port) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int found = -1;
  int count = 0;
  while (dirent* entry = readdir(dir)) {
    const int fd = std::atoi(entry->d_name);
    struct stat st {};
    if (fd <= 2 || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0) continue;
    int peer_port = -1;
    if (peer.ss_family == AF_INET) peer_port = ntohs(reinterpret_cast<sockaddr_in*>(&peer)->sin_port);
    if (peer.ss_family == AF_INET6) peer_port = ntohs(reinterpret_cast<sockaddr_in6*>(&peer)->sin6_port);
    if (peer_port == port) {
      found = fd;
      ++count;
    }
  }
  closedir(dir);
  return count == 1 ? found : -1;
}

// The executable's resolve_secret() (through the host), throwing its error here.
std::string host_secret(const detail::PahoHost& host, const Secret& source, const std::string& where,
                        const std::string& label) {
  std::string secret;
  detail::throw_if_failed(host.resolve_secret(source, where, label, secret));
  return secret;
}

// A FastSleepScope of the executable (paho_sleep.hpp), reached through the host.
class HostFastSleeps {
public:
  explicit HostFastSleeps(const detail::PahoHost& host) : m_host(host) { m_host.begin_fast_sleeps(); }
  ~HostFastSleeps() { m_host.end_fast_sleeps(); }
  HostFastSleeps(const HostFastSleeps&) = delete;
  HostFastSleeps& operator=(const HostFastSleeps&) = delete;

private:
  const detail::PahoHost& m_host;
};

struct PahoState : ::mqtt::iaction_listener {
  detail::PahoHost host{};
  ConnectionProfile profile;
  std::string where;
  bool v5 = false;
  ::mqtt::connect_options options;
  // The stop state of this side of the module seam (paho_backend.hpp): the executable
  // forwards its stop requests through request_stop().
  std::mutex stop_mutex;
  std::stop_source stop_source;
  std::stop_token stop = stop_source.get_token();
  std::size_t max_inflight = k_default_max_inflight;
  std::uint32_t maximum_packet_size = 0; ///< from a v5 CONNACK; 0: none announced

  mutable std::mutex mutex;
  std::condition_variable_any changed;
  DeliveryReport report;
  bool lost = false;
  std::string lost_cause;
  bool receiving = false;
  std::deque<ReceivedMessage> inbox;

  // Declared last: destroyed first, so no callback runs into a half-destroyed Impl.
  std::unique_ptr<::mqtt::async_client> client;

  // A publisher blocked on a full window resumes at half of it, so it wakes once per
  // max_inflight/2 acknowledgements rather than once per acknowledgement.
  std::size_t low_watermark() const noexcept { return max_inflight / 2; }

  void notify_if_waited_for() {
    const std::size_t in_flight = report.in_flight();
    if (in_flight <= low_watermark() || in_flight == 0) changed.notify_all();
  }

  void on_success(const ::mqtt::token&) override {
    std::lock_guard lock(mutex);
    ++report.acknowledged;
    notify_if_waited_for();
  }

  void on_failure(const ::mqtt::token& token) override {
    std::lock_guard lock(mutex);
    if (report.failed++ == 0) {
      const int reason = token.get_reason_code();
      report.first_failure_reason = reason >= 0x80 ? reason : token.get_return_code();
    }
    notify_if_waited_for();
  }

  void check_stop() const {
    if (stop.stop_requested()) throw InterruptedError("interrupted", where);
  }

  // Waits for a Paho token in slices so a stop request is noticed; never called from
  // a Paho callback. Paho failures surface as ::mqtt::exception.
  void wait_token(const ::mqtt::token_ptr& token, std::chrono::milliseconds timeout, const std::string& what) {
    const auto deadline = Clock::now() + timeout;
    while (!token->wait_for(std::min<std::chrono::milliseconds>(
        50ms, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()) + 1ms))) {
      check_stop();
      if (Clock::now() >= deadline)
        throw TimeoutError(fmt::format("{} took longer than {} ms", what, timeout.count()), where,
                           "check that the broker is reachable, or raise --connect-timeout");
    }
  }

  ConnectError connect_error(const ::mqtt::exception& e) const {
    const int rc = e.get_return_code();
    const int reason = e.get_reason_code();
    int code = -1;
    if (v5 && reason >= 0x80) code = reason;
    else if (v5 && rc >= 0x80 && rc <= 0xFF) code = rc; // Paho C reports a v5 CONNACK refusal as the return code
    else if (!v5 && rc >= 1 && rc <= 5) code = rc;
    if (code > 0) {
      const bool auth = code == 4 || code == 5 || code == 0x86 || code == 0x87 || code == 0x8C;
      return ConnectError(code,
                          fmt::format("the broker refused the connection: {} (CONNACK {})",
                                      detail::describe_connack(code, v5), code),
                          where,
                          auth ? "check the user name (-u) and the password (-P, --password-env or --password-file)"
                               : "check the MQTT version (-V), the client id (-i) and the broker's configuration");
    }
    const std::string detail_text = e.get_error_str().empty() ? e.what() : e.get_error_str();
    const std::string hint =
        profile.tls.enabled
            ? "check the host and port, and the TLS settings (--cafile/--capath must hold the broker's CA; "
              "--insecure skips verification for testing)"
            : "check the host and port (-h, -p) and that the broker is running";
    return ConnectError(-1, fmt::format("cannot connect to the broker: {}", detail_text), where, hint);
  }
};

// Connection's behaviour on Paho, throwing mqfleet errors; ModuleBackend below turns
// it into the exception-free seam the executable calls.
class PahoConnection {
public:
  PahoConnection(const detail::PahoHost& host, ConnectionProfile profile);
  ~PahoConnection();
  PahoConnection(const PahoConnection&) = delete;
  PahoConnection& operator=(const PahoConnection&) = delete;

  void request_stop() noexcept;
  void renew_stop() noexcept;
  void set_max_inflight(std::size_t max_inflight);
  void start_receiving();
  ConnectResult connect();
  void publish(const OutgoingMessage& message);
  void wait_for_acknowledgements(std::chrono::milliseconds timeout);
  std::vector<int> subscribe(const std::vector<std::string>& filters, const SubscribeOptions& options);
  void unsubscribe(const std::vector<std::string>& filters);
  std::optional<ReceivedMessage> receive(std::chrono::milliseconds timeout);
  void disconnect(std::chrono::milliseconds drain_timeout);
  void drop();
  bool is_connected() const;
  DeliveryReport delivery_report() const;
  const ConnectionProfile& profile() const noexcept;

private:
  using Impl = PahoState;
  std::unique_ptr<Impl> m_impl;
};

PahoConnection::PahoConnection(const detail::PahoHost& host, ConnectionProfile profile)
    : m_impl(std::make_unique<Impl>()) {
  Impl& d = *m_impl;
  d.host = host;
  d.profile = std::move(profile);
  const ConnectionProfile& p = d.profile;
  if (p.transport == TransportKind::unix_socket)
    throw ConfigError("the Paho client cannot connect to a Unix socket", "--unix",
                      "use the default client (unset MQFLEET_PUB_CLIENT / MQFLEET_SUB_CLIENT)");
  d.where = endpoint_name(p);
  d.v5 = p.version == MqttVersion::v5;
  if (p.host.empty()) throw ConfigError("no broker host given", "-h", "give the broker's host name with -h");

  ::mqtt::connect_options& o = d.options;
  o.set_mqtt_version(detail::paho_version(p.version));
  if (d.v5) {
    o.set_clean_start(p.clean_session);
    mqtt::Properties connect = p.properties.connect;
    if (p.session_expiry_seconds) connect.session_expiry_interval = *p.session_expiry_seconds;
    o.set_properties(detail::to_paho(connect)); // (Properties::empty() lives in libmqtt, not linked here)
  } else {
    o.set_clean_session(p.clean_session);
  }
  o.set_keep_alive_interval(p.keepalive_seconds);
  // Our own deadline (connect()) fires first; Paho's only keeps a stuck handshake bounded.
  o.set_connect_timeout(static_cast<int>((p.connect_timeout.count() + 999) / 1000) + 1);
  if (!p.username.empty()) o.set_user_name(p.username);
  if (!p.credential.empty()) o.set_password(host_secret(d.host, p.credential, "password", "Password: "));
  if (p.will) {
    if (p.will->topic.empty())
      throw ConfigError("the will has no topic", "--will-topic", "give --will-topic with --will-payload");
    ::mqtt::will_options will(p.will->topic, p.will->payload, p.will->qos, p.will->retain);
    if (d.v5) will.set_properties(detail::to_paho(p.properties.will));
    o.set_will(std::move(will));
  }
  if (p.reconnect.enabled)
    o.set_automatic_reconnect(static_cast<int>(p.reconnect.min_delay.count()),
                              static_cast<int>(p.reconnect.max_delay.count()));

  if (p.tls.enabled) {
    const TlsOptions& t = p.tls;
    detail::require_readable_file(t.ca_file, "--cafile", "CA file");
    require_directory(t.ca_path, "--capath");
    detail::require_readable_file(t.cert_file, "--cert", "client certificate");
    detail::require_readable_file(t.key_file, "--key", "client key");
    if (t.cert_file.empty() != t.key_file.empty())
      throw ConfigError("a client certificate needs both --cert and --key", t.cert_file.empty() ? "--key" : "--cert",
                        "give both files, or neither");
    ::mqtt::ssl_options ssl;
    if (!t.ca_file.empty()) ssl.set_trust_store(t.ca_file);
    if (!t.ca_path.empty()) ssl.ca_path(t.ca_path);
    if (!t.cert_file.empty()) ssl.set_key_store(t.cert_file);
    if (!t.key_file.empty()) ssl.set_private_key(t.key_file);
    if (!t.key_password.empty())
      ssl.set_private_key_password(host_secret(d.host, t.key_password, "--key-password-env", "Key password: "));
    ssl.set_enable_server_cert_auth(!t.insecure);
    ssl.set_verify(!t.insecure);
    ssl.set_ssl_version(ssl_version(t.version));
    if (!t.alpn.empty()) ssl.set_alpn_protos(t.alpn);
    // No ssl.set_error_handler(): Paho C++ 1.2 gives OpenSSL a pointer to the ssl_options
    // object, and async_client::connect() copies the options by value, so the callback
    // would run on a destroyed copy (found by ASan).
    o.set_ssl(std::move(ssl));
  }

  ::mqtt::create_options create(detail::paho_version(p.version), k_paho_buffer_limit);
  const std::string client_id = p.client_id.empty() ? random_client_id() : p.client_id;
  try {
    d.client = std::make_unique<::mqtt::async_client>(detail::server_uri(p), client_id, create, nullptr);
  } catch (const ::mqtt::exception& e) {
    throw ConfigError(fmt::format("cannot create the MQTT client: {}", e.what()), d.where,
                      "check the host name, port and client id");
  }

  Impl* self = &d;
  d.client->set_message_callback([self](::mqtt::const_message_ptr message) {
    if (!message) return;
    ReceivedMessage received = detail::from_paho(*message);
    std::lock_guard lock(self->mutex);
    if (!self->receiving) return;
    self->inbox.push_back(std::move(received));
    self->changed.notify_all();
  });
  d.client->set_connection_lost_handler([self](const std::string& cause) {
    std::lock_guard lock(self->mutex);
    if (!self->profile.reconnect.enabled) self->lost = true;
    self->lost_cause = cause.empty() ? "the broker closed the connection" : cause;
    self->changed.notify_all();
  });
  d.client->set_connected_handler([self](const std::string&) {
    std::lock_guard lock(self->mutex);
    self->lost = false;
    self->changed.notify_all();
  });
}

PahoConnection::~PahoConnection() {
  if (!m_impl || !m_impl->client) return;
  try {
    if (m_impl->client->is_connected()) m_impl->client->disconnect(0)->wait_for(2s);
  } catch (...) {
    // Destructors never throw; a failed DISCONNECT only means the socket is gone already.
  }
  m_impl->client->disable_callbacks();
  // Destroying the last client waits for the library threads in 100 ms sleeps.
  const HostFastSleeps fast_sleeps(m_impl->host);
  m_impl->client.reset();
}

void PahoConnection::request_stop() noexcept {
  std::lock_guard lock(m_impl->stop_mutex);
  m_impl->stop_source.request_stop();
}

void PahoConnection::renew_stop() noexcept {
  std::lock_guard lock(m_impl->stop_mutex);
  if (!m_impl->stop_source.stop_requested()) return;
  m_impl->stop_source = std::stop_source();
  m_impl->stop = m_impl->stop_source.get_token();
}

void PahoConnection::set_max_inflight(std::size_t max_inflight) {
  std::lock_guard lock(m_impl->mutex);
  m_impl->max_inflight = std::max<std::size_t>(1, max_inflight);
}

void PahoConnection::start_receiving() {
  std::lock_guard lock(m_impl->mutex);
  m_impl->receiving = true;
}

ConnectResult PahoConnection::connect() {
  Impl& d = *m_impl;
  d.check_stop();
  {
    std::lock_guard lock(d.mutex);
    d.lost = false;
  }
  const auto start = Clock::now();
  ::mqtt::token_ptr token;
  const HostFastSleeps fast_sleeps(m_impl->host); // the receive thread must notice the new socket at once
  try {
    token = d.client->connect(d.options);
    d.wait_token(token, d.profile.connect_timeout, "connecting to the broker");
  } catch (const ::mqtt::exception& e) {
    throw d.connect_error(e);
  }
  ConnectResult result;
  result.connect_time = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  const ::mqtt::connect_response response = token->get_connect_response();
  result.session_present = response.is_session_present();
  // Paho does not enforce the broker's Maximum Packet Size: publish() does, as the lean
  // client does, so an oversized QoS 0 message is refused instead of silently dropped.
  if (d.v5 && response.get_properties().contains(::mqtt::property::MAXIMUM_PACKET_SIZE))
    d.maximum_packet_size = ::mqtt::get<uint32_t>(response.get_properties(), ::mqtt::property::MAXIMUM_PACKET_SIZE);
  return result;
}

void PahoConnection::publish(const OutgoingMessage& message) {
  Impl& d = *m_impl;
  if (message.topic.empty() || message.topic.find_first_of("+#") != std::string::npos)
    throw ConfigError(fmt::format("'{}' is not a valid topic to publish to", message.topic), "-t",
                      "give a topic name without the wildcards + and #");
  if (message.qos < 0 || message.qos > 2)
    throw ConfigError(fmt::format("QoS {} does not exist", message.qos), "-q", "use 0, 1 or 2");
  if (d.maximum_packet_size != 0) {
    const std::size_t size = detail::publish_packet_size(message, d.v5);
    if (size > d.maximum_packet_size)
      throw DeliveryError(0x95,
                          fmt::format("the message is {} bytes, more than the broker's maximum packet size of {}", size,
                                      d.maximum_packet_size),
                          message.topic, "send a smaller payload");
  }
  {
    std::unique_lock lock(d.mutex);
    if (d.report.in_flight() >= d.max_inflight)
      d.changed.wait(lock, d.stop, [&] { return d.report.in_flight() <= d.low_watermark() || d.lost; });
    if (d.lost)
      throw ConnectError(-1, fmt::format("connection lost: {}", d.lost_cause), d.where,
                         "check the broker's log; messages in flight were not delivered");
    d.check_stop();
    ++d.report.published;
  }
  auto paho_message = ::mqtt::make_message(message.topic, message.payload, message.qos, message.retain);
  if (d.v5) paho_message->set_properties(detail::to_paho(message.properties));
  try {
    d.client->publish(paho_message, nullptr, d);
  } catch (const ::mqtt::exception& e) {
    {
      std::lock_guard lock(d.mutex);
      --d.report.published;
    }
    if (!d.client->is_connected())
      throw ConnectError(-1, fmt::format("connection lost: {}", e.get_error_str()), d.where,
                         "check the broker's log; messages in flight were not delivered");
    throw DeliveryError(e.get_return_code(), fmt::format("the MQTT library refused the message: {}", e.what()),
                        message.topic, "check the topic and payload size");
  }
}

void PahoConnection::wait_for_acknowledgements(std::chrono::milliseconds timeout) {
  Impl& d = *m_impl;
  std::unique_lock lock(d.mutex);
  d.changed.wait_for(lock, d.stop, timeout, [&] { return d.report.in_flight() == 0 || d.lost; });
  detail::throw_unless_delivered(d.report, {d.stop.stop_requested(), d.lost, d.lost_cause, timeout}, d.where,
                                 [](int reason) {
                                   return reason >= 0x80 ? detail::describe_reason(reason)
                                                         : fmt::format("error {}", reason);
                                 });
}

std::vector<int> PahoConnection::subscribe(const std::vector<std::string>& filters, const SubscribeOptions& options) {
  Impl& d = *m_impl;
  const auto timeout = std::max(d.profile.connect_timeout, std::chrono::milliseconds(10s));
  auto refused = [&](const ::mqtt::exception& e, const std::string& filter) {
    const int reason = e.get_reason_code() >= 0x80 ? e.get_reason_code() : 0x80;
    return ProtocolError(reason, fmt::format("the broker refused the subscription: {}", e.get_error_str()),
                         filter.empty() ? d.where : filter, "check the topic filters and the broker's ACLs");
  };
  std::vector<int> granted;
  if (d.v5) {
    // One SUBSCRIBE per filter: Paho C++ 1.2 loses a multi-filter options list when it
    // copies its response options (a null dereference, paho.mqtt.cpp#524), and the C
    // library reads a one-filter request's options from the single-options field only.
    const ::mqtt::subscribe_options sub_options(
        options.no_local, options.retain_as_published,
        static_cast<::mqtt::subscribe_options::RetainHandling>(options.retain_handling));
    for (const auto& filter : filters) {
      try {
        auto token = d.client->subscribe(filter, options.qos, sub_options, detail::to_paho(d.profile.properties.subscribe));
        d.wait_token(token, timeout, "subscribing");
        const ::mqtt::subscribe_response response = token->get_subscribe_response();
        const auto& codes = response.get_reason_codes();
        granted.push_back(codes.empty() ? 0x80 : static_cast<int>(codes.front()));
      } catch (const ::mqtt::exception& e) {
        throw refused(e, filter);
      }
    }
    return granted;
  }
  try {
    auto token = d.client->subscribe(::mqtt::string_collection::create(filters),
                                     ::mqtt::iasync_client::qos_collection(filters.size(), options.qos));
    d.wait_token(token, timeout, "subscribing");
    const ::mqtt::subscribe_response response = token->get_subscribe_response();
    for (auto code : response.get_reason_codes()) granted.push_back(static_cast<int>(code));
    if (granted.empty() && filters.size() == 1) granted.push_back(static_cast<int>(token->get_reason_code()));
    return granted;
  } catch (const ::mqtt::exception& e) {
    throw refused(e, filters.empty() ? std::string() : filters.front());
  }
}

void PahoConnection::unsubscribe(const std::vector<std::string>& filters) {
  Impl& d = *m_impl;
  try {
    auto token = d.client->unsubscribe(::mqtt::string_collection::create(filters),
                                       d.v5 ? detail::to_paho(d.profile.properties.unsubscribe) : ::mqtt::properties());
    d.wait_token(token, std::max(d.profile.connect_timeout, std::chrono::milliseconds(10s)), "unsubscribing");
  } catch (const ::mqtt::exception& e) {
    throw ProtocolError(0x80, fmt::format("unsubscribe failed: {}", e.get_error_str()), d.where);
  }
}

std::optional<ReceivedMessage> PahoConnection::receive(std::chrono::milliseconds timeout) {
  Impl& d = *m_impl;
  std::unique_lock lock(d.mutex);
  d.changed.wait_for(lock, d.stop, timeout, [&] { return !d.inbox.empty() || d.lost; });
  if (!d.inbox.empty()) {
    ReceivedMessage message = std::move(d.inbox.front());
    d.inbox.pop_front();
    return message;
  }
  if (d.lost)
    throw ConnectError(-1, fmt::format("connection lost: {}", d.lost_cause), d.where,
                       "check the broker's log, or let pub/sub reconnect (leave out --no-reconnect)");
  d.check_stop();
  return std::nullopt;
}

void PahoConnection::disconnect(std::chrono::milliseconds drain_timeout) {
  Impl& d = *m_impl;
  std::optional<DeliveryError> undelivered;
  try {
    wait_for_acknowledgements(drain_timeout);
  } catch (const DeliveryError& e) {
    undelivered = e;
  }
  if (d.client->is_connected()) {
    try {
      // Everything is acknowledged (or given up on): no reason to let Paho linger.
      ::mqtt::disconnect_options options(0);
      if (d.v5) options.set_properties(detail::to_paho(d.profile.properties.disconnect));
      auto token = d.client->disconnect(options);
      token->wait_for(5s);
    } catch (const ::mqtt::exception&) {
      // The socket is already gone; nothing more to tell the broker.
    }
  }
  if (undelivered) throw *undelivered;
}

void PahoConnection::drop() {
  Impl& d = *m_impl;
  if (!d.client->is_connected()) return;
  if (d.v5) {
    ::mqtt::disconnect_options options(0);
    options.set_reason_code(::mqtt::ReasonCode::DISCONNECT_WITH_WILL_MESSAGE);
    try {
      d.client->disconnect(options)->wait_for(5s);
    } catch (const ::mqtt::exception&) {
      // Already closed: the will is published either way.
    }
  } else {
    const int fd = only_socket_to_port(d.profile.effective_port());
    if (fd < 0)
      throw Error("cannot drop the connection abruptly: its socket is ambiguous", d.where,
                  "use MQTT 5 (-V 5), which can ask the broker to publish the will");
    shutdown(fd, SHUT_RDWR);
  }
  std::lock_guard lock(d.mutex);
  d.lost = true;
  d.lost_cause = "dropped on purpose";
  d.changed.notify_all();
}

bool PahoConnection::is_connected() const { return m_impl->client->is_connected(); }

DeliveryReport PahoConnection::delivery_report() const {
  std::lock_guard lock(m_impl->mutex);
  return m_impl->report;
}

const ConnectionProfile& PahoConnection::profile() const noexcept { return m_impl->profile; }

// The seam the executable calls (paho_backend.hpp): every error comes back as a status.
class ModuleBackend final : public detail::PahoBackend {
public:
  explicit ModuleBackend(std::unique_ptr<PahoConnection> connection) : m_connection(std::move(connection)) {}

  void request_stop() noexcept override { m_connection->request_stop(); }
  void renew_stop() noexcept override { m_connection->renew_stop(); }
  void set_max_inflight(std::size_t max_inflight) noexcept override {
    m_connection->set_max_inflight(max_inflight);
  }
  void start_receiving() noexcept override { m_connection->start_receiving(); }
  detail::BackendStatus connect(ConnectResult& result) noexcept override {
    return detail::capture([&] { result = m_connection->connect(); });
  }
  detail::BackendStatus publish(const OutgoingMessage& message) noexcept override {
    return detail::capture([&] { m_connection->publish(message); });
  }
  detail::BackendStatus wait_for_acknowledgements(std::chrono::milliseconds timeout) noexcept override {
    return detail::capture([&] { m_connection->wait_for_acknowledgements(timeout); });
  }
  detail::BackendStatus subscribe(const std::vector<std::string>& filters, const SubscribeOptions& options,
                                  std::vector<int>& granted) noexcept override {
    return detail::capture([&] { granted = m_connection->subscribe(filters, options); });
  }
  detail::BackendStatus unsubscribe(const std::vector<std::string>& filters) noexcept override {
    return detail::capture([&] { m_connection->unsubscribe(filters); });
  }
  detail::BackendStatus receive(std::chrono::milliseconds timeout,
                                std::optional<ReceivedMessage>& message) noexcept override {
    return detail::capture([&] { message = m_connection->receive(timeout); });
  }
  detail::BackendStatus disconnect(std::chrono::milliseconds drain_timeout) noexcept override {
    return detail::capture([&] { m_connection->disconnect(drain_timeout); });
  }
  detail::BackendStatus drop() noexcept override {
    return detail::capture([&] { m_connection->drop(); });
  }
  bool is_connected() const noexcept override {
    try {
      return m_connection->is_connected();
    } catch (...) {
      return false;
    }
  }
  DeliveryReport delivery_report() const noexcept override { return m_connection->delivery_report(); }
  const ConnectionProfile& profile() const noexcept override { return m_connection->profile(); }

private:
  std::unique_ptr<PahoConnection> m_connection;
};

} // namespace
} // namespace mqfleet

// The module's only exported symbol (the module is built with hidden visibility).
extern "C" __attribute__((visibility("default"))) void
mqfleet_paho_create_backend_v3(int version, const mqfleet::detail::PahoHost& host, mqfleet::ConnectionProfile profile,
                               mqfleet::detail::PahoBackend*& backend, mqfleet::detail::BackendStatus& status) noexcept {
  status = mqfleet::detail::capture([&] {
    if (version != mqfleet::detail::k_paho_backend_version)
      throw mqfleet::ConfigError("the Paho module was built for another mqfleet", "mqfleet_paho.so",
                                 "rebuild mqfleet: the module must come from the same build as the binary");
    backend = new mqfleet::ModuleBackend(std::make_unique<mqfleet::PahoConnection>(host, std::move(profile)));
  });
}
