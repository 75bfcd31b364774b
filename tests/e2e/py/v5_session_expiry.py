#!/usr/bin/python3
"""v5 session expiry: a session with expiry 2 s is gone after the client stays away longer
(no session present, nothing queued); expiry 0 ends the session at disconnect; a longer
expiry keeps subscriptions and queued messages; DISCONNECT may shorten it to 0."""

import time

from mqtt_e2e import Client, PacketTypes, SubscribeOptions, check, props, run, topic


def connect(args, name, clean, expiry):
    p = props(PacketTypes.CONNECT, SessionExpiryInterval=expiry) if expiry is not None else None
    return Client(args, name, version=5, clean=clean, connect_props=p)


def scenario(args):
    t = topic("expiry")
    pub = Client(args, "sx-pub", version=5)

    sub = connect(args, "sx-short", True, 2)
    sub.subscribe(t, options=SubscribeOptions(qos=1))
    sub.disconnect()
    time.sleep(4.0)  # well past the 2 s expiry
    pub.publish(t, "into-the-void", qos=1)
    sub = connect(args, "sx-short", False, 2)
    check(not sub.connack_flags.get("session present"), "session survived its 2 s expiry")
    sub.expect_none(1.0, "message for an expired session")
    sub.disconnect()

    sub = connect(args, "sx-zero", True, None)
    sub.subscribe(t, options=SubscribeOptions(qos=1))
    sub.disconnect()
    pub.publish(t, "zero", qos=1)
    sub = connect(args, "sx-zero", False, None)
    check(not sub.connack_flags.get("session present"), "session with expiry 0 outlived its connection")
    sub.expect_none(1.0, "message for a session with expiry 0")
    sub.disconnect()

    sub = connect(args, "sx-long", True, 120)
    sub.subscribe(t, options=SubscribeOptions(qos=1))
    sub.disconnect()
    pub.publish(t, "kept", qos=1)
    sub = connect(args, "sx-long", False, 120)
    check(sub.connack_flags.get("session present"), "session with expiry 120 s was lost")
    got = sub.expect(1, what="message queued for the long session")
    check(got[0].payload == b"kept", f"got {got[0].payload!r}")
    # DISCONNECT with session expiry 0 ends it now.
    sub.paho.disconnect(properties=props(PacketTypes.DISCONNECT, SessionExpiryInterval=0))
    sub.disconnected.wait(5)
    sub.paho.loop_stop()
    sub = connect(args, "sx-long", False, 120)
    check(not sub.connack_flags.get("session present"), "DISCONNECT with session expiry 0 kept the session")
    sub.disconnect()
    pub.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
