#pragma once
// The broker's one view of Asio: Boost.Asio under the short name `asio`, so the code reads
// as it did on standalone Asio (the same API). Boost.Asio rather than standalone Asio
// because Boost.Beast (the HTTP and WebSocket listener, http*.cpp) is written against it,
// and one io_context per thread then serves MQTT, WebSocket and HTTP (docs/broker.md).

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

namespace asio = boost::asio;

namespace mqfleet::broker {
/// Boost.Asio's error code (standalone Asio called it asio::error_code).
using error_code = boost::system::error_code;
} // namespace mqfleet::broker
