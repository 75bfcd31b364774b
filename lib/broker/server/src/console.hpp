#pragma once
// The web console's dashboard pages (console.cpp), served by http_api.cpp under
// /console/{account}/dashboards/{id}.

#include <mqfleet/broker/device_registry.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace mqfleet::broker {

class Server;

/// The dashboard `id` of an account, or the default dashboard of its bucket `id` (a
/// table of the latest points), or nothing.
std::optional<Dashboard> find_dashboard(const Account& account, std::string_view id);

/// The HTML page of a dashboard: every widget with data-widget and, once it has data,
/// data-latest, and the script that refreshes them each second.
std::string render_dashboard(Server& server, const std::string& account, const Dashboard& dashboard);

/// Chart.js (Debian's libjs-chart.js), embedded at build time (cmake/EmbedText.cmake);
/// served at /console/assets/chart.js.
std::string_view chart_js();

/// A page with a token form and `message`.
std::string login_page(std::string_view message);

} // namespace mqfleet::broker
