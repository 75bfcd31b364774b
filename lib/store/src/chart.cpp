#include <mqfleet/store/chart.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace mqfleet::store {
namespace {

/// Bit of the braille dot at (x 0..1, y 0..3 from the top) in U+2800 + bits.
constexpr unsigned k_braille_bits[2][4] = {{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}};

std::string utf8(char32_t code) {
  std::string out;
  out += static_cast<char>(0xE0 | (code >> 12));
  out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
  out += static_cast<char>(0x80 | (code & 0x3F));
  return out;
}

std::pair<double, double> padded_range(const ChartSeries& series) {
  auto range = series.range().value_or(std::pair{0.0, 1.0});
  if (range.first == range.second) {
    range.first -= 1;
    range.second += 1;
  }
  return range;
}

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '&': out += "&amp;"; break;
    case '"': out += "&quot;"; break;
    default: out += c;
    }
  }
  return out;
}

std::string short_time(EpochMs ms) {
  auto iso = format_iso8601(ms); // 2026-11-25T03:46:12.123Z
  return iso.substr(0, 10) + " " + iso.substr(11, 8);
}

} // namespace

ChartSeries::ChartSeries(EpochMs from, EpochMs to, std::size_t bins)
    : m_from(from), m_to(std::max(to, from)), m_bins(std::max<std::size_t>(bins, 1)) {}

void ChartSeries::add(EpochMs ts, double value) {
  if (ts < m_from || ts > m_to || !std::isfinite(value)) return;
  const auto span = static_cast<double>(m_to - m_from) + 1.0;
  auto index = static_cast<std::size_t>(static_cast<double>(ts - m_from) / span * static_cast<double>(m_bins.size()));
  index = std::min(index, m_bins.size() - 1);
  auto& bin = m_bins[index];
  if (bin.count == 0) bin.min = bin.max = value;
  bin.min = std::min(bin.min, value);
  bin.max = std::max(bin.max, value);
  bin.sum += value;
  ++bin.count;
  if (m_samples == 0) m_min = m_max = value;
  m_min = std::min(m_min, value);
  m_max = std::max(m_max, value);
  ++m_samples;
}

std::optional<std::pair<double, double>> ChartSeries::range() const noexcept {
  if (m_samples == 0) return std::nullopt;
  return std::pair{m_min, m_max};
}

std::string format_value(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.4f", value);
  std::string text = buffer;
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  if (text == "-0") text = "0";
  return text;
}

std::vector<std::string> render_braille(const ChartSeries& series, std::size_t width, std::size_t height) {
  const std::size_t dots_x = width * 2;
  const std::size_t dots_y = height * 4;
  std::vector<unsigned> cells(width * height, 0);
  // Not a structured binding: clang before 16 (the fuzz build) cannot capture one.
  const auto range = padded_range(series);
  const double low = range.first, high = range.second;
  auto dot_row = [&](double value) {
    const double fraction = (value - low) / (high - low);
    const auto row = static_cast<long>(std::lround((1.0 - fraction) * static_cast<double>(dots_y - 1)));
    return static_cast<std::size_t>(std::clamp<long>(row, 0, static_cast<long>(dots_y - 1)));
  };
  const auto& bins = series.bins();
  std::optional<std::size_t> previous;
  for (std::size_t x = 0; x < dots_x; ++x) {
    // Merge the bins that fall on this dot column (identity when there are 2 x width).
    const std::size_t first = x * bins.size() / dots_x;
    const std::size_t last = std::max(first + 1, (x + 1) * bins.size() / dots_x);
    ChartBin bin;
    for (std::size_t b = first; b < last && b < bins.size(); ++b) {
      const auto& part = bins[b];
      if (part.count == 0) continue;
      if (bin.count == 0) bin.min = part.min, bin.max = part.max;
      bin.min = std::min(bin.min, part.min);
      bin.max = std::max(bin.max, part.max);
      bin.sum += part.sum;
      bin.count += part.count;
    }
    if (bin.count == 0) continue;
    std::size_t top = dot_row(bin.max);
    std::size_t bottom = dot_row(bin.min);
    if (previous) {
      top = std::min(top, *previous);
      bottom = std::max(bottom, *previous);
    }
    for (std::size_t y = top; y <= bottom; ++y) cells[(y / 4) * width + x / 2] |= k_braille_bits[x % 2][y % 4];
    previous = dot_row(bin.mean());
  }
  std::vector<std::string> rows(height);
  for (std::size_t r = 0; r < height; ++r) {
    for (std::size_t c = 0; c < width; ++c) {
      const unsigned bits = cells[r * width + c];
      rows[r] += bits == 0 ? std::string(" ") : utf8(0x2800 + bits);
    }
  }
  return rows;
}

std::string render_terminal_chart(const ChartSeries& series, const std::string& title, std::size_t width,
                                  std::size_t height) {
  const auto [low, high] = padded_range(series);
  const std::string top_label = format_value(high);
  const std::string bottom_label = format_value(low);
  const std::size_t label_width = std::max(top_label.size(), bottom_label.size());
  const std::size_t plot_width = width > label_width + 3 ? width - label_width - 2 : 1;
  const std::size_t plot_height = height > 4 ? height - 3 : 1;
  std::string out = title;
  if (auto range = series.range()) {
    out += "  (" + std::to_string(series.samples()) + " points, min " + format_value(range->first) + ", max " +
           format_value(range->second) + ")";
  } else {
    out += "  (no points)";
  }
  out += '\n';
  const auto rows = render_braille(series, plot_width, plot_height);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::string label = r == 0 ? top_label : r + 1 == rows.size() ? bottom_label : std::string();
    out += std::string(label_width - label.size(), ' ') + label + " " + utf8(0x2502) + rows[r] + '\n';
  }
  out += std::string(label_width + 1, ' ') + utf8(0x2514);
  for (std::size_t i = 0; i < plot_width; ++i) out += utf8(0x2500);
  out += '\n';
  const std::string left = short_time(series.from());
  const std::string right = short_time(series.to());
  std::string axis(label_width + 2, ' ');
  axis += left;
  const std::size_t used = label_width + 2 + left.size();
  const std::size_t right_at = label_width + 2 + plot_width;
  if (right_at >= used + right.size() + 1) axis += std::string(right_at - right.size() - used, ' ') + right;
  out += axis + '\n';
  return out;
}

std::string render_svg_chart(const ChartSeries& series, const std::string& title, std::size_t width,
                             std::size_t height) {
  const double left = 70, right = 20, top = 40, bottom = 50;
  const double w = static_cast<double>(width), h = static_cast<double>(height);
  const double plot_w = std::max(w - left - right, 10.0), plot_h = std::max(h - top - bottom, 10.0);
  const auto range = padded_range(series);  // clang < 16 cannot capture a structured binding
  const double low = range.first, high = range.second;
  const auto& bins = series.bins();
  auto x_of = [&](std::size_t i) { return left + (static_cast<double>(i) + 0.5) / static_cast<double>(bins.size()) * plot_w; };
  auto y_of = [&](double v) { return top + (1.0 - (v - low) / (high - low)) * plot_h; };
  char number[64];
  auto fmt = [&](double v) {
    std::snprintf(number, sizeof number, "%.1f", v);
    return std::string(number);
  };
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
         std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) + "\">\n";
  out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  out += "<text x=\"" + fmt(left) + "\" y=\"24\" font-family=\"sans-serif\" font-size=\"16\">" + xml_escape(title) +
         "</text>\n";
  out += "<g stroke=\"#888\" stroke-width=\"1\"><line x1=\"" + fmt(left) + "\" y1=\"" + fmt(top) + "\" x2=\"" +
         fmt(left) + "\" y2=\"" + fmt(top + plot_h) + "\"/><line x1=\"" + fmt(left) + "\" y1=\"" + fmt(top + plot_h) +
         "\" x2=\"" + fmt(left + plot_w) + "\" y2=\"" + fmt(top + plot_h) + "\"/></g>\n";
  out += "<g font-family=\"sans-serif\" font-size=\"12\" fill=\"#333\">";
  out += "<text x=\"" + fmt(left - 6) + "\" y=\"" + fmt(top + 4) + "\" text-anchor=\"end\">" + format_value(high) + "</text>";
  out += "<text x=\"" + fmt(left - 6) + "\" y=\"" + fmt(top + plot_h) + "\" text-anchor=\"end\">" + format_value(low) +
         "</text>";
  out += "<text x=\"" + fmt(left) + "\" y=\"" + fmt(top + plot_h + 20) + "\">" + short_time(series.from()) + "</text>";
  out += "<text x=\"" + fmt(left + plot_w) + "\" y=\"" + fmt(top + plot_h + 20) + "\" text-anchor=\"end\">" +
         short_time(series.to()) + "</text></g>\n";
  std::string band_top, band_bottom, line;
  for (std::size_t i = 0; i < bins.size(); ++i) {
    if (bins[i].count == 0) continue;
    band_top += fmt(x_of(i)) + "," + fmt(y_of(bins[i].max)) + " ";
    band_bottom.insert(0, fmt(x_of(i)) + "," + fmt(y_of(bins[i].min)) + " ");
    line += fmt(x_of(i)) + "," + fmt(y_of(bins[i].mean())) + " ";
  }
  if (!line.empty()) {
    out += "<polygon fill=\"#9ecae1\" fill-opacity=\"0.5\" stroke=\"none\" points=\"" + band_top + band_bottom + "\"/>\n";
    out += "<polyline fill=\"none\" stroke=\"#08519c\" stroke-width=\"1.5\" points=\"" + line + "\"/>\n";
  }
  out += "</svg>\n";
  return out;
}

} // namespace mqfleet::store
