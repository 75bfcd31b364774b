#pragma once
// Helpers for the fast engine's end-to-end tests: a ClientHandler made of lambdas and a
// polling wait with a generous failure-guard timeout (no timed assertions).

#include <mqfleet/engine/client.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace mqfleet::test {

/// A handler whose callbacks are optional lambdas (run on the client's loop thread).
struct LambdaHandler : engine::ClientHandler {
  std::function<void(engine::Client&, const engine::ConnackInfo&)> connected;
  std::function<void(engine::Client&, const engine::ConnectFailure&)> failed;
  std::function<void(engine::Client&, const engine::IncomingMessage&)> message;
  std::function<void(engine::Client&, std::uint16_t, mqtt::ReasonCode)> complete;
  std::function<void(engine::Client&, std::uint16_t, std::span<const mqtt::ReasonCode>)> suback;
  std::function<void(engine::Client&, const engine::CloseInfo&)> closed;

  void on_connected(engine::Client& c, const engine::ConnackInfo& i) override { if (connected) connected(c, i); }
  void on_connect_failed(engine::Client& c, const engine::ConnectFailure& f) override { if (failed) failed(c, f); }
  void on_message(engine::Client& c, const engine::IncomingMessage& m) override { if (message) message(c, m); }
  void on_publish_complete(engine::Client& c, std::uint16_t id, mqtt::ReasonCode r) override {
    if (complete) complete(c, id, r);
  }
  void on_suback(engine::Client& c, std::uint16_t id, std::span<const mqtt::ReasonCode> codes) override {
    if (suback) suback(c, id, codes);
  }
  void on_closed(engine::Client& c, const engine::CloseInfo& i) override { if (closed) closed(c, i); }
};

/// Polls pred until it holds or timeout passes (a failure guard, not a measurement).
inline bool wait_until(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

} // namespace mqfleet::test
