#!/usr/bin/env bash
# Benchmark (not a test): `mqfleet bench` as a load generator against a throw-away
# mosquitto on a free port. Prints, in one run:
#   1. generator CPU per message, QoS 0, 64-byte payloads, one connection: the fast
#      engine vs `--engine paho` vs `mosquitto_pub -l` (messages per CPU-second);
#   2. max fan-in: 50 publishers -> 1 subscriber, QoS 0, closed loop, and open-loop
#      rates stepped up until the subscriber falls behind; generator CPU vs broker CPU.
#
#   bench/bench_vs_peers.sh [path/to/mqfleet] [messages=200000] [seconds=5]
set -euo pipefail
cd "$(dirname "$0")/.."

mqfleet="${1:-}"
if [ -z "$mqfleet" ]; then
  for candidate in build/release/apps/mqfleet/mqfleet build/ci/apps/mqfleet/mqfleet; do
    if [ -x "$candidate" ]; then mqfleet="$candidate"; break; fi
  done
fi
if [ -z "$mqfleet" ] || [ ! -x "$mqfleet" ]; then
  echo "bench_vs_peers: error: no mqfleet binary: build one with scripts/build.sh release" >&2
  exit 3
fi
messages="${2:-200000}"
seconds="${3:-5}"
py=/usr/bin/python3

work="$(mktemp -d)"
broker_pid=""
cleanup() {
  if [ -n "$broker_pid" ]; then kill "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat > "$work/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
log_dest none
max_queued_messages 100000
CONF
mosquitto_bin="$(command -v mosquitto || echo /usr/sbin/mosquitto)"
"$mosquitto_bin" -c "$work/mosquitto.conf" &
broker_pid=$!
for _ in $(seq 100); do
  $py -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break
  sleep 0.1
done

# CPU seconds (user + system) of a process so far, from /proc/PID/stat.
proc_cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }
# CPU seconds of a command (children's rusage).
cmd_cpu() {
  $py - "$@" <<'PY'
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{r.ru_utime + r.ru_stime:.3f}")
PY
}
report_field() { $py -c "import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"; }

echo "== 1. generator CPU per QoS 0 message, 64 bytes, one connection, $messages messages"
"$mqfleet" bench pub -p "$port" -c 1 -q 0 -s 64 --count "$messages" --threads 1 --quiet --report "$work/fast.json"
fast_cpu="$(report_field "$work/fast.json" 'r["cpu_seconds"]')"
"$mqfleet" bench pub -p "$port" -c 1 -q 0 -s 64 --count "$messages" --engine paho --quiet --report "$work/paho.json"
paho_cpu="$(report_field "$work/paho.json" 'r["cpu_seconds"]')"
$py -c "import sys; [print('x'*64) for _ in range($messages)]" > "$work/lines"
mosq_cpu="$(cmd_cpu sh -c "mosquitto_pub -p $port -t bench/lines -q 0 -l < $work/lines")"
printf '%-26s %10s %14s %10s\n' generator cpu_s msg_per_cpu_s vs_paho
for row in "fast:$fast_cpu" "paho:$paho_cpu" "mosquitto_pub -l:$mosq_cpu"; do
  name="${row%%:*}"; cpu="${row#*:}"
  $py -c "import sys; n=$messages; c=max(float('$cpu'),1e-3); p=max(float('$paho_cpu'),1e-3); print(f'%-26s %10.3f %14.0f %10.1fx' % ('$name', c, n/c, p/c))"
done
echo "(process CPU includes start-up and connecting; mosquitto_pub -l drops queued messages at end of input)"

echo
echo "== 2. fan-in: 50 publishers -> 1 subscriber, QoS 0, 64 bytes, $seconds s per step"
printf '%-14s %12s %12s %10s %12s %12s\n' load sent_per_s recv_per_s p99_ms gen_cpu_s broker_cpu_s
step() {
  local label="$1"; shift
  local before after
  before="$(proc_cpu "$broker_pid")"
  "$mqfleet" bench pubsub -p "$port" -c 50 --subscribers 1 -q 0 -s 64 --duration "$seconds" --threads 1 \
    --drain-timeout 5 --quiet --report "$work/step.json" "$@" || true
  after="$(proc_cpu "$broker_pid")"
  $py - "$work/step.json" "$label" "$before" "$after" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); q = r["qos"]["0"]
secs = max((r["end_unix_ms"] - r["start_unix_ms"]) / 1000, 1e-3)
p99 = r["histograms"].get("latency", {}).get("p99", 0) / 1000
broker = float(sys.argv[4]) - float(sys.argv[3])
print(f'{sys.argv[2]:<14} {q["sent"]/secs:12.0f} {q["received"]/secs:12.0f} {p99:10.1f} {r["cpu_seconds"]:12.2f} {broker:12.2f}')
PY
}
step closed-loop
for rate in 10000 20000 40000 80000 160000; do
  step "rate $rate" --rate "$rate"
done
echo "(max fan-in = highest step whose recv_per_s keeps up with sent_per_s; gen_cpu_s < broker_cpu_s means the generator is not the bottleneck)"
