#!/usr/bin/env bash
# README command 2 (and what .ci/run calls): install what is missing, then build and run
# every test: the ci preset's unit + end-to-end suites, a bounded libFuzzer run of the
# MQTT decoder, and the same suites again under ASan + UBSan (sanitize preset).
# MQFLEET_QUICK=1 skips the fuzz and sanitizer stages (a fast local loop).
set -euo pipefail
cd "$(dirname "$0")/.."
stage() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

stage "dependencies"
bash scripts/install-deps.sh

stage "build: ci preset"
bash scripts/build.sh ci
jobs="$(nproc)"

if [ "${MQFLEET_QUICK:-0}" != 1 ]; then
  stage "fuzz: MQTT decoder, ${MQFLEET_FUZZ_SECONDS:-30} s"
  bash scripts/fuzz.sh "${MQFLEET_FUZZ_SECONDS:-30}" 2>&1 | tail -n 12

  stage "build: sanitize preset (ASan + UBSan)"
  bash scripts/build.sh sanitize

  stage "tests under ASan + UBSan"
  ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset sanitize -j "$jobs" --timeout 600
fi

stage "tests: ci preset"
ctest --preset ci -j "$jobs" --timeout 600
