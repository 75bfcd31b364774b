#!/usr/bin/env bash
# README command 2 (and what .ci/run calls): install what is missing, then build and run
# every test: a bounded libFuzzer run of every parser of untrusted input (MQTT decoder,
# scenario loader, --jsonl line, -F format, CSV import, broker URL, registry and profile
# files, HTTP requests, WebSocket frames from a server and from a client;
# MQFLEET_FUZZ_SECONDS each, default 20), then the unit + end-to-end suites
# of the ci preset, which is an optimised build with ASan + UBSan (one build, one run; the
# sanitizer options and third-party leak suppressions live in CMakePresets.json).
# MQFLEET_QUICK=1 skips the fuzz stage (a fast local loop).
set -euo pipefail
cd "$(dirname "$0")/.."
stage() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

stage "dependencies"
bash scripts/install-deps.sh

stage "build: ci preset (RelWithDebInfo + ASan + UBSan)"
bash scripts/build.sh ci

if [ "${MQFLEET_QUICK:-0}" != 1 ]; then
  stage "fuzz: every parser of untrusted input, ${MQFLEET_FUZZ_SECONDS:-20} s each"
  bash scripts/fuzz.sh "${MQFLEET_FUZZ_SECONDS:-20}" 2>&1 | grep -v '^\['
fi

stage "tests: ci preset"
ctest --preset ci -j "$(nproc)" --timeout 600
stage "done"
