#pragma once
// The one configuration of the HTTP listener's request parser: its limits, the reply to a
// request it refuses, and the subprotocol check of an upgrade to MQTT over WebSocket.
// http_transport.cpp (the listener) and tests/fuzz/fuzz_http.cpp (the fuzz target) both
// call these, so the fuzzer parses with exactly the listener's limits.

#include "http_api.hpp"

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <string_view>

namespace mqfleet::broker {

/// The parser of one request: headers and a string body.
using HttpRequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

/// The most a connection buffers while reading one request: the header and body limits.
inline constexpr std::size_t k_http_request_buffer = k_http_max_header + k_http_max_body;

/// Sets the listener's limits on a fresh parser: headers (request line included) up to
/// k_http_max_header bytes, a body up to k_http_max_body bytes, chunked or not.
void limit_request_parser(HttpRequestParser& parser);

/// The reply to a request the parser refused with `ec` (the connection closes after it):
/// 431 for headers over the limit, 413 for a body over the limit, 400 for anything else.
HttpReply http_parse_error_reply(const boost::system::error_code& ec);

/// True when a request the parser accepted keeps to the header limit: its target and every
/// field's name and value together take at most k_http_max_header bytes. Beast's own
/// header limit can let a header block a few dozen bytes over it through (seen by
/// fuzz_http with a request read in 256-byte pieces), so the listener checks this too.
bool within_header_limit(const HttpRequestParser::value_type& request);

/// True when the comma-separated Sec-WebSocket-Protocol list names "mqtt".
bool offers_mqtt(std::string_view protocols);

} // namespace mqfleet::broker
