#include <mqfleet/engine/wire.hpp>

namespace mqfleet::engine {

void InflightWindow::reset(std::uint16_t capacity) {
  m_states.clear();
  m_free.clear();
  m_capacity = capacity == 0 ? 1 : capacity;
  m_in_use = 0;
}

std::optional<std::uint16_t> InflightWindow::acquire(mqtt::QoS qos) {
  if (m_capacity == 0) return std::nullopt;
  if (m_states.empty()) {
    m_states.assign(m_capacity, InflightState::free);
    m_free.reserve(m_capacity);
    // Pushed in reverse so ids are handed out 1, 2, 3... (easier to read in captures).
    for (std::uint32_t id = m_capacity; id >= 1; --id) m_free.push_back(static_cast<std::uint16_t>(id));
  }
  if (m_free.empty()) return std::nullopt;
  const std::uint16_t id = m_free.back();
  m_free.pop_back();
  m_states[id - 1] = qos == mqtt::QoS::exactly_once ? InflightState::awaiting_pubrec
                                                    : InflightState::awaiting_puback;
  ++m_in_use;
  return id;
}

InflightState InflightWindow::state(std::uint16_t id) const noexcept {
  if (id == 0 || id > m_states.size()) return InflightState::free;
  return m_states[id - 1];
}

void InflightWindow::set_state(std::uint16_t id, InflightState state) noexcept {
  if (id == 0 || id > m_states.size()) return;
  InflightState& slot = m_states[id - 1];
  if (slot == InflightState::free) return;
  slot = state;
  if (state == InflightState::free) {
    m_free.push_back(id);
    --m_in_use;
  }
}

std::uint32_t InflightWindow::clear() noexcept {
  const std::uint32_t lost = m_in_use;
  std::vector<InflightState>().swap(m_states);
  std::vector<std::uint16_t>().swap(m_free);
  m_in_use = 0;
  return lost;
}

bool IncomingQos2::begin(std::uint16_t id) noexcept {
  if (m_ids.test(id)) return false;
  m_ids.set(id);
  return true;
}

} // namespace mqfleet::engine
