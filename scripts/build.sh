#!/usr/bin/env bash
# Configures and builds one CMake preset (CMakePresets.json): release (default), ci,
# sanitize or dev. Output goes to build/<preset>.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
case "$preset" in
  release|ci|sanitize|dev) ;;
  *) echo "build.sh: error: unknown preset '$preset' (use release, ci, sanitize or dev)" >&2; exit 2 ;;
esac
# ccache: paths relative to the checkout and no working directory in the hash, so every
# clone of the project (a CI clone in another folder too) shares one cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
