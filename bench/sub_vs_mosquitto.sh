#!/usr/bin/env bash
# Benchmark (not a test): `mqfleet sub -C N` against `mosquitto_sub -C N` (and mqfleet's
# Paho-backed client, MQFLEET_SUB_CLIENT=paho), receiving N lines that `mqfleet pub -l`
# publishes through the reference broker (`mqfleet broker`, anonymous, on a free port,
# --max-queued 1000000 so no QoS 1 message is dropped), at QoS 0 and QoS 1. Runs are
# interleaved; prints the median rate of each subscriber and the ratios.
#
#   bench/sub_vs_mosquitto.sh [--build build/release] [--runs 3] [--lines 200000]
#
# Rate: N / (time from starting the publisher to the subscriber's exit after its N-th
# line). Each run waits until the subscriber printed a retained "ready" line (so its
# subscription is in place) before publishing. "in order": the output is exactly
# "ready" and the N lines published.
# Build first: cmake --preset release && cmake --build build/release -j2 --target mqfleet mqfleet_paho
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
source "$here/lib.sh"

build=build/release
runs=3
lines=200000
bench_parse_options "build runs lines" "$@"
mqfleet="$build/apps/mqfleet/mqfleet"
bench_require "$mqfleet"
command -v mosquitto_sub >/dev/null || { echo "mosquitto_sub is missing: run scripts/install-deps.sh" >&2; exit 2; }
bench_workdir
bench_start_broker "$mqfleet" --allow-anonymous --max-queued 1000000

echo "mqfleet: $mqfleet ($("$mqfleet" --version 2>/dev/null || echo '?'))"
echo "broker:  mqfleet broker on 127.0.0.1:$broker_port; publisher: mqfleet pub -l; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo

/usr/bin/python3 - "$mqfleet" "$broker_port" "$runs" "$lines" "$work" <<'PYTHON'
import os, statistics, subprocess, sys, time

mqfleet, port, runs, lines, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
devnull = subprocess.DEVNULL
payload = "".join(f"line-{i}\n" for i in range(1, lines + 1)).encode()
input_path = os.path.join(work, "lines.txt")
with open(input_path, "wb") as f:
    f.write(payload)

paho_env = dict(os.environ, MQFLEET_SUB_CLIENT="paho")
lean_env = {k: v for k, v in os.environ.items() if k != "MQFLEET_SUB_CLIENT"}
subscribers = [
    ("mqfleet sub", [mqfleet, "sub"], lean_env),
    ("mqfleet sub (Paho)", [mqfleet, "sub"], paho_env),
    ("mosquitto_sub", ["mosquitto_sub"], lean_env),
]

def publish(args, stdin=None):
    subprocess.run([mqfleet, "pub", "-h", "127.0.0.1", "-p", port] + args, stdin=stdin, stdout=devnull,
                   stderr=devnull, check=stdin is None)

def one_run(command, env, qos, topic):
    """Returns (lines received, all in order?, messages/s until the subscriber exited)."""
    # Readiness without sleeping: a retained "ready" line reaches the subscriber as soon as
    # its subscription is in place; the measured lines are published only after that.
    publish(["-t", topic, "-r", "-m", "ready"])
    out_path = os.path.join(work, "received.txt")
    with open(out_path, "wb") as out:
        sub = subprocess.Popen(command + ["-h", "127.0.0.1", "-p", port, "-t", topic, "-q", str(qos),
                                          "-C", str(lines + 1)], stdout=out, stderr=devnull, env=env)
        deadline = time.perf_counter() + 30
        while os.path.getsize(out_path) < 6 and time.perf_counter() < deadline and sub.poll() is None:
            time.sleep(0.01)
        start = time.perf_counter()
        with open(input_path, "rb") as stdin:
            publish(["-t", topic, "-q", str(qos), "-l"], stdin)
        try:
            sub.wait(timeout=120)
        except subprocess.TimeoutExpired:
            sub.terminate()
            sub.wait()
        end = time.perf_counter()
    with open(out_path, "rb") as f:
        received = f.read()
    return received.count(b"\n") - 1, received == b"ready\n" + payload, lines / (end - start)

for qos in (0, 1):
    results = {name: [] for name, _, _ in subscribers}
    for run in range(runs):
        for name, command, env in subscribers:
            results[name].append(one_run(command, env, qos, f"bench/sub/{qos}/{run}/{len(results[name])}"))
    print(f"QoS {qos}, {lines} lines, median of {runs} (interleaved):")
    medians = {}
    for name, _, _ in subscribers:
        rows = results[name]
        medians[name] = statistics.median(r[2] for r in rows)
        received = min(r[0] for r in rows)
        in_order = all(r[1] for r in rows)
        print(f"  {name:<19} {medians[name]:>10,.0f} msg/s  received (fewest) {received}/{lines}  "
              f"all in order: {in_order}")
    base = medians["mosquitto_sub"]
    print(f"  ratio mqfleet sub / mosquitto_sub {medians['mqfleet sub'] / base:.2f}x; "
          f"Paho client / mosquitto_sub {medians['mqfleet sub (Paho)'] / base:.2f}x; "
          f"lean / Paho {medians['mqfleet sub'] / medians['mqfleet sub (Paho)']:.2f}x")
    print()
PYTHON
