// The REST API, /metrics and the console placeholder (http_api.hpp). Every handler
// validates first and returns early with the precise status and the parameter at fault.

#include "http_api.hpp"

#include "broker_state.hpp"
#include "console.hpp"
#include "connection.hpp"
#include "persistence.hpp"
#include "server.hpp"

#include <mqfleet/broker/device_registry.hpp>
#include <mqfleet/broker/tenancy.hpp>
#include <mqfleet/error.hpp>
#include <mqfleet/json_depth.hpp>
#include <mqfleet/mqtt/topic.hpp>
#include <mqfleet/store/aggregate.hpp>
#include <mqfleet/store/bucket_database.hpp>
#include <mqfleet/store/bucket_export.hpp>
#include <mqfleet/store/export_writer.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

namespace mqfleet::broker {
namespace {

using Json = nlohmann::ordered_json;
using store::EpochMs;

/// Default and largest `items` of a data query.
constexpr std::size_t k_default_items = 100;
constexpr std::size_t k_max_items = 1000;
/// Largest number of aggregation windows one query may span.
constexpr EpochMs k_max_windows = 10000;

HttpReply json_reply(const Json& body, unsigned status = 200) {
  HttpReply reply;
  reply.status = status;
  reply.body = body.dump();
  return reply;
}

/// The query parameters of one endpoint: unknown names are a 400 naming them.
class Query {
public:
  explicit Query(const HttpTarget& target) : m_target(target) {}

  /// The first unknown or repeated parameter, if any.
  std::optional<std::string> unexpected(std::initializer_list<std::string_view> known) const {
    std::vector<std::string_view> seen;
    for (const auto& [name, value] : m_target.query) {
      if (std::find(known.begin(), known.end(), name) == known.end()) return "unknown parameter '" + name + "'";
      if (std::find(seen.begin(), seen.end(), name) != seen.end()) return "parameter '" + name + "' given twice";
      seen.push_back(name);
    }
    return std::nullopt;
  }
  const std::string* get(std::string_view name) const {
    for (const auto& [key, value] : m_target.query)
      if (key == name) return &value;
    return nullptr;
  }

private:
  const HttpTarget& m_target;
};

/// A non-negative integer parameter within [min, max]; sets `error` when malformed.
std::optional<std::int64_t> integer_param(const Query& query, std::string_view name, std::int64_t min,
                                          std::int64_t max, std::string& error) {
  const std::string* text = query.get(name);
  if (text == nullptr) return std::nullopt;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < min || value > max) {
    error = "parameter '" + std::string(name) + "' must be an integer from " + std::to_string(min) + " to " +
            std::to_string(max);
    return std::nullopt;
  }
  return value;
}

/// The per-thread connection to the bucket database of `data_dir` (opened on first use).
store::BucketDatabase* bucket_database(const std::string& data_dir) {
  thread_local std::unique_ptr<store::BucketDatabase> db;
  thread_local std::string opened_dir;
  if (data_dir.empty()) return nullptr;
  if (!db || opened_dir != data_dir) {
    db = std::make_unique<store::BucketDatabase>(data_dir, false);
    opened_dir = data_dir;
  }
  return db.get();
}

Json parse_payload(const std::string& payload) {
  if (json_nesting_error(payload)) return Json::object();
  auto object = Json::parse(payload, nullptr, false);
  return object.is_object() ? object : Json::object();
}

// ---- /v1/users/{account}/buckets ----------------------------------------------------------

HttpReply list_buckets(Server& server, const Account* account) {
  Json out = Json::array();
  if (account == nullptr) return json_reply(out);
  store::BucketDatabase* db = bucket_database(server.config().data_dir);
  for (const auto& [id, bucket] : account->buckets) {
    Json b = Json::object();
    b["id"] = id;
    b["name"] = bucket.name;
    b["enabled"] = bucket.enabled;
    b["topic"] = bucket.topic;
    store::BucketStats stats;
    if (db != nullptr) stats = db->stats(id);
    b["points"] = stats.points;
    b["first_ts"] = stats.first ? Json(*stats.first) : Json(nullptr);
    b["last_ts"] = stats.last ? Json(*stats.last) : Json(nullptr);
    out.push_back(std::move(b));
  }
  return json_reply(out);
}

std::optional<EpochMs> window_length(std::string_view agg) {
  if (agg == "5m") return EpochMs{5 * 60 * 1000};
  if (agg == "1h") return EpochMs{60 * 60 * 1000};
  if (agg == "1d") return EpochMs{24 * 60 * 60 * 1000};
  if (agg == "1w") return EpochMs{7 * 24 * 60 * 60 * 1000};
  return std::nullopt;
}

std::vector<std::string> split_fields(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const auto end = comma == std::string::npos ? text.size() : comma;
    if (end > start) out.push_back(text.substr(start, end - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

HttpReply bucket_data(Server& server, const std::string& bucket_id, const Query& query) {
  if (auto bad = query.unexpected({"items", "min_ts", "max_ts", "sort", "device", "agg", "agg_type", "fields"}))
    return http_error(400, *bad);
  std::string error;
  const auto items = integer_param(query, "items", 1, k_max_items, error);
  if (!error.empty()) return http_error(400, error);
  const auto min_ts = integer_param(query, "min_ts", 0, std::numeric_limits<std::int64_t>::max() / 2, error);
  if (!error.empty()) return http_error(400, error);
  const auto max_ts = integer_param(query, "max_ts", 0, std::numeric_limits<std::int64_t>::max() / 2, error);
  if (!error.empty()) return http_error(400, error);
  if (min_ts && max_ts && *min_ts > *max_ts) return http_error(400, "parameter 'min_ts' is after 'max_ts'");
  bool descending = false;
  if (const auto* sort = query.get("sort")) {
    if (*sort != "asc" && *sort != "desc") return http_error(400, "parameter 'sort' must be asc or desc");
    descending = *sort == "desc";
  }
  store::PointFilter filter;
  filter.from = min_ts;
  filter.to = max_ts;
  if (const auto* device = query.get("device")) filter.device = *device;
  store::BucketDatabase* db = bucket_database(server.config().data_dir);
  const auto* agg = query.get("agg");
  const auto* agg_type = query.get("agg_type");
  if (agg == nullptr) {
    if (agg_type != nullptr) return http_error(400, "parameter 'agg_type' needs 'agg'");
    const std::size_t limit = items ? static_cast<std::size_t>(*items) : k_default_items;
    if (db == nullptr) return json_reply(Json::array());
    filter.newest_first = descending;
    filter.limit = limit;
    auto cursor = db->points(bucket_id, filter);
    // Written out directly: a plain stored object is copied as it is, not parsed and printed.
    HttpReply reply;
    reply.status = 200;
    reply.body = "[";
    store::Point point;
    while (cursor.next(point)) {
      if (reply.body.size() > 1) reply.body += ',';
      reply.body += "{\"ts\":";
      reply.body += std::to_string(point.ts);
      reply.body += ",\"device\":";
      reply.body += Json(point.device).dump();
      reply.body += ",\"val\":";
      if (store::plain_json_object(point.payload)) reply.body += point.payload;
      else reply.body += parse_payload(point.payload).dump();
      reply.body += '}';
    }
    reply.body += ']';
    return reply;
  }
  const auto window = window_length(*agg);
  if (!window) return http_error(400, "parameter 'agg' must be 5m, 1h, 1d or 1w");
  const auto type = store::parse_aggregate(agg_type != nullptr ? *agg_type : "mean");
  if (!type) return http_error(400, "parameter 'agg_type' must be count, mean, median, min, max, sum, stddev or spread");
  // The query window: what was asked, else the last `items` windows before max_ts (or now).
  const EpochMs to = max_ts ? *max_ts : store::now_ms();
  const std::int64_t windows = items ? *items : static_cast<std::int64_t>(k_default_items);
  const EpochMs from = min_ts ? *min_ts : std::max<EpochMs>(0, to - windows * *window);
  if ((to - from) / *window + 1 > k_max_windows)
    return http_error(400, "the range min_ts..max_ts spans more than " + std::to_string(k_max_windows) + " windows of agg=" +
                               *agg + ": narrow it or use a larger agg");
  filter.from = from;
  filter.to = to;
  auto selected = query.get("fields") ? split_fields(*query.get("fields")) : std::vector<std::string>{};
  store::WindowAggregator aggregator(*window, *type, std::move(selected));
  if (db != nullptr)
    db->for_each_payload(bucket_id, filter, [&](EpochMs ts, std::string_view payload) { aggregator.add(ts, payload); });
  Json out = Json::array();
  for (auto& [start, values] : aggregator.result()) {
    Json val = Json::object();
    for (auto& [name, value] : values) val[name] = value;
    out.push_back(Json{{"ts", start}, {"val", std::move(val)}});
  }
  if (descending) std::reverse(out.begin(), out.end());
  return json_reply(out);
}

/// GET …/export: BucketExport (lib/store, the one `mqfleet bucket export` runs) page by
/// page on the export threads, each page's output one chunk of the reply.
class ExportSource final : public HttpBodySource {
public:
  /// Holds `slot` (Server::start_export()) until destroyed.
  ExportSource(std::shared_ptr<void> slot, std::string data_dir, std::string bucket_id, store::PointFilter filter,
               store::ExportOptions options)
      : m_slot(std::move(slot)), m_data_dir(std::move(data_dir)),
        m_export(std::move(bucket_id), std::move(filter), std::move(options), m_out) {}

  bool next(std::string& out) override {
    store::BucketDatabase* db = bucket_database(m_data_dir); // the export thread's connection
    const bool more = m_export.next_page(*db);
    out += m_out.view();
    m_out.str({});
    return more;
  }

private:
  std::shared_ptr<void> m_slot;
  std::string m_data_dir;
  std::ostringstream m_out; ///< one page's output; before m_export, which writes to it
  store::BucketExport m_export;
};

HttpReply bucket_export(Server& server, const std::string& bucket_id, const Query& query) {
  if (auto bad = query.unexpected({"format", "min_ts", "max_ts", "device", "fields", "time"}))
    return http_error(400, *bad);
  std::string error;
  const auto min_ts = integer_param(query, "min_ts", 0, std::numeric_limits<std::int64_t>::max() / 2, error);
  if (!error.empty()) return http_error(400, error);
  const auto max_ts = integer_param(query, "max_ts", 0, std::numeric_limits<std::int64_t>::max() / 2, error);
  if (!error.empty()) return http_error(400, error);
  store::ExportOptions options;
  HttpReply reply;
  const std::string format = query.get("format") ? *query.get("format") : "csv";
  if (format == "csv") {
    options.format = store::ExportFormat::csv;
    reply.content_type = "text/csv";
  } else if (format == "json") {
    options.format = store::ExportFormat::json;
  } else if (format == "ndjson") {
    options.format = store::ExportFormat::ndjson;
    reply.content_type = "application/x-ndjson";
  } else if (format == "arff") {
    options.format = store::ExportFormat::arff;
    reply.content_type = "text/plain";
  } else {
    return http_error(400, "parameter 'format' must be csv, json, ndjson or arff");
  }
  if (const auto* time = query.get("time")) {
    if (*time != "epoch" && *time != "iso") return http_error(400, "parameter 'time' must be epoch or iso");
    options.time = *time == "iso" ? store::TimeStyle::iso : store::TimeStyle::epoch;
  }
  options.relation = bucket_id;
  if (const auto* fields = query.get("fields")) options.selected = split_fields(*fields);
  store::PointFilter filter;
  filter.from = min_ts;
  filter.to = max_ts;
  if (const auto* device = query.get("device")) filter.device = *device;
  if (server.config().data_dir.empty()) {
    // Nothing is stored without --data-dir: the empty export, at once.
    std::ostringstream out;
    auto writer = store::make_export_writer(options, out);
    writer->begin({});
    writer->end();
    reply.body = out.str();
    return reply;
  }
  auto slot = server.start_export();
  if (!slot) {
    HttpReply busy = http_error(503, "too many exports are streaming (" + std::to_string(k_max_streamed_exports) +
                                         "): try again when one has finished");
    busy.headers.emplace_back("Retry-After", "5");
    return busy;
  }
  reply.stream = std::make_shared<ExportSource>(std::move(slot), server.config().data_dir, bucket_id, std::move(filter),
                                                std::move(options));
  return reply;
}

HttpReply delete_data(Server& server, const std::string& bucket_id, const Query& query) {
  if (auto bad = query.unexpected({"min_ts", "max_ts"})) return http_error(400, *bad);
  std::string error;
  const auto min_ts = integer_param(query, "min_ts", 0, std::numeric_limits<std::int64_t>::max() / 2, error);
  if (!error.empty()) return http_error(400, error);
  const auto max_ts = integer_param(query, "max_ts", 0, std::numeric_limits<std::int64_t>::max() / 2, error);
  if (!error.empty()) return http_error(400, error);
  // Both bounds are required: deleting a whole bucket is `mqfleet bucket rm`, not a URL typo.
  if (!min_ts) return http_error(400, "parameter 'min_ts' is required");
  if (!max_ts) return http_error(400, "parameter 'max_ts' is required");
  if (*min_ts > *max_ts) return http_error(400, "parameter 'min_ts' is after 'max_ts'");
  store::BucketDatabase* db = bucket_database(server.config().data_dir);
  const std::uint64_t deleted = db != nullptr ? db->erase_points(bucket_id, *min_ts, *max_ts) : 0;
  return json_reply(Json{{"deleted", deleted}});
}

HttpReply list_devices(Server& server, const std::string& account_name, const Account* account) {
  Json out = Json::array();
  if (account == nullptr) return json_reply(out);
  const TenantMount mount(account_name);
  const std::int64_t now = store::now_ms();
  auto lock = server.state().lock();
  for (const auto& [id, device] : account->devices) {
    Json d = Json::object();
    d["id"] = id;
    d["description"] = device.description;
    const bool connected = server.state().is_attached(mount.mount_topic(id));
    d["connected"] = connected;
    // Now while connected; else when its last connection ended (since the broker started).
    const auto seen = connected ? std::optional<std::int64_t>(now) : server.state().last_seen(account_name, id);
    if (seen) d["last_seen"] = *seen;
    else d["last_seen"] = nullptr;
    out.push_back(std::move(d));
  }
  return json_reply(out);
}

/// The 403 of a retained message over the account's limits: which limit, how to go on.
std::string retained_quota_message(const AccountLimits& limits, std::string_view account) {
  std::string held;
  if (limits.max_retained != 0) held = std::to_string(limits.max_retained) + " retained messages";
  if (limits.max_retained_bytes != 0)
    held += (held.empty() ? "" : " and ") + std::to_string(limits.max_retained_bytes) + " bytes of them";
  return "retained message quota exceeded: account '" + std::string(account) + "' may hold " + held +
         " (--max-account-retained, --max-account-retained-bytes); the message was not published: send it with "
         "\"retain\": false, delete a retained message (an empty retained payload on its topic) or ask for a "
         "larger limit";
}

HttpReply post_message(Server& server, const std::string& account, const ApiToken& token, const std::string& body) {
  if (auto nesting = json_nesting_error(body))
    return http_error(400, "the body nests deeper than " + std::to_string(k_max_json_depth) + " levels (byte " +
                               std::to_string(nesting->offset) + ")");
  const Json doc = Json::parse(body, nullptr, false);
  if (!doc.is_object()) return http_error(400, "the body must be a JSON object {\"topic\", \"payload\", \"qos\", \"retain\"}");
  for (const auto& [key, value] : doc.items())
    if (key != "topic" && key != "payload" && key != "qos" && key != "retain")
      return http_error(400, "unknown member '" + key + "' in the body");
  auto topic_it = doc.find("topic");
  if (topic_it == doc.end() || !topic_it->is_string()) return http_error(400, "member 'topic' must be a string");
  const std::string topic = topic_it->get<std::string>();
  if (mqtt::check_topic_name(topic) != mqtt::TopicStatus::ok) return http_error(400, "member 'topic' is not a valid topic name");
  std::string payload;
  if (auto it = doc.find("payload"); it != doc.end()) {
    if (it->is_string()) payload = it->get<std::string>();
    else payload = it->dump();
  }
  std::uint8_t qos = 0;
  if (auto it = doc.find("qos"); it != doc.end()) {
    if (!it->is_number_integer() || it->get<int>() < 0 || it->get<int>() > 2)
      return http_error(400, "member 'qos' must be 0, 1 or 2");
    qos = static_cast<std::uint8_t>(it->get<int>());
  }
  bool retain = false;
  if (auto it = doc.find("retain"); it != doc.end()) {
    if (!it->is_boolean()) return http_error(400, "member 'retain' must be true or false");
    retain = it->get<bool>();
  }
  if (payload.size() > server.config().limits.max_packet_size)
    return http_error(413, "member 'payload' is larger than the broker's max packet size");
  const TenantMount mount(account);
  const RegistryPtr registry = server.state().registry();
  const BoundRules rules = registry->rules().bind(account, token.name);
  if (!mount.may_publish(topic) || !rules.check_publish(topic).allowed) {
    server.stats().messages_dropped.fetch_add(1, std::memory_order_relaxed);
    return http_error(403, "the access rules do not allow this token to publish to '" + topic + "'");
  }
  auto message = std::make_shared<Message>();
  message->topic = mount.mount_topic(topic);
  message->payload = payload;
  message->qos = qos;
  message->retain = retain;
  server.stats().messages_received.fetch_add(1, std::memory_order_relaxed);
  WakeList wake;
  {
    auto lock = server.state().lock();
    // Over the account's retained limits: refused and not delivered, as a v5 QoS 1/2
    // PUBLISH gets 0x97 (HTTP can say no, unlike QoS 0 or MQTT 3.x).
    if (retain && !server.state().retained_fits(message->topic, payload.size())) {
      server.state().quota_refused(account, "retained");
      server.stats().messages_dropped.fetch_add(1, std::memory_order_relaxed);
      lock.unlock();
      return http_error(403, retained_quota_message(server.config().limits.account, account));
    }
    server.state().publish(message, {}, wake);
  }
  for (auto& connection : wake) connection->post_flush();
  if (auto* ingest = server.state().bucket_ingest()) ingest->on_publish(account, token.name, topic, payload);
  return json_reply(Json{{"topic", topic}, {"qos", qos}, {"retain", retain}, {"bytes", payload.size()}});
}

// ---- /metrics ----------------------------------------------------------------------------

HttpReply metrics(Server& server) {
  const BrokerStats& s = server.stats();
  std::string out;
  auto metric = [&out](const char* name, const char* type, const char* help, std::uint64_t value) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
    out += name;
    out += ' ';
    out += std::to_string(value);
    out += '\n';
  };
  auto load = [](const std::atomic<std::uint64_t>& v) { return v.load(std::memory_order_relaxed); };
  metric("mqfleet_clients_connected", "gauge", "MQTT clients connected now.", load(s.clients_connected));
  metric("mqfleet_clients_total", "counter", "MQTT connections accepted (CONNACK success).", load(s.clients_total));
  metric("mqfleet_connections_refused_total", "counter", "Connections closed at the connection limit.",
         load(s.connections_refused));
  metric("mqfleet_messages_received_total", "counter", "PUBLISH packets received.", load(s.messages_received));
  metric("mqfleet_messages_sent_total", "counter", "PUBLISH packets sent.", load(s.messages_sent));
  metric("mqfleet_messages_dropped_total", "counter", "Messages dropped (refused, queue full, too large).",
         load(s.messages_dropped));
  metric("mqfleet_bytes_received_total", "counter", "Bytes received.", load(s.bytes_received));
  metric("mqfleet_bytes_sent_total", "counter", "Bytes sent.", load(s.bytes_sent));
  metric("mqfleet_auth_failures_total", "counter", "Refused CONNECT credentials.", load(s.auth_failures));
  if (auto* writer = server.state().bucket_writer()) {
    const auto counters = writer->counters();
    metric("mqfleet_bucket_points_written_total", "counter", "Bucket points committed.", counters.stored);
    metric("mqfleet_bucket_points_dropped_total", "counter", "Bucket points dropped on a full queue.", counters.dropped);
    metric("mqfleet_bucket_points_rejected_total", "counter", "Bucket payloads that were not JSON objects.",
           counters.rejected);
  }
  if (auto* persistence = server.state().persistence())
    metric("mqfleet_persistence_backlog", "gauge", "Durable-state changes not yet committed.",
           persistence->pending_changes());
  HttpReply reply;
  reply.content_type = "text/plain; version=0.0.4";
  reply.body = std::move(out);
  return reply;
}

HttpReply html_reply(unsigned status, std::string body) {
  HttpReply reply;
  reply.status = status;
  reply.content_type = "text/html; charset=utf-8";
  reply.body = std::move(body);
  reply.headers.emplace_back("Content-Security-Policy",
                             "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; "
                             "connect-src 'self'; img-src 'self'; form-action 'self'");
  reply.headers.emplace_back("X-Frame-Options", "DENY");
  return reply;
}

// /console/{account}/dashboards/{id}: `?token=` on first load becomes an HttpOnly
// SameSite=Strict cookie (the page's script then drops it from the address bar).
HttpReply console(Server& server, const HttpRequest& request, const HttpTarget& target, const Registry& registry) {
  const auto& seg = target.segments;
  if (request.method != "GET") return http_error(405, "method not allowed: use GET");
  if (seg.size() == 3 && seg[1] == "assets" && seg[2] == "chart.js") {
    // Public and the same for everyone: the browser may keep it.
    HttpReply reply;
    reply.content_type = "text/javascript; charset=utf-8";
    reply.body = std::string(chart_js());
    reply.headers.emplace_back("Cache-Control", "public, max-age=86400");
    return reply;
  }
  if (seg.size() != 4 || seg[2] != "dashboards") return html_reply(404, login_page("No such page."));
  const std::string* query_token = nullptr;
  for (const auto& [name, value] : target.query)
    if (name == "token") query_token = &value;
  const std::string token_text = query_token != nullptr ? *query_token : request_token(request);
  const ApiToken* token = registry.find_token(token_text);
  if (token == nullptr)
    return html_reply(401, login_page(token_text.empty() ? "Enter a token of this account." : "Unknown token."));
  const std::string& account_name = seg[1];
  if (token->admin || token->account != account_name)
    return html_reply(403, login_page("This token may not open account '" + account_name + "'."));
  const Account* account = registry.find_account(account_name);
  const auto dashboard = account != nullptr ? find_dashboard(*account, seg[3]) : std::nullopt;
  if (!dashboard) return html_reply(404, login_page("Account '" + account_name + "' has no dashboard '" + seg[3] + "'."));
  HttpReply reply = html_reply(200, render_dashboard(server, account_name, *dashboard));
  if (query_token != nullptr)
    reply.headers.emplace_back("Set-Cookie", "mqfleet_token=" + token_text + "; Path=/; HttpOnly; SameSite=Strict");
  return reply;
}

HttpReply route(Server& server, const HttpRequest& request) {
  const auto target = parse_target(request.target);
  if (!target) return http_error(400, "the request target is malformed (bad percent escape or NUL)");
  const auto& seg = target->segments;
  const Query query(*target);
  const RegistryPtr registry = server.state().registry();

  if (!seg.empty() && seg[0] == "console") return console(server, request, *target, *registry);

  const bool is_metrics = seg.size() == 1 && seg[0] == "metrics";
  const bool is_api = seg.size() >= 3 && seg[0] == "v1" && seg[1] == "users";
  if (!is_metrics && !is_api) return http_error(404, "no such resource: see docs/broker.md for the API");

  // Authentication before anything that could tell whether a resource exists.
  const std::string token_text = request_token(request);
  const ApiToken* token = registry->find_token(token_text);
  if (token == nullptr)
    return http_error(401, token_text.empty() ? "missing token: send 'Authorization: Bearer TOKEN'"
                                              : "unknown token: create one with `mqfleet token add`");
  if (is_metrics) {
    if (request.method != "GET") return http_error(405, "method not allowed: use GET");
    if (!token->admin) return http_error(403, "/metrics needs an admin token (`mqfleet token add --admin NAME`)");
    return metrics(server);
  }
  const std::string& account_name = seg[2];
  if (token->admin || token->account != account_name)
    return http_error(403, "this token may not access account '" + account_name + "'");
  const Account* account = registry->find_account(account_name);

  if (seg.size() == 4 && seg[3] == "buckets") {
    if (request.method != "GET") return http_error(405, "method not allowed: use GET");
    if (auto bad = query.unexpected({})) return http_error(400, *bad);
    return list_buckets(server, account);
  }
  if (seg.size() == 4 && seg[3] == "devices") {
    if (request.method != "GET") return http_error(405, "method not allowed: use GET");
    if (auto bad = query.unexpected({})) return http_error(400, *bad);
    return list_devices(server, account_name, account);
  }
  if (seg.size() == 4 && seg[3] == "messages") {
    if (request.method != "POST") return http_error(405, "method not allowed: use POST");
    if (auto bad = query.unexpected({})) return http_error(400, *bad);
    return post_message(server, account_name, *token, request.body);
  }
  if (seg.size() == 6 && seg[3] == "buckets") {
    const std::string& bucket_id = seg[4];
    if (account == nullptr || !account->buckets.contains(bucket_id))
      return http_error(404, "account '" + account_name + "' has no bucket '" + bucket_id + "'");
    if (seg[5] == "data" && request.method == "GET") return bucket_data(server, bucket_id, query);
    if (seg[5] == "data" && request.method == "DELETE") return delete_data(server, bucket_id, query);
    if (seg[5] == "export" && request.method == "GET") return bucket_export(server, bucket_id, query);
    if (seg[5] == "data" || seg[5] == "export") return http_error(405, "method not allowed");
  }
  return http_error(404, "no such resource: see docs/broker.md for the API");
}

} // namespace

std::optional<HttpReply> refuse_live(Server& server, const HttpRequest& request, std::string& account) {
  const auto target = parse_target(request.target);
  if (!target || target->segments.size() != 3) return http_error(404, "no such resource");
  if (!target->query.empty()) return http_error(400, "the live socket takes no query parameters");
  const RegistryPtr registry = server.state().registry();
  const std::string token_text = request_token(request);
  const ApiToken* token = registry->find_token(token_text);
  if (token == nullptr) return http_error(401, "log in on the dashboard page first (the cookie carries the token)");
  account = target->segments[1];
  if (token->admin || token->account != account)
    return http_error(403, "this token may not access account '" + account + "'");
  if (!request.origin.empty()) {
    // "http://host:port" must name the Host the request was sent to.
    const auto scheme_end = request.origin.find("://");
    const std::string_view origin_host =
        scheme_end == std::string::npos ? std::string_view() : std::string_view(request.origin).substr(scheme_end + 3);
    if (origin_host != request.host) return http_error(403, "the live socket is only for pages of this host (Origin)");
  }
  return std::nullopt;
}

HttpReply handle_http_request(Server& server, const HttpRequest& request) {
  try {
    return route(server, request);
  } catch (const std::exception& e) {
    // Storage errors (an unreadable database): the request fails, the broker goes on.
    return http_error(500, std::string("the request failed: ") + e.what());
  }
}

} // namespace mqfleet::broker
