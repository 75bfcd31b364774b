#include <mqfleet/broker/account_quotas.hpp>

namespace mqfleet::broker {
namespace {

/// Subtracts without wrapping: a ledger that went wrong must not turn into a huge usage
/// that refuses everything.
void decrease(std::size_t& value, std::size_t by) noexcept { value = by > value ? 0 : value - by; }

} // namespace

bool AccountQuotas::retained_fits(std::string_view account, bool replaces, std::size_t replaced_bytes,
                                  std::size_t bytes) const noexcept {
  const auto it = m_usage.find(account);
  const std::size_t count = it == m_usage.end() ? 0 : it->second.retained;
  std::size_t held = it == m_usage.end() ? 0 : it->second.retained_bytes;
  if (replaces) decrease(held, replaced_bytes);
  if (m_limits.max_retained != 0 && !replaces && count >= m_limits.max_retained) return false;
  if (m_limits.max_retained_bytes != 0 && held + bytes > m_limits.max_retained_bytes) return false;
  return true;
}

bool AccountQuotas::session_fits(std::string_view account) const noexcept {
  if (m_limits.max_sessions == 0) return true;
  const auto it = m_usage.find(account);
  return it == m_usage.end() || it->second.sessions < m_limits.max_sessions;
}

bool AccountQuotas::subscription_fits(std::string_view account) const noexcept {
  if (m_limits.max_subscriptions == 0) return true;
  const auto it = m_usage.find(account);
  return it == m_usage.end() || it->second.subscriptions < m_limits.max_subscriptions;
}

AccountUsage& AccountQuotas::entry(std::string_view account) {
  auto it = m_usage.find(account);
  if (it == m_usage.end()) it = m_usage.emplace(std::string(account), AccountUsage{}).first;
  return it->second;
}

void AccountQuotas::forget_if_empty(std::string_view account) {
  const auto it = m_usage.find(account);
  if (it != m_usage.end() && it->second.empty()) m_usage.erase(it);
}

void AccountQuotas::retained_added(std::string_view account, std::size_t bytes) {
  AccountUsage& usage = entry(account);
  ++usage.retained;
  usage.retained_bytes += bytes;
}

void AccountQuotas::retained_removed(std::string_view account, std::size_t bytes) {
  const auto it = m_usage.find(account);
  if (it == m_usage.end()) return;
  decrease(it->second.retained, 1);
  decrease(it->second.retained_bytes, bytes);
  forget_if_empty(account);
}

void AccountQuotas::session_added(std::string_view account) { ++entry(account).sessions; }

void AccountQuotas::session_removed(std::string_view account, std::size_t subscriptions) {
  const auto it = m_usage.find(account);
  if (it == m_usage.end()) return;
  decrease(it->second.sessions, 1);
  decrease(it->second.subscriptions, subscriptions);
  forget_if_empty(account);
}

void AccountQuotas::subscription_added(std::string_view account) { ++entry(account).subscriptions; }

void AccountQuotas::subscription_removed(std::string_view account) {
  const auto it = m_usage.find(account);
  if (it == m_usage.end()) return;
  decrease(it->second.subscriptions, 1);
  forget_if_empty(account);
}

void AccountQuotas::auth_failed(std::string_view account, bool throttled) {
  AccountUsage& usage = entry(account);
  ++usage.auth_failures;
  if (throttled) ++usage.auth_throttled;
}

void AccountQuotas::quota_refused(std::string_view account) { ++entry(account).quota_refusals; }

AccountUsage AccountQuotas::usage(std::string_view account) const {
  const auto it = m_usage.find(account);
  return it == m_usage.end() ? AccountUsage{} : it->second;
}

void AccountQuotas::for_each(const std::function<void(const std::string&, const AccountUsage&)>& visit) const {
  for (const auto& [account, usage] : m_usage) visit(account, usage);
}

std::string_view account_of(std::string_view internal_name, std::size_t mount_levels) noexcept {
  if (mount_levels == 0) return {};
  return internal_name.substr(0, internal_name.find('/'));
}

} // namespace mqfleet::broker
