#!/usr/bin/env bash
# README command 1: installs what is missing, builds a release binary, then runs the main
# job against the in-repo reference broker, the way the modelled platform works:
#   - a device registry with two accounts; each device gets a generated credential
#     (username = account, client id = device id, password = device credential);
#   - `mqfleet broker` on a free port with that registry;
#   - a dashboard device of account "greenhouse" subscribes with `mqfleet sub`;
#   - devices of both accounts publish JSON telemetry with `mqfleet pub` on the same
#     topic names, and the dashboard shows only its own account's messages (tenancy).
# Everything it starts is stopped again on exit (also on Ctrl-C or failure).
set -euo pipefail
cd "$(dirname "$0")/.."

devices=${DEMO_DEVICES:-3}
readings=${DEMO_READINGS:-4}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1/5 dependencies"
bash scripts/install-deps.sh
step "2/5 release build"
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

step "3/5 device registry: accounts 'greenhouse' and 'warehouse', generated credentials"
registry="$work/registry.json"
declare -A credential
for account in greenhouse warehouse; do
  for d in $(seq 1 "$devices") dashboard; do
    device="$account-$d"
    credential[$device]="$("$bin" device add "$account" "$device" --registry "$registry" --generate 2>/dev/null)"
  done
done
"$bin" device list --registry "$registry"

step "4/5 reference broker"
"$bin" broker --port 0 --registry "$registry" > "$work/broker.out" 2> "$work/broker.log" &
pids+=($!)
port=""
for _ in $(seq 200); do
  port="$(sed -n 's/.*"mqtt":\([0-9]*\).*/\1/p' "$work/broker.out")"
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "demo: error: the broker did not start: $(cat "$work/broker.log")" >&2; exit 4; }
echo "mqfleet broker listening on 127.0.0.1:$port"

step "5/5 devices publish JSON telemetry; the greenhouse dashboard sees only its account"
total=$((devices * readings + devices))
DASHBOARD_CREDENTIAL="${credential[greenhouse-dashboard]}" \
  "$bin" sub -h 127.0.0.1 -p "$port" -u greenhouse -i greenhouse-dashboard --password-env DASHBOARD_CREDENTIAL \
  -t 'fleet/+/telemetry' -t 'fleet/+/status' -q 1 -C "$total" -d \
  -F '  received  %t  %p' > "$work/received.txt" 2> "$work/sub.err" &
sub_pid=$!
pids+=("$sub_pid")
for _ in $(seq 200); do   # -d prints "subscribed to ..." once the broker has acknowledged
  grep -q "subscribed" "$work/sub.err" 2>/dev/null && break
  sleep 0.05
done
tail -f "$work/received.txt" &
pids+=($!)

start_ns=$(date +%s%N)
for account in greenhouse warehouse; do
  # Each device says it is online (one-shot publish, payload checked as JSON) ...
  for d in $(seq 1 "$devices"); do
    device="$account-$d"
    DEVICE_CREDENTIAL="${credential[$device]}" "$bin" pub -h 127.0.0.1 -p "$port" -u "$account" -i "$device" \
      --password-env DEVICE_CREDENTIAL -t "fleet/$device/status" -q 1 -r --json \
      -m "{\"online\":true,\"firmware\":\"1.$d.0\"}"
  done
  # ... then one gateway device streams every reading over ONE connection with --jsonl:
  # each line names its own topic, and pub waits for every QoS 1 acknowledgement.
  for r in $(seq 1 "$readings"); do
    for d in $(seq 1 "$devices"); do
      printf '{"topic":"fleet/%s-%d/telemetry","qos":1,"payload":{"seq":%d,"temperature":%d.%d,"humidity":%d}}\n' \
        "$account" "$d" "$r" $((18 + RANDOM % 8)) $((RANDOM % 10)) $((35 + RANDOM % 30))
    done
  done | DEVICE_CREDENTIAL="${credential[$account-1]}" "$bin" pub -h 127.0.0.1 -p "$port" -u "$account" \
    -i "$account-1" --password-env DEVICE_CREDENTIAL --jsonl
done
for _ in $(seq 200); do kill -0 "$sub_pid" 2>/dev/null || break; sleep 0.05; done
elapsed_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
sleep 0.2
received=$(grep -c received "$work/received.txt" || true)
foreign=$(grep -c warehouse "$work/received.txt" || true)

step "summary"
echo "broker       mqfleet broker on 127.0.0.1:$port with 2 accounts (stopped on exit)"
echo "devices      $devices per account, each with its own generated credential"
echo "published    $((2 * total)) messages with mqfleet pub (QoS 1, all acknowledged), $total per account"
echo "received     $received messages by greenhouse-dashboard in ${elapsed_ms} ms"
echo "isolation    $foreign messages of account 'warehouse' reached the greenhouse dashboard"
if [ "$received" -ne "$total" ] || [ "$foreign" -ne 0 ]; then
  echo "demo: error: expected $total greenhouse messages and none of warehouse's" >&2
  exit 7
fi
echo "result       OK"
