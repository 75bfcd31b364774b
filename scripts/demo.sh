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
#     exported (CSV) and charted;
#   - the account's "weather" dashboard (the broker's web console: Chart.js timeseries,
#     gauge, table, points pushed over a WebSocket) is rendered by headless Chromium and
#     saved as build/demo/weather-dashboard.png (its path is printed).
# Everything it starts is stopped again on exit (also on Ctrl-C or failure).
# `bash scripts/demo.sh --serve` then leaves the broker and the weather stations running
# and prints the console URL and a token to open it in a browser (Ctrl-C stops them).
set -euo pipefail
cd "$(dirname "$0")/.."

serve=0
case "${1:-}" in
  --serve) serve=1 ;;
  "") ;;
  *) echo "demo: error: unknown argument '$1' (command line): use no argument or --serve" >&2; exit 2 ;;
esac

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

# The web console: a dashboard of the weather data and a token of account "demo".
"$bin" dashboard add demo weather --registry "$registry" --title "Weather stations" \
  --widget 'type=timeseries,bucket=WeatherData,device=station-000,fields=temperature,humidity,items=200,title=station-000' \
  --widget 'type=gauge,bucket=WeatherData,field=temperature,min=-10,max=40,title=temperature' \
  --widget 'type=value,bucket=WeatherData,field=pressure,unit=hPa' \
  --widget 'type=table,bucket=WeatherData,field=temperature' >/dev/null
console_token="$("$bin" token add demo console --registry "$registry" 2>/dev/null | tail -n 1)"

step "4/7 reference broker"
"$bin" broker --port 0 --http-port 0 --registry "$registry" --data-dir "$work/data" \
  > "$work/broker.out" 2> "$work/broker.log" &
pids+=($!)
port=""
for _ in $(seq 200); do
  port="$(sed -n 's/.*"mqtt":\([0-9]*\).*/\1/p' "$work/broker.out")"
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "demo: error: the broker did not start: $(cat "$work/broker.log")" >&2; exit 4; }
http_port="$(sed -n 's/.*"http":\([0-9]*\).*/\1/p' "$work/broker.out")"
echo "mqfleet broker listening on 127.0.0.1:$port (MQTT), 127.0.0.1:$http_port (HTTP: web console, REST API, /mqtt)"

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
# station-000 first uploads the readings it buffered over the last two hours (one every
# 2 minutes, with their own `ts`), so the dashboard has a real series to draw.
station_secret="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["accounts"]["demo"]["station-000"])' \
  "$weather_credentials")"
now_ms=$(( $(date +%s) * 1000 ))
for i in $(seq 60 -1 1); do
  printf '{"topic":"demo/station-000/weather","qos":1,"payload":{"temperature":%s,"humidity":%s,"pressure":%s,"ts":%d}}\n' \
    "$(awk -v i="$i" 'BEGIN { printf "%.1f", 18 + 4 * sin(i / 9) + (i % 3) * 0.3 }')" \
    "$(awk -v i="$i" 'BEGIN { printf "%.0f", 60 + 12 * cos(i / 11) }')" \
    "$(awk -v i="$i" 'BEGIN { printf "%.1f", 1013 + 3 * sin(i / 20) }')" $((now_ms - i * 120000))
done | STATION_SECRET="$station_secret" "$bin" pub -h 127.0.0.1 -p "$port" -u demo -i station-000 \
  --password-env STATION_SECRET --jsonl
echo "station-000 uploaded 60 buffered readings (the last two hours)"
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

step "web console: the weather dashboard in headless Chromium"
shot_dir="$PWD/build/demo"
mkdir -p "$shot_dir"
shot="$shot_dir/weather-dashboard.png"
rm -f "$shot"
console_url="http://127.0.0.1:$http_port/console/demo/dashboards/weather"
timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,760 \
  --user-data-dir="$work/chromium" --virtual-time-budget=4000 --screenshot="$shot" "$console_url?token=$console_token" \
  >/dev/null 2>&1 || true
if [ -s "$shot" ]; then echo "screenshot of the weather dashboard: $shot"; else
  echo "demo: error: chromium wrote no screenshot (install it: bash scripts/install-deps.sh)" >&2; exit 7; fi

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
echo "dashboard    $shot"
echo "result       OK"
if [ "$serve" -eq 1 ]; then
  "$bin" sim "$weather" -h 127.0.0.1 -p "$port" --credentials "$weather_credentials" --duration 24h --no-progress \
    > "$work/serve-sim.log" 2>&1 &
  pids+=($!)
  step "serving (Ctrl-C stops the broker and the weather stations)"
  echo "console      $console_url"
  echo "token        $console_token"
  echo "             (open the URL, paste the token into the form; or open $console_url?token=TOKEN once)"
  echo "REST API     curl -H 'Authorization: Bearer <token>' http://127.0.0.1:$http_port/v1/users/demo/buckets"
  wait "${pids[0]}"
fi
