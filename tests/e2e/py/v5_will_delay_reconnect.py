#!/usr/bin/python3
"""v5 Will Delay Interval: a client that loses its connection and reconnects (Clean
Start 0) within the delay suppresses its will [MQTT-3.1.3-9]; one that does not come back
has its will published once the delay has passed."""

import time

from mqtt_e2e import Raw, check, run, topic


def scenario(args):
    t = topic("willdelay")
    watcher = Raw(args, 5).connect("willdelay-watch")
    check(watcher.subscribe(1, [(f"{t}/#", 0)]) == [0], "SUBACK")
    # Comes back after 0.5 s: no will (delay 3 s, session expiry 60 s).
    a = Raw(args, 5).connect("willdelay-a", clean=False, props=[(0x11, 60)],
                             will=(f"{t}/a", "gone", 0, False, [(0x18, 3)]))
    a.close()
    time.sleep(0.5)
    a = Raw(args, 5).connect("willdelay-a", clean=False, props=[(0x11, 60)])
    check(a.session_present, "the session did not survive the reconnect")
    watcher.expect_no_publish(4.0)
    # Does not come back: the will arrives after the delay.
    b = Raw(args, 5).connect("willdelay-b", clean=False, props=[(0x11, 60)],
                             will=(f"{t}/b", "gone", 0, False, [(0x18, 1)]))
    b.close()
    message = watcher.read_publish(timeout=6, what="the will of the client that did not come back")
    check(message.topic == f"{t}/b", f"will on {message.topic}")
    a.disconnect()
    watcher.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
