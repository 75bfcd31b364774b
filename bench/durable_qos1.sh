#!/usr/bin/env bash
# QoS 1 throughput of `mqfleet broker` with durable state: memory only vs --data-dir vs
# --data-dir --durable-ack, same load, one run each.
#   Load (bench/broker_load): P publishers -> 1 connected subscriber on `bench/durable`,
#   QoS 1, 64-byte payloads, W messages in flight end to end per publisher. In addition
#   one persistent subscriber (clean session 0) subscribed to the topic and then went
#   offline, so with a data directory every message is also written to its stored queue.
#   Figure: delivered messages per second to the connected subscriber (publishers only
#   get PUBACKs, i.e. with --durable-ack only after the commit, so the rate includes it).
#
# Usage: bench/durable_qos1.sh [--build DIR] [--publishers P] [--messages M] [--window W]
#   --build       CMake build dir holding apps/mqfleet/mqfleet and bench/broker_load/broker_load
#                 (default build/release; `cmake --build DIR --target mqfleet broker_load`)
#   --publishers  publishers (default 10)
#   --messages    messages per publisher (default 5000)
#   --window      end-to-end in-flight messages per publisher (default 16)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

build=build/release
publishers=10
messages=5000
window=16
bench_parse_options "build publishers messages window" "$@"
bin=$build/apps/mqfleet/mqfleet
load=$build/bench/broker_load/broker_load
bench_require "$bin" "$load"
client=$here/../tests/e2e/py/durable_client.py
bench_workdir

run() { # label, broker flags...
  local label=$1; shift
  rm -rf "$work/data"
  bench_start_broker "$bin" --allow-anonymous --sys-interval 0 --max-queued 0 "$@"
  local port=$broker_port
  /usr/bin/python3 -B "$client" subscribe --port "$port" --client-id bench-persistent --topic bench/durable >/dev/null
  local result
  result=$("$load" -p "$port" --publishers "$publishers" --subscribers 1 -q 1 --messages "$messages" \
    --payload 64 --window "$window" --topic bench/durable)
  bench_stop_broker
  local size=0
  [[ -d $work/data ]] && size=$(du -sk "$work/data" | cut -f1)
  printf '%-26s %s  state dir %s KiB\n' "$label" "$result" "$size"
}

echo "QoS 1: $publishers publishers x $messages msgs -> 1 subscriber + 1 offline persistent session, window $window"
run "memory only"
run "--data-dir" --data-dir "$work/data"
run "--data-dir --durable-ack" --data-dir "$work/data" --durable-ack
