// fmt's compiled part, built from fmt's installed implementation header (fmt/format-inl.h,
// the source libfmt.so itself is built from) into a static archive; see mqfleet::fmt in
// cmake/Dependencies.cmake for why. The instantiations below are the ones fmt/format.h
// declares `extern template` or leaves to the library when FMT_HEADER_ONLY is not set.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {

template auto dragonbox::to_decimal(float value) noexcept -> dragonbox::decimal_fp<float>;
template auto dragonbox::to_decimal(double value) noexcept -> dragonbox::decimal_fp<double>;

template locale_ref::locale_ref(const std::locale& locale);
template auto locale_ref::get<std::locale>() const -> std::locale;

template auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template auto decimal_point_impl(locale_ref) -> char;
template void buffer<char>::append(const char* begin, const char* end);
template void vformat_to(buffer<char>& out, string_view format, basic_format_args<FMT_BUFFER_CONTEXT(char)> args,
                         locale_ref locale);

template auto thousands_sep_impl(locale_ref) -> thousands_sep_result<wchar_t>;
template auto decimal_point_impl(locale_ref) -> wchar_t;
template void buffer<wchar_t>::append(const wchar_t* begin, const wchar_t* end);

} // namespace detail
FMT_END_NAMESPACE
