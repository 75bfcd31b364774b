#pragma once
// Paho C sleeps in 100 ms steps (MQTTAsync_sleep -> usleep) when its receive thread has
// no socket to poll, and while the last client's destruction waits for the library
// threads to stop. A connect issued during such a sleep waits for it to end, which made
// a one-shot connect-publish-disconnect take ~230 ms. paho_sleep.cpp interposes usleep
// so that, while a FastSleepScope is alive, those sleeps end within a millisecond.

namespace mqfleet::detail {

/// While alive, sleeps of the MQTT library threads last at most ~1 ms (sleeps already
/// in progress are cut short). Use around connect and client destruction.
class FastSleepScope {
public:
  FastSleepScope();
  ~FastSleepScope();
  FastSleepScope(const FastSleepScope&) = delete;
  FastSleepScope& operator=(const FastSleepScope&) = delete;
};

} // namespace mqfleet::detail
