#!/usr/bin/env bash
# Rewrites completions/ from the CLI itself. Usage: scripts/gen-completions.sh [mqfleet binary]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build/ci/apps/mqfleet/mqfleet}"
"$bin" completion bash > completions/mqfleet.bash
"$bin" completion zsh > completions/_mqfleet
"$bin" completion fish > completions/mqfleet.fish
echo "completions/ regenerated from $bin"
