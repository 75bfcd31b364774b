#!/usr/bin/python3
"""Benchmark (not a test): MQTT over WebSocket vs the TCP listener of `mqfleet broker`,
as deliveries per broker CPU-second. One paho publisher and one paho subscriber on the
same transport, QoS 0 or 1, 64-byte payloads; the broker's CPU time (utime + stime from
/proc) is read before and after each run. Runs alternate TCP / WebSocket; the median of
each is reported with the ratio WS / TCP.

The publisher is not throttled and shares the GIL with the subscriber, so at QoS 1 the
subscriber can fall behind by thousands of messages. With a bounded session queue the
broker then drops the newest QoS 1 messages by design and counts them (docs/broker.md,
"max queued": more than the in-flight window 100 + --max-queued behind; mosquitto's
max_queued_messages does the same). This bench measures the cost of a delivery, not that
policy, so it runs the broker with --max-queued 0 (unlimited) unless told otherwise.
Every run reports the broker's drops ($SYS/broker/messages/dropped, published every
second); deliveries + drops must equal the messages sent, anything else is reported as
LOST and the script exits 1. A run ends when every message is delivered or after 10 s
without a delivery.

Unpaced, each transport runs as fast as its paho publisher goes, and paho's WebSocket
publisher is about half as fast as its TCP one (it masks every frame in Python): the broker
then finds fewer messages per wake-up on WebSocket and pays its per-wake-up cost on fewer
messages. --rate R paces both publishers at the same R messages per second (in steps of
10 ms), so both transports present the broker the same load.

  /usr/bin/python3 bench/ws_vs_tcp.py [--bin build/release/apps/mqfleet/mqfleet]
      [--messages 20000] [--runs 3] [--qos 0] [--rate 0] [--max-queued 0]"""

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


def dropped(port):
    """The broker's $SYS/broker/messages/dropped (retained, refreshed every second)."""
    value = []
    done = threading.Event()
    c = mqtt.Client()
    c.on_message = lambda c_, u, m: (value.append(int(m.payload)), done.set())
    c.connect("127.0.0.1", port, keepalive=60)
    c.subscribe("$SYS/broker/messages/dropped")
    c.loop_start()
    done.wait(5)
    c.disconnect()
    c.loop_stop()
    if not value:
        sys.exit("ws_vs_tcp: error: no $SYS/broker/messages/dropped from the broker within 5 s")
    return value[0]


def run(transport, port, pid, messages, qos, rate):
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
    batch = max(1, rate // 100)  # paced in steps of 10 ms
    for i in range(messages):
        if rate and i % batch == 0:
            pause = t0 + i / rate - time.time()
            if pause > 0:
                time.sleep(pause)
        pub.publish("bench/t", payload, qos=qos)
    # Wait while deliveries progress: dropped messages never arrive, so a fixed wait for
    # all of them would only end at a timeout.
    seen, last = -1, time.time()
    while not got.wait(0.5):
        if count[0] != seen:
            seen, last = count[0], time.time()
        elif time.time() - last > 10:
            break
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
    p.add_argument("--rate", type=int, default=0,
                   help="publishes per second on both transports (0 = as fast as the publisher goes)")
    p.add_argument("--max-queued", type=int, default=0,
                   help="the broker's --max-queued (0 = unlimited; the broker's own default is 1000)")
    a = p.parse_args()
    if not a.bin:
        sys.exit("ws_vs_tcp: error: no mqfleet binary: build one with scripts/build.sh release")
    with tempfile.TemporaryDirectory():
        broker = subprocess.Popen([a.bin, "broker", "--port", "0", "--http-port", "0", "--bind", "127.0.0.1",
                                   "--allow-anonymous", "--threads", "1", "--sys-interval", "1",
                                   "--max-queued", str(a.max_queued)],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            ready, _, _ = select.select([broker.stdout], [], [], 20)
            if not ready:
                sys.exit("ws_vs_tcp: error: the broker did not start")
            ports = json.loads(broker.stdout.readline())
            results = {"tcp": [], "websockets": []}
            drops_before, lost = 0, 0
            for _ in range(a.runs):
                for transport, port in (("tcp", ports["mqtt"]), ("websockets", ports["http"])):
                    rate, n, cpu, wall = run(transport, port, broker.pid, a.messages, a.qos, a.rate)
                    results[transport].append(rate)
                    time.sleep(1.2)  # the next $SYS publication counts every drop of this run
                    drops_after = dropped(ports["mqtt"])
                    drops = drops_after - drops_before
                    drops_before = drops_after
                    missing = a.messages - n - drops
                    lost += max(missing, 0)
                    note = ""
                    if drops:
                        note += f", {drops} dropped by the broker (queue full: --max-queued {a.max_queued})"
                    if missing > 0:
                        note += f", {missing} LOST (neither delivered nor counted as dropped)"
                    print(f"{transport:10} QoS {a.qos}: {n} deliveries{note}, broker CPU {cpu:.2f} s, "
                          f"wall {wall:.2f} s, {rate:,.0f} deliveries per broker CPU-second", flush=True)
            tcp, ws = statistics.median(results["tcp"]), statistics.median(results["websockets"])
            print(f"median: TCP {tcp:,.0f}/CPU-s, WebSocket {ws:,.0f}/CPU-s, WS/TCP = {ws / tcp:.2f}")
            if lost:
                print(f"ws_vs_tcp: error: {lost} messages neither delivered nor counted as dropped", file=sys.stderr)
                sys.exit(1)
        finally:
            broker.terminate()
            broker.wait(10)


if __name__ == "__main__":
    main()
