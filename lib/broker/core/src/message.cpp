#include <mqfleet/broker/message.hpp>

namespace mqfleet::broker {

std::optional<std::uint32_t> Message::remaining_expiry(Clock::time_point now) const noexcept {
  if (!expires_at) return std::nullopt;
  if (*expires_at <= now) return 0;
  // Round up so a message that has not expired never announces 0 seconds left.
  const auto left = std::chrono::ceil<std::chrono::seconds>(*expires_at - now).count();
  return static_cast<std::uint32_t>(left > 0xFFFFFFFFLL ? 0xFFFFFFFFLL : left);
}

} // namespace mqfleet::broker
