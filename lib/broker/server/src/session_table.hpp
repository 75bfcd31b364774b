#pragma once
// The sessions by key, as an intrusive hash table: each entry carries its own chain
// link and is keyed by a view of its own key, so the table adds no node allocation per
// session (std::unordered_map added a 40-byte node plus a 16-byte shared_ptr each).
//
// A template over the entry type so it can be unit-tested on its own: T derives from
// RefCounted and has `T* table_next` and `std::string_view table_key() const` (stable
// while the entry is in the table). The table holds one reference per entry.

#include "ref_ptr.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

namespace mqfleet::broker {

/// Entries by key; not thread-safe (BrokerState's lock guards it).
template <class T> class IntrusiveTable {
public:
  IntrusiveTable() = default;
  IntrusiveTable(const IntrusiveTable&) = delete;
  IntrusiveTable& operator=(const IntrusiveTable&) = delete;
  ~IntrusiveTable() { clear(); }

  /// The entry with `key`, or null.
  T* find(std::string_view key) const noexcept {
    if (m_size == 0) return nullptr;
    for (T* entry = m_buckets[index(key)]; entry != nullptr; entry = entry->table_next)
      if (entry->table_key() == key) return entry;
    return nullptr;
  }

  /// Adds `entry`, whose key must not be in the table yet; returns it.
  T* insert(RefPtr<T> entry) {
    if (m_size + 1 > m_bucket_count) grow();
    // The table's reference lives on as the raw pointer in the chain.
    T* raw = entry.release_ownership();
    T*& head = m_buckets[index(raw->table_key())];
    raw->table_next = head;
    head = raw;
    ++m_size;
    return raw;
  }

  /// Removes the entry with `key` and returns the table's reference to it (null when
  /// absent); `key` may view the entry's own key.
  RefPtr<T> erase(std::string_view key) noexcept {
    if (m_size == 0) return {};
    for (T** link = &m_buckets[index(key)]; *link != nullptr; link = &(*link)->table_next) {
      T* entry = *link;
      if (entry->table_key() != key) continue;
      *link = entry->table_next;
      entry->table_next = nullptr;
      --m_size;
      return RefPtr<T>::adopt(entry);
    }
    return {};
  }

  /// Calls `f(T&)` for every entry; `f` must not insert or erase.
  template <class F> void for_each(F&& f) const {
    for (std::size_t i = 0; i < m_bucket_count; ++i)
      for (T* entry = m_buckets[i]; entry != nullptr; entry = entry->table_next) f(*entry);
  }

  /// Number of entries.
  std::size_t size() const noexcept { return m_size; }

  /// Removes every entry.
  void clear() noexcept {
    for (std::size_t i = 0; i < m_bucket_count; ++i) {
      T* entry = m_buckets[i];
      m_buckets[i] = nullptr;
      while (entry != nullptr) {
        T* next = entry->table_next;
        entry->table_next = nullptr;
        RefPtr<T>::adopt(entry); // drops the table's reference
        entry = next;
      }
    }
    m_size = 0;
  }

private:
  std::size_t index(std::string_view key) const noexcept {
    return std::hash<std::string_view>{}(key) & (m_bucket_count - 1);
  }

  // Doubles the bucket array (power of two), so the load factor stays at most 1.
  void grow() {
    const std::size_t count = m_bucket_count == 0 ? 16 : m_bucket_count * 2;
    auto buckets = std::make_unique<T*[]>(count);
    for (std::size_t i = 0; i < m_bucket_count; ++i) {
      T* entry = m_buckets[i];
      while (entry != nullptr) {
        T* next = entry->table_next;
        T*& head = buckets[std::hash<std::string_view>{}(entry->table_key()) & (count - 1)];
        entry->table_next = head;
        head = entry;
        entry = next;
      }
    }
    m_buckets = std::move(buckets);
    m_bucket_count = count;
  }

  std::unique_ptr<T*[]> m_buckets;
  std::size_t m_bucket_count = 0;
  std::size_t m_size = 0;
};

} // namespace mqfleet::broker
