#include <mqfleet/store/aggregate.hpp>

#include <algorithm>
#include <cmath>

namespace mqfleet::store {

std::optional<Aggregate> parse_aggregate(std::string_view name) {
  static constexpr std::pair<std::string_view, Aggregate> k_names[] = {
      {"count", Aggregate::count}, {"mean", Aggregate::mean},     {"median", Aggregate::median},
      {"min", Aggregate::min},     {"max", Aggregate::max},       {"sum", Aggregate::sum},
      {"stddev", Aggregate::stddev}, {"spread", Aggregate::spread}};
  for (const auto& [text, type] : k_names)
    if (text == name) return type;
  return std::nullopt;
}

WindowAggregator::WindowAggregator(EpochMs window, Aggregate type, std::vector<std::string> fields)
    : m_window(window), m_type(type), m_fields(std::move(fields)) {}

void WindowAggregator::add(EpochMs ts, std::string_view payload) {
  numeric_leaves(payload, m_leaves);
  const EpochMs start = ts - ts % m_window;
  const bool keep_values = m_type == Aggregate::median || m_type == Aggregate::stddev;
  for (std::size_t i = 0; i < m_leaves.size(); ++i) {
    const std::string_view name = m_leaves.name(i);
    if (name == "ts") continue;
    if (!m_fields.empty() && std::find(m_fields.begin(), m_fields.end(), name) == m_fields.end()) continue;
    if (m_current == nullptr || m_current_start != start) {
      m_current = &m_windows[start];
      m_current_start = start;
    }
    auto field = std::find_if(m_current->begin(), m_current->end(), [&](const Field& f) { return f.name == name; });
    const double v = m_leaves.values[i];
    if (field == m_current->end()) {
      field = m_current->insert(m_current->end(), Field{std::string(name), 0, 0, v, v, {}});
    } else {
      if (v < field->min) field->min = v; // the first of equal minimums, as std::minmax_element
      if (!(v < field->max)) field->max = v; // the last of equal maximums, as std::minmax_element
    }
    field->count += 1;
    field->sum += v;
    if (keep_values) field->values.push_back(v);
  }
}

double WindowAggregator::value_of(const Field& f) const {
  switch (m_type) {
  case Aggregate::count: return f.count;
  case Aggregate::sum: return f.sum;
  case Aggregate::mean: return f.sum / f.count;
  case Aggregate::min: return f.min;
  case Aggregate::max: return f.max;
  case Aggregate::spread: return f.max - f.min;
  case Aggregate::stddev: {
    const double mean = f.sum / f.count;
    double squares = 0;
    for (double v : f.values) squares += (v - mean) * (v - mean);
    return std::sqrt(squares / f.count);
  }
  case Aggregate::median: {
    std::vector<double> values = f.values;
    std::sort(values.begin(), values.end());
    const std::size_t mid = values.size() / 2;
    return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
  }
  }
  return 0;
}

std::vector<WindowAggregator::Window> WindowAggregator::result() const {
  std::vector<Window> out;
  out.reserve(m_windows.size());
  for (const auto& [start, fields] : m_windows) {
    Window window{start, {}};
    for (const auto& field : fields) window.values.emplace_back(field.name, value_of(field));
    std::sort(window.values.begin(), window.values.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    out.push_back(std::move(window));
  }
  return out;
}

} // namespace mqfleet::store
