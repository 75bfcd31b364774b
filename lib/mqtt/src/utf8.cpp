#include <mqfleet/mqtt/utf8.hpp>

#include <cstdint>

namespace mqfleet::mqtt {
namespace {

bool is_discouraged(std::uint32_t cp) noexcept {
  if ((cp >= 0x01 && cp <= 0x1F) || (cp >= 0x7F && cp <= 0x9F)) return true;
  if (cp >= 0xFDD0 && cp <= 0xFDEF) return true;
  return (cp & 0xFFFE) == 0xFFFE; // U+xxFFFE and U+xxFFFF in every plane
}

} // namespace

Utf8Check check_utf8(std::string_view s) noexcept {
  Utf8Check result;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const std::size_t start = i;
    const unsigned char b0 = p[i];
    std::uint32_t cp = 0;
    std::size_t len = 0;
    if (b0 < 0x80) {
      cp = b0;
      len = 1;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
      cp = b0 & 0x1Fu;
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      cp = b0 & 0x0Fu;
      len = 3;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      cp = b0 & 0x07u;
      len = 4;
    } else {
      return {Utf8Status::ill_formed, start, result.has_discouraged, result.discouraged_offset};
    }
    if (n - i < len) {
      return {Utf8Status::ill_formed, start, result.has_discouraged, result.discouraged_offset};
    }
    for (std::size_t k = 1; k < len; ++k) {
      const unsigned char c = p[i + k];
      if ((c & 0xC0u) != 0x80u) {
        return {Utf8Status::ill_formed, start, result.has_discouraged, result.discouraged_offset};
      }
      cp = (cp << 6) | (c & 0x3Fu);
    }
    const bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF) {
      return {Utf8Status::ill_formed, start, result.has_discouraged, result.discouraged_offset};
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) {
      return {Utf8Status::surrogate, start, result.has_discouraged, result.discouraged_offset};
    }
    if (cp == 0) {
      return {Utf8Status::null_char, start, result.has_discouraged, result.discouraged_offset};
    }
    if (!result.has_discouraged && is_discouraged(cp)) {
      result.has_discouraged = true;
      result.discouraged_offset = start;
    }
    i += len;
  }
  return result;
}

bool is_valid_utf8(std::string_view s) noexcept {
  // Fast path: pure ASCII without NUL is the common case for topics and client ids.
  bool plain = true;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    plain &= u != 0 && u < 0x80;
  }
  return plain || check_utf8(s).status == Utf8Status::ok;
}

std::string_view describe(Utf8Status status) noexcept {
  switch (status) {
  case Utf8Status::ok: return "valid UTF-8";
  case Utf8Status::ill_formed: return "is not well-formed UTF-8";
  case Utf8Status::null_char: return "contains U+0000";
  case Utf8Status::surrogate: return "encodes a UTF-16 surrogate";
  }
  return "unknown UTF-8 status";
}

} // namespace mqfleet::mqtt
