// libFuzzer entry for the broker's HTTP listener (lib/broker/server, `mqfleet broker
// --http-port`): the bytes a client sends, read the way http_transport.cpp reads them --
// Beast's request parser with the listener's limits (limit_request_parser), requests one
// after another on a keep-alive connection, in reads of a fuzzed size -- then what the
// listener does with a parsed request before routing it: the upgrade and subprotocol check,
// the REST target split into decoded path segments and query (parse_target), the live
// socket's path (is_live_target) and the token (request_token). A request the parser
// accepts fits the header and body limits; a refused one gets exactly 400, 413 or 431;
// nothing may crash, trip a sanitizer or buffer more.
#include "fuzz_common.hpp"

#include "http_api.hpp"
#include "http_request_limits.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <string>
#include <string_view>

using namespace mqfleet;
namespace http = boost::beast::http;

namespace {

/// A socket that delivers `data` in reads of at most `chunk` bytes, then end of stream.
struct ChunkedStream {
  std::string_view data;
  std::size_t chunk;

  template <class Buffers> std::size_t read_some(const Buffers& buffers, boost::system::error_code& ec) {
    if (data.empty()) {
      ec = boost::asio::error::eof;
      return 0;
    }
    ec = {};
    const auto n = boost::asio::buffer_copy(buffers, boost::asio::buffer(data.data(), std::min(chunk, data.size())));
    data.remove_prefix(n);
    return n;
  }
  template <class Buffers> std::size_t read_some(const Buffers& buffers) {
    boost::system::error_code ec;
    const auto n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
};

void check_target(std::string_view raw) {
  const auto target = broker::parse_target(raw);
  if (!target) return;
  for (const auto& segment : target->segments)
    fuzz::check(!segment.empty() && segment.size() <= raw.size() && segment.find('\0') == std::string::npos);
  for (const auto& [name, value] : target->query)
    fuzz::check(name.find('\0') == std::string::npos && value.find('\0') == std::string::npos);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the size of each read (1..256 bytes): requests split anywhere.
  ChunkedStream stream{fuzz::as_text(data + 1, size - 1), static_cast<std::size_t>(data[0]) + 1};
  boost::beast::flat_buffer buffer{broker::k_http_request_buffer};
  for (;;) {
    broker::HttpRequestParser parser;
    broker::limit_request_parser(parser);
    boost::system::error_code ec;
    http::read(stream, buffer, parser, ec);
    fuzz::check(buffer.size() <= broker::k_http_request_buffer);
    if (ec == http::error::end_of_stream || ec == boost::asio::error::eof) break;
    // As the listener: a header block Beast let through over the limit is a 431 too.
    if (!ec && !broker::within_header_limit(parser.get())) ec = http::error::header_limit;
    if (ec) {
      const broker::HttpReply reply = broker::http_parse_error_reply(ec);
      fuzz::check(reply.status == 400 || reply.status == 413 || reply.status == 431);
      fuzz::check(!reply.body.empty());
      break; // the listener answers and closes
    }
    auto request = parser.release();
    // What the parser accepted fits the limits: the body, and the header block (the target
    // and every field's name and value are part of it, so their sizes are a lower bound).
    fuzz::check(request.body().size() <= broker::k_http_max_body);
    std::size_t header_bytes = request.method_string().size() + request.target().size();
    for (const auto& field : request) header_bytes += field.name_string().size() + field.value().size();
    fuzz::check(header_bytes <= broker::k_http_max_header);
    const std::string_view target(request.target().data(), request.target().size());
    if (boost::beast::websocket::is_upgrade(request)) {
      const auto protocols = request[http::field::sec_websocket_protocol];
      (void)broker::offers_mqtt(std::string_view(protocols.data(), protocols.size()));
    }
    check_target(target);
    (void)broker::is_live_target(target);
    broker::HttpRequest plain;
    plain.method = std::string(request.method_string());
    plain.target = std::string(target);
    plain.authorization = std::string(request[http::field::authorization]);
    plain.cookie = std::string(request[http::field::cookie]);
    const std::string token = broker::request_token(plain);
    fuzz::check(token.size() <= plain.authorization.size() + plain.cookie.size());
    if (!request.keep_alive()) break;
  }
  return 0;
}
