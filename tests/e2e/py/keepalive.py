#!/usr/bin/python3
"""Keepalive: a client that stops sending anything is disconnected after about 1.5x its
keepalive (not before, and at most --late-by seconds after) and its will is published; a client that
pings stays connected and gets PINGRESP."""

import threading
import time

from mqtt_e2e import Client, Raw, PINGREQ, PINGRESP, check, run, topic


def extra(parser):
    parser.add_argument("--late-by", type=float, default=1.0,
                        help="how long after 1.5 x keepalive the close may come, seconds")


def scenario(args):
    t = topic("keepalive")
    watcher = Client(args, "ka-watcher")
    watcher.subscribe(t, qos=1)

    pinger = Raw(args).connect("ka-pinger", keepalive=2)
    silent = Raw(args).connect("ka-silent", keepalive=2, will=(t, "expired", 1, False))
    started = time.monotonic()
    closed = {}

    def watch_silent():
        try:
            silent.wait_closed(timeout=15)
            closed["at"] = time.monotonic()
        except Exception as error:  # reported below, in the main thread
            closed["error"] = error

    watching = threading.Thread(target=watch_silent, daemon=True)
    watching.start()
    for _ in range(4):  # the pinger stays alive for 4 s, twice its keepalive
        pinger.send(PINGREQ, 0, b"")
        pinger.expect(PINGRESP, what="PINGRESP")
        time.sleep(1.0)
    watching.join(15)
    check("error" not in closed, f"silent client: {closed.get('error')}")
    check("at" in closed, "the silent client was not closed")
    elapsed = closed["at"] - started
    # 1.5 x keepalive = 3 s: never before (less a little timer slack), at most --late-by after.
    latest = 3.0 + args.late_by
    check(2.8 <= elapsed <= latest,
          f"silent client closed after {elapsed:.2f}s, expected 1.5 x 2 s keepalive (2.8-{latest:.1f} s)")
    got = watcher.expect(1, what="will of the expired client")
    check(got[0].payload == b"expired", f"will payload {got[0].payload!r}")
    pinger.send(PINGREQ, 0, b"")
    pinger.expect(PINGRESP, what="PINGRESP after 4 s of pinging")
    pinger.disconnect()
    watcher.disconnect()
    print(f"silent client closed after {elapsed:.2f}s (keepalive 2 s)")


if __name__ == "__main__":
    run(__doc__, scenario, extra)
