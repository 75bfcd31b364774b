#pragma once
// `mqfleet bucket chart`: a numeric field over time, downsampled into one bin per
// horizontal dot while the points stream past (memory grows with the width, not with
// the number of points), drawn with Unicode braille (2 x 4 dots per character cell)
// for the terminal or as a standalone SVG file.

#include <mqfleet/store/time_format.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace mqfleet::store {

/// One bin of the series.
struct ChartBin {
  std::size_t count = 0;
  double min = 0;
  double max = 0;
  double sum = 0;
  /// The bin's mean (bins with count 0 are empty).
  double mean() const noexcept { return count == 0 ? 0 : sum / static_cast<double>(count); }
};

/// A series downsampled into `bins` equal time slices of [from, to].
class ChartSeries {
public:
  ChartSeries(EpochMs from, EpochMs to, std::size_t bins);
  /// Adds one sample; samples outside [from, to] are ignored.
  void add(EpochMs ts, double value);

  EpochMs from() const noexcept { return m_from; }
  EpochMs to() const noexcept { return m_to; }
  const std::vector<ChartBin>& bins() const noexcept { return m_bins; }
  /// Number of samples added.
  std::size_t samples() const noexcept { return m_samples; }
  /// Smallest and largest value; empty without samples.
  std::optional<std::pair<double, double>> range() const noexcept;

private:
  EpochMs m_from;
  EpochMs m_to;
  std::vector<ChartBin> m_bins;
  std::size_t m_samples = 0;
  double m_min = 0;
  double m_max = 0;
};

/// The plot area only: `height` rows of `width` braille characters, for a series with
/// 2 x width bins. Each bin is a vertical stroke from its min to its max, joined to the
/// previous non-empty bin's mean so the line is continuous.
std::vector<std::string> render_braille(const ChartSeries& series, std::size_t width, std::size_t height);

/// The whole terminal chart (title, y labels, plot, time axis) in `width` x `height`
/// character cells. `title` names the field.
std::string render_terminal_chart(const ChartSeries& series, const std::string& title, std::size_t width,
                                  std::size_t height);

/// A standalone SVG document of `width` x `height` pixels (min/max band, mean line,
/// axes with labels).
std::string render_svg_chart(const ChartSeries& series, const std::string& title, std::size_t width,
                             std::size_t height);

/// Format a value for a label: up to 4 significant decimals, no trailing zeros.
std::string format_value(double value);

} // namespace mqfleet::store
