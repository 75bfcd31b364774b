#!/usr/bin/python3
"""Benchmark (not a test): MQTT over WebSocket vs the TCP listener of `mqfleet broker`,
as deliveries per broker CPU-second. One paho publisher and one paho subscriber on the
same transport, QoS 0 or 1, 64-byte payloads; the broker's CPU time (utime + stime from
/proc) is read before and after each run. Runs alternate TCP / WebSocket; the median of
each is reported with the ratio WS / TCP.

  /usr/bin/python3 bench/ws_vs_tcp.py [--bin build/release/apps/mqfleet/mqfleet]
      [--messages 20000] [--runs 3] [--qos 0]"""

import argparse
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import paho.mqtt.client as mqtt

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def client(transport, port, cid):
    c = mqtt.Client(client_id=cid, transport=transport)
    if transport == "websockets":
        c.ws_set_options(path="/mqtt")
    c.max_queued_messages_set(0)
    c.max_inflight_messages_set(1000)
    c.connect("127.0.0.1", port, keepalive=60)
    return c


def run(transport, port, pid, messages, qos):
    got = threading.Event()
    count = [0]

    def on_message(c, u, m):
        count[0] += 1
        if count[0] == messages:
            got.set()

    sub = client(transport, port, f"sub-{transport}")
    sub.on_message = on_message
    subscribed = threading.Event()
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.loop_start()
    sub.subscribe("bench/t", qos=qos)
    subscribed.wait(10)
    pub = client(transport, port, f"pub-{transport}")
    pub.loop_start()
    payload = b"x" * 64
    before, t0 = cpu_seconds(pid), time.time()
    for _ in range(messages):
        pub.publish("bench/t", payload, qos=qos)
    got.wait(120)
    after, t1 = cpu_seconds(pid), time.time()
    for c in (pub, sub):
        c.disconnect()
        c.loop_stop()
    cpu = max(after - before, 1 / TICKS)
    return count[0] / cpu, count[0], cpu, t1 - t0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=next((b for b in ("build/release/apps/mqfleet/mqfleet", "build/ci/apps/mqfleet/mqfleet")
                                         if os.path.exists(b)), None))
    p.add_argument("--messages", type=int, default=20000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--qos", type=int, default=0, choices=[0, 1])
    a = p.parse_args()
    if not a.bin:
        sys.exit("ws_vs_tcp: error: no mqfleet binary: build one with scripts/build.sh release")
    with tempfile.TemporaryDirectory():
        broker = subprocess.Popen([a.bin, "broker", "--port", "0", "--http-port", "0", "--bind", "127.0.0.1",
                                   "--allow-anonymous", "--threads", "1", "--sys-interval", "0"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            ready, _, _ = select.select([broker.stdout], [], [], 20)
            if not ready:
                sys.exit("ws_vs_tcp: error: the broker did not start")
            ports = json.loads(broker.stdout.readline())
            results = {"tcp": [], "websockets": []}
            for _ in range(a.runs):
                for transport, port in (("tcp", ports["mqtt"]), ("websockets", ports["http"])):
                    rate, n, cpu, wall = run(transport, port, broker.pid, a.messages, a.qos)
                    results[transport].append(rate)
                    print(f"{transport:10} QoS {a.qos}: {n} deliveries, broker CPU {cpu:.2f} s, wall {wall:.2f} s, "
                          f"{rate:,.0f} deliveries per broker CPU-second", flush=True)
            tcp, ws = statistics.median(results["tcp"]), statistics.median(results["websockets"])
            print(f"median: TCP {tcp:,.0f}/CPU-s, WebSocket {ws:,.0f}/CPU-s, WS/TCP = {ws / tcp:.2f}")
        finally:
            broker.terminate()
            broker.wait(10)


if __name__ == "__main__":
    main()
