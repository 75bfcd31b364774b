// CONNECT: version, client id, credentials and tenancy, will, session, CONNACK.

#include "broker_state.hpp"
#include "connection.hpp"
#include "handlers.hpp"
#include "log.hpp"
#include "server.hpp"

#include <mqfleet/broker/credentials.hpp>
#include <mqfleet/broker/tenancy.hpp>
#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/topic.hpp>

#include <atomic>
#include <random>

namespace mqfleet::broker {
namespace {

/// Topic aliases a v5 client may use towards the broker.
constexpr std::uint16_t k_topic_alias_maximum = 64;

std::string generated_client_id() {
  static std::atomic<std::uint64_t> counter{0};
  thread_local std::mt19937_64 random{std::random_device{}()};
  return "mqfleet-" + std::to_string(random() % 1000000000) + "-" + std::to_string(counter.fetch_add(1));
}

/// Sends a refusing CONNACK and closes. `code` is the v5 reason code; 3.x clients get
/// the matching return code.
void refuse(Connection& connection, mqtt::ReasonCode code, const std::string& reason) {
  mqtt::Connack connack;
  connack.reason_code = code;
  if (connection.client().v5()) connack.properties = reason_properties(reason);
  connection.client().set_close_reason(reason);
  connection.send(connack);
  connection.close_after_flush();
}

/// The will as a routed message, or nullptr when there is none or it may not be sent.
MessagePtr make_will(const ClientState& client, const mqtt::Connect& packet) {
  if (!packet.will) return nullptr;
  const mqtt::Will& will = *packet.will;
  if (!client.mount.may_publish(will.topic)) return nullptr;
  if (!client.rules().check_publish(will.topic).allowed) return nullptr;
  auto message = std::make_shared<Message>();
  message->topic = client.mount.mount_topic(will.topic);
  message->payload = will.payload;
  message->qos = static_cast<std::uint8_t>(will.qos);
  message->retain = will.retain;
  const mqtt::Properties& p = will.properties;
  message->properties.payload_format_indicator = p.payload_format_indicator;
  message->properties.content_type = p.content_type;
  message->properties.response_topic = p.response_topic;
  message->properties.correlation_data = p.correlation_data;
  message->properties.user_properties = p.user_properties;
  // The will's Message Expiry Interval starts when it is published (Will::message_expiry_interval).
  return message;
}

/// A CONNECT whose credentials are being checked on the auth pool.
struct PendingLogin {
  mqtt::Connect packet;
  RegistryPtr registry; ///< the registry in force when it arrived
  std::string peer;     ///< the peer's address (LoginGuard key)
  std::string login_id; ///< account/client-id (LoginGuard key)
  bool assigned_id = false;
};

void authenticated(Connection& connection, PendingLogin& login, AuthStatus status);
void accept_connect(Connection& connection, mqtt::Connect& packet, bool assigned_id, const Registry& registry);

/// The address part of "ip:port" (IPv6 addresses contain colons too).
std::string peer_address(const std::string& peer) {
  const auto colon = peer.rfind(':');
  return colon == std::string::npos ? peer : peer.substr(0, colon);
}

} // namespace

void handle_connect(Connection& connection, mqtt::Connect& packet) {
  ClientState& client = connection.client();
  BrokerState& state = connection.server().state();
  const BrokerConfig& config = state.config();
  client.version = packet.version;

  // 1. Enhanced authentication (v5 AUTH) is not offered.
  if (packet.properties.authentication_method) {
    refuse(connection, mqtt::ReasonCode::bad_authentication_method, "enhanced authentication is not supported");
    return;
  }

  // 2. Client identifier.
  bool assigned_id = false;
  if (packet.client_id.empty()) {
    if (!client.v5() && !packet.clean_start) {
      // MQTT-3.1.3-8: a persistent session needs a client id.
      refuse(connection, mqtt::ReasonCode::client_identifier_not_valid, "empty client id with a persistent session");
      return;
    }
    if (!config.allow_anonymous) {
      state.stats().auth_failures.fetch_add(1, std::memory_order_relaxed);
      log_refused(state, connection, packet.client_id, packet.username.value_or(""), 0x87, "unknown device");
      refuse(connection, mqtt::ReasonCode::not_authorized, "not authorized");
      return;
    }
    packet.client_id = generated_client_id();
    assigned_id = true;
  }

  // 3. Credentials and tenancy: username = account, client id = device, password = credential.
  auto registry = state.registry();
  if (config.allow_anonymous) {
    accept_connect(connection, packet, assigned_id, *registry);
    return;
  }
  // Failed-login back-off: a locked peer or client id is refused before the hash.
  const std::string account = packet.username.value_or("");
  std::string peer = peer_address(connection.peer());
  std::string login_id = account + "/" + packet.client_id;
  if (state.login_guard().locked(peer, login_id, Clock::now())) {
    state.stats().auth_throttled.fetch_add(1, std::memory_order_relaxed);
    log_refused(state, connection, packet.client_id, account, client.v5() ? 0x87 : 5, "too many failed logins");
    refuse(connection, mqtt::ReasonCode::not_authorized, "not authorized");
    return;
  }
  // The PBKDF2 runs on the auth pool, never on this io thread; the connection reads
  // nothing more until the answer is back (Connection::resume_reading).
  auto login = std::make_shared<PendingLogin>(
      PendingLogin{std::move(packet), std::move(registry), std::move(peer), std::move(login_id), assigned_id});
  client.auth_pending = true;
  const bool queued = connection.server().auth_pool().submit([self = connection.ref(), login] {
    const mqtt::Connect& p = login->packet;
    const std::string user = p.username.value_or("");
    const std::string_view password = p.password ? std::string_view(*p.password) : std::string_view();
    AuthStatus status = AuthStatus::unknown_account;
    if (p.username && valid_account(user)) status = login->registry->authenticate(user, p.client_id, password);
    else login->registry->verify_dummy();
    asio::post(self->executor(), [self, login, status] { authenticated(*self, *login, status); });
  });
  if (!queued) {
    client.auth_pending = false;
    log_refused(state, connection, login->packet.client_id, account, client.v5() ? 0x89 : 3, "server busy");
    refuse(connection, mqtt::ReasonCode::server_busy, "server busy");
  }
}

namespace {

void authenticated(Connection& connection, PendingLogin& login, AuthStatus status) {
  ClientState& client = connection.client();
  client.auth_pending = false;
  if (connection.closing()) return;
  BrokerState& state = connection.server().state();
  mqtt::Connect& packet = login.packet;
  const std::string account = packet.username.value_or("");
  if (status != AuthStatus::ok) {
    state.stats().auth_failures.fetch_add(1, std::memory_order_relaxed);
    state.login_guard().failed(login.peer, login.login_id, Clock::now());
    const std::string failed = !packet.username ? "no username" : std::string(to_string(status));
    log_refused(state, connection, packet.client_id, account, client.v5() ? 0x87 : 5, failed);
    refuse(connection, mqtt::ReasonCode::not_authorized, "not authorized");
    return;
  }
  state.login_guard().succeeded(login.login_id);
  client.mount = TenantMount(account);
  accept_connect(connection, packet, login.assigned_id, *login.registry);
  connection.resume_reading();
}

// Steps 4-6 once the client is who it says (or the broker is open).
void accept_connect(Connection& connection, mqtt::Connect& packet, bool assigned_id, const Registry& registry) {
  ClientState& client = connection.client();
  BrokerState& state = connection.server().state();
  const BrokerConfig& config = state.config();
  const std::string account = packet.username.value_or("");
  client.set_rules(registry.rules().bind(account, packet.client_id));
  client.problem_information = packet.properties.request_problem_information.value_or(1) != 0;
  const std::string session_key = client.mount.prefix() + packet.client_id;

  // 4. Will (validated by the decoder; access rules decide whether it may be sent).
  MessagePtr will = make_will(client, packet);
  std::uint32_t will_delay = 0;
  std::optional<std::uint32_t> will_expiry;
  if (packet.will) {
    will_delay = packet.will->properties.will_delay_interval.value_or(0);
    will_expiry = packet.will->properties.message_expiry_interval;
  }

  // 5. Session: v5 Session Expiry Interval, 3.x clean session.
  std::uint32_t expiry = 0;
  if (client.v5()) expiry = packet.properties.session_expiry_interval.value_or(0);
  else expiry = packet.clean_start ? 0 : 0xFFFFFFFF;
  const std::uint16_t receive_maximum = packet.properties.receive_maximum.value_or(65535);
  client.client_max_packet_size = packet.properties.maximum_packet_size.value_or(0);

  WakeList wake;
  BrokerState::Attached attached;
  {
    auto lock = state.lock();
    attached = state.attach(connection, session_key, static_cast<std::uint8_t>(client.version),
                            packet.clean_start, expiry, receive_maximum, wake);
    if (will) attached.entry->session.set_will(Will{will, will_delay, will_expiry});
    attached.entry->session.topic_aliases().reset(client.v5() ? k_topic_alias_maximum : 0);
  }
  wake_all(wake);
  client.session = attached.entry;
  client.connected = true;
  connection.server().stats().clients_connected.fetch_add(1, std::memory_order_relaxed);
  connection.server().stats().clients_total.fetch_add(1, std::memory_order_relaxed);

  // 6. CONNACK, then retransmissions of a resumed session, then queued messages.
  mqtt::Connack connack;
  connack.session_present = attached.session_present;
  if (client.v5()) {
    connack.properties.receive_maximum = config.limits.max_inflight;
    connack.properties.maximum_packet_size = config.limits.max_packet_size;
    connack.properties.topic_alias_maximum = k_topic_alias_maximum;
    connack.properties.retain_available = 1;
    if (assigned_id) connack.properties.assigned_client_identifier = packet.client_id;
  }
  connection.send(connack);
  connection.set_keepalive(packet.keep_alive);
  log_connect(state, connection, attached.session_present);
  connection.send_outgoing(attached.resend);
  connection.post_flush();
}

} // namespace

} // namespace mqfleet::broker
