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
#include <memory>
#include <optional>
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

/// What an accepted CONNECT asks of the session, kept while the attach waits (below).
struct SessionRequest {
  std::string session_key;
  std::string assigned_client_id; ///< empty unless the broker generated the client id
  std::optional<Will> will;
  std::uint32_t expiry = 0;
  std::uint16_t receive_maximum = 65535;
  std::uint16_t keep_alive = 0;
  bool clean_start = true;
  bool server_keep_alive = false; ///< keep_alive is --max-keepalive, tell a v5 client
};

/// Binds the session, then CONNACK, retransmissions and queued messages.
///
/// A client's own order is kept across its connections: when another live connection
/// owns the session, what that connection has already received (a DISCONNECT sent just
/// before this CONNECT, possibly read by another io thread a moment later) is processed
/// first. This connection's input pauses, the owner reads what is waiting on its socket
/// on its own io thread, and the attach resumes here with `previous_drained` set.
void attach_session(Connection& connection, std::shared_ptr<SessionRequest> request, bool previous_drained) {
  ClientState& client = connection.client();
  BrokerState& state = connection.server().state();
  const BrokerConfig& config = state.config();
  WakeList wake;
  BrokerState::Attached attached;
  {
    auto lock = state.lock();
    if (!previous_drained) {
      if (auto previous = state.owner_of(request->session_key); previous && previous.get() != &connection) {
        lock.unlock();
        connection.pause_input();
        previous->post_after_pending_input([self = connection.ref(), request]() mutable {
          auto resume = [self, request = std::move(request)]() mutable {
            if (self->closing()) return;
            attach_session(*self, std::move(request), true);
            self->resume_input();
          };
          asio::post(self->executor(), std::move(resume));
        });
        return;
      }
    }
    attached = state.attach(connection, request->session_key, static_cast<std::uint8_t>(client.version),
                            request->clean_start, request->expiry, request->receive_maximum, wake);
    if (!attached.over_quota) {
      if (request->will) attached.entry->session.set_will(std::move(*request->will));
      attached.entry->session.topic_aliases().reset(client.v5() ? k_topic_alias_maximum : 0);
    }
  }
  wake_all(wake);
  if (attached.over_quota) {
    // v5 0x97 Quota exceeded; 3.x has no such code: 3 "server unavailable".
    refuse(connection, mqtt::ReasonCode::quota_exceeded, "the account's session limit is reached");
    return;
  }
  client.session = attached.entry;
  client.connected = true;
  connection.server().stats().clients_connected.fetch_add(1, std::memory_order_relaxed);
  connection.server().stats().clients_total.fetch_add(1, std::memory_order_relaxed);

  // CONNACK, then retransmissions of a resumed session, then queued messages.
  mqtt::Connack connack;
  connack.session_present = attached.session_present;
  if (client.v5()) {
    connack.properties.receive_maximum = config.limits.max_inflight;
    connack.properties.maximum_packet_size = config.limits.max_packet_size;
    connack.properties.topic_alias_maximum = k_topic_alias_maximum;
    connack.properties.retain_available = 1;
    if (!request->assigned_client_id.empty())
      connack.properties.assigned_client_identifier = request->assigned_client_id;
    if (request->server_keep_alive) connack.properties.server_keep_alive = request->keep_alive;
  }
  connection.send(connack);
  connection.set_keepalive(request->keep_alive);
  log_connect(state, connection, attached.session_present);
  connection.send_outgoing(attached.resend);
  connection.post_flush();
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
  // Known before any answer: no packet may exceed it, a refusing CONNACK included
  // (MQTT-3.1.2-24, Connection::send()).
  client.client_max_packet_size = packet.properties.maximum_packet_size.value_or(0);

  // 1. Enhanced authentication (v5 AUTH) is not offered.
  if (packet.properties.authentication_method) {
    refuse(connection, mqtt::ReasonCode::bad_authentication_method, "enhanced authentication is not supported");
    return;
  }

  // 2. Client identifier.
  bool assigned_id = false;
  if (packet.client_id.empty()) {
    if (client.version == mqtt::ProtocolVersion::v3_1) {
      // MQTT 3.1 requires a client id of 1 to 23 characters: return code 2.
      refuse(connection, mqtt::ReasonCode::client_identifier_not_valid, "empty client id (MQTT 3.1)");
      return;
    }
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
    state.count_auth_failure(account, true);
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
    state.count_auth_failure(account, false);
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

// Steps 4-7 once the client is who it says (or the broker is open).
void accept_connect(Connection& connection, mqtt::Connect& packet, bool assigned_id, const Registry& registry) {
  ClientState& client = connection.client();
  BrokerState& state = connection.server().state();
  const BrokerConfig& config = state.config();
  const std::string account = packet.username.value_or("");
  client.set_rules(registry.rules().bind(account, packet.client_id));
  client.problem_information = packet.properties.request_problem_information.value_or(1) != 0;
  const std::string session_key = client.mount.prefix() + packet.client_id;

  // 4. Keepalive: --max-keepalive caps it (mosquitto's max_keepalive): a v5 client asking
  // for more, or for none, gets the cap as Server Keep Alive; 3.x has no way to be told,
  // so it is refused with return code 2, as mosquitto does.
  std::uint16_t keep_alive = packet.keep_alive;
  bool server_keep_alive = false;
  if (config.limits.max_keepalive != 0 && (keep_alive == 0 || keep_alive > config.limits.max_keepalive)) {
    if (!client.v5()) {
      refuse(connection, mqtt::ReasonCode::client_identifier_not_valid,
             "keepalive " + std::to_string(keep_alive) + " is not within 1.." + std::to_string(config.limits.max_keepalive));
      return;
    }
    keep_alive = config.limits.max_keepalive;
    server_keep_alive = true;
  }

  // 5. Will (validated by the decoder; access rules decide whether it may be sent).
  MessagePtr will = make_will(client, packet);
  std::uint32_t will_delay = 0;
  std::optional<std::uint32_t> will_expiry;
  if (packet.will) {
    will_delay = packet.will->properties.will_delay_interval.value_or(0);
    will_expiry = packet.will->properties.message_expiry_interval;
  }

  // 6. Session: v5 Session Expiry Interval, 3.x clean session.
  std::uint32_t expiry = 0;
  if (client.v5()) expiry = packet.properties.session_expiry_interval.value_or(0);
  else expiry = packet.clean_start ? 0 : 0xFFFFFFFF;
  const std::uint16_t receive_maximum = packet.properties.receive_maximum.value_or(65535);
  if (const auto aliases = packet.properties.topic_alias_maximum.value_or(0); aliases != 0)
    client.outgoing_aliases = std::make_unique<OutgoingTopicAliases>(aliases);

  // 7. Session attach, CONNACK.
  auto request = std::make_shared<SessionRequest>();
  request->session_key = session_key;
  if (assigned_id) request->assigned_client_id = packet.client_id;
  request->clean_start = packet.clean_start;
  request->expiry = expiry;
  request->receive_maximum = receive_maximum;
  if (will) request->will = Will{will, will_delay, will_expiry};
  request->keep_alive = keep_alive;
  request->server_keep_alive = server_keep_alive;
  attach_session(connection, std::move(request), false);
}

} // namespace

} // namespace mqfleet::broker
