#pragma once
// Intrusive reference counting for the objects every connection pays for (Connection,
// SessionEntry). std::shared_ptr costs a 16-byte control block next to the object, a
// 16-byte pointer at every holder (and in every pending Asio handler), and 16 more bytes
// for enable_shared_from_this or a weak_ptr; an intrusive count costs 4 bytes and a
// pointer 8.
//
// Weak references are not offered. Where a raw pointer stands in for one (a session's
// owning connection), the owner clears it before the object can go away, and
// try_acquire() refuses an object whose count already reached zero.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace mqfleet::broker {

template <class T> class RefPtr;

/// Base of intrusively counted objects: a thread-safe 32-bit count, starting at 0.
/// Derived classes may place small members in the 4 bytes after it.
class RefCounted {
public:
  RefCounted() = default;
  RefCounted(const RefCounted&) = delete;
  RefCounted& operator=(const RefCounted&) = delete;

  /// The current count (for tests and assertions; racy by nature).
  std::uint32_t ref_count() const noexcept { return m_refs.load(std::memory_order_relaxed); }

protected:
  ~RefCounted() = default;

private:
  template <class T> friend class RefPtr;
  mutable std::atomic<std::uint32_t> m_refs{0};
};

/// An owning pointer to a RefCounted T (like std::shared_ptr, without a control block).
/// The object is deleted as T when the last RefPtr lets go.
template <class T> class RefPtr {
public:
  RefPtr() noexcept = default;
  RefPtr(std::nullptr_t) noexcept {}
  /// Takes a new reference to `object` (may be null).
  explicit RefPtr(T* object) noexcept : m_ptr(object) { add(); }
  RefPtr(const RefPtr& other) noexcept : m_ptr(other.m_ptr) { add(); }
  RefPtr(RefPtr&& other) noexcept : m_ptr(std::exchange(other.m_ptr, nullptr)) {}
  ~RefPtr() { release(); }
  RefPtr& operator=(const RefPtr& other) noexcept {
    RefPtr(other).swap(*this);
    return *this;
  }
  RefPtr& operator=(RefPtr&& other) noexcept {
    RefPtr(std::move(other)).swap(*this);
    return *this;
  }

  /// A new reference to `object` unless its count already reached zero (it is being
  /// destroyed); then null. The caller must know the memory is still valid.
  static RefPtr try_acquire(T* object) noexcept {
    RefPtr out;
    if (object == nullptr) return out;
    std::uint32_t refs = object->m_refs.load(std::memory_order_relaxed);
    while (refs != 0) {
      if (object->m_refs.compare_exchange_weak(refs, refs + 1, std::memory_order_acq_rel, std::memory_order_relaxed)) {
        out.m_ptr = object;
        break;
      }
    }
    return out;
  }

  /// Takes over a reference that was given up with release_ownership() (no increment).
  static RefPtr adopt(T* object) noexcept {
    RefPtr out;
    out.m_ptr = object;
    return out;
  }
  /// Gives up ownership without decrementing: the caller now holds the reference as a
  /// raw pointer and must hand it back with adopt().
  T* release_ownership() noexcept { return std::exchange(m_ptr, nullptr); }

  /// Drops the reference (the object is deleted when it was the last one).
  void reset() noexcept { RefPtr().swap(*this); }
  void swap(RefPtr& other) noexcept { std::swap(m_ptr, other.m_ptr); }
  T* get() const noexcept { return m_ptr; }
  T& operator*() const noexcept { return *m_ptr; }
  T* operator->() const noexcept { return m_ptr; }
  explicit operator bool() const noexcept { return m_ptr != nullptr; }
  friend bool operator==(const RefPtr& a, const RefPtr& b) noexcept { return a.m_ptr == b.m_ptr; }

private:
  void add() noexcept {
    if (m_ptr != nullptr) m_ptr->m_refs.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept {
    if (m_ptr != nullptr && m_ptr->m_refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete m_ptr;
  }

  T* m_ptr = nullptr;
};

/// Allocates a T and returns the first reference to it.
template <class T, class... Args> RefPtr<T> make_ref(Args&&... args) {
  return RefPtr<T>(new T(std::forward<Args>(args)...));
}

} // namespace mqfleet::broker
