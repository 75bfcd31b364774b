#include <mqfleet/broker/tenancy.hpp>

#include <mqfleet/mqtt/topic.hpp>

namespace mqfleet::broker {

bool is_sys_topic(std::string_view topic_or_filter) noexcept {
  return topic_or_filter == "$SYS" || topic_or_filter.starts_with("$SYS/");
}

bool valid_account(std::string_view account) noexcept {
  if (account.empty() || account.size() > mqtt::k_max_topic_length) return false;
  if (account.front() == '$') return false;
  return account.find_first_of(std::string_view("/+#\0", 4)) == std::string_view::npos;
}

TenantMount::TenantMount(std::string account) : m_prefix(std::move(account)) {
  if (!m_prefix.empty()) m_prefix += '/';
}

std::string TenantMount::mount_topic(std::string_view topic) const {
  if (m_prefix.empty()) return std::string(topic);
  std::string mounted;
  mounted.reserve(m_prefix.size() + topic.size());
  mounted.append(m_prefix).append(topic);
  return mounted;
}

std::string TenantMount::mount_filter(std::string_view filter) const {
  if (m_prefix.empty()) return std::string(filter);
  if (auto shared = mqtt::parse_shared_subscription(filter)) {
    std::string mounted;
    mounted.reserve(filter.size() + m_prefix.size());
    mounted.append("$share/").append(shared->group).append("/").append(m_prefix).append(shared->filter);
    return mounted;
  }
  return mount_topic(filter);
}

std::optional<std::string_view> TenantMount::unmount_topic(std::string_view internal_topic) const noexcept {
  if (m_prefix.empty()) return internal_topic;
  if (!internal_topic.starts_with(m_prefix)) return std::nullopt;
  return internal_topic.substr(m_prefix.size());
}

} // namespace mqfleet::broker
