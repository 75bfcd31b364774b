#!/usr/bin/python3
"""v5 message expiry: a queued message whose expiry passes while the subscriber is offline
is dropped; a surviving one arrives with its remaining lifetime (smaller than sent); an
expired retained message is no longer delivered on subscribe."""

import time

from mqtt_e2e import Client, PacketTypes, SubscribeOptions, check, props, run, topic


def scenario(args):
    t = topic("msgexpiry")
    session = props(PacketTypes.CONNECT, SessionExpiryInterval=300)
    sub = Client(args, "mx-sub", version=5, clean=True, connect_props=session)
    sub.subscribe(t, options=SubscribeOptions(qos=1))
    sub.disconnect()

    pub = Client(args, "mx-pub", version=5)
    pub.publish(t, "short", qos=1, props=props(PacketTypes.PUBLISH, MessageExpiryInterval=2))
    pub.publish(t, "long", qos=1, props=props(PacketTypes.PUBLISH, MessageExpiryInterval=60))
    pub.publish(f"{t}/retained", "ret-short", qos=1, retain=True,
                props=props(PacketTypes.PUBLISH, MessageExpiryInterval=2))
    time.sleep(4.0)

    sub = Client(args, "mx-sub", version=5, clean=False, connect_props=session)
    got = sub.expect(1, what="the unexpired message")
    check(got[0].payload == b"long", f"got {got[0].payload!r}; the 2 s message should have expired")
    remaining = getattr(got[0].properties, "MessageExpiryInterval", None)
    check(remaining is not None, "delivered message lost its Message Expiry Interval")
    check(remaining <= 58, f"Message Expiry Interval {remaining}, expected 60 minus the time queued")
    sub.expect_none(1.0, "expired message")
    sub.subscribe(f"{t}/retained", options=SubscribeOptions(qos=1))
    sub.expect_none(1.0, "expired retained message")
    sub.disconnect()
    pub.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
