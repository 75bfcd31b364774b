#pragma once
// Paho C sleeps in 100 ms steps (MQTTAsync_sleep -> usleep) when its receive thread has
// no socket to poll, and while the last client's destruction waits for the library
// threads to stop. A connect issued during such a sleep waits for it to end, which made
// a one-shot connect-publish-disconnect take ~230 ms. paho_sleep.cpp interposes usleep
// (and poll, whose 10 ms waits delay noticing a completed TCP connect) in the executable
// so that, between begin_fast_sleeps() and end_fast_sleeps(), those waits end within a
// millisecond. The Paho module (paho_connection.cpp) calls both through its PahoHost.

namespace mqfleet::detail {

/// From now until the matching end_fast_sleeps(), sleeps of the MQTT library threads last
/// at most ~1 ms (sleeps already in progress are cut short). Spans nest.
void begin_fast_sleeps();

/// Ends the span begun by the matching begin_fast_sleeps().
void end_fast_sleeps();

} // namespace mqfleet::detail
