#!/usr/bin/env bash
# Builds the libFuzzer decoder target with clang (build/fuzz) and fuzzes it for a bounded
# time, starting from the checked-in seed corpus. Exits non-zero when the fuzzer finds a
# crash, a sanitizer report or a leak; the reproducer is left in build/fuzz/artifacts/.
# Usage: scripts/fuzz.sh [seconds=60] [extra libFuzzer flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
command -v clang++ >/dev/null || { echo "fuzz.sh: error: clang++ not found (apt-get install clang)" >&2; exit 2; }
CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMQFLEET_FUZZ=ON -DMQFLEET_BUILD_TESTS=OFF >/dev/null
cmake --build build/fuzz --target fuzz_decoder -j 2
mkdir -p build/fuzz/corpus build/fuzz/artifacts
# New inputs go to build/fuzz/corpus; the checked-in seeds are only read.
exec build/fuzz/tests/fuzz/fuzz_decoder build/fuzz/corpus tests/fuzz/corpus/decoder \
  -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix=build/fuzz/artifacts/ -print_final_stats=1 "$@"
