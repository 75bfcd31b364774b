#!/usr/bin/env bash
# README command 1: installs what is missing, builds a release binary, then runs the main
# job: a throw-away mosquitto on a free port, `mqfleet sub` listening, a few fake devices
# publishing JSON telemetry with `mqfleet pub`, and the messages shown as they arrive.
# Everything it starts is stopped again on exit (also on Ctrl-C or failure).
set -euo pipefail
cd "$(dirname "$0")/.."

devices=${DEMO_DEVICES:-3}
readings=${DEMO_READINGS:-4}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1/4 dependencies"
bash scripts/install-deps.sh
step "2/4 release build"
bash scripts/build.sh release
bin="$PWD/build/release/apps/mqfleet/mqfleet"

work="$(mktemp -d)"
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "3/4 throw-away broker"
port="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
printf 'listener %s 127.0.0.1\nallow_anonymous true\nuser %s\nlog_dest stderr\nlog_type all\n' "$port" "$(id -un)" > "$work/mosquitto.conf"
"$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$work/mosquitto.conf" > "$work/mosquitto.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.05
done
echo "mosquitto listening on 127.0.0.1:$port"

step "4/4 devices publish JSON telemetry, mqfleet sub shows it arriving"
total=$((devices * readings + devices))
if "$bin" sub --help > /dev/null 2>&1; then
  subscriber=("$bin" sub)
else
  subscriber=(mosquitto_sub)   # until `mqfleet sub` is part of the build
fi
"${subscriber[@]}" -p "$port" -i demo-dashboard -t 'fleet/+/telemetry' -t 'fleet/+/status' -q 1 -C "$total" \
  -F '  received  %t  %p' > "$work/received.txt" 2> "$work/sub.err" &
sub_pid=$!
pids+=("$sub_pid")
for _ in $(seq 100); do   # wait until the broker has acknowledged the subscription
  grep -q "Sending SUBACK to demo-dashboard" "$work/mosquitto.log" 2>/dev/null && break
  sleep 0.05
done
tail -f "$work/received.txt" &
pids+=($!)

start=$(date +%s.%N)
# Each device says it is online (one-shot publish, payload checked as JSON) ...
for d in $(seq 1 "$devices"); do
  "$bin" pub -p "$port" -i "device-$d" -t "fleet/device-$d/status" -q 1 -r --json \
    -m "{\"online\":true,\"firmware\":\"1.$d.0\"}"
done
# ... then all devices stream their readings over ONE connection with --jsonl: each line
# names its own topic, and pub waits for every QoS 1 acknowledgement before it exits.
for r in $(seq 1 "$readings"); do
  for d in $(seq 1 "$devices"); do
    printf '{"topic":"fleet/device-%d/telemetry","qos":1,"payload":{"seq":%d,"temperature":%d.%d,"humidity":%d}}\n' \
      "$d" "$r" $((18 + RANDOM % 8)) $((RANDOM % 10)) $((35 + RANDOM % 30))
  done
done | "$bin" pub -p "$port" -i demo-gateway --jsonl
published=$total
for _ in $(seq 200); do kill -0 "$sub_pid" 2>/dev/null || break; sleep 0.05; done
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
sleep 0.2
received=$(grep -c received "$work/received.txt" || true)

step "summary"
echo "broker       mosquitto on 127.0.0.1:$port (stopped on exit)"
echo "subscriber   ${subscriber[*]##*/}"
echo "devices      $devices (status retained + $readings telemetry readings each)"
echo "published    $published messages with mqfleet pub (QoS 1, all acknowledged)"
echo "received     $received messages in $(printf '%.2f' "$elapsed") s"
if [ "$received" -ne "$published" ]; then
  echo "demo: error: $((published - received)) messages did not arrive" >&2
  exit 7
fi
echo "result       OK"
