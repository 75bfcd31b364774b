#!/usr/bin/env bash
# README command 1: installs what is missing, builds a release binary, then runs the main
# job against the in-repo reference broker, the way the modelled platform works:
#   - a device registry with two accounts; each device gets a generated credential
#     (username = account, client id = device id, password = device credential);
#   - the weather stations of scenarios/weather-stations.json provisioned in account
#     "demo" (`mqfleet sim --provision`: one generated credential per station), and a
#     `WeatherData` bucket of that account storing what they publish;
#   - `mqfleet broker` on a free port with that registry and a data directory;
#   - a dashboard device of account "greenhouse" subscribes with `mqfleet sub`;
#   - devices of both accounts publish JSON telemetry with `mqfleet pub` on the same
#     topic names, and the dashboard shows only its own account's messages (tenancy);
#   - `mqfleet sim` runs the weather stations for DEMO_SIM_DURATION (20s) with its live
#     status line while a "demo" dashboard subscribes; then the WeatherData bucket is
#     exported (CSV) and charted.
# Everything it starts is stopped again on exit (also on Ctrl-C or failure).
set -euo pipefail
cd "$(dirname "$0")/.."

devices=${DEMO_DEVICES:-3}
readings=${DEMO_READINGS:-4}
sim_duration=${DEMO_SIM_DURATION:-20s}
weather=scenarios/weather-stations.json

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1/7 dependencies"
bash scripts/install-deps.sh
step "2/7 release build"
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

step "3/7 device registry: accounts 'greenhouse' and 'warehouse', generated credentials"
registry="$work/registry.json"
declare -A credential
for account in greenhouse warehouse; do
  for d in $(seq 1 "$devices") dashboard; do
    device="$account-$d"
    credential[$device]="$("$bin" device add "$account" "$device" --registry "$registry" --generate 2>/dev/null)"
  done
done
weather_credentials="$work/weather.credentials.json"
"$bin" sim --provision --registry "$registry" --credentials "$weather_credentials" "$weather"
weather_dashboard="$("$bin" device add demo dashboard --registry "$registry" --generate 2>/dev/null)"
"$bin" bucket add demo WeatherData --topic 'demo/+/weather' --name WeatherData \
  --description "Temperature, humidity and pressure of the weather stations" --registry "$registry"
"$bin" device list --registry "$registry" | awk 'NR == 1 || !/station-0*([3-9]|[1-9][0-9])/'
echo "(and station-003 ... station-019; secrets of the stations in $weather_credentials, mode 0600)"

step "4/7 reference broker"
"$bin" broker --port 0 --registry "$registry" --data-dir "$work/data" > "$work/broker.out" 2> "$work/broker.log" &
pids+=($!)
port=""
for _ in $(seq 200); do
  port="$(sed -n 's/.*"mqtt":\([0-9]*\).*/\1/p' "$work/broker.out")"
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "demo: error: the broker did not start: $(cat "$work/broker.log")" >&2; exit 4; }
echo "mqfleet broker listening on 127.0.0.1:$port"

step "5/7 devices publish JSON telemetry; the greenhouse dashboard sees only its account"
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

step "6/7 weather stations: mqfleet sim $weather for $sim_duration (account 'demo')"
WEATHER_DASHBOARD_CREDENTIAL="$weather_dashboard" \
  "$bin" sub -h 127.0.0.1 -p "$port" -u demo -i dashboard --password-env WEATHER_DASHBOARD_CREDENTIAL \
  -t 'demo/+/weather' -q 1 -d --format jsonl > "$work/weather.jsonl" 2> "$work/weather-sub.err" &
weather_sub=$!
pids+=("$weather_sub")
for _ in $(seq 200); do
  grep -q "subscribed" "$work/weather-sub.err" 2>/dev/null && break
  [ -s "$work/weather-sub.err" ] && break
  sleep 0.05
done
sim_status=0
"$bin" sim "$weather" -h 127.0.0.1 -p "$port" --credentials "$weather_credentials" --duration "$sim_duration" \
  --report "$work/weather-report.json" || sim_status=$?
sleep 0.5
kill "$weather_sub" 2>/dev/null || true
wait "$weather_sub" 2>/dev/null || true
readings_received=$(grep -c . "$work/weather.jsonl" || true)

step "7/7 the WeatherData bucket: stats, CSV export, temperature chart"
"$bin" bucket stats WeatherData --data-dir "$work/data"
"$bin" bucket export WeatherData --data-dir "$work/data" --format csv --time iso > "$work/weather.csv"
echo "exported $(($(wc -l < "$work/weather.csv") - 1)) points to CSV; the first lines:"
head -n 4 "$work/weather.csv"
"$bin" bucket chart WeatherData --field temperature --device station-000 --data-dir "$work/data" --height 8
bucket_points="$("$bin" bucket stats WeatherData --data-dir "$work/data" --format json |
  sed -n 's/.*"points": *\([0-9]*\).*/\1/p')"

step "summary"
echo "broker       mqfleet broker on 127.0.0.1:$port with 3 accounts and a data directory (stopped on exit)"
echo "devices      $devices per account, each with its own generated credential"
echo "published    $((2 * total)) messages with mqfleet pub (QoS 1, all acknowledged), $total per account"
echo "received     $received messages by greenhouse-dashboard in ${elapsed_ms} ms"
echo "isolation    $foreign messages of account 'warehouse' reached the greenhouse dashboard"
echo "simulation   20 weather stations provisioned and run for $sim_duration (mqfleet sim exit $sim_status)"
echo "weather      $readings_received readings received by the demo dashboard, ${bucket_points:-0} points in bucket WeatherData"
if [ "$received" -ne "$total" ] || [ "$foreign" -ne 0 ]; then
  echo "demo: error: expected $total greenhouse messages and none of warehouse's" >&2
  exit 7
fi
if [ "$sim_status" -ne 0 ] || [ "$readings_received" -eq 0 ] || [ "${bucket_points:-0}" -eq 0 ]; then
  echo "demo: error: the weather simulation failed (exit $sim_status, $readings_received readings, ${bucket_points:-0} points)" >&2
  exit 7
fi
echo "result       OK"
