#!/usr/bin/python3
"""Benchmark (not a test): the bucket REST API of `mqfleet broker --http-port`.

1. Builds a bucket of --points points (default 1,000,000: one point a second per device,
   fields temperature and humidity) with `mqfleet bucket import` into the broker's
   --data-dir before the broker starts.
2. Aggregate: `GET /v1/users/bench/buckets/w/data?agg=1h&agg_type=mean` over the whole
   bucket (min_ts..max_ts = first..last point), --agg-runs times, one at a time on one
   keep-alive connection: median and max of the wall time from request to the last byte
   of the reply. Target (issue 15 item 7): <= 200 ms. Then `data?items=1000` and the
   dashboards' `data?sort=desc&items=1000` the same way, for reference.
3. Readers under load: devices publish --rate msg/s (bench/broker_load, JSON payloads,
   QoS 0, --publishers connections) into the same bucket while --readers threads, each
   with its own keep-alive connection, send `GET .../data?items=1000` every
   --reader-interval seconds (open loop: a reader whose reply is late sends the next one
   at once), for --duration seconds. Prints p50/p99/max of the latency, the requests
   answered, the publish rate achieved (points the bucket gained per second, read from
   GET /v1/users/bench/buckets before and after) and the broker's CPU seconds. Target:
   p99 <= 20 ms. Replies are not parsed in the timed path (status and length only).

Everything on 127.0.0.1, bounded in count and time; the broker and the load client are
started and stopped by this script (by PID).

  /usr/bin/python3 bench/rest_api.py [--build build/release] [--points 1000000]
      [--agg-runs 10] [--readers 100] [--reader-interval 1.0] [--duration 20]
      [--rate 10000] [--publishers 10] [--threads 2]
  (bench/broker_load: cmake --build build/release --target broker_load)"""

import argparse
import http.client
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TICKS = os.sysconf("SC_CLK_TCK")
SECRET = "bench-secret-0123456789"


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, int(round(q * len(sorted_values) + 0.5)) - 1))
    return sorted_values[index]


def run(cmd, **kw):
    result = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if result.returncode != 0:
        sys.exit(f"rest_api: error: {' '.join(cmd)} exited {result.returncode}: {result.stderr.strip()}")
    return result.stdout


def write_csv(path, points, start_ms, devices):
    """`points` points, one a second per device, spread over `devices` devices."""
    with open(path, "w") as f:
        f.write("ts,device,temperature,humidity\n")
        per_device = (points + devices - 1) // devices
        n = 0
        for second in range(per_device):
            ts = start_ms + second * 1000
            for d in range(devices):
                if n == points:
                    return
                f.write(f"{ts},dev{d},{20 + (second % 600) / 100:.2f},{40 + (second + d) % 30}\n")
                n += 1


class Api:
    def __init__(self, port, token):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path):
        self.conn.request("GET", path, headers=self.headers)
        reply = self.conn.getresponse()
        body = reply.read()
        if reply.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {reply.status}: {body[:200]!r}")
        return body


def bucket_points(api):
    for b in json.loads(api.get("/v1/users/bench/buckets")):
        if b["id"] == "w":
            return b["points"], b["first_ts"], b["last_ts"]
    raise RuntimeError("bucket w missing from GET /v1/users/bench/buckets")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build/release")
    p.add_argument("--points", type=int, default=1_000_000)
    p.add_argument("--devices", type=int, default=10, help="devices of the imported points")
    p.add_argument("--agg-runs", type=int, default=10)
    p.add_argument("--readers", type=int, default=100)
    p.add_argument("--reader-interval", type=float, default=1.0)
    p.add_argument("--duration", type=float, default=20)
    p.add_argument("--rate", type=int, default=10000, help="publishes per second (0 = no publishers)")
    p.add_argument("--publishers", type=int, default=10)
    p.add_argument("--threads", type=int, default=2, help="the broker's --threads")
    a = p.parse_args()
    mqfleet = os.path.join(a.build, "apps/mqfleet/mqfleet")
    load = os.path.join(a.build, "bench/broker_load/broker_load")
    for binary in (mqfleet, load):
        if not os.access(binary, os.X_OK):
            sys.exit(f"rest_api: error: {binary} missing: cmake --build {a.build} --target mqfleet broker_load")
    print(f"load average before: {loadavg()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="rest_api.") as work:
        registry, data = os.path.join(work, "registry.json"), os.path.join(work, "data")
        env = dict(os.environ, BENCH_SECRET=SECRET)
        for i in range(a.publishers):
            run([mqfleet, "device", "add", "bench", f"bench-p{i}", "--registry", registry, "--credential-env", "BENCH_SECRET"],
                env=env)
        run([mqfleet, "device", "add", "bench", "bench-s0", "--registry", registry, "--credential-env", "BENCH_SECRET"], env=env)
        run([mqfleet, "bucket", "add", "bench", "w", "--topic", "bench/#", "--registry", registry])
        token = run([mqfleet, "token", "add", "bench", "reader", "--registry", registry]).strip().splitlines()[-1]
        csv = os.path.join(work, "points.csv")
        start_ms = 1_700_000_000_000
        t0 = time.time()
        write_csv(csv, a.points, start_ms, a.devices)
        run([mqfleet, "bucket", "import", "w", csv, "--data-dir", data, "--registry", registry])
        os.unlink(csv)
        print(f"bucket w: {a.points:,} points imported in {time.time() - t0:.1f} s", flush=True)

        broker = subprocess.Popen([mqfleet, "broker", "--port", "0", "--http-port", "0", "--bind", "127.0.0.1",
                                   "--registry", registry, "--data-dir", data, "--threads", str(a.threads),
                                   "--sys-interval", "0"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        load_proc = None
        try:
            ready, _, _ = select.select([broker.stdout], [], [], 30)
            if not ready:
                sys.exit("rest_api: error: the broker did not start within 30 s")
            ports = json.loads(broker.stdout.readline())
            api = Api(ports["http"], token)
            points, first, last = bucket_points(api)

            # -- 2. the aggregate --------------------------------------------------------
            path = f"/v1/users/bench/buckets/w/data?agg=1h&agg_type=mean&min_ts={first}&max_ts={last}"
            times, windows = [], 0
            cpu0 = cpu_seconds(broker.pid)
            for _ in range(a.agg_runs):
                t = time.perf_counter()
                body = api.get(path)
                times.append(time.perf_counter() - t)
                windows = len(json.loads(body))
            cpu1 = cpu_seconds(broker.pid)
            print(f"aggregate agg=1h mean over {points:,} points ({windows} windows), {a.agg_runs} requests: "
                  f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms, "
                  f"broker CPU {(cpu1 - cpu0) / a.agg_runs * 1000:.0f} ms per request "
                  f"(target <= 200 ms: {'met' if statistics.median(times) <= 0.2 else 'NOT met'})", flush=True)

            # The dashboards' query (latest 1000) and the plain one, alone, for reference.
            for query in ("items=1000", "sort=desc&items=1000"):
                single = []
                for _ in range(a.agg_runs):
                    t = time.perf_counter()
                    api.get(f"/v1/users/bench/buckets/w/data?{query}")
                    single.append(time.perf_counter() - t)
                print(f"data?{query}, one client, {a.agg_runs} requests: median {statistics.median(single) * 1000:.1f} ms, "
                      f"max {max(single) * 1000:.1f} ms", flush=True)

            # -- 3. readers while devices publish ------------------------------------------
            if a.rate > 0:
                per_publisher = int(a.rate * (a.duration + 10) / a.publishers)
                load_proc = subprocess.Popen(
                    [load, "-p", str(ports["mqtt"]), "--publishers", str(a.publishers), "--subscribers", "1",
                     "--messages", str(per_publisher), "--payload", "96", "--qos", "0", "--window", "64", "--json",
                     "--rate", str(a.rate), "--username", "bench", "--password", SECRET, "--id-prefix", "bench-",
                     "--topic", "bench/load", "--stall", "5"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(2)  # connected and publishing
            before_points = bucket_points(api)[0]
            latencies, errors = [], []
            lock = threading.Lock()
            begin = time.perf_counter() + 1.0
            end = begin + a.duration

            def reader(index):
                mine = []
                try:
                    client = Api(ports["http"], token)
                    # Phase-shifted so the readers do not all ask at once.
                    due = begin + a.reader_interval * index / a.readers
                    while due < end:
                        pause = due - time.perf_counter()
                        if pause > 0:
                            time.sleep(pause)
                        t = time.perf_counter()
                        client.get("/v1/users/bench/buckets/w/data?items=1000")
                        mine.append(time.perf_counter() - t)
                        due += a.reader_interval
                except Exception as e:  # noqa: BLE001 - reported below
                    errors.append(f"reader {index}: {e}")
                with lock:
                    latencies.extend(mine)

            cpu0, t0 = cpu_seconds(broker.pid), time.perf_counter()
            threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(a.readers)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(a.duration + 60)
            cpu1, t1 = cpu_seconds(broker.pid), time.perf_counter()
            after_points = bucket_points(api)[0]
            if load_proc is not None:
                load_proc.terminate()
                load_proc.wait(10)
                load_proc = None
            latencies.sort()
            rate = (after_points - before_points) / (t1 - t0)
            p99 = percentile(latencies, 0.99)
            print(f"readers: {a.readers} x GET data?items=1000 every {a.reader_interval:g} s for {a.duration:g} s: "
                  f"{len(latencies)} replies, p50 {percentile(latencies, 0.50) * 1000:.1f} ms, "
                  f"p99 {p99 * 1000:.1f} ms, max {latencies[-1] * 1000 if latencies else float('nan'):.1f} ms "
                  f"(target p99 <= 20 ms: {'met' if p99 <= 0.02 else 'NOT met'})", flush=True)
            print(f"publishers: {a.rate} msg/s asked, the bucket gained {after_points - before_points:,} points "
                  f"= {rate:,.0f} points/s; broker CPU {cpu1 - cpu0:.1f} s over {t1 - t0:.1f} s wall", flush=True)
            if errors:
                print(f"rest_api: error: {len(errors)} readers failed, first: {errors[0]}", file=sys.stderr)
                sys.exit(1)
        finally:
            if load_proc is not None:
                load_proc.terminate()
                load_proc.wait(10)
            broker.terminate()
            broker.wait(30)
    print(f"load average after: {loadavg()}", flush=True)


if __name__ == "__main__":
    main()
