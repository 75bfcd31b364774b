#!/usr/bin/env bash
# Runs the SAME load against Debian's mosquitto and `mqfleet broker`, side by side (runs
# interleaved), and prints each figure with the ratio mqfleet / mosquitto:
#   QoS 0 and QoS 1 fan-in (50 publishers -> 1 subscriber) and fan-out (1 -> 50), 64-byte
#   payloads: delivered msg/s, p50/p99 latency (send time in the payload), broker CPU per
#   delivery; and broker RSS per idle connection (10,000 connections).
#
# Usage: bench/broker_vs_mosquitto.sh [--build DIR] [--runs N] [--messages N] [--idle N] [--window N] [--idle-only]
#   --build     CMake build directory holding bench/broker_load/broker_load and apps/mqfleet/mqfleet
#               (default build/ci; build with `cmake --build DIR --target broker_load mqfleet`)
#   --runs      repetitions per scenario and broker; the median is reported (default 3)
#   --messages  messages per publisher in fan-in; fan-out sends 50x this from one publisher
#               (default 2000, i.e. 100,000 deliveries per run)
#   --idle      idle connections for the memory figure (default 10000)
#   --window    end-to-end in-flight messages per publisher (default 16)
#   --idle-only measure only the idle-connection memory (skips the load scenarios)
#
# mosquitto runs with max_inflight_messages 0: with its default of 20, mosquitto 2.0.11
# leaves QoS 1 messages stuck in a subscriber's queue under this load (measured: the run
# stalls with every publish acknowledged and ~window*publishers never delivered).
set -euo pipefail

build=build/ci
runs=3
messages=2000
idle=10000
window=16
idle_only=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --idle-only) idle_only=1; shift ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

load=$build/bench/broker_load/broker_load
mqfleet=$build/apps/mqfleet/mqfleet
python=/usr/bin/python3
[[ -x $load ]] || { echo "missing $load: cmake --build $build --target broker_load" >&2; exit 2; }
command -v mosquitto >/dev/null || { echo "mosquitto is not installed" >&2; exit 2; }

# 10,000 connections need 10,000 descriptors in the client and in each broker.
ulimit -n "$(ulimit -Hn)"
if (( $(ulimit -n) < idle + 200 )); then
  echo "ulimit -n is $(ulimit -n); lowering --idle to fit" >&2
  idle=$(( $(ulimit -n) - 200 ))
fi

have_mqfleet=0
if [[ -x $mqfleet ]] && "$mqfleet" broker --help 2>/dev/null | grep -q "mqfleet broker"; then have_mqfleet=1; fi
brokers=(mosquitto)
(( have_mqfleet )) && brokers+=(mqfleet)

work=$(mktemp -d)
broker_pid=""
cleanup() {
  [[ -n $broker_pid ]] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_broker NAME: starts it on a fresh port; sets broker_pid and port.
start_broker() {
  if [[ $1 == mosquitto ]]; then
    port=$(free_port)
    cat >"$work/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
log_dest none
max_connections -1
max_queued_messages 10000
max_inflight_messages 0
CONF
    mosquitto -c "$work/mosquitto.conf" >"$work/broker.log" 2>&1 &
    broker_pid=$!
    for _ in $(seq 100); do "$python" -c "import socket; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null && return; sleep 0.05; done
  else
    "$mqfleet" broker --port 0 --allow-anonymous --max-queued 10000 >"$work/broker.out" 2>"$work/broker.log" &
    broker_pid=$!
    for _ in $(seq 200); do
      port=$(sed -n 's/.*"listening".*"mqtt":\([0-9]*\).*/\1/p' "$work/broker.out" | head -1)
      [[ -n $port ]] && return
      sleep 0.05
    done
  fi
  echo "$1 did not start: $(tail -5 "$work/broker.log")" >&2
  exit 1
}

stop_broker() {
  kill "$broker_pid" 2>/dev/null || true
  wait "$broker_pid" 2>/dev/null || true
  broker_pid=""
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$broker_pid/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$broker_pid/status"; }

# run_load BROKER SCENARIO ARGS...: one run; appends a JSON line to $work/results.jsonl.
run_load() {
  local broker=$1 scenario=$2
  shift 2
  start_broker "$broker"
  local before after out
  before=$(cpu_ticks)
  if ! out=$("$load" -p "$port" --window "$window" "$@"); then
    echo "  $broker $scenario: load client failed or stalled: $out" >&2
  fi
  after=$(cpu_ticks)
  stop_broker
  [[ -n $out ]] && echo "{\"broker\":\"$broker\",\"scenario\":\"$scenario\",\"cpu_ticks\":$((after - before)),\"load\":$out}" >>"$work/results.jsonl"
}

run_idle() {
  local broker=$1
  start_broker "$broker"
  local base fifo rss
  sleep 0.3
  base=$(rss_kb)
  fifo=$work/hold
  rm -f "$fifo"; mkfifo "$fifo"
  "$load" -p "$port" --idle "$idle" <"$fifo" >"$work/idle.out" 2>&1 &
  local client=$!
  exec 7>"$fifo"
  for _ in $(seq 1200); do grep -q idle_ready "$work/idle.out" && break; kill -0 "$client" 2>/dev/null || break; sleep 0.1; done
  sleep 1
  rss=$(rss_kb)
  exec 7>&-
  wait "$client" || true
  if grep -q idle_ready "$work/idle.out"; then
    echo "{\"broker\":\"$broker\",\"scenario\":\"idle\",\"connections\":$idle,\"rss_base_kb\":$base,\"rss_kb\":$rss}" >>"$work/results.jsonl"
  else
    echo "  $broker idle: $(cat "$work/idle.out")" >&2
  fi
  stop_broker
}

fanout_messages=$(( messages * 50 ))
echo "broker_vs_mosquitto: $runs run(s) per scenario, brokers: ${brokers[*]}, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
(( idle_only )) && runs=0
for run in $(seq "$runs"); do
  for broker in "${brokers[@]}"; do
    echo "run $run: $broker" >&2
    run_load "$broker" fanin_qos0 --publishers 50 --subscribers 1 --qos 0 --messages "$messages"
    run_load "$broker" fanin_qos1 --publishers 50 --subscribers 1 --qos 1 --messages "$messages"
    run_load "$broker" fanout_qos0 --publishers 1 --subscribers 50 --qos 0 --messages "$messages"
    run_load "$broker" fanout_qos1 --publishers 1 --subscribers 50 --qos 1 --messages "$messages"
  done
done
for broker in "${brokers[@]}"; do run_idle "$broker"; done

"$python" - "$work/results.jsonl" "$have_mqfleet" "$(getconf CLK_TCK)" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
have_mqfleet = sys.argv[2] == "1"
tick_us = 1e6 / int(sys.argv[3])

def median(broker, scenario, key):
    values = []
    for r in rows:
        if r["broker"] != broker or r["scenario"] != scenario:
            continue
        if scenario == "idle":
            values.append((r["rss_kb"] - r["rss_base_kb"]) * 1024 / r["connections"] if key == "bytes_per_conn" else r[key])
        elif key == "cpu_us_per_msg":
            values.append(r["cpu_ticks"] * tick_us / max(r["load"]["received"], 1))
        else:
            values.append(r["load"][key])
    return statistics.median(values) if values else None

print(f"{'scenario':<12} {'metric':<16} {'mosquitto':>12} {'mqfleet':>12} {'ratio':>8}  (better)")
for scenario in ("fanin_qos0", "fanin_qos1", "fanout_qos0", "fanout_qos1", "idle"):
    metrics = [("bytes_per_conn", "lower")] if scenario == "idle" else \
              [("msg_per_s", "higher"), ("p50_us", "lower"), ("p99_us", "lower"), ("cpu_us_per_msg", "lower")]
    for key, better in metrics:
        m = median("mosquitto", scenario, key)
        q = median("mqfleet", scenario, key) if have_mqfleet else None
        ratio = f"{q / m:.2f}" if (m and q is not None) else "pending"
        fmt = lambda v: "-" if v is None else (f"{v:,.0f}" if v >= 100 else f"{v:.2f}")
        print(f"{scenario:<12} {key:<16} {fmt(m):>12} {fmt(q):>12} {ratio:>8}  ({better})")
stalled = [f'{r["broker"]}/{r["scenario"]}' for r in rows if r.get("load", {}).get("stalled")]
if stalled:
    print("stalled runs (messages lost or stuck):", ", ".join(stalled))
PY
