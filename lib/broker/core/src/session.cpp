#include <mqfleet/broker/session.hpp>

#include <mqfleet/error.hpp>

#include <algorithm>
#include <mutex>
#include <set>
#include <tuple>

namespace mqfleet::broker {

namespace {

std::size_t delivery_bytes(const Delivery& delivery) noexcept {
  return delivery.message ? delivery.message->topic.size() + delivery.message->payload.size() : 0;
}

} // namespace

MessagePtr Will::message_at(Clock::time_point now) const {
  if (!message || !message_expiry_interval) return message;
  auto copy = std::make_shared<Message>(*message);
  copy->expires_at = now + std::chrono::seconds(*message_expiry_interval);
  return copy;
}

void TopicAliasMap::reset(std::uint16_t maximum) {
  m_maximum = maximum;
  m_aliases.reset();
}

std::string_view TopicAliasMap::resolve(std::uint16_t alias, std::string_view topic) {
  if (alias == 0 || alias > m_maximum)
    throw ProtocolError(0x94, "topic alias " + std::to_string(alias) + " is outside 1.." + std::to_string(m_maximum),
                        "PUBLISH", "use topic aliases up to the Topic Alias Maximum announced in CONNACK");
  if (!topic.empty()) {
    if (!m_aliases) m_aliases = std::make_unique<std::unordered_map<std::uint16_t, std::string>>();
    auto& bound = (*m_aliases)[alias];
    bound.assign(topic);
    return bound;
  }
  if (m_aliases) {
    const auto it = m_aliases->find(alias);
    if (it != m_aliases->end()) return it->second;
  }
  throw ProtocolError(0x82, "topic alias " + std::to_string(alias) + " is not bound", "PUBLISH",
                      "send the topic name with the alias first");
}

OutgoingTopicAliases::Choice OutgoingTopicAliases::choose(std::string_view topic) const {
  if (const auto it = m_aliases.find(topic); it != m_aliases.end()) return {it->second, false};
  if (m_aliases.size() < m_limit) return {static_cast<std::uint16_t>(m_aliases.size() + 1), true};
  return {};
}

void OutgoingTopicAliases::bind(std::string_view topic, std::uint16_t alias) {
  if (alias != 0) m_aliases.emplace(std::string(topic), alias);
}

namespace {

struct LimitsLess {
  bool operator()(const SessionLimits& a, const SessionLimits& b) const noexcept {
    return std::tie(a.max_queued_messages, a.max_queued_bytes, a.max_inflight, a.queue_qos0_offline) <
           std::tie(b.max_queued_messages, b.max_queued_bytes, b.max_inflight, b.queue_qos0_offline);
  }
};

// Sessions share their limits: a process sees a handful of distinct values (the broker
// settings), and a 24-byte copy in every session costs each connection 16 bytes of
// heap. Values are kept for the life of the process.
const SessionLimits* intern(const SessionLimits& limits) {
  static std::mutex mutex;
  static auto* values = new std::set<SessionLimits, LimitsLess>();
  std::lock_guard lock(mutex);
  return &*values->insert(limits).first;
}

} // namespace

Session::Session(std::string key, SessionLimits limits)
    : m_key(std::move(key)), m_limits(intern(limits)), m_window(std::max<std::uint16_t>(limits.max_inflight, 1)) {}

Session::Flow& Session::flow() {
  if (!m_flow) m_flow = std::make_unique<Flow>();
  return *m_flow;
}

const SubscriptionMap& Session::subscriptions() const noexcept {
  static const SubscriptionMap k_none;
  return m_subscriptions ? *m_subscriptions : k_none;
}

std::vector<Outgoing> Session::attach(std::uint16_t client_receive_maximum) {
  m_connected = true;
  m_detached_at = Clock::time_point::min();
  if (m_will) m_will->due.reset();
  m_window = std::max<std::uint16_t>(1, std::min(std::max<std::uint16_t>(m_limits->max_inflight, 1),
                                                 std::max<std::uint16_t>(client_receive_maximum, 1)));
  std::vector<Outgoing> resend;
  if (!m_flow) return resend;
  resend.reserve(m_flow->inflight.size());
  for (const auto& [sequence, packet_id] : m_flow->inflight_order) {
    const auto& entry = m_flow->inflight.at(packet_id).second;
    Outgoing out;
    out.packet_id = packet_id;
    if (entry.state == State::awaiting_pubcomp) {
      out.kind = Outgoing::Kind::pubrel;
    } else {
      out.dup = true;
      out.delivery = entry.delivery;
    }
    resend.push_back(std::move(out));
  }
  return resend;
}

void Session::detach(Clock::time_point now) {
  m_connected = false;
  m_detached_at = now;
  m_aliases.reset(0);
  if (m_will) {
    const auto delay = std::min(m_will->will.delay_interval, m_expiry_interval);
    m_will->due = now + std::chrono::seconds(delay);
  }
}

void Session::set_subscription(std::string filter, const SubscriptionOptions& options) {
  if (!m_subscriptions) m_subscriptions = std::make_unique<SubscriptionMap>();
  m_subscriptions->insert_or_assign(std::move(filter), options);
}

bool Session::remove_subscription(std::string_view filter) {
  if (!m_subscriptions) return false;
  auto it = m_subscriptions->find(filter);
  if (it == m_subscriptions->end()) return false;
  m_subscriptions->erase(it);
  if (m_subscriptions->empty()) m_subscriptions.reset();
  return true;
}

PushResult Session::push(Delivery delivery) {
  Flow& f = flow();
  if (!m_connected && delivery.qos == 0 && !m_limits->queue_qos0_offline) {
    ++f.dropped_qos0;
    return PushResult::dropped_qos0_offline;
  }
  const auto bytes = delivery_bytes(delivery);
  const bool full_count = m_limits->max_queued_messages != 0 && queued_count() >= m_limits->max_queued_messages;
  const bool full_bytes = m_limits->max_queued_bytes != 0 && f.queued_bytes + bytes > m_limits->max_queued_bytes;
  if (full_count || full_bytes) {
    ++f.dropped_full;
    return PushResult::dropped_queue_full;
  }
  f.queued_bytes += bytes;
  if (!f.queue) f.queue = std::make_unique<std::deque<Delivery>>();
  f.queue->push_back(std::move(delivery));
  return PushResult::accepted;
}

std::optional<std::uint16_t> Session::allocate_packet_id() {
  Flow& f = flow();
  if (f.inflight.size() >= 65535) return std::nullopt;
  while (f.inflight.contains(f.next_packet_id)) {
    f.next_packet_id = f.next_packet_id == 65535 ? 1 : static_cast<std::uint16_t>(f.next_packet_id + 1);
  }
  const auto id = f.next_packet_id;
  f.next_packet_id = f.next_packet_id == 65535 ? 1 : static_cast<std::uint16_t>(f.next_packet_id + 1);
  return id;
}

std::optional<Outgoing> Session::next(Clock::time_point now) {
  if (!m_connected || !m_flow) return std::nullopt;
  Flow& f = *m_flow;
  while (f.queue && !f.queue->empty()) {
    Delivery& head = f.queue->front();
    if (head.message && head.message->expired(now)) {
      f.queued_bytes -= delivery_bytes(head);
      f.queue->pop_front();
      ++f.dropped_expired;
      continue;
    }
    if (head.qos > 0 && f.inflight.size() >= m_window) return std::nullopt;
    Outgoing out;
    out.delivery = std::move(head);
    f.queued_bytes -= delivery_bytes(out.delivery);
    f.queue->pop_front();
    if (out.delivery.qos > 0) {
      const auto id = allocate_packet_id();
      if (!id) { // unreachable while the window is at most 65535
        f.queue->push_front(std::move(out.delivery));
        return std::nullopt;
      }
      out.packet_id = *id;
      const auto sequence = f.send_sequence++;
      f.inflight_order.emplace(sequence, *id);
      f.inflight.emplace(*id, std::make_pair(sequence, Inflight{out.delivery.qos == 1 ? State::awaiting_puback
                                                                                      : State::awaiting_pubrec,
                                                               out.delivery}));
    }
    return out;
  }
  f.queue.reset();
  return std::nullopt;
}

bool Session::on_puback(std::uint16_t packet_id) {
  if (!m_flow) return false;
  auto it = m_flow->inflight.find(packet_id);
  if (it == m_flow->inflight.end() || it->second.second.state != State::awaiting_puback) return false;
  m_flow->inflight_order.erase(it->second.first);
  m_flow->inflight.erase(it);
  return true;
}

bool Session::on_pubrec(std::uint16_t packet_id, bool accepted) {
  if (!m_flow) return false;
  auto it = m_flow->inflight.find(packet_id);
  if (it == m_flow->inflight.end() || it->second.second.state != State::awaiting_pubrec) return false;
  if (accepted) {
    it->second.second.state = State::awaiting_pubcomp;
    it->second.second.delivery = {}; // the message is no longer needed
  } else {
    m_flow->inflight_order.erase(it->second.first);
    m_flow->inflight.erase(it);
  }
  return true;
}

bool Session::on_pubcomp(std::uint16_t packet_id) {
  if (!m_flow) return false;
  auto it = m_flow->inflight.find(packet_id);
  if (it == m_flow->inflight.end() || it->second.second.state != State::awaiting_pubcomp) return false;
  m_flow->inflight_order.erase(it->second.first);
  m_flow->inflight.erase(it);
  return true;
}

void Session::restore_inflight(std::uint16_t packet_id, bool released, Delivery delivery) {
  const State state = released ? State::awaiting_pubcomp
                               : (delivery.qos == 1 ? State::awaiting_puback : State::awaiting_pubrec);
  Flow& f = flow();
  const auto sequence = f.send_sequence++;
  f.inflight_order.emplace(sequence, packet_id);
  f.inflight.insert_or_assign(packet_id, std::make_pair(sequence, Inflight{state, std::move(delivery)}));
}

bool Session::incoming_qos2_begin(std::uint16_t packet_id) {
  Flow& f = flow();
  if (!f.incoming_qos2) f.incoming_qos2 = std::make_unique<std::unordered_set<std::uint16_t>>();
  return f.incoming_qos2->insert(packet_id).second;
}

bool Session::incoming_qos2_release(std::uint16_t packet_id) {
  return m_flow && m_flow->incoming_qos2 && m_flow->incoming_qos2->erase(packet_id) != 0;
}

std::optional<Clock::time_point> Session::expires_at() const noexcept {
  if (m_connected || m_detached_at == Clock::time_point::min() || m_expiry_interval == 0xFFFFFFFFu)
    return std::nullopt;
  return m_detached_at + std::chrono::seconds(m_expiry_interval);
}

bool Session::expired(Clock::time_point now) const noexcept {
  const auto at = expires_at();
  return at && *at <= now;
}

void Session::set_will(Will will) { m_will = std::make_unique<WillState>(WillState{std::move(will), std::nullopt}); }

std::optional<Will> Session::take_due_will(Clock::time_point now) {
  if (!m_will || !m_will->due || *m_will->due > now) return std::nullopt;
  auto will = std::move(m_will->will);
  clear_will();
  return will;
}

} // namespace mqfleet::broker
