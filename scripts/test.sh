#!/usr/bin/env bash
# README command 2: install what is missing, build, and run every test through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh ci
ctest --test-dir build/ci --output-on-failure -j "$(nproc)" --timeout 600
