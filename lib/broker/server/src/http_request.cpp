// The request pieces of the HTTP listener that need no broker: the request target split
// and percent-decoded, the token of a request, the live socket's path, the JSON error
// reply. Kept apart from http_api.cpp so the fuzz target tests/fuzz/fuzz_http.cpp compiles
// them (with http_request_limits.cpp) alone.

#include "http_api.hpp"

#include <nlohmann/json.hpp>

namespace mqfleet::broker {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') return std::nullopt;
    out += c;
  }
  return out;
}

} // namespace

HttpReply http_error(unsigned status, std::string_view message) {
  HttpReply reply;
  reply.status = status;
  reply.body = nlohmann::json{{"error", {{"status", status}, {"message", std::string(message)}}}}.dump();
  return reply;
}

std::optional<HttpTarget> parse_target(std::string_view target) {
  if (target.empty() || target.front() != '/') return std::nullopt;
  HttpTarget out;
  const auto question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query = question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  path.remove_prefix(1);
  while (!path.empty()) {
    const auto slash = path.find('/');
    const auto piece = path.substr(0, slash);
    auto decoded = percent_decode(piece, false);
    if (!decoded) return std::nullopt;
    if (!decoded->empty()) out.segments.push_back(std::move(*decoded));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto piece = query.substr(0, amp);
    if (!piece.empty()) {
      const auto eq = piece.find('=');
      auto name = percent_decode(piece.substr(0, eq), true);
      auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1), true);
      if (!name || !value) return std::nullopt;
      out.query.emplace_back(std::move(*name), std::move(*value));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

std::string request_token(const HttpRequest& request) {
  std::string_view auth = request.authorization;
  constexpr std::string_view k_bearer = "Bearer ";
  if (auth.size() > k_bearer.size() && auth.substr(0, k_bearer.size()) == k_bearer)
    return std::string(auth.substr(k_bearer.size()));
  std::string_view cookies = request.cookie;
  constexpr std::string_view k_cookie = "mqfleet_token=";
  while (!cookies.empty()) {
    while (!cookies.empty() && cookies.front() == ' ') cookies.remove_prefix(1);
    const auto semi = cookies.find(';');
    const auto piece = cookies.substr(0, semi);
    if (piece.substr(0, k_cookie.size()) == k_cookie) return std::string(piece.substr(k_cookie.size()));
    if (semi == std::string_view::npos) break;
    cookies.remove_prefix(semi + 1);
  }
  return {};
}

bool is_live_target(std::string_view target) {
  const auto parsed = parse_target(target);
  return parsed && parsed->segments.size() == 3 && parsed->segments[0] == "console" && parsed->segments[2] == "live";
}

} // namespace mqfleet::broker
