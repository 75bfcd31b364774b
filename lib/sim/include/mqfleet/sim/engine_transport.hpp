#pragma once
// The transport `mqfleet sim` runs on: one epoll EventLoop of the fast engine (lib/engine)
// per shard, one engine Client per device, created at its first connect and reused.

#include <mqfleet/sim/transport.hpp>

#include <cstddef>
#include <memory>

namespace mqfleet::sim {

/// A TransportFactory-compatible constructor: the engine transport of shard `shard` for
/// the broker of `profile` (host, port, TLS, version, connect timeout). Throws
/// ConfigError for TLS files that cannot be loaded.
std::unique_ptr<Transport> make_engine_transport(const ConnectionProfile& profile, std::size_t shard);

} // namespace mqfleet::sim
