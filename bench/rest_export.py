#!/usr/bin/python3
"""Benchmark (not a test): the bucket export of two builds side by side, over HTTP
(GET /v1/users/acme/buckets/W/export) and as `mqfleet bucket export`. One bucket of
--points points (written straight into buckets.sqlite, the schema of docs/buckets.md)
is exported as CSV and NDJSON by each build, runs alternating; for HTTP the broker's RSS
(/proc VmRSS sampled per MiB read, and VmHWM) before and at the peak, the time to the
first byte and to the last; for the CLI the time and peak RSS (/usr/bin/time).

  /usr/bin/python3 bench/rest_export.py --bin build/release/apps/mqfleet/mqfleet
      --peer-bin OTHER/build/release/apps/mqfleet/mqfleet [--points 1000000] [--runs 1]"""

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e", "py"))
from web_side import T0, Broker, fill_bucket, vm_kib  # noqa: E402


def http_export(binary, data, fmt):
    tmp = tempfile.mkdtemp()
    try:
        shutil.copytree(data, os.path.join(tmp, "data"))
        b = Broker(binary, tmp)
        try:
            # The same warm-up for both: a small export, and the io threads' database connections.
            b.request("GET", f"/v1/users/acme/buckets/W/export?format={fmt}&max_ts={T0 + 30000 * 1000}", b.ta)
            for _ in range(4):
                b.request("GET", "/v1/users/acme/buckets", b.ta)
            base, hwm0 = vm_kib(b.proc.pid, "VmRSS"), vm_kib(b.proc.pid, "VmHWM")
            t0 = time.time()
            conn = http.client.HTTPConnection("127.0.0.1", b.http_port, timeout=600)
            conn.request("GET", f"/v1/users/acme/buckets/W/export?format={fmt}",
                         headers={"Authorization": "Bearer " + b.ta})
            resp = conn.getresponse()
            size, peak, first = 0, base, None
            while True:
                part = resp.read(1 << 20)
                if not part:
                    break
                first = first if first is not None else time.time() - t0
                size += len(part)
                peak = max(peak, vm_kib(b.proc.pid, "VmRSS"))
            total = time.time() - t0
            hwm = vm_kib(b.proc.pid, "VmHWM")
            peak = max(peak, hwm) if hwm > hwm0 else peak
            return resp.status, size, first or total, total, (peak - base) / 1024
        finally:
            b.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def cli_export(binary, data, fmt):
    out = subprocess.run(["/usr/bin/time", "-f", "%e %M", binary, "bucket", "export", "W", "--data-dir", data,
                          "--format", fmt], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    seconds, kib = out.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kib) / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--peer-bin", required=True, help="the build to compare with (e.g. main's)")
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # A broker of --bin creates the registry and buckets.sqlite; the points go in directly.
        b = Broker(args.bin, tmp)
        fill_bucket(b, "W", args.points)
        b.stop()
        data = os.path.join(tmp, "data")
        print(f"{args.points} points; load average {os.getloadavg()[0]:.2f}")
        for fmt in ("csv", "ndjson"):
            rows = {"this": [], "peer": []}
            for _ in range(args.runs):
                for name, binary in (("peer", args.peer_bin), ("this", args.bin)):
                    status, size, first, total, grown = http_export(binary, data, fmt)
                    cli_s, cli_mib = cli_export(binary, data, fmt)
                    rows[name].append((status, size, first, total, grown, cli_s, cli_mib))
                    print(f"{fmt} {name}: HTTP {status} {size} bytes, first byte {first:.2f} s, last {total:.2f} s, "
                          f"broker RSS +{grown:.1f} MiB; CLI {cli_s:.2f} s, peak RSS {cli_mib:.1f} MiB", flush=True)
            med = {k: [statistics.median(r[i] for r in v) for i in range(2, 7)] for k, v in rows.items()}
            # A refused export (the peer's 413 over its 64 MiB cap) has no time to compare.
            same = all(r[0] == 200 for v in rows.values() for r in v)
            http_ratio = f"{med['this'][1] / med['peer'][1]:.2f}" if same else "n/a (not both 200)"
            print(f"{fmt} median this/peer: HTTP last byte {http_ratio}, "
                  f"broker RSS growth {med['this'][2]:.1f} / {med['peer'][2]:.1f} MiB, "
                  f"CLI time {med['this'][3] / med['peer'][3]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
