#!/usr/bin/python3
"""Keepalive: a client that stops sending anything is disconnected after about 1.5x its
keepalive (never before the keepalive itself) and its will is published; a client that
pings stays connected and gets PINGRESP."""

import time

from mqtt_e2e import Client, Raw, PINGREQ, PINGRESP, check, run, topic


def scenario(args):
    t = topic("keepalive")
    watcher = Client(args, "ka-watcher")
    watcher.subscribe(t, qos=1)

    pinger = Raw(args).connect("ka-pinger", keepalive=2)
    silent = Raw(args).connect("ka-silent", keepalive=2, will=(t, "expired", 1, False))
    started = time.monotonic()
    for _ in range(4):  # the pinger stays alive for 4 s, twice its keepalive
        pinger.send(PINGREQ, 0, b"")
        pinger.expect(PINGRESP, what="PINGRESP")
        time.sleep(1.0)
    silent.wait_closed(timeout=15)
    elapsed = time.monotonic() - started
    check(elapsed >= 2.0, f"closed after {elapsed:.1f}s, before the 2 s keepalive")
    got = watcher.expect(1, what="will of the expired client")
    check(got[0].payload == b"expired", f"will payload {got[0].payload!r}")
    pinger.send(PINGREQ, 0, b"")
    pinger.expect(PINGRESP, what="PINGRESP after 4 s of pinging")
    pinger.disconnect()
    watcher.disconnect()
    print(f"silent client closed after {elapsed:.1f}s (keepalive 2 s)")


if __name__ == "__main__":
    run(__doc__, scenario)
