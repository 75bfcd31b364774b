#pragma once
// Aggregation of bucket points into fixed time windows (the REST API's `agg=` and
// `agg_type=`, docs/broker.md): one value per window per numeric field, in one pass over
// the points without keeping them (only `median` and `stddev` keep each window's values).

#include <mqfleet/store/point.hpp>
#include <mqfleet/store/time_format.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mqfleet::store {

/// What one window's values become.
enum class Aggregate { count, mean, median, min, max, sum, stddev, spread };

/// `count`, `mean`, … as an Aggregate; empty for any other name.
std::optional<Aggregate> parse_aggregate(std::string_view name);

/// Sorts points into windows `[start, start + window)` (start a multiple of `window`) and
/// aggregates every numeric leaf (flatten() names; the top-level `ts` excluded) per window.
class WindowAggregator {
public:
  /// `fields` empty: every numeric field; otherwise only those names.
  WindowAggregator(EpochMs window, Aggregate type, std::vector<std::string> fields = {});

  /// Adds one stored point (any order; in time order each point costs one comparison to
  /// find its window).
  void add(EpochMs ts, std::string_view payload);

  /// One window that holds at least one numeric value.
  struct Window {
    EpochMs start = 0;
    std::vector<std::pair<std::string, double>> values; ///< by field name
  };
  /// The windows in time order.
  std::vector<Window> result() const;

private:
  struct Field {
    std::string name;
    double count = 0;
    double sum = 0;
    double min = 0;
    double max = 0;
    std::vector<double> values; ///< median and stddev only
  };

  double value_of(const Field& field) const;

  EpochMs m_window;
  Aggregate m_type;
  std::vector<std::string> m_fields;
  std::map<EpochMs, std::vector<Field>> m_windows;
  std::vector<Field>* m_current = nullptr;
  EpochMs m_current_start = 0;
  NumericLeaves m_leaves;
};

} // namespace mqfleet::store
