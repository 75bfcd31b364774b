#pragma once
// The HTTP listener's requests, without the transport: the REST API under /v1/, the
// Prometheus /metrics and the /console placeholder (docs/broker.md, "HTTP listener").
// http_transport.cpp parses the request with Beast and calls handle_http_request();
// everything here works on plain strings, so it needs no socket to be tested.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mqfleet::broker {

class Server;

/// Largest request body accepted (POST /v1/users/{account}/messages).
inline constexpr std::size_t k_http_max_body = 256 * 1024;
/// Largest request header block accepted.
inline constexpr std::size_t k_http_max_header = 16 * 1024;

/// One parsed HTTP request.
struct HttpRequest {
  std::string method;        ///< "GET", "POST", ...
  std::string target;        ///< path and query as sent ("/v1/users/acme/buckets?x=1")
  std::string authorization; ///< the Authorization header, if any
  std::string cookie;        ///< the Cookie header, if any
  std::string origin;        ///< the Origin header, if any (WebSocket upgrades)
  std::string host;          ///< the Host header, if any
  std::string body;
};

/// A reply body produced in parts, off the io thread, and sent with chunked transfer
/// encoding as each part is ready (the bucket export): the broker holds one part per
/// reply, whatever the body's size.
class HttpBodySource {
public:
  virtual ~HttpBodySource() = default;
  /// Appends the next part of the body to `out` (possibly nothing); false once the body
  /// is complete. Runs on a worker thread, one call at a time. Throws when the body
  /// cannot be completed: the reply is then cut short (no last chunk) and the
  /// connection closed, so the client sees an incomplete body, never a truncated "success".
  virtual bool next(std::string& out) = 0;
};

/// The answer to one request.
struct HttpReply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body; ///< the whole body, unless `stream` is set
  std::vector<std::pair<std::string, std::string>> headers; ///< extra headers (Set-Cookie, ...)
  std::shared_ptr<HttpBodySource> stream; ///< a streamed body (then `body` is empty)
};

/// Bucket exports streaming at once; one more is answered 503 (each holds a page in memory
/// and takes turns on the export threads).
inline constexpr std::size_t k_max_streamed_exports = 16;

/// A request target split into its decoded path segments and query parameters.
struct HttpTarget {
  std::vector<std::string> segments;                    ///< "/v1/users/a" -> {"v1","users","a"}
  std::vector<std::pair<std::string, std::string>> query; ///< in order, percent-decoded
};

/// Splits and percent-decodes a request target; empty when it is malformed (bad escape,
/// NUL, not starting with '/').
std::optional<HttpTarget> parse_target(std::string_view target);

/// The bearer token of a request: `Authorization: Bearer T`, else the `mqfleet_token`
/// cookie; empty when neither is present.
std::string request_token(const HttpRequest& request);

/// The JSON error body {"error": {"status": S, "message": M}}.
HttpReply http_error(unsigned status, std::string_view message);

/// True when `target` is a dashboard page's live socket, /console/{account}/live.
bool is_live_target(std::string_view target);

/// Checks the upgrade request of a live socket: the account's own token (cookie or
/// bearer) and, when the browser sends one, an Origin of this host (no cross-site
/// WebSocket hijacking). Empty when it may open; else the refusal (401, 403).
std::optional<HttpReply> refuse_live(Server& server, const HttpRequest& request, std::string& account);

/// Answers one request (runs on the connection's io thread; bounded work per request:
/// a bucket export only checks its request here and streams from the export threads).
/// Never throws: every failure is a 4xx or 5xx reply.
HttpReply handle_http_request(Server& server, const HttpRequest& request);

} // namespace mqfleet::broker
