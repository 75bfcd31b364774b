// BrokerState and durable state: loading state.db into the routing state at start-up.

#include "broker_state.hpp"
#include "persistence.hpp"

#include <nlohmann/json.hpp>

namespace mqfleet::broker {

void BrokerState::open_persistence() {
  if (m_config.data_dir.empty() || m_persistence) return;
  auto persistence = std::make_unique<Persistence>(m_config.data_dir, m_config.durable_ack,
                                                   [this](const std::string& line) { log(line); });
  auto loaded = persistence->load();
  load_devices_seen(loaded.devices_seen, *persistence);
  auto guard = lock();
  for (auto& message : loaded.retained) m_retained.set(std::move(message));
  std::size_t messages = 0;
  const auto now = Clock::now();
  for (auto& stored : loaded.sessions) {
    auto entry = make_ref<SessionEntry>(stored.key, session_limits());
    entry->protocol_version = stored.protocol_version;
    Session& session = entry->session;
    session.set_expiry_interval(stored.expiry_interval);
    // Loaded state is counted against the per-account limits but never refused: a
    // lowered limit refuses what comes next, it does not drop what was stored.
    for (auto& [filter, options] : stored.subscriptions) {
      session.set_subscription(filter, options);
      if (m_tree.add(stored.key, filter, options)) m_quotas.subscription_added(account_of(stored.key, m_mount_levels));
    }
    for (auto& e : stored.entries) {
      if (e.state == EntryState::queued) session.push(std::move(e.delivery));
      else session.restore_inflight(e.packet_id, e.state == EntryState::awaiting_pubcomp, std::move(e.delivery));
      ++messages;
    }
    // Detached as of now: the expiry clock starts again at the restart.
    session.detach(now);
    if (m_sessions.find(entry->session.key()) == nullptr) {
      m_quotas.session_added(account_of(entry->session.key(), m_mount_levels));
      m_sessions.insert(std::move(entry));
    }
  }
  log(nlohmann::json{{"event", "state_loaded"},
                     {"path", m_config.data_dir},
                     {"retained", m_retained.count()},
                     {"sessions", loaded.sessions.size()},
                     {"session_messages", messages}}
          .dump());
  m_persistence = std::move(persistence);
}

void BrokerState::load_devices_seen(const std::vector<DeviceSeen>& stored, Persistence& persistence) {
  const RegistryPtr devices = registry();
  std::lock_guard seen_lock(m_seen_mutex);
  for (const auto& seen : stored) {
    // A device removed from the registry (or a registry-less start) is forgotten, so the
    // table stays as small as the registry.
    const Account* account = devices->find_account(seen.account);
    if (account == nullptr || !account->devices.contains(seen.device)) {
      persistence.device_forgotten(seen.account, seen.device);
      continue;
    }
    std::string key;
    key.append(seen.account).append(1, '\0').append(seen.device);
    m_last_seen[std::move(key)] = seen.epoch_ms;
  }
}

void BrokerState::close_persistence() { m_persistence.reset(); }

} // namespace mqfleet::broker
