#include <mqfleet/lean_connection.hpp>

#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/codec.hpp>
#include <mqfleet/mqtt/frame.hpp>
#include <mqfleet/profile_resolve.hpp>

#include "client_checks.hpp"
#include "lean_receive.hpp"
#include "lean_session.hpp"
#include "lean_transport.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <poll.h>
#include <random>
#include <thread>
#include <unistd.h>

namespace mqfleet {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Queued bytes are written once this much has accumulated (or when the caller waits):
// one write carries thousands of small PUBLISH packets.
constexpr std::size_t k_batch_bytes = 64 * 1024;
// Beyond this much unwritten data publish() waits for the socket: memory stays bounded.
constexpr std::size_t k_max_queued_bytes = 1024 * 1024;
constexpr std::size_t k_read_chunk = 16 * 1024;
// receive() stops reading once this many messages wait in the queue (the socket buffer
// and TCP flow control hold the rest), so a slow consumer does not grow memory.
constexpr std::size_t k_inbox_limit = 4096;
// Blocking waits wake at least this often to notice a stop request (signals are handled
// on another thread).
constexpr auto k_stop_check = 100ms;
constexpr auto k_disconnect_flush = 2s;

std::string random_client_id() {
  std::random_device device;
  return fmt::format("mqfleet-{}-{:08x}", getpid(), device());
}

} // namespace

struct LeanConnection::Impl {
  ConnectionProfile profile;
  std::string where;
  bool v5 = false;
  mqtt::ProtocolVersion version = mqtt::ProtocolVersion::v3_1_1;
  std::string password;
  std::shared_ptr<const TlsClientContext> tls;
  std::stop_token stop;
  std::size_t max_inflight = 1000;

  detail::Transport transport;
  detail::OutBuffer out;
  mqtt::FrameReader reader{mqtt::k_max_packet_size};
  detail::PublishState state{mqtt::ProtocolVersion::v3_1_1};
  detail::ReceiveState inbound{mqtt::ProtocolVersion::v3_1_1};
  bool receiving = false;          ///< start_receiving() was called
  bool manual_acks = false;        ///< set_manual_acknowledgement()
  bool bounded_reads = false;      ///< inside receive(): reading stops at k_inbox_limit

  bool connecting = false;         ///< CONNECT queued or sent, CONNACK not handled yet
  bool connected = false;          ///< CONNACK accepted and not closed since
  Clock::time_point connect_start;
  Clock::time_point connect_deadline;
  Clock::time_point connected_at;
  std::optional<mqtt::Connack> connack;
  bool lost = false;
  std::string lost_cause;
  std::chrono::seconds keepalive{0};
  Clock::time_point last_sent;
  std::optional<Clock::time_point> ping_sent;

  // Automatic reconnection (profile.reconnect): once a connection was established, a
  // lost one is opened again with exponential back-off, the session resumed (resend with
  // DUP, PUBREL) and the subscriptions made again when the broker kept no session.
  bool established = false;        ///< a CONNACK was accepted once: losses are recovered
  bool recovering = false;         ///< inside a reconnect attempt (no nested recovery)
  int no_recover = 0;              ///< > 0: a loss is reported, not recovered (await_ack)
  bool resuming = false;           ///< the CONNACK awaited belongs to a reconnect
  unsigned failed_attempts = 0;
  std::optional<Clock::time_point> next_attempt;
  std::size_t reconnects = 0;
  struct Subscription {
    std::vector<std::string> filters;
    SubscribeOptions options;
  };
  std::vector<Subscription> subscriptions; ///< made again after a reconnect without session
  std::vector<std::uint16_t> resubscribe_ids; ///< their SUBACKs not yet arrived

  void check_stop() const {
    if (stop.stop_requested()) throw InterruptedError("interrupted", where);
  }

  void lose(std::string cause) {
    if (lost) return;
    lost = true;
    lost_cause = std::move(cause);
    transport.close();
  }

  // The hint when a lost connection is not recovered: how to turn reconnection on.
  std::string reconnect_hint(const char* first) const {
    if (profile.reconnect.enabled) return fmt::format("{}; the connection was lost before it was established", first);
    return fmt::format("{}, or let pub/sub reconnect (leave out --no-reconnect)", first);
  }

  DeliveryError lost_error() const {
    const DeliveryReport& r = state.report();
    return DeliveryError(-1,
                         fmt::format("the connection was lost ({}); {} of {} messages were not acknowledged",
                                     lost_cause, r.in_flight(), r.published),
                         where, reconnect_hint("check the broker's log; messages in flight were not delivered"));
  }

  // What receive(), subscribe() and unsubscribe() throw once the connection is gone (the
  // Paho-backed Connection's wording).
  ConnectError connection_lost() const {
    return ConnectError(-1, fmt::format("connection lost: {}", lost_cause), where,
                        reconnect_hint("check the broker's log"));
  }

  bool can_recover() const noexcept { return profile.reconnect.enabled && established && !recovering && no_recover == 0; }

  // Back-off before attempt `failed` (0-based): min_delay doubling up to max_delay.
  Clock::duration backoff(unsigned failed) const {
    const auto min_delay = std::chrono::duration_cast<Clock::duration>(
        std::max<std::chrono::milliseconds>(profile.reconnect.min_delay, 100ms));
    const auto max_delay =
        std::max(min_delay, std::chrono::duration_cast<Clock::duration>(profile.reconnect.max_delay));
    auto delay = min_delay;
    for (unsigned i = 0; i < failed && delay < max_delay; ++i) delay *= 2;
    return std::min(delay, max_delay);
  }

  // Opens the byte stream and queues CONNECT on fresh buffers (connect and reconnect).
  void open_and_send_connect() {
    connect_start = Clock::now();
    connect_deadline = connect_start + profile.connect_timeout;
    transport.close();
    transport.open(profile, tls.get(), connect_deadline, stop, where);
    lost = false;
    lost_cause.clear();
    connack.reset();
    connected = false;
    reader = mqtt::FrameReader(mqtt::k_max_packet_size);
    out = detail::OutBuffer();
    try {
      mqtt::encode(detail::make_connect(profile, password), version, out.data());
    } catch (const ProtocolError& e) {
      transport.close();
      throw ConfigError(fmt::format("cannot build CONNECT: {}", e.what()), where,
                        "check the client id, user name, password and will (each at most 65,535 bytes)");
    }
    connecting = true;
  }

  // Reconnects a lost, once established connection: waits out the back-off (the schedule
  // survives calls that give up at their deadline), connects, resumes. Returns true when
  // connected again, false when `deadline` passed (or, not interruptible, a stop was
  // requested). A broker that refuses the CONNECT ends it with that error.
  bool recover(Clock::time_point deadline, bool interruptible) {
    if (!lost || !can_recover()) return !lost;
    recovering = true;
    struct Reset {
      bool& flag;
      ~Reset() { flag = false; }
    } reset{recovering};
    if (!next_attempt) next_attempt = Clock::now() + backoff(failed_attempts);
    for (;;) {
      while (Clock::now() < *next_attempt) {
        if (stop.stop_requested()) {
          if (interruptible) throw InterruptedError("interrupted", where);
          return false;
        }
        const auto now = Clock::now();
        if (now >= deadline) return false;
        std::this_thread::sleep_for(std::min<Clock::duration>({*next_attempt - now, deadline - now, k_stop_check}));
      }
      if (Clock::now() >= deadline) return false;
      try {
        resuming = true;
        open_and_send_connect();
        finish_connect();
        next_attempt.reset();
        failed_attempts = 0;
        ++reconnects;
        return true;
      } catch (const ConnectError& e) {
        // A broker that refuses the CONNECT (credentials, client id...) will refuse it
        // again; only "server unavailable / busy" is worth another attempt.
        const int code = e.reason_code();
        if (code > 0 && code != 3 && code != 0x88 && code != 0x89) throw;
        if (!lost) lose(e.what());
      } catch (const TimeoutError& e) {
        lose(e.what());
      }
      resuming = false;
      next_attempt = Clock::now() + backoff(++failed_attempts);
    }
  }

  // After the CONNACK of a reconnect: resend what is unacknowledged and subscribe again
  // when the broker kept no session.
  void resume_session(bool session_present) {
    resuming = false;
    inbound.resume(session_present);
    state.resume(out, session_present);
    resubscribe_ids.clear();
    if (session_present) return;
    for (const Subscription& s : subscriptions) {
      const std::uint16_t packet_id = state.reserve_packet_id();
      inbound.subscribe(packet_id, s.filters, s.options, profile.properties.subscribe, out);
      resubscribe_ids.push_back(packet_id);
    }
  }

  // Frees the identifiers of resubscriptions once their SUBACK came.
  void collect_resubscribes() {
    std::erase_if(resubscribe_ids, [&](std::uint16_t id) {
      if (!inbound.take_suback(id)) return false;
      state.release_packet_id(id);
      return true;
    });
  }

  void write_now() {
    while (!lost && out.pending() > 0) {
      const detail::IoResult r = transport.write_some(out.pending_data(), out.pending());
      if (r.status == detail::IoStatus::ok) {
        out.consume(r.bytes);
        state.on_written(out.written());
        last_sent = Clock::now();
      } else if (r.status == detail::IoStatus::would_block) {
        return;
      } else {
        lose(transport.error());
      }
    }
  }

  void handle_connack(const mqtt::Frame& frame) {
    if (frame.type() != mqtt::PacketType::connack)
      throw ProtocolError(0x82, fmt::format("expected CONNACK, got {}", mqtt::packet_type_name(frame.type())));
    connack = mqtt::decode_connack(frame, version);
  }

  void handle(const mqtt::Frame& frame) {
    if (!connected) {
      handle_connack(frame);
      return;
    }
    if (inbound.on_frame(frame, out)) return;
    const detail::InboundEvent event = state.on_frame(frame, out);
    if (event.pingresp) ping_sent.reset();
    if (event.disconnect_reason)
      lose(fmt::format("the broker disconnected: {}", detail::describe_connack_code(*event.disconnect_reason, true)));
  }

  // Handles the complete frames already buffered; stops after CONNACK so connect()
  // can look at it before anything else is handled.
  void handle_buffered() {
    try {
      while (!lost && !(!connected && connack)) {
        auto frame = reader.next();
        if (!frame) return;
        handle(*frame);
      }
    } catch (const ProtocolError& e) {
      lose(fmt::format("protocol error: {}", e.what()));
    }
  }

  bool inbox_full() const noexcept { return bounded_reads && inbound.queued() >= k_inbox_limit; }

  void read_now() {
    handle_buffered();
    while (!lost && !(!connected && connack) && !inbox_full()) {
      const std::span<char> space = reader.prepare(k_read_chunk);
      const detail::IoResult r = transport.read_some(space.data(), space.size());
      if (r.status == detail::IoStatus::would_block) return;
      if (r.status != detail::IoStatus::ok) {
        lose(transport.error());
        return;
      }
      reader.commit(r.bytes);
      handle_buffered();
    }
  }

  void keepalive_check(Clock::time_point now) {
    if (!connected || lost || keepalive.count() == 0) return;
    if (ping_sent) {
      if (now - *ping_sent > keepalive) lose("no PINGRESP within the keepalive interval");
      return;
    }
    if (now - last_sent >= keepalive) {
      mqtt::encode(mqtt::Pingreq{}, version, out.data());
      ping_sent = now;
    }
  }

  // Handles the CONNACK once it is there: throws ConnectError when the broker refused,
  // or when the connection failed or timed out before it came.
  void check_connect_progress() {
    if (!connecting) return;
    if (!connack) {
      if (lost) {
        connecting = false;
        throw ConnectError(-1, fmt::format("the connection failed before CONNACK: {}", lost_cause), where,
                           profile.tls.enabled
                               ? "check the TLS settings (the broker may require a client certificate: --cert, --key)"
                               : "check that the port belongs to an MQTT broker and the broker's log");
      }
      if (Clock::now() >= connect_deadline) {
        connecting = false;
        transport.close();
        throw TimeoutError(fmt::format("connecting to the broker took longer than {} ms",
                                       profile.connect_timeout.count()),
                           where, "check that the broker is reachable, or raise --connect-timeout");
      }
      return;
    }
    connecting = false;
    const mqtt::Connack& ack = *connack;
    if (mqtt::is_error(ack.reason_code)) {
      transport.close();
      const int code = v5 ? static_cast<int>(ack.reason_code)
                          : static_cast<int>(mqtt::to_connack_return_code(ack.reason_code));
      throw detail::connack_refusal(code, v5, where);
    }
    connected = true;
    established = true;
    connected_at = Clock::now();
    state.apply_connack(ack);
    if (resuming) resume_session(ack.session_present);
    keepalive = std::chrono::seconds(ack.properties.server_keep_alive ? *ack.properties.server_keep_alive
                                                                      : profile.keepalive_seconds);
    last_sent = connected_at;
    ping_sent.reset();
    read_now(); // frames that arrived behind the CONNACK
  }

  // Moves what can move without waiting: writes, reads (answers to reads), keepalive.
  void pump() {
    write_now();
    read_now();
    check_connect_progress();
    if (!resubscribe_ids.empty()) collect_resubscribes();
    keepalive_check(Clock::now());
    write_now();
  }

  // Waits up to `until` (at most one stop-check slice, and not past the next keepalive
  // ping) for the socket or `watch_fd`. Returns true when watch_fd is readable.
  bool wait_round(Clock::time_point until, int watch_fd) {
    const auto now = Clock::now();
    auto wait = std::min<Clock::duration>(until > now ? until - now : Clock::duration::zero(), k_stop_check);
    if (connected && keepalive.count() > 0) {
      const auto due = ping_sent ? *ping_sent + keepalive : last_sent + keepalive;
      wait = std::min<Clock::duration>(wait, due > now ? due - now : Clock::duration::zero());
    }
    pollfd fds[2] = {{transport.fd(), static_cast<short>(POLLIN | transport.extra_events() |
                                                         (out.pending() > 0 ? POLLOUT : 0)),
                      0},
                     {watch_fd, POLLIN, 0}};
    const int timeout = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count());
    const int ready = ::poll(fds, watch_fd >= 0 ? 2 : 1, timeout);
    if (ready < 0 && errno != EINTR) lose(fmt::format("poll failed: {}", std::strerror(errno)));
    return ready > 0 && watch_fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
  }

  // Runs I/O until done() or lost, or until the deadline; a stop request throws
  // InterruptedError when `interruptible`, else ends the wait. Returns done().
  template <typename Done>
  bool run_until(Done done, Clock::time_point deadline, bool interruptible) {
    for (;;) {
      pump();
      if (done()) return true;
      if (lost) {
        if (!can_recover() || !recover(deadline, interruptible)) return false;
        continue;
      }
      if (stop.stop_requested()) {
        if (interruptible) throw InterruptedError("interrupted", where);
        return false;
      }
      if (Clock::now() >= deadline) return false;
      wait_round(deadline, -1);
    }
  }

  // Waits for the CONNACK (bounded by the connect timeout); throws like
  // check_connect_progress.
  void finish_connect() {
    run_until([&] { return !connecting; }, connect_deadline + k_stop_check, true);
    check_connect_progress();
  }

  void send_disconnect() {
    if (!connected || lost) return;
    mqtt::Disconnect packet;
    if (version == mqtt::ProtocolVersion::v5) packet.properties = profile.properties.disconnect;
    mqtt::encode(packet, version, out.data());
  }

  // Makes sure CONNACK was handled and the connection is still there before a request.
  void require_connected(const char* what) {
    if (connecting) finish_connect();
    if (lost) throw connection_lost();
    if (!connected)
      throw ConnectError(-1, "not connected", where, fmt::format("connect before {}", what));
  }

  // Waits for the SUBACK (or UNSUBACK) of `packet_id`, as long as the Paho-backed
  // Connection would; returns its codes.
  std::vector<int> await_ack(std::uint16_t packet_id, bool suback, const char* what) {
    const auto timeout = std::max<std::chrono::milliseconds>(profile.connect_timeout, 10s);
    std::optional<std::vector<int>> codes;
    ++no_recover;
    struct Undo {
      int& n;
      ~Undo() { --n; }
    } undo{no_recover};
    run_until(
        [&] {
          if (!codes) codes = suback ? inbound.take_suback(packet_id) : inbound.take_unsuback(packet_id);
          return codes.has_value();
        },
        Clock::now() + timeout, true);
    if (!codes) {
      if (lost) throw connection_lost();
      throw TimeoutError(fmt::format("{} took longer than {} ms", what, timeout.count()), where,
                         "check that the broker is reachable, or raise --connect-timeout");
    }
    state.release_packet_id(packet_id); // kept reserved when unanswered: a late answer stays harmless
    return std::move(*codes);
  }
};

bool LeanConnection::supports(const ConnectionProfile&, std::string*) { return true; }

LeanConnection::LeanConnection(ConnectionProfile profile) : m_impl(std::make_unique<Impl>()) {
  Impl& d = *m_impl;
  d.profile = std::move(profile);
  ConnectionProfile& p = d.profile;
  d.where = endpoint_name(p);
  d.v5 = p.version == MqttVersion::v5;
  d.version = detail::wire_version(p.version);
  if (p.host.empty()) throw ConfigError("no broker host given", "-h", "give the broker's host name with -h");
  if (p.will && p.will->topic.empty())
    throw ConfigError("the will has no topic", "--will-topic", "give --will-topic with --will-payload");
  if (p.client_id.empty()) p.client_id = random_client_id();
  if (!p.credential.empty()) d.password = resolve_secret(p.credential, "password", "Password: ", {});
  if (p.tls.enabled) d.tls = TlsClientContext::create(p.tls);
}

LeanConnection::~LeanConnection() {
  if (!m_impl) return;
  Impl& d = *m_impl;
  try {
    d.send_disconnect();
    d.write_now();
  } catch (...) {
    // Destructors never throw; the socket is closed below either way.
  }
  d.transport.close();
}

void LeanConnection::set_stop_token(std::stop_token token) { m_impl->stop = std::move(token); }

void LeanConnection::set_max_inflight(std::size_t max_inflight) {
  m_impl->max_inflight = std::max<std::size_t>(1, max_inflight);
  m_impl->state.set_window(m_impl->max_inflight);
}

void LeanConnection::start_receiving() {
  m_impl->receiving = true;
  m_impl->inbound.start_receiving();
}

void LeanConnection::start_connect() {
  Impl& d = *m_impl;
  d.check_stop();
  d.resuming = false;
  d.established = false;
  d.failed_attempts = 0;
  d.next_attempt.reset();
  d.subscriptions.clear();
  d.resubscribe_ids.clear();
  d.open_and_send_connect();
  d.state = detail::PublishState(d.version, d.max_inflight);
  d.inbound = detail::ReceiveState(d.version);
  if (d.receiving) d.inbound.start_receiving();
  d.inbound.set_manual_acknowledgement(d.manual_acks);
  if (d.version == mqtt::ProtocolVersion::v5)
    d.inbound.set_topic_alias_maximum(d.profile.properties.connect.topic_alias_maximum.value_or(0));
}

ConnectResult LeanConnection::connect() {
  Impl& d = *m_impl;
  start_connect();
  d.finish_connect();
  ConnectResult result;
  result.session_present = d.connack->session_present;
  result.connect_time = std::chrono::duration_cast<std::chrono::microseconds>(d.connected_at - d.connect_start);
  return result;
}

void LeanConnection::publish(const OutgoingMessage& message) {
  Impl& d = *m_impl;
  d.check_stop();
  if (d.connecting) {
    // Before CONNACK the broker's limits (v5 Receive Maximum...) are unknown: one
    // message may travel with CONNECT (a one-shot publish saves a round trip), more wait.
    if (d.state.report().published > 0) d.finish_connect();
  } else if (d.lost) {
    if (!d.recover(Clock::time_point::max(), true)) throw d.lost_error();
  } else if (!d.connected) {
    throw DeliveryError(-1, "not connected", d.where, "connect before publishing");
  }
  if (d.state.window_full(message.qos)) {
    // Resume at half the window: one wake-up per window/2 acknowledgements, and the
    // next batch is large enough to be written in one go.
    const std::size_t resume_at = d.state.window() / 2;
    d.run_until([&] { return d.state.awaiting() <= resume_at && !d.state.window_full(message.qos); },
                Clock::time_point::max(), true);
    if (d.lost) throw d.lost_error();
  }
  d.state.publish(message, d.out);
  if (d.out.pending() >= k_batch_bytes) {
    d.pump();
    if (d.out.pending() >= k_max_queued_bytes)
      d.run_until([&] { return d.out.pending() < k_batch_bytes; }, Clock::time_point::max(), true);
  }
}

void LeanConnection::flush() {
  Impl& d = *m_impl;
  d.run_until([&] { return d.out.pending() == 0; }, Clock::time_point::max(), true);
  if (d.lost) throw d.lost_error();
}

bool LeanConnection::serve(int fd, std::chrono::milliseconds timeout) {
  Impl& d = *m_impl;
  const auto deadline = Clock::now() + timeout;
  // A lost connection is reconnected when it may be; serve() gives up at its deadline
  // and the next call continues the back-off schedule.
  const auto still_lost = [&] {
    if (!d.lost) return false;
    if (!d.can_recover()) throw d.lost_error();
    return !d.recover(deadline, false);
  };
  for (;;) {
    d.pump();
    if (still_lost()) return false;
    if (d.stop.stop_requested()) return false;
    if (d.wait_round(deadline, fd)) return true;
    if (still_lost()) return false;
    if (Clock::now() >= deadline) return false;
  }
}

std::vector<int> LeanConnection::subscribe(const std::vector<std::string>& filters, const SubscribeOptions& options) {
  Impl& d = *m_impl;
  d.check_stop();
  d.require_connected("subscribing");
  const std::uint16_t packet_id = d.state.reserve_packet_id();
  d.inbound.subscribe(packet_id, filters, options, d.profile.properties.subscribe, d.out);
  std::vector<int> codes = d.await_ack(packet_id, true, "subscribing");
  d.subscriptions.push_back({filters, options});
  return codes;
}

void LeanConnection::unsubscribe(const std::vector<std::string>& filters) {
  Impl& d = *m_impl;
  d.check_stop();
  d.require_connected("unsubscribing");
  const std::uint16_t packet_id = d.state.reserve_packet_id();
  d.inbound.unsubscribe(packet_id, filters, d.profile.properties.unsubscribe, d.out);
  const std::vector<int> codes = d.await_ack(packet_id, false, "unsubscribing");
  for (Impl::Subscription& s : d.subscriptions)
    std::erase_if(s.filters, [&](const std::string& f) { return std::find(filters.begin(), filters.end(), f) != filters.end(); });
  std::erase_if(d.subscriptions, [](const Impl::Subscription& s) { return s.filters.empty(); });
  for (std::size_t i = 0; i < codes.size() && i < filters.size(); ++i)
    if (codes[i] >= 0x80)
      throw ProtocolError(codes[i],
                          fmt::format("unsubscribe failed: {} (UNSUBACK 0x{:02X})",
                                      detail::describe_connack_code(codes[i], true), codes[i]),
                          filters[i]);
}

std::optional<ReceivedMessage> LeanConnection::receive(std::chrono::milliseconds timeout) {
  Impl& d = *m_impl;
  std::deque<ReceivedMessage>& inbox = d.inbound.inbox();
  if (inbox.empty()) {
    if (d.connecting) d.finish_connect();
    if (!d.connected && !d.lost) throw ConnectError(-1, "not connected", d.where, "connect before receiving");
    const auto deadline = Clock::now() + timeout;
    struct Bounded {
      bool& flag;
      explicit Bounded(bool& f) : flag(f) { flag = true; }
      ~Bounded() { flag = false; }
    } bounded(d.bounded_reads);
    for (;;) {
      // One round reads what has arrived, decodes every complete packet and writes the
      // acknowledgements in one go.
      d.pump();
      if (!inbox.empty()) break;
      if (d.lost) {
        if (!d.can_recover()) throw d.connection_lost();
        if (!d.recover(deadline, true)) return std::nullopt;
        continue;
      }
      d.check_stop();
      if (Clock::now() >= deadline) return std::nullopt;
      d.wait_round(deadline, -1);
    }
  }
  std::optional<ReceivedMessage> message(std::move(inbox.front()));
  inbox.pop_front();
  return message;
}

void LeanConnection::set_manual_acknowledgement(bool manual) noexcept {
  m_impl->manual_acks = manual;
  m_impl->inbound.set_manual_acknowledgement(manual);
}

void LeanConnection::acknowledge(const ReceivedMessage& message) {
  Impl& d = *m_impl;
  if (!d.connected || d.lost) return; // the broker sends it again to a resumed session
  d.inbound.acknowledge(message, d.out);
}

void LeanConnection::wait_for_acknowledgements(std::chrono::milliseconds timeout) {
  Impl& d = *m_impl;
  const DeliveryReport& r = d.state.report();
  if (d.connecting) d.finish_connect();
  if (d.connected)
    d.run_until([&] { return r.in_flight() == 0; }, Clock::now() + timeout, false);
  detail::throw_unless_delivered(r, {d.stop.stop_requested(), d.lost, d.lost_cause, timeout}, d.where,
                                 [](int reason) { return detail::describe_connack_code(reason, true); });
}

void LeanConnection::disconnect(std::chrono::milliseconds drain_timeout) {
  Impl& d = *m_impl;
  std::optional<DeliveryError> undelivered;
  try {
    wait_for_acknowledgements(drain_timeout);
  } catch (const DeliveryError& e) {
    undelivered = e;
  }
  d.inbound.stop_receiving(); // what still arrives is acknowledged and dropped
  if (d.connected && !d.lost) {
    d.send_disconnect();
    d.run_until([&] { return d.out.pending() == 0; }, Clock::now() + k_disconnect_flush, false);
    // Read what is left so closing does not reset the connection under the DISCONNECT.
    if (!d.lost) d.read_now();
  }
  d.connected = false;
  d.transport.close();
  if (undelivered) throw *undelivered;
}

bool LeanConnection::is_connected() const { return m_impl->connected && !m_impl->lost; }

DeliveryReport LeanConnection::delivery_report() const { return m_impl->state.report(); }

const ConnectionProfile& LeanConnection::profile() const noexcept { return m_impl->profile; }

} // namespace mqfleet
