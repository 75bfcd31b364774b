#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build/fuzz) and fuzzes each for a bounded time,
# one after the other, starting from its checked-in seed corpus (tests/fuzz/corpus/NAME;
# only read: new inputs go to build/fuzz/corpus/NAME). Prints one line per target (runs,
# executions per second); the full libFuzzer output is in build/fuzz/logs/NAME.log.
# Exits non-zero when a target finds a crash, a sanitizer report, a leak or a timeout; the
# reproducer is left in build/fuzz/artifacts/NAME/ (add it to the seed corpus with the fix).
#
# Usage: scripts/fuzz.sh [seconds per target=20] [target...]   (default: every target)
# Targets: decoder scenario jsonl format csv url registry profiles http ws ws_server. Extra libFuzzer flags
# go in MQFLEET_FUZZ_ARGS (e.g. "-runs=10000000" for a campaign).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
shift || true
all=(decoder scenario jsonl format csv url registry profiles http ws ws_server)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
# One ccache for every clone, as scripts/build.sh.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
command -v clang++ >/dev/null || { echo "fuzz.sh: error: clang++ not found (apt-get install clang)" >&2; exit 2; }
CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMQFLEET_FUZZ=ON -DMQFLEET_BUILD_TESTS=OFF >/dev/null
cmake --build build/fuzz --target "${targets[@]/#/fuzz_}" -j 2
mkdir -p build/fuzz/logs

max_len() { case "$1" in scenario) echo 16384 ;; http) echo 20000 ;; *) echo 4096 ;; esac; }

failed=0
for target in "${targets[@]}"; do
  mkdir -p "build/fuzz/corpus/$target" "build/fuzz/artifacts/$target"
  log="build/fuzz/logs/$target.log"
  # shellcheck disable=SC2086 # MQFLEET_FUZZ_ARGS is a list of flags
  if "build/fuzz/tests/fuzz/fuzz_$target" "build/fuzz/corpus/$target" "tests/fuzz/corpus/$target" \
      -max_total_time="$seconds" -max_len="$(max_len "$target")" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="build/fuzz/artifacts/$target/" -print_final_stats=1 ${MQFLEET_FUZZ_ARGS:-} >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    printf 'fuzz %-9s ok: %s runs, %s/s, 0 crashes\n' "$target" "${runs:-?}" "${speed:-?}"
  else
    failed=1
    printf 'fuzz %-9s FAILED (reproducer in build/fuzz/artifacts/%s/):\n' "$target" "$target"
    grep -E 'ERROR|SUMMARY|Test unit written|==[0-9]+==' "$log" | head -n 20 || tail -n 30 "$log"
  fi
done
exit "$failed"
