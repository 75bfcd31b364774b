#!/usr/bin/python3
"""Overlapping subscriptions in 3.1.1: a client whose filters a/# (QoS 2) and a/+ (QoS 1)
both match gets ONE copy, at the highest granted QoS (2)."""

from mqtt_e2e import Client, Raw, check, run, topic


def scenario(args):
    root = topic("overlap")
    raw = Raw(args).connect("overlap-sub")
    check(raw.subscribe(1, [(f"{root}/#", 2), (f"{root}/+", 1)]) == [2, 1], "unexpected SUBACK")
    pub = Client(args, "overlap-pub")
    pub.publish(f"{root}/x", "one", qos=2)
    msg = raw.read_publish(what="the overlapping delivery")
    check(msg.payload == b"one", f"got {msg}")
    if msg.qos == 2:
        raw.ack(5, msg.mid)  # PUBREC
        raw.expect(6, what="PUBREL")
        raw.ack(7, msg.mid)
    elif msg.qos == 1:
        raw.ack(4, msg.mid)
    raw.expect_no_publish(1.5)
    check(msg.qos == 2, f"one copy delivered at QoS {msg.qos}, expected the highest granted QoS 2")
    raw.disconnect()
    pub.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
