#!/usr/bin/env bash
# Benchmark (not a test): generator CPU per QoS 0 64-byte message, side by side against
# one throw-away mosquitto: the fast engine (lib/engine), Paho (lib/client's Connection) and
# `mosquitto_pub -l`; then idle connections held by the engine against `mqfleet broker`
# with the client process's memory per connection.
#
#   bench/engine_vs_paho.sh [build_dir=build/release] [messages=1000000] [idle=19000]
#
# Build first: cmake --preset release && cmake --build build/release -j2 --target engine_cpu mqfleet
# The idle run needs `ulimit -n` above idle + 100 in this shell and for the broker.
set -euo pipefail
cd "$(dirname "$0")/.."

build="${1:-build/release}"
messages="${2:-1000000}"
idle="${3:-19000}"
engine_cpu="$build/bench/engine_cpu/engine_cpu"
mqfleet="$build/apps/mqfleet/mqfleet"
for bin in "$engine_cpu" "$mqfleet"; do
  [ -x "$bin" ] || { echo "engine_vs_paho: error: $bin missing: build the release preset (see the header)" >&2; exit 3; }
done

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

port="$(free_port)"
printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nuser %s\n' "$port" "$(id -un)" > "$work/mosquitto.conf"
"$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
pids+=($!)
wait_port "$port"
echo "broker: mosquitto on 127.0.0.1:$port; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/python3 - "$engine_cpu" "$port" "$messages" "$work" <<'PYTHON'
import resource, subprocess, sys

engine_cpu, port, messages, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

def children_cpu():
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime

def measured(cmd, stdin=None):
    before = children_cpu()
    out = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    return children_cpu() - before, out.stdout.decode()

paho_messages = max(messages // 10, 10000)
rows = []
cpu, out = measured([engine_cpu, "engine", "-p", port, "-n", str(messages), "-c", "4", "-s", "64"])
print(out.strip())
rows.append(("fast engine (4 clients, 1 thread)", messages, cpu))
cpu, out = measured([engine_cpu, "engine", "-p", port, "-n", str(messages), "-c", "1", "-s", "64"])
print(out.strip())
rows.append(("fast engine (1 client)", messages, cpu))
cpu, out = measured([engine_cpu, "paho", "-p", port, "-n", str(paho_messages), "-s", "64"])
print(out.strip())
rows.append(("Paho (lib/client Connection)", paho_messages, cpu))
lines = ("x" * 64 + "\n").encode() * paho_messages
cpu, _ = measured(["mosquitto_pub", "-p", port, "-t", "bench/engine", "-l", "-q", "0"], stdin=lines)
rows.append(("mosquitto_pub -l", paho_messages, cpu))

print()
print(f"{'generator':36} {'messages':>9} {'CPU s':>7} {'msgs/CPU-s':>11} {'us/msg':>7} {'vs Paho':>8}")
paho_rate = rows[2][1] / rows[2][2]
for name, n, cpu in rows:
    rate = n / cpu
    print(f"{name:36} {n:9d} {cpu:7.2f} {rate:11.0f} {1e6 / rate:7.2f} {rate / paho_rate:7.1f}x")
print("(whole-process CPU including start-up, connect and disconnect; targets: >= 250k msgs/CPU-s, >= 8x Paho)")
PYTHON

# Idle connections against the reference broker: source addresses 127.0.0.2..5 towards
# 127.0.0.1 and 127.0.0.6 so no (source, destination) pair runs out of ephemeral ports.
if [ "$(ulimit -n)" -le "$((idle + 100))" ]; then
  echo "engine_vs_paho: ulimit -n is $(ulimit -n); lowering the idle run to $(( $(ulimit -n) - 200 )) connections"
  idle=$(( $(ulimit -n) - 200 ))
fi
bport="$(free_port)"
"$mqfleet" broker --port "$bport" --allow-anonymous --max-connections $((idle + 100)) >"$work/broker.log" 2>&1 &
pids+=($!)
wait_port "$bport"
"$engine_cpu" idle -p "$bport" --hosts 127.0.0.1,127.0.0.6 --bind 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5 \
  -c "$idle" -t 1 --hold 5
