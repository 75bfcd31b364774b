#include <mqfleet/sim/engine_transport.hpp>

#include <mqfleet/engine/client.hpp>
#include <mqfleet/engine/event_loop.hpp>
#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/reason_codes.hpp>

#include <algorithm>
#include <utility>
#include <vector>

namespace mqfleet::sim {
namespace {

mqtt::ProtocolVersion wire_version(MqttVersion version) {
  switch (version) {
  case MqttVersion::v31: return mqtt::ProtocolVersion::v3_1;
  case MqttVersion::v311: return mqtt::ProtocolVersion::v3_1_1;
  case MqttVersion::v5: return mqtt::ProtocolVersion::v5;
  }
  return mqtt::ProtocolVersion::v3_1_1;
}

mqtt::QoS wire_qos(int qos) { return static_cast<mqtt::QoS>(std::clamp(qos, 0, 2)); }

/// Per-device bookkeeping: the engine client and the tokens of unfinished publishes.
struct Slot {
  engine::Client* client = nullptr;
  std::vector<std::pair<std::uint16_t, std::uint64_t>> acked;  ///< QoS 1/2: packet id -> token
  std::vector<std::uint64_t> qos0;                             ///< QoS 0 tokens, in write order
  std::size_t qos0_head = 0;
  bool closing_by_us = false;
  bool connect_when_idle = false;
};

class EngineTransport final : public Transport, public engine::ClientHandler {
public:
  explicit EngineTransport(const ConnectionProfile& profile) : m_profile(profile) {
    if (profile.tls.enabled) m_tls = TlsClientContext::create(profile.tls, TlsSharing::many_connections);
  }

  void set_listener(TransportListener* listener) override { m_listener = listener; }

  void connect(ClientSlot slot, const ClientConfig& config) override {
    Slot& s = slot_of(slot);
    s.closing_by_us = false;
    if (!s.client) {
      engine::ClientOptions options;
      options.host = m_profile.host;
      options.port = static_cast<std::uint16_t>(m_profile.effective_port());
      options.tls = m_tls;
      if (m_profile.transport == TransportKind::websocket) options.ws_path = m_profile.ws_path;
      if (m_profile.transport == TransportKind::unix_socket) options.unix_path = m_profile.unix_path;
      options.version = wire_version(m_profile.version);
      options.client_id = config.client_id;
      if (!config.username.empty()) options.username = config.username;
      if (!config.password.empty()) options.password = config.password;
      options.keepalive_seconds = static_cast<std::uint16_t>(std::clamp(config.keepalive_seconds, 0, 65535));
      options.clean_start = config.clean_session;
      if (config.will) {
        auto will = std::make_shared<mqtt::Will>();
        will->topic = config.will->topic;
        will->payload = config.will->payload;
        will->qos = wire_qos(config.will->qos);
        will->retain = config.will->retain;
        options.will = std::move(will);
      }
      if (m_profile.version == MqttVersion::v5 && m_profile.session_expiry_seconds) {
        auto properties = std::make_shared<mqtt::Properties>();
        properties->session_expiry_interval = *m_profile.session_expiry_seconds;
        options.connect_properties = std::move(properties);
      }
      options.connect_timeout = m_profile.connect_timeout;
      s.client = &m_loop.add_client(std::move(options), *this, slot);
    }
    if (s.client->state() == engine::ClientState::idle) {
      s.client->connect();
    } else {
      s.connect_when_idle = true; // still closing from the last disconnect
    }
  }

  void publish(ClientSlot slot, std::string_view topic, std::string_view payload, int qos, bool retain,
               std::uint64_t token) override {
    Slot& s = slot_of(slot);
    std::optional<std::uint16_t> id;
    if (s.client) {
      try {
        id = s.client->publish(topic, payload, wire_qos(qos), retain);
      } catch (const ProtocolError&) {
        id.reset();
      }
    }
    if (!id) {
      m_failed.emplace_back(slot, token);
    } else if (qos == 0) {
      s.qos0.push_back(token);
    } else {
      s.acked.emplace_back(*id, token);
    }
  }

  void subscribe(ClientSlot slot, const std::vector<std::pair<std::string, int>>& filters) override {
    Slot& s = slot_of(slot);
    std::vector<mqtt::Subscription> subscriptions;
    for (const auto& [filter, qos] : filters) {
      mqtt::Subscription subscription;
      subscription.filter = filter;
      subscription.options.max_qos = wire_qos(qos);
      subscriptions.push_back(std::move(subscription));
    }
    std::uint16_t id = 0;
    if (s.client) {
      try {
        id = s.client->subscribe(subscriptions);
      } catch (const ProtocolError&) {
        id = 0;
      }
    }
    if (id == 0) m_failed_subscriptions.push_back(slot);
  }

  void disconnect(ClientSlot slot) override {
    Slot& s = slot_of(slot);
    s.connect_when_idle = false;
    if (!s.client) return;
    s.closing_by_us = true;
    s.client->disconnect();
  }

  void abort(ClientSlot slot) override {
    Slot& s = slot_of(slot);
    s.connect_when_idle = false;
    if (!s.client) return;
    s.closing_by_us = true;
    s.client->abort();
  }

  void run(const std::function<bool()>& tick, std::chrono::milliseconds interval) override {
    m_tick = &tick;
    m_interval = interval;
    m_loop.schedule_after(interval, [this] { on_tick(); });
    m_loop.run();
    m_tick = nullptr;
  }

  // engine::ClientHandler
  void on_connected(engine::Client& client, const engine::ConnackInfo&) override {
    m_listener->on_connected(static_cast<ClientSlot>(client.user_data()));
  }

  void on_connect_failed(engine::Client& client, const engine::ConnectFailure& failure) override {
    const auto slot = static_cast<ClientSlot>(client.user_data());
    Slot& s = slot_of(slot);
    fail_pending(slot, s);
    if (s.closing_by_us) return; // cancelled by disconnect() or abort()
    std::string reason;
    if (failure.reason_code >= 0) {
      reason = "refused: ";
      reason += m_profile.version == MqttVersion::v5
                    ? mqtt::reason_name(static_cast<mqtt::ReasonCode>(failure.reason_code))
                    : std::string_view(failure.message);
    } else {
      reason = std::string(failure.stage) + ": " + std::string(failure.message);
    }
    m_listener->on_connect_failed(slot, reason);
  }

  void on_message(engine::Client& client, const engine::IncomingMessage& message) override {
    m_listener->on_message(static_cast<ClientSlot>(client.user_data()), message.topic, message.payload);
  }

  void on_publish_complete(engine::Client& client, std::uint16_t packet_id, mqtt::ReasonCode reason) override {
    const auto slot = static_cast<ClientSlot>(client.user_data());
    Slot& s = slot_of(slot);
    for (std::size_t i = 0; i < s.acked.size(); ++i) {
      if (s.acked[i].first != packet_id) continue;
      const std::uint64_t token = s.acked[i].second;
      s.acked[i] = s.acked.back();
      s.acked.pop_back();
      m_listener->on_publish_done(slot, token, !mqtt::is_error(reason));
      return;
    }
  }

  void on_qos0_written(engine::Client& client, std::uint32_t count) override {
    const auto slot = static_cast<ClientSlot>(client.user_data());
    Slot& s = slot_of(slot);
    for (std::uint32_t i = 0; i < count && s.qos0_head < s.qos0.size(); ++i)
      m_listener->on_publish_done(slot, s.qos0[s.qos0_head++], true);
    if (s.qos0_head == s.qos0.size()) {
      s.qos0.clear();
      s.qos0_head = 0;
    }
  }

  void on_suback(engine::Client& client, std::uint16_t, std::span<const mqtt::ReasonCode> codes) override {
    bool ok = true;
    for (const auto code : codes) ok = ok && !mqtt::is_error(code);
    m_listener->on_subscribed(static_cast<ClientSlot>(client.user_data()), ok);
  }

  void on_closed(engine::Client& client, const engine::CloseInfo& info) override {
    const auto slot = static_cast<ClientSlot>(client.user_data());
    Slot& s = slot_of(slot);
    fail_pending(slot, s);
    if (s.connect_when_idle) {
      // A reconnect asked for while the last connection was still closing.
      s.connect_when_idle = false;
      m_reconnect.push_back(slot);
    }
    if (info.by_us || s.closing_by_us) return;
    m_listener->on_connection_lost(slot, info.message);
  }

private:
  Slot& slot_of(ClientSlot slot) {
    if (slot >= m_slots.size()) m_slots.resize(static_cast<std::size_t>(slot) + 1);
    return m_slots[slot];
  }

  /// Publishes that can no longer complete fail, reported from the next tick (never from
  /// inside a Transport call).
  void fail_pending(ClientSlot slot, Slot& s) {
    for (const auto& [id, token] : s.acked) m_failed.emplace_back(slot, token);
    for (std::size_t i = s.qos0_head; i < s.qos0.size(); ++i) m_failed.emplace_back(slot, s.qos0[i]);
    s.acked.clear();
    s.qos0.clear();
    s.qos0_head = 0;
  }

  void on_tick() {
    auto failed = std::exchange(m_failed, {});
    for (const auto& [slot, token] : failed) m_listener->on_publish_done(slot, token, false);
    auto refused = std::exchange(m_failed_subscriptions, {});
    for (const auto slot : refused) m_listener->on_subscribed(slot, false);
    auto reconnect = std::exchange(m_reconnect, {});
    for (const auto slot : reconnect)
      if (m_slots[slot].client && m_slots[slot].client->state() == engine::ClientState::idle)
        m_slots[slot].client->connect();
    if (m_tick && (*m_tick)()) {
      m_loop.schedule_after(m_interval, [this] { on_tick(); });
    } else {
      m_loop.stop();
    }
  }

  ConnectionProfile m_profile;
  std::shared_ptr<const TlsClientContext> m_tls;
  engine::EventLoop m_loop;
  TransportListener* m_listener = nullptr;
  std::vector<Slot> m_slots;
  std::vector<std::pair<ClientSlot, std::uint64_t>> m_failed;
  std::vector<ClientSlot> m_failed_subscriptions;
  std::vector<ClientSlot> m_reconnect;
  const std::function<bool()>* m_tick = nullptr;
  std::chrono::milliseconds m_interval{5};
};

} // namespace

std::unique_ptr<Transport> make_engine_transport(const ConnectionProfile& profile, std::size_t) {
  return std::make_unique<EngineTransport>(profile);
}

} // namespace mqfleet::sim
