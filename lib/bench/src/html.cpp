#include <mqfleet/bench/html.hpp>

#include <mqfleet/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <utility>
#include <vector>

namespace mqfleet::bench {
namespace {

constexpr double k_width = 760;
constexpr double k_height = 240;
constexpr double k_left = 64;
constexpr double k_bottom = 32;
constexpr double k_top = 16;
constexpr double k_right = 16;

std::string escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    default: out.push_back(c);
    }
  }
  return out;
}

/// One line of a chart: label, colour, points (x, y) in data units.
struct Series {
  std::string label;
  std::string colour;
  std::vector<std::pair<double, double>> points;
};

/// An SVG line chart; `log_x` puts x on a log10 axis (percentile curve).
std::string chart(const std::string& title, const std::string& x_label, const std::string& y_label,
                  const std::vector<Series>& series, bool log_x) {
  double x_min = 1e300, x_max = -1e300, y_max = 0;
  for (const Series& s : series) {
    for (auto [x, y] : s.points) {
      const double px = log_x ? std::log10(x) : x;
      x_min = std::min(x_min, px);
      x_max = std::max(x_max, px);
      y_max = std::max(y_max, y);
    }
  }
  if (x_min > x_max) {
    x_min = 0;
    x_max = 1;
  }
  if (x_max - x_min < 1e-9) {
    x_max = x_min + 1;
  }
  if (y_max <= 0) {
    y_max = 1;
  }
  y_max *= 1.05;
  const double plot_w = k_width - k_left - k_right;
  const double plot_h = k_height - k_top - k_bottom;
  const auto sx = [&](double x) { return k_left + ((log_x ? std::log10(x) : x) - x_min) / (x_max - x_min) * plot_w; };
  const auto sy = [&](double y) { return k_top + plot_h - y / y_max * plot_h; };

  std::string svg = fmt::format(
      R"(<figure><figcaption>{}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" role="img">)",
      escape(title), k_width, k_height, k_width, k_height);
  svg += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#999"/>)", k_left, k_top,
                     plot_w, plot_h);
  for (int i = 0; i <= 4; ++i) {
    const double y = y_max * i / 4;
    svg += fmt::format(R"(<text x="{}" y="{:.1f}" font-size="10" text-anchor="end">{:.4g}</text>)", k_left - 4,
                       sy(y) + 3, y);
  }
  for (int i = 0; i <= 4; ++i) {
    const double px = x_min + (x_max - x_min) * i / 4;
    const double label = log_x ? 100.0 * (1.0 - std::pow(10.0, -px)) : px;
    svg += fmt::format(R"(<text x="{:.1f}" y="{}" font-size="10" text-anchor="middle">{:.6g}</text>)",
                       k_left + plot_w * i / 4, k_height - k_bottom + 14, label);
  }
  svg += fmt::format(R"(<text x="{:.1f}" y="{}" font-size="11" text-anchor="middle">{}</text>)", k_left + plot_w / 2,
                     k_height - 4, escape(x_label));
  svg += fmt::format(R"svg(<text x="12" y="{:.1f}" font-size="11" transform="rotate(-90 12 {:.1f})" text-anchor="middle">{}</text>)svg",
                     k_top + plot_h / 2, k_top + plot_h / 2, escape(y_label));
  double legend_x = k_left + 8;
  for (const Series& s : series) {
    std::string points;
    for (auto [x, y] : s.points) {
      points += fmt::format("{:.1f},{:.1f} ", sx(x), sy(y));
    }
    svg += fmt::format(R"(<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/>)", s.colour, points);
    svg += fmt::format(R"(<text x="{:.1f}" y="{}" font-size="11" fill="{}">{}</text>)", legend_x, k_top + 12,
                       s.colour, escape(s.label));
    legend_x += 12 + 7.0 * static_cast<double>(s.label.size());
  }
  svg += "</svg></figure>\n";
  return svg;
}

std::vector<Series> timeline_rates(const Report& report) {
  Series sent{"sent/s", "#1f77b4", {}}, received{"received/s", "#2ca02c", {}}, acked{"acked/s", "#9467bd", {}},
      connects{"connects/s", "#8c564b", {}}, errors{"errors/s", "#d62728", {}};
  const auto& seconds = report.timeline.seconds();
  const std::int64_t t0 = seconds.empty() ? 0 : seconds.front().second;
  for (const TimelineSecond& s : seconds) {
    const auto x = static_cast<double>(s.second - t0);
    sent.points.emplace_back(x, static_cast<double>(s.sent));
    received.points.emplace_back(x, static_cast<double>(s.received));
    acked.points.emplace_back(x, static_cast<double>(s.acked));
    connects.points.emplace_back(x, static_cast<double>(s.connects));
    errors.points.emplace_back(x, static_cast<double>(s.errors));
  }
  std::vector<Series> out;
  for (Series* s : {&sent, &received, &acked, &connects, &errors}) {
    const bool any = std::any_of(s->points.begin(), s->points.end(), [](auto p) { return p.second > 0; });
    if (any) {
      out.push_back(std::move(*s));
    }
  }
  return out;
}

std::vector<Series> timeline_latency(const Report& report) {
  Series p50{"p50 ms", "#1f77b4", {}}, p99{"p99 ms", "#d62728", {}};
  const auto& seconds = report.timeline.seconds();
  const std::int64_t t0 = seconds.empty() ? 0 : seconds.front().second;
  for (const TimelineSecond& s : seconds) {
    if (s.latency.count() == 0) {
      continue;
    }
    const auto x = static_cast<double>(s.second - t0);
    p50.points.emplace_back(x, static_cast<double>(s.latency.percentile(50)) / 1000.0);
    p99.points.emplace_back(x, static_cast<double>(s.latency.percentile(99)) / 1000.0);
  }
  return {std::move(p50), std::move(p99)};
}

std::vector<Series> percentile_curves(const Report& report) {
  static const char* const k_colours[] = {"#d62728", "#1f77b4", "#2ca02c", "#ff7f0e"};
  std::vector<Series> out;
  std::size_t colour = 0;
  for (const auto& [name, h] : report.histograms) {
    if (h.count() == 0) {
      continue;
    }
    Series s{name + " ms", k_colours[colour++ % 4], {}};
    // x = 1 / (1 - p): 1 at p0, 10 at p90, 100 at p99 ... up to p99.999.
    for (double decade = 0; decade <= 5.0001; decade += 0.05) {
      const double fraction = 1.0 - std::pow(10.0, -decade);
      s.points.emplace_back(std::pow(10.0, decade), static_cast<double>(h.percentile(fraction * 100.0)) / 1000.0);
    }
    out.push_back(std::move(s));
  }
  return out;
}

} // namespace

std::string render_html(const Report& report) {
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  html += fmt::format("<title>mqfleet bench {}</title>", escape(report.mode));
  html += "<style>body{font-family:sans-serif;margin:2em;max-width:800px}pre{background:#f4f4f4;padding:1em;"
          "overflow-x:auto}figure{margin:1em 0}figcaption{font-weight:bold}</style></head><body>\n";
  html += fmt::format("<h1>mqfleet bench {}</h1>\n", escape(report.mode));
  html += "<h2>Summary</h2>\n<pre>" + escape(format_summary(report)) + "</pre>\n";
  html += "<h2>Timeline</h2>\n";
  html += chart("Rates per wall-clock second", "seconds since start", "per second", timeline_rates(report), false);
  html += chart("Latency per second", "seconds since start", "ms", timeline_latency(report), false);
  html += "<h2>Latency percentiles</h2>\n";
  html += chart("Latency by percentile", "percentile", "ms", percentile_curves(report), true);
  html += "<h2>Configuration</h2>\n<pre>" + escape(report.config.dump(2)) + "</pre>\n";
  html += "</body></html>\n";
  return html;
}

void write_html(const std::filesystem::path& path, const Report& report) {
  std::ofstream out(path, std::ios::trunc);
  out << render_html(report);
  if (!out) {
    throw ConfigError("cannot write the HTML report", path.string(), "check that the directory exists and is writable");
  }
}

} // namespace mqfleet::bench
