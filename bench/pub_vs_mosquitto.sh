#!/usr/bin/env bash
# Benchmark (not a test): `mqfleet pub` against `mosquitto_pub`, side by side, same
# throw-away mosquitto broker on a free port. Prints medians and ratios.
#
#   bench/pub_vs_mosquitto.sh [path/to/mqfleet] [runs=30] [lines=200000]
#
# 1. one-shot `pub -q 1 -m hi` wall time, median of N runs each (interleaved), and the
#    publisher's mean CPU time (user + system) per run;
# 2. `pub -l` QoS 0 with 200k lines, two ways:
#    a. the publisher's throughput (the target): each tool publishes to a null broker in
#       this script that answers CONNECT and then only reads, so the receiving side never
#       holds the publisher back; the rate counts until the sink has read the DISCONNECT
#       and every line is checked afterwards (median of 5 runs each, interleaved);
#    b. through mosquitto to mosquitto_sub: messages the subscriber received per second.
#       mosquitto itself handles only ~35-40k messages a second on this machine kind, less
#       than either publisher sends, so this rate is the broker's and caps both tools;
# 3. `pub -l -q 1` with 200k lines: all delivered? messages per second, CPU per message.
# MQFLEET_PUB_CLIENT=paho in the environment measures mqfleet's Paho-backed client instead.
set -euo pipefail
cd "$(dirname "$0")/.."

mqfleet="${1:-}"
if [ -z "$mqfleet" ]; then
  for candidate in build/release/apps/mqfleet/mqfleet build/ci/apps/mqfleet/mqfleet; do
    if [ -x "$candidate" ]; then mqfleet="$candidate"; break; fi
  done
fi
if [ -z "$mqfleet" ] || [ ! -x "$mqfleet" ]; then
  echo "pub_vs_mosquitto: error: no mqfleet binary: build one with scripts/build.sh release" >&2
  exit 3
fi
runs="${2:-30}"
lines="${3:-200000}"
for tool in mosquitto mosquitto_pub mosquitto_sub; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || {
    echo "pub_vs_mosquitto: error: $tool is missing: run scripts/install-deps.sh" >&2; exit 3; }
done

work="$(mktemp -d)"
broker_pid=""
cleanup() {
  if [ -n "$broker_pid" ]; then kill "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat > "$work/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
max_queued_messages 0
user $(id -un)
EOF
mosquitto_bin="$(command -v mosquitto || echo /usr/sbin/mosquitto)"
"$mosquitto_bin" -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
broker_pid=$!
for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.05
done

echo "mqfleet: $mqfleet ($("$mqfleet" --version 2>/dev/null || echo '?'))"
echo "broker:  mosquitto $(mosquitto -h 2>/dev/null | head -1 | awk '{print $3}') on 127.0.0.1:$port; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo

/usr/bin/python3 - "$mqfleet" "$port" "$runs" "$lines" "$work" <<'PYTHON'
import os, resource, socket, statistics, subprocess, sys, threading, time

mqfleet, port, runs, lines, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
devnull = subprocess.DEVNULL

def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime

def one_shot(cmd):
    cpu = children_cpu()
    start = time.perf_counter()
    rc = subprocess.run(cmd, stdout=devnull, stderr=devnull).returncode
    return time.perf_counter() - start, children_cpu() - cpu, rc

# 1. one-shot
ours, theirs, ours_cpu, theirs_cpu, failures = [], [], [], [], 0
for i in range(runs):
    t, c, rc = one_shot([mqfleet, "pub", "-p", port, "-t", "bench/one", "-q", "1", "-m", "hi"])
    ours.append(t); ours_cpu.append(c); failures += rc != 0
    t, c, rc = one_shot(["mosquitto_pub", "-p", port, "-t", "bench/one", "-q", "1", "-m", "hi"])
    theirs.append(t); theirs_cpu.append(c)
m_ours, m_theirs = statistics.median(ours) * 1000, statistics.median(theirs) * 1000
c_ours, c_theirs = statistics.mean(ours_cpu) * 1000, statistics.mean(theirs_cpu) * 1000
print(f"one-shot pub -q 1 -m hi, median of {runs}:")
print(f"  mqfleet {m_ours:.1f} ms   mosquitto_pub {m_theirs:.1f} ms   ratio {m_ours / m_theirs:.2f}x (target <= 1.0)"
      + (f"   ({failures} mqfleet runs failed!)" if failures else ""))
print(f"  CPU per run (user + system, mean): mqfleet {c_ours:.1f} ms   mosquitto_pub {c_theirs:.1f} ms")

# 2./3. line mode: count what a subscriber really receives.
payload = "".join(f"line-{i}\n" for i in range(1, lines + 1)).encode()
input_path = os.path.join(work, "lines.txt")
with open(input_path, "wb") as f:
    f.write(payload)

def line_mode(publisher, qos, topic):
    out_path = os.path.join(work, f"recv-{topic.replace('/', '_')}.txt")
    out = open(out_path, "wb")
    sub = subprocess.Popen(["mosquitto_sub", "-p", port, "-t", topic, "-q", str(qos), "-C", str(lines)],
                           stdout=out, stderr=devnull)
    time.sleep(0.5)  # let the subscription settle
    cpu = children_cpu()
    start = time.perf_counter()
    with open(input_path, "rb") as stdin:
        pub = subprocess.run(publisher + ["-p", port, "-t", topic, "-q", str(qos), "-l"], stdin=stdin,
                             stdout=devnull, stderr=devnull)
    pub_done = time.perf_counter()
    pub_cpu = children_cpu() - cpu
    last_size, last_change = -1, time.perf_counter()
    while sub.poll() is None and time.perf_counter() - last_change < 3.0:
        size = os.path.getsize(out_path)
        if size != last_size:
            last_size, last_change = size, time.perf_counter()
        time.sleep(0.05)
    if sub.poll() is None:
        sub.terminate()
    sub.wait()
    out.close()
    with open(out_path, "rb") as f:
        received = f.read()
    count = received.count(b"\n")
    end = min(last_change, time.perf_counter()) if count < lines else last_change
    elapsed = max(end - start, pub_done - start)
    return count, received == payload, count / elapsed, pub.returncode, pub_cpu, pub_done - start

def cpu_per_msg(cpu):
    return f"{cpu / lines * 1e6:.2f} us CPU/msg"

def publisher(seconds):
    return f"publisher exited after {seconds:.2f} s ({lines / seconds:,.0f} lines/s)"

def null_broker_run(publisher):
    """Publishes the lines to a throw-away listener that acknowledges CONNECT and then only
    reads; returns (lines/s until the DISCONNECT was read, all lines intact?, CPU s)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    sink_port = listener.getsockname()[1]
    result = {}

    def sink():
        connection, _ = listener.accept()
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        data = bytearray()
        acked = False
        while True:
            chunk = connection.recv(1 << 20)
            if not chunk:
                break
            data += chunk
            if not acked and len(data) >= 2:
                connection.sendall(b"\x20\x02\x00\x00")  # CONNACK, accepted
                acked = True
            if data.endswith(b"\xe0\x00"):  # DISCONNECT: everything before it is read
                break
        result["end"] = time.perf_counter()
        connection.close()
        result["data"] = bytes(data)

    thread = threading.Thread(target=sink)
    thread.start()
    cpu = children_cpu()
    start = time.perf_counter()
    with open(input_path, "rb") as stdin:
        rc = subprocess.run(publisher + ["-p", str(sink_port), "-t", "bench/null", "-q", "0", "-l"], stdin=stdin,
                            stdout=devnull, stderr=devnull).returncode
    pub_cpu = children_cpu() - cpu
    thread.join(timeout=60)
    listener.close()
    payloads = publish_payloads(result.get("data", b""))
    intact = rc == 0 and b"".join(p + b"\n" for p in payloads) == payload
    return lines / (result.get("end", time.perf_counter()) - start), intact, pub_cpu

def publish_payloads(data):
    """Payloads of the QoS 0 PUBLISH packets in an MQTT byte stream, in order."""
    payloads, position = [], 0
    while position < len(data):
        kind = data[position] >> 4
        length, shift, position = 0, 0, position + 1
        while True:
            byte = data[position]
            position += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        body = data[position:position + length]
        position += length
        if kind == 3:
            topic_length = int.from_bytes(body[:2], "big")
            payloads.append(body[2 + topic_length:])
    return payloads

print(f"\npub -l, QoS 0, {lines} lines, publisher throughput (null broker that only reads; median of 5):")
ours_rates, theirs_rates, ours_ok, theirs_ok, ours_cpu, theirs_cpu = [], [], True, True, [], []
for _ in range(5):
    rate, ok, cpu = null_broker_run([mqfleet, "pub"])
    ours_rates.append(rate); ours_ok &= ok; ours_cpu.append(cpu)
    rate, ok, cpu = null_broker_run(["mosquitto_pub"])
    theirs_rates.append(rate); theirs_ok &= ok; theirs_cpu.append(cpu)
r_ours, r_theirs = statistics.median(ours_rates), statistics.median(theirs_rates)
print(f"  mqfleet       {r_ours:,.0f} msg/s  every line intact: {ours_ok}  {cpu_per_msg(statistics.mean(ours_cpu))}")
print(f"  mosquitto_pub {r_theirs:,.0f} msg/s  every line intact: {theirs_ok}  {cpu_per_msg(statistics.mean(theirs_cpu))}")
print(f"  ratio {r_ours / r_theirs:.2f}x (target >= 1.5)")

print(f"\npub -l, QoS 0, {lines} lines through mosquitto (rate = messages mosquitto_sub received / elapsed; broker-bound):")
c1, _, r1, rc1, u1, p1 = line_mode([mqfleet, "pub"], 0, "bench/l0m")
c2, _, r2, rc2, u2, p2 = line_mode(["mosquitto_pub"], 0, "bench/l0p")
print(f"  mqfleet       received {c1}/{lines}  {r1:,.0f} msg/s  exit {rc1}  {cpu_per_msg(u1)}  {publisher(p1)}")
print(f"  mosquitto_pub received {c2}/{lines}  {r2:,.0f} msg/s  exit {rc2}  {cpu_per_msg(u2)}  {publisher(p2)}")
print(f"  ratio {r1 / r2:.2f}x (the broker's rate, not the publisher's: see 2b above)")

print(f"\npub -l -q 1, {lines} lines:")
c3, in_order3, r3, rc3, u3, _ = line_mode([mqfleet, "pub"], 1, "bench/l1m")
c4, in_order4, r4, rc4, u4, _ = line_mode(["mosquitto_pub"], 1, "bench/l1p")
print(f"  mqfleet       received {c3}/{lines} (all, in order: {in_order3})  {r3:,.0f} msg/s  exit {rc3}  {cpu_per_msg(u3)}")
print(f"  mosquitto_pub received {c4}/{lines} (all, in order: {in_order4})  {r4:,.0f} msg/s  exit {rc4}  {cpu_per_msg(u4)}")
PYTHON
