#!/usr/bin/env bash
# `mqfleet sim` at scale: 10,000 devices publishing every 10 s (1,000 msg/s in total, QoS 1)
# for 60 s against `mqfleet broker`, measuring the SIMULATOR's CPU (% of one core over the
# whole run, ramp included) and peak RSS; then the same with every device also subscribed
# to its own command topic while bench/sim_commands.py sends commands with an `id` to
# random devices at a steady rate after the ramp; the devices reply on their ack topic.
# Targets (issue 5): <= 20 % of one core, <= 150 MB. Every command must be received and
# answered: a lost one fails the run (exit 1) after the numbers are printed.
#
# Usage: bench/sim_10k.sh [--build DIR] [--devices N] [--duration D] [--threads N] [--commands N]
#   --build     build directory with apps/mqfleet/mqfleet (default build/release;
#               `cmake --preset release && cmake --build build/release --target mqfleet`)
#   --devices   simulated devices (default 10000)
#   --duration  run length in seconds, with an optional s/m suffix (default 60s)
#   --threads   simulator event loop threads (default 2)
#   --commands  commands sent in the second run (default 300; 0 = subscribe only)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

build=build/release
devices=10000
duration=60s
threads=2
commands=300
bench_parse_options "build devices duration threads commands" "$@"

mqfleet=$build/apps/mqfleet/mqfleet
bench_require "$mqfleet" /usr/bin/time
/usr/bin/python3 -c 'import paho.mqtt.client' 2>/dev/null ||
  { echo "python3-paho-mqtt (for /usr/bin/python3) is needed" >&2; exit 2; }
case "$duration" in
  *m) duration_s=$(( ${duration%m} * 60 )) ;;
  *s) duration_s=${duration%s} ;;
  *) duration_s=$duration ;;
esac
[[ $duration_s =~ ^[0-9]+$ ]] || { echo "--duration: whole seconds or minutes (60s, 2m), not $duration" >&2; exit 2; }

# 10,000 connections need 10,000 descriptors in the simulator and in the broker.
if ! limit=$(bench_raise_nofile $((devices + 200))); then
  echo "ulimit -n is $limit: too low for $devices devices" >&2
  exit 2
fi

bench_workdir
# --sys-interval 1: sim_commands.py waits for $SYS/broker/clients/connected. The command
# sender is one connection more than the devices: --max-connections (default 10,000)
# must leave room for it, or one device is refused all run long.
bench_start_broker "$mqfleet" --allow-anonymous --sys-interval 1 --max-connections $((devices + 100))
port=$broker_port

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

# measure NAME WITH_COMMANDS: runs the scenario under GNU time (with the command sender
# beside it when WITH_COMMANDS is 1 and --commands > 0), prints one result line; returns
# 1 when commands were lost.
measure() {
  local name=$1 with_commands=$2
  local commander_pid=
  rm -f "$work/$name.commands.json"
  if [[ $with_commands == 1 ]] && (( commands > 0 )); then
    # Every device should be connected 20 s after its ramp (2,000/s) ended.
    /usr/bin/python3 "$here/sim_commands.py" --port "$port" --devices "$devices" --count "$commands" \
      --duration "$duration_s" --ready-timeout $(( devices / 2000 + 20 )) --out "$work/$name.commands.json" \
      2>"$work/$name.commands.err" &
    commander_pid=$!
    bench_track "$commander_pid"
  fi
  /usr/bin/time -f '%e %U %S %M' -o "$work/$name.time" \
    "$mqfleet" sim "$work/$name.json" --threads "$threads" --no-progress --report "$work/$name.report.json" \
    >"$work/$name.out" 2>"$work/$name.err" || {
      echo "$name: mqfleet sim failed (exit $?)" >&2; cat "$work/$name.out" "$work/$name.err" >&2; exit 1; }
  if [[ -n $commander_pid ]]; then
    local status=0
    wait "$commander_pid" || status=$?
    if (( status != 0 )); then
      echo "$name: the command sender failed (exit $status)" >&2; cat "$work/$name.commands.err" >&2; exit 1
    fi
    cat "$work/$name.commands.err" >&2 # its warnings, if any
  fi
  read -r wall user sys rss_kb <"$work/$name.time"
  /usr/bin/python3 - "$name" "$wall" "$user" "$sys" "$rss_kb" "$work/$name.report.json" \
    "$work/$name.commands.json" <<'PY'
import json, os, sys
name, wall, user, sys_t, rss_kb, report, commands = sys.argv[1], *map(float, sys.argv[2:6]), *sys.argv[6:8]
r = json.load(open(report))["total"]
cpu = 100.0 * (user + sys_t) / wall
print(f"{name:<22} devices {r['devices']:>6}  connects {r['connects']:>6}  telemetry {r['telemetry']:>7}  "
      f"acked {r['acknowledged']:>7}  errors {r['errors']:>3}  wall {wall:5.1f} s  "
      f"CPU {cpu:5.1f} % of one core  peak RSS {rss_kb / 1024:6.1f} MB")
if not os.path.exists(commands):
    sys.exit(0)
c = json.load(open(commands))
rtt = r.get("command_rtt", {})
fmt = lambda v: "-" if v is None else f"{v:.1f} ms"
print(f"{'':<22} commands sent {c['sent']} (devices connected {c['devices_connected_at_start']})  received {r['commands_received']}  answered {r['commands_answered']}  "
      f"dropped {r['commands_dropped']}  replies seen by the sender {c['acked']}  "
      f"({c['send_rate_per_s']}/s)  RTT p99 {fmt(rtt.get('p99_ms'))} (sim: receive -> reply acked), "
      f"{fmt(c['rtt_p99_ms'])} (sender: command -> reply)")
lost = []
if r["commands_received"] != c["sent"]:
    lost.append(f"{c['sent']} sent, {r['commands_received']} received by devices")
if r["commands_answered"] != c["sent"]:
    lost.append(f"{r['commands_answered']} answered")
if c["acked"] != c["sent"]:
    lost.append(f"{c['acked']} replies reached the sender (missing: {', '.join(c['missing'])})")
if lost:
    print(f"{name}: COMMANDS LOST: " + "; ".join(lost), file=sys.stderr)
    sys.exit(1)
PY
}

echo "mqfleet sim: $devices devices, one message every 10 s each, $duration, $threads threads, broker on port $port"
failed=0
scenario telemetry 0
measure telemetry 0 || failed=1
scenario telemetry+commands 1
measure telemetry+commands 1 || failed=1
exit $failed
