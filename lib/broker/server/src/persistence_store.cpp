// StateStore: the SQLite side of durable broker state (schema, load, batched apply).

#include "persistence.hpp"

#include <mqfleet/error.hpp>
#include <mqfleet/private_files.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <unordered_map>
#include <unordered_set>

namespace mqfleet::broker {
namespace {

constexpr const char* k_schema = R"(
CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB,
  qos INTEGER NOT NULL, retain INTEGER NOT NULL, props BLOB, expires_ms INTEGER);
CREATE TABLE IF NOT EXISTS retained (topic TEXT PRIMARY KEY, payload BLOB, qos INTEGER NOT NULL,
  props BLOB, expires_ms INTEGER);
CREATE TABLE IF NOT EXISTS sessions (key TEXT PRIMARY KEY, account TEXT NOT NULL, protocol INTEGER NOT NULL,
  expiry INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS subscriptions (key TEXT NOT NULL, filter TEXT NOT NULL, qos INTEGER NOT NULL,
  flags INTEGER NOT NULL, identifier INTEGER NOT NULL, PRIMARY KEY (key, filter));
CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY, key TEXT NOT NULL, message INTEGER NOT NULL,
  qos INTEGER NOT NULL, retain INTEGER NOT NULL, sub_ids BLOB, state INTEGER NOT NULL, packet_id INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS entries_key ON entries (key, id);
CREATE TABLE IF NOT EXISTS devices_seen (account TEXT NOT NULL, device TEXT NOT NULL, seen_ms INTEGER NOT NULL,
  PRIMARY KEY (account, device)) WITHOUT ROWID;
)";

/// What to do about a damaged state.db (exit 3, docs/broker.md "Data directory").
constexpr const char* k_damaged_hint =
    "the file is damaged: stop the broker, move state.db (and state.db-wal, state.db-shm) aside and start "
    "again (sessions, queued and retained messages are lost), or restore a backup; `sqlite3 state.db .recover` "
    "may save part of it";

/// A damaged file (SQLite found a bad page, or a record does not decode) is a problem
/// with the input, not a bug: ConfigError.
[[noreturn]] void damaged(const std::string& path, const std::string& detail) {
  throw ConfigError("the broker state is damaged (" + detail + ")", path, k_damaged_hint);
}

bool is_damage(int code) noexcept {
  code &= 0xFF;
  return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
}

[[noreturn]] void fail(sqlite3* db, const std::string& path, const std::string& what) {
  if (db && is_damage(sqlite3_extended_errcode(db))) damaged(path, what + ": " + sqlite3_errmsg(db));
  throw Error(what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"), path,
              "check that the data directory is writable and the disk is not full");
}

/// A prepared statement, reset after each use.
class Statement {
public:
  Statement(sqlite3* db, const std::string& path, const char* sql) : m_db(db), m_path(path) {
    if (sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr) != SQLITE_OK) fail(db, path, "cannot prepare statement");
  }
  ~Statement() { sqlite3_finalize(m_stmt); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, std::int64_t v) { sqlite3_bind_int64(m_stmt, i, v); return *this; }
  Statement& bind(int i, std::string_view v) {
    sqlite3_bind_blob(m_stmt, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind_text(int i, std::string_view v) {
    sqlite3_bind_text(m_stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind_null(int i) { sqlite3_bind_null(m_stmt, i); return *this; }
  /// Runs a statement without result rows.
  void run() {
    const int rc = sqlite3_step(m_stmt);
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
    if (rc != SQLITE_DONE) fail(m_db, m_path, "write failed");
  }
  /// Steps to the next row; false at the end.
  bool row() {
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    sqlite3_reset(m_stmt);
    if (rc != SQLITE_DONE) fail(m_db, m_path, "read failed");
    return false;
  }
  std::int64_t integer(int i) { return sqlite3_column_int64(m_stmt, i); }
  bool null(int i) { return sqlite3_column_type(m_stmt, i) == SQLITE_NULL; }
  std::string blob(int i) {
    const auto* data = static_cast<const char*>(sqlite3_column_blob(m_stmt, i));
    return data ? std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, i))) : std::string();
  }

private:
  sqlite3* m_db;
  const std::string& m_path;
  sqlite3_stmt* m_stmt = nullptr;
};

// ---- value encodings --------------------------------------------------------------

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::uint32_t get_u32(std::string_view& in) {
  if (in.size() < 4) damaged("state.db", "a record does not decode");
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  in.remove_prefix(4);
  return v;
}

void put_string(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

std::string get_string(std::string_view& in) {
  const auto size = get_u32(in);
  if (in.size() < size) damaged("state.db", "a record does not decode");
  std::string s(in.substr(0, size));
  in.remove_prefix(size);
  return s;
}

std::string encode_properties(const MessageProperties& p) {
  std::string out;
  const std::uint8_t flags = (p.payload_format_indicator ? 1 : 0) | (p.content_type ? 2 : 0) |
                             (p.response_topic ? 4 : 0) | (p.correlation_data ? 8 : 0);
  if (flags == 0 && p.user_properties.empty()) return out;
  out.push_back(static_cast<char>(flags));
  out.push_back(static_cast<char>(p.payload_format_indicator.value_or(0)));
  if (p.content_type) put_string(out, *p.content_type);
  if (p.response_topic) put_string(out, *p.response_topic);
  if (p.correlation_data) put_string(out, *p.correlation_data);
  put_u32(out, static_cast<std::uint32_t>(p.user_properties.size()));
  for (const auto& [name, value] : p.user_properties) {
    put_string(out, name);
    put_string(out, value);
  }
  return out;
}

MessageProperties decode_properties(std::string_view in) {
  MessageProperties p;
  if (in.empty()) return p;
  if (in.size() < 2) damaged("state.db", "a record does not decode");
  const auto flags = static_cast<std::uint8_t>(in[0]);
  if (flags & 1) p.payload_format_indicator = static_cast<std::uint8_t>(in[1]);
  in.remove_prefix(2);
  if (flags & 2) p.content_type = get_string(in);
  if (flags & 4) p.response_topic = get_string(in);
  if (flags & 8) p.correlation_data = get_string(in);
  const auto count = get_u32(in);
  for (std::uint32_t i = 0; i < count; ++i) {
    auto name = get_string(in);
    p.user_properties.emplace_back(std::move(name), get_string(in));
  }
  return p;
}

std::string encode_ids(const std::vector<std::uint32_t>& ids) {
  std::string out;
  for (auto id : ids) put_u32(out, id);
  return out;
}

std::vector<std::uint32_t> decode_ids(std::string_view in) {
  std::vector<std::uint32_t> ids;
  while (!in.empty()) ids.push_back(get_u32(in));
  return ids;
}

/// Message expiry is stored as wall-clock epoch milliseconds (the steady clock restarts).
std::int64_t now_wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void bind_expiry(Statement& s, int i, const Message& m) {
  if (!m.expires_at) {
    s.bind_null(i);
    return;
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*m.expires_at - Clock::now()).count();
  s.bind(i, now_wall_ms() + left);
}

/// False when the stored expiry has passed.
bool read_expiry(Statement& s, int i, Message& m) {
  if (s.null(i)) return true;
  const auto left = s.integer(i) - now_wall_ms();
  if (left <= 0) return false;
  m.expires_at = Clock::now() + std::chrono::milliseconds(left);
  return true;
}

std::int64_t option_flags(const SubscriptionOptions& o) {
  return (o.no_local ? 1 : 0) | (o.retain_as_published ? 2 : 0) | (static_cast<int>(o.retain_handling) << 2);
}

} // namespace

StateStore::StateStore(const std::string& data_dir, bool full_sync) {
  if (auto ec = create_private_directory(data_dir))
    throw ConfigError("cannot create the data directory: " + ec.message(), data_dir, "check --data-dir");
  m_path = (std::filesystem::path(data_dir) / "state.db").string();
  if (auto ec = prepare_private_file(m_path))
    throw ConfigError("cannot create the broker state: " + ec.message(), m_path, "check --data-dir and its permissions");
  if (sqlite3_open_v2(m_path.c_str(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string message = m_db ? sqlite3_errmsg(m_db) : "out of memory";
    sqlite3_close(m_db);
    m_db = nullptr;
    throw ConfigError("cannot open the broker state: " + message, m_path, "check --data-dir");
  }
  try {
    exec("PRAGMA journal_mode=WAL");
    exec(full_sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    exec(k_schema);
  } catch (const ConfigError&) {
    sqlite3_close(m_db);
    m_db = nullptr;
    throw;
  } catch (const Error& e) {
    sqlite3_close(m_db);
    m_db = nullptr;
    throw ConfigError(e.what(), m_path, "is it an mqfleet state.db?");
  }
}

StateStore::~StateStore() {
  if (m_db) sqlite3_close(m_db);
}

void StateStore::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(m_db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    if (is_damage(sqlite3_extended_errcode(m_db))) damaged(m_path, text);
    throw Error("state.db: " + text, m_path, "check that the data directory is writable and the disk is not full");
  }
}

void StateStore::set_page_limit(std::uint64_t pages) {
  const auto sql = "PRAGMA max_page_count=" + std::to_string(std::min<std::uint64_t>(pages, 0xFFFFFFFEull));
  exec(sql.c_str());
}

LoadedState StateStore::load() {
  LoadedState state;
  exec("DELETE FROM messages WHERE id NOT IN (SELECT message FROM entries)");

  Statement retained(m_db, m_path, "SELECT topic, payload, qos, props, expires_ms FROM retained");
  while (retained.row()) {
    auto m = std::make_shared<Message>();
    m->topic = retained.blob(0);
    m->payload = retained.blob(1);
    m->qos = static_cast<std::uint8_t>(retained.integer(2));
    m->retain = true;
    m->properties = decode_properties(retained.blob(3));
    if (read_expiry(retained, 4, *m)) state.retained.push_back(std::move(m));
  }

  std::unordered_map<std::uint64_t, MessagePtr> messages;
  Statement msgs(m_db, m_path, "SELECT id, topic, payload, qos, retain, props, expires_ms FROM messages");
  while (msgs.row()) {
    auto m = std::make_shared<Message>();
    const auto id = static_cast<std::uint64_t>(msgs.integer(0));
    m->topic = msgs.blob(1);
    m->payload = msgs.blob(2);
    m->qos = static_cast<std::uint8_t>(msgs.integer(3));
    m->retain = msgs.integer(4) != 0;
    m->properties = decode_properties(msgs.blob(5));
    state.max_message_id = std::max(state.max_message_id, id);
    // An expired message stays referenced: its entry is dropped below.
    if (read_expiry(msgs, 6, *m)) messages.emplace(id, std::move(m));
  }

  std::map<std::string, std::size_t> index;
  Statement sessions(m_db, m_path, "SELECT key, account, protocol, expiry FROM sessions ORDER BY key");
  while (sessions.row()) {
    LoadedSession s;
    s.key = sessions.blob(0);
    s.account = sessions.blob(1);
    s.protocol_version = static_cast<std::uint8_t>(sessions.integer(2));
    s.expiry_interval = static_cast<std::uint32_t>(sessions.integer(3));
    index.emplace(s.key, state.sessions.size());
    state.sessions.push_back(std::move(s));
  }

  Statement subs(m_db, m_path, "SELECT key, filter, qos, flags, identifier FROM subscriptions");
  while (subs.row()) {
    auto it = index.find(subs.blob(0));
    if (it == index.end()) continue;
    SubscriptionOptions o;
    o.qos = static_cast<std::uint8_t>(subs.integer(2));
    const auto flags = subs.integer(3);
    o.no_local = (flags & 1) != 0;
    o.retain_as_published = (flags & 2) != 0;
    o.retain_handling = static_cast<std::uint8_t>((flags >> 2) & 3);
    o.subscription_identifier = static_cast<std::uint32_t>(subs.integer(4));
    state.sessions[it->second].subscriptions.emplace_back(subs.blob(1), o);
  }

  Statement entries(m_db, m_path,
                    "SELECT id, key, message, qos, retain, sub_ids, state, packet_id FROM entries ORDER BY id");
  std::vector<std::int64_t> stale;
  while (entries.row()) {
    LoadedEntry e;
    e.id = static_cast<std::uint64_t>(entries.integer(0));
    state.max_entry_id = std::max(state.max_entry_id, e.id);
    auto it = index.find(entries.blob(1));
    e.state = static_cast<EntryState>(entries.integer(6));
    e.packet_id = static_cast<std::uint16_t>(entries.integer(7));
    if (e.state != EntryState::awaiting_pubcomp) {
      auto m = messages.find(static_cast<std::uint64_t>(entries.integer(2)));
      if (it == index.end() || m == messages.end()) {
        stale.push_back(entries.integer(0));
        continue;
      }
      e.message_id = m->first;
      e.delivery.message = m->second;
      e.delivery.qos = static_cast<std::uint8_t>(entries.integer(3));
      e.delivery.retain = entries.integer(4) != 0;
      e.delivery.subscription_identifiers = decode_ids(entries.blob(5));
    } else if (it == index.end()) {
      stale.push_back(entries.integer(0));
      continue;
    }
    state.sessions[it->second].entries.push_back(std::move(e));
  }
  Statement seen(m_db, m_path, "SELECT account, device, seen_ms FROM devices_seen");
  while (seen.row()) state.devices_seen.push_back(DeviceSeen{seen.blob(0), seen.blob(1), seen.integer(2)});

  if (!stale.empty()) {
    exec("BEGIN");
    Statement del(m_db, m_path, "DELETE FROM entries WHERE id = ?");
    for (auto id : stale) del.bind(1, id).run();
    exec("COMMIT");
  }
  return state;
}

void StateStore::apply(const std::vector<StoreOp>& ops) {
  if (ops.empty()) return;
  // A QoS 1 flow to a connected subscriber adds and removes its entry within
  // milliseconds: when both are in this batch, neither reaches the disk.
  std::unordered_set<std::uint64_t> put_entries, put_messages, cancelled_entries, cancelled_messages;
  for (const auto& op : ops) {
    using K = StoreOp::Kind;
    if (op.kind == K::put_entry) put_entries.insert(op.id);
    else if (op.kind == K::put_message) put_messages.insert(op.id);
    else if (op.kind == K::delete_entry && put_entries.contains(op.id)) cancelled_entries.insert(op.id);
    else if (op.kind == K::delete_message && put_messages.contains(op.id)) cancelled_messages.insert(op.id);
  }

  exec("BEGIN");
  try {
    Statement put_session(m_db, m_path, "INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?)");
    Statement del_session(m_db, m_path, "DELETE FROM sessions WHERE key = ?");
    Statement del_session_subs(m_db, m_path, "DELETE FROM subscriptions WHERE key = ?");
    Statement del_session_entries(m_db, m_path, "DELETE FROM entries WHERE key = ?");
    Statement put_sub(m_db, m_path, "INSERT OR REPLACE INTO subscriptions VALUES (?, ?, ?, ?, ?)");
    Statement del_sub(m_db, m_path, "DELETE FROM subscriptions WHERE key = ? AND filter = ?");
    Statement put_ret(m_db, m_path, "INSERT OR REPLACE INTO retained VALUES (?, ?, ?, ?, ?)");
    Statement del_ret(m_db, m_path, "DELETE FROM retained WHERE topic = ?");
    Statement put_msg(m_db, m_path, "INSERT OR REPLACE INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)");
    Statement del_msg(m_db, m_path, "DELETE FROM messages WHERE id = ?");
    Statement put_entry(m_db, m_path, "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    Statement upd_entry(m_db, m_path, "UPDATE entries SET state = ?, packet_id = ? WHERE id = ?");
    Statement rel_entry(m_db, m_path, "UPDATE entries SET state = ?, packet_id = ?, message = 0 WHERE id = ?");
    Statement del_entry(m_db, m_path, "DELETE FROM entries WHERE id = ?");
    Statement put_seen(m_db, m_path, "INSERT OR REPLACE INTO devices_seen VALUES (?, ?, ?)");
    Statement del_seen(m_db, m_path, "DELETE FROM devices_seen WHERE account = ? AND device = ?");
    for (const auto& op : ops) {
      const auto id = static_cast<std::int64_t>(op.id);
      switch (op.kind) {
      case StoreOp::Kind::put_session:
        put_session.bind(1, op.key).bind(2, op.text).bind(3, static_cast<std::int64_t>(op.qos))
            .bind(4, static_cast<std::int64_t>(op.number)).run();
        break;
      case StoreOp::Kind::delete_session:
        del_session.bind(1, op.key).run();
        del_session_subs.bind(1, op.key).run();
        del_session_entries.bind(1, op.key).run();
        break;
      case StoreOp::Kind::put_subscription:
        put_sub.bind(1, op.key).bind(2, op.text).bind(3, static_cast<std::int64_t>(op.options.qos))
            .bind(4, option_flags(op.options)).bind(5, static_cast<std::int64_t>(op.options.subscription_identifier))
            .run();
        break;
      case StoreOp::Kind::delete_subscription: del_sub.bind(1, op.key).bind(2, op.text).run(); break;
      case StoreOp::Kind::put_retained: {
        const Message& m = *op.message;
        put_ret.bind(1, m.topic).bind(2, m.payload).bind(3, static_cast<std::int64_t>(m.qos))
            .bind(4, encode_properties(m.properties));
        bind_expiry(put_ret, 5, m);
        put_ret.run();
        break;
      }
      case StoreOp::Kind::delete_retained: del_ret.bind(1, op.text).run(); break;
      case StoreOp::Kind::put_message: {
        if (cancelled_messages.contains(op.id)) break;
        const Message& m = *op.message;
        put_msg.bind(1, id).bind(2, m.topic).bind(3, m.payload).bind(4, static_cast<std::int64_t>(m.qos))
            .bind(5, static_cast<std::int64_t>(m.retain ? 1 : 0)).bind(6, encode_properties(m.properties));
        bind_expiry(put_msg, 7, m);
        put_msg.run();
        break;
      }
      case StoreOp::Kind::delete_message:
        if (!cancelled_messages.contains(op.id)) del_msg.bind(1, id).run();
        break;
      case StoreOp::Kind::put_entry:
        if (cancelled_entries.contains(op.id)) break;
        put_entry.bind(1, id).bind(2, op.key).bind(3, static_cast<std::int64_t>(op.number))
            .bind(4, static_cast<std::int64_t>(op.qos)).bind(5, static_cast<std::int64_t>(op.retain ? 1 : 0))
            .bind(6, encode_ids(op.subscription_identifiers)).bind(7, static_cast<std::int64_t>(op.entry_state))
            .bind(8, static_cast<std::int64_t>(op.packet_id)).run();
        break;
      case StoreOp::Kind::update_entry: {
        if (cancelled_entries.contains(op.id)) break;
        auto& s = op.entry_state == EntryState::awaiting_pubcomp ? rel_entry : upd_entry;
        s.bind(1, static_cast<std::int64_t>(op.entry_state)).bind(2, static_cast<std::int64_t>(op.packet_id))
            .bind(3, id).run();
        break;
      }
      case StoreOp::Kind::delete_entry:
        if (!cancelled_entries.contains(op.id)) del_entry.bind(1, id).run();
        break;
      case StoreOp::Kind::put_device_seen:
        put_seen.bind_text(1, op.key).bind_text(2, op.text).bind(3, static_cast<std::int64_t>(op.number)).run();
        break;
      case StoreOp::Kind::delete_device_seen: del_seen.bind_text(1, op.key).bind_text(2, op.text).run(); break;
      }
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

} // namespace mqfleet::broker
