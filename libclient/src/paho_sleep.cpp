#include "paho_sleep.hpp"

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <unistd.h>

namespace mqfleet::detail {
namespace {

std::mutex g_mutex;
std::condition_variable g_changed;
int g_fast_scopes = 0;

constexpr auto k_fast_step = std::chrono::milliseconds(1);

} // namespace

FastSleepScope::FastSleepScope() {
  std::lock_guard lock(g_mutex);
  ++g_fast_scopes;
  g_changed.notify_all();
}

FastSleepScope::~FastSleepScope() {
  std::lock_guard lock(g_mutex);
  --g_fast_scopes;
}

} // namespace mqfleet::detail

// Replaces libc's usleep for the whole process (the executable's definition takes
// precedence over libc's for libpaho-mqtt3as, which calls it through its PLT). Outside a
// FastSleepScope it sleeps the full time, like libc; an early return is within usleep's
// contract (a signal may end it early too).
extern "C" int usleep(useconds_t microseconds) {
  using namespace mqfleet::detail;
  const auto duration = std::chrono::microseconds(microseconds);
  if (duration < k_fast_step) {
    const timespec request{0, static_cast<long>(microseconds) * 1000};
    return nanosleep(&request, nullptr);
  }
  std::unique_lock lock(g_mutex);
  if (g_fast_scopes > 0) {
    g_changed.wait_for(lock, k_fast_step);
    return 0;
  }
  g_changed.wait_for(lock, duration, [] { return g_fast_scopes > 0; });
  return 0;
}
