#!/usr/bin/python3
"""QoS 2 end to end: every message arrives exactly once, at QoS 2, in order, including
when the publisher retransmits a PUBLISH (DUP) before releasing it, and the broker
completes PUBREC/PUBREL/PUBCOMP with a subscriber that acknowledges by hand."""

from mqtt_e2e import (Client, Raw, PUBREC, PUBREL, PUBCOMP, check, run, topic)
import struct


def scenario(args):
    t = topic("qos2")
    sub = Client(args, "q2-sub", clean=True)
    check(sub.subscribe(t, qos=2) == [2], "SUBACK did not grant QoS 2")
    pub = Client(args, "q2-pub")
    for i in range(20):
        pub.publish(t, f"m{i}", qos=2)
    got = sub.expect(20, what="QoS 2 messages")
    check([m.payload.decode() for m in got] == [f"m{i}" for i in range(20)],
          f"wrong order or content: {[m.payload for m in got]}")
    check(all(m.qos == 2 for m in got), f"delivered QoS {[m.qos for m in got]}, expected 2")
    sub.expect_none(1.0, "duplicate QoS 2 message")

    # A raw publisher sends the same QoS 2 packet twice (second with DUP) before PUBREL.
    raw = Raw(args).connect("q2-rawpub")
    raw.publish(t, "once", qos=2, mid=7)
    rec = raw.expect(PUBREC, what="PUBREC")
    check(struct.unpack("!H", rec.body[:2])[0] == 7, "PUBREC for the wrong packet id")
    raw.publish(t, "once", qos=2, mid=7, dup=True)
    raw.expect(PUBREC, what="PUBREC for the DUP retransmission")
    raw.ack(PUBREL, 7)
    comp = raw.expect(PUBCOMP, what="PUBCOMP")
    check(struct.unpack("!H", comp.body[:2])[0] == 7, "PUBCOMP for the wrong packet id")
    got = sub.expect(1, what="the retransmitted message")
    check(got[0].payload == b"once", f"got {got[0].payload!r}")
    sub.expect_none(1.0, "second copy of a retransmitted QoS 2 message")

    # A raw subscriber completes the outgoing flow by hand.
    rsub = Raw(args).connect("q2-rawsub")
    check(rsub.subscribe(1, [(t, 2)]) == [2], "raw SUBACK did not grant QoS 2")
    pub.publish(t, "by-hand", qos=2)
    msg = rsub.read_publish(what="QoS 2 PUBLISH to the raw subscriber")
    check(msg.qos == 2 and msg.payload == b"by-hand", f"got {msg}")
    rsub.ack(PUBREC, msg.mid)
    rel = rsub.expect(PUBREL, what="PUBREL from the broker")
    check(rel.flags == 2, f"PUBREL flags {rel.flags:#x}, expected 0x2")
    check(struct.unpack("!H", rel.body[:2])[0] == msg.mid, "PUBREL for the wrong packet id")
    rsub.ack(PUBCOMP, msg.mid)
    rsub.expect_no_publish(1.0)
    rsub.disconnect()
    raw.disconnect()
    pub.disconnect()
    sub.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
