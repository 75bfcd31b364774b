#!/usr/bin/env bash
# `mqfleet sim` at scale: 10,000 devices publishing every 10 s (1,000 msg/s in total, QoS 1)
# for 60 s against `mqfleet broker`, measuring the SIMULATOR's CPU (% of one core over the
# whole run, ramp included) and peak RSS; then the same with every device also subscribed
# to its own command topic. Targets (issue 5): <= 20 % of one core, <= 150 MB.
#
# Usage: bench/sim_10k.sh [--build DIR] [--devices N] [--duration D] [--threads N]
#   --build     build directory with apps/mqfleet/mqfleet (default build/release;
#               `cmake --preset release && cmake --build build/release --target mqfleet`)
#   --devices   simulated devices (default 10000)
#   --duration  run length as a scenario duration (default 60s)
#   --threads   simulator event loop threads (default 2)
set -euo pipefail

build=build/release
devices=10000
duration=60s
threads=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --devices) devices=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

mqfleet=$build/apps/mqfleet/mqfleet
[[ -x $mqfleet ]] || { echo "missing $mqfleet: cmake --build $build --target mqfleet" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "GNU time (/usr/bin/time) is needed" >&2; exit 2; }

# 10,000 connections need 10,000 descriptors in the simulator and in the broker.
ulimit -n "$(ulimit -Hn)"
if (( $(ulimit -n) < devices + 200 )); then
  echo "ulimit -n is $(ulimit -n): too low for $devices devices" >&2
  exit 2
fi

work=$(mktemp -d)
broker_pid=
cleanup() {
  [[ -n $broker_pid ]] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

"$mqfleet" broker --port 0 --allow-anonymous >"$work/broker.out" 2>"$work/broker.log" &
broker_pid=$!
port=
for _ in $(seq 100); do
  port=$(sed -n 's/.*"listening".*"mqtt":\([0-9]*\).*/\1/p' "$work/broker.out" | head -1)
  [[ -n $port ]] && break
  sleep 0.1
done
[[ -n $port ]] || { echo "the broker did not start" >&2; cat "$work/broker.log" >&2; exit 1; }

# scenario NAME WITH_COMMANDS: writes $work/NAME.json
scenario() {
  local commands=""
  if [[ $2 == 1 ]]; then
    commands=', "commands": [{ "topic": "bench/{device}/cmd", "qos": 1,
                               "reply": { "topic": "bench/{device}/ack", "payload": { "id": "{request.id}" } } }]'
  fi
  cat >"$work/$1.json" <<JSON
{ "name": "$1", "connection": { "host": "127.0.0.1", "port": $port },
  "fleets": [{ "name": "meters", "count": $devices, "device_id": "m-{index:05}", "rate": "2000/s",
               "keepalive": "60s",
               "telemetry": [{ "topic": "bench/{device}/data", "period": { "every": "10s", "jitter": "10%" }, "qos": 1,
                               "payload": { "kwh": { "type": "counter", "start": 1000, "step": 0.01, "decimals": 2 },
                                            "v": { "type": "normal", "mean": 230, "stddev": 2 },
                                            "ts": { "type": "timestamp" } } }]$commands }],
  "run": { "duration": "$duration", "seed": 1,
           "expect": { "max_error_rate": "0.1%", "min_delivered": "99.9%" } } }
JSON
}

# measure NAME: runs the scenario under GNU time, prints one result line.
measure() {
  local name=$1
  /usr/bin/time -f '%e %U %S %M' -o "$work/$name.time" \
    "$mqfleet" sim "$work/$name.json" --threads "$threads" --no-progress --report "$work/$name.report.json" \
    >"$work/$name.out" 2>"$work/$name.err" || {
      echo "$name: mqfleet sim failed (exit $?)" >&2; cat "$work/$name.out" "$work/$name.err" >&2; exit 1; }
  read -r wall user sys rss_kb <"$work/$name.time"
  /usr/bin/python3 - "$name" "$wall" "$user" "$sys" "$rss_kb" "$work/$name.report.json" <<'PY'
import json, sys
name, wall, user, sys_t, rss_kb, report = sys.argv[1], *map(float, sys.argv[2:6]), sys.argv[6]
r = json.load(open(report))["total"]
cpu = 100.0 * (user + sys_t) / wall
print(f"{name:<22} devices {r['devices']:>6}  connects {r['connects']:>6}  telemetry {r['telemetry']:>7}  "
      f"acked {r['acknowledged']:>7}  errors {r['errors']:>3}  wall {wall:5.1f} s  "
      f"CPU {cpu:5.1f} % of one core  peak RSS {rss_kb / 1024:6.1f} MB")
PY
}

echo "mqfleet sim: $devices devices, one message every 10 s each, $duration, $threads threads, broker on port $port"
scenario telemetry 0
measure telemetry
scenario telemetry+commands 1
measure telemetry+commands
