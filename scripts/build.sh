#!/usr/bin/env bash
# Configures and builds one flavour: release (default), ci or sanitize.
# Usage: scripts/build.sh [release|ci|sanitize]   -> build/<flavour>
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:-release}"
case "$flavour" in
  release)  args=(-DCMAKE_BUILD_TYPE=Release -DMQFLEET_BUILD_TESTS=OFF) ;;
  ci)       args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMQFLEET_BUILD_TESTS=ON) ;;
  sanitize) args=(-DCMAKE_BUILD_TYPE=Debug -DMQFLEET_BUILD_TESTS=ON -DMQFLEET_SANITIZE=ON) ;;
  *) echo "build.sh: error: unknown flavour '$flavour' (use release, ci or sanitize)" >&2; exit 2 ;;
esac
cmake -S . -B "build/$flavour" -G Ninja "${args[@]}" >/dev/null
cmake --build "build/$flavour" -j "$(nproc)"
