#!/usr/bin/python3
"""v5 will message expiry: a will's Message Expiry Interval starts when the will is
published; a will queued for an offline subscriber is dropped once it expired, and a
surviving one arrives with its remaining lifetime."""

import time

from mqtt_e2e import Client, PacketTypes, Raw, SubscribeOptions, check, props, run, topic


def scenario(args):
    t = topic("willexpiry")
    session = props(PacketTypes.CONNECT, SessionExpiryInterval=300)
    sub = Client(args, "wx-sub", version=5, clean=True, connect_props=session)
    sub.subscribe(f"{t}/#", options=SubscribeOptions(qos=1))
    sub.disconnect()

    # Two wills (QoS 1), expiry 2 s and 60 s, published at once when the sockets close.
    short = Raw(args, 5).connect("wx-short", will=(f"{t}/short", "short", 1, False, [(0x02, 2)]))
    long_ = Raw(args, 5).connect("wx-long", will=(f"{t}/long", "long", 1, False, [(0x02, 60)]))
    short.close()
    long_.close()
    time.sleep(4.0)

    sub = Client(args, "wx-sub", version=5, clean=False, connect_props=session)
    got = sub.expect(1, what="the unexpired will")
    check(got[0].payload == b"long", f"got {got[0].payload!r}; the 2 s will should have expired")
    remaining = getattr(got[0].properties, "MessageExpiryInterval", None)
    check(remaining is not None, "delivered will lost its Message Expiry Interval")
    check(remaining <= 58, f"Message Expiry Interval {remaining}, expected 60 minus the time queued")
    sub.expect_none(1.0, "expired will")
    sub.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
