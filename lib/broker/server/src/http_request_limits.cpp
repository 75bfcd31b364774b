// The HTTP listener's parser limits and the replies to refused requests
// (http_request_limits.hpp).

#include "http_request_limits.hpp"

#include <boost/beast/http/error.hpp>

#include <cstdint>
#include <string>

namespace mqfleet::broker {

namespace http = boost::beast::http;

void limit_request_parser(HttpRequestParser& parser) {
  parser.header_limit(static_cast<std::uint32_t>(k_http_max_header));
  parser.body_limit(k_http_max_body);
}

HttpReply http_parse_error_reply(const boost::system::error_code& ec) {
  if (ec == http::error::header_limit)
    return http_error(431, "the request headers are too large: at most 16 KiB, request line included");
  if (ec == http::error::body_limit || ec == http::error::buffer_overflow)
    return http_error(413, "the request body is too large: at most 256 KiB");
  return http_error(400, "malformed HTTP request: " + ec.message());
}

bool within_header_limit(const HttpRequestParser::value_type& request) {
  std::size_t bytes = request.method_string().size() + request.target().size();
  for (const auto& field : request) bytes += field.name_string().size() + field.value().size();
  return bytes <= k_http_max_header;
}

bool offers_mqtt(std::string_view protocols) {
  while (!protocols.empty()) {
    const auto comma = protocols.find(',');
    auto item = protocols.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item == "mqtt") return true;
    if (comma == std::string_view::npos) break;
    protocols.remove_prefix(comma + 1);
  }
  return false;
}

} // namespace mqfleet::broker
