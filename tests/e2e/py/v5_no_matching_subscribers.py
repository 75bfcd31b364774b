#!/usr/bin/python3
"""v5 PUBACK / PUBREC reason 0x10 (No matching subscribers) when no subscription matches
the topic, 0x00 when one does."""

import struct

from mqtt_e2e import Raw, check, run, topic, PUBACK, PUBCOMP, PUBREC


def reason(packet):
    return packet.body[2] if len(packet.body) > 2 else 0


def scenario(args):
    t = topic("nomatch")
    raw = Raw(args, 5).connect("nomatch-pub")
    raw.publish(f"{t}/nobody", "x", qos=1, mid=1)
    ack = raw.expect(PUBACK, what="PUBACK")
    check(reason(ack) == 0x10, f"PUBACK reason {reason(ack):#x} for a topic nobody subscribes, expected 0x10")
    raw.publish(f"{t}/nobody", "x", qos=2, mid=2)
    rec = raw.expect(PUBREC, what="PUBREC")
    check(reason(rec) == 0x10, f"PUBREC reason {reason(rec):#x} for a topic nobody subscribes, expected 0x10")
    raw.send(6, 2, struct.pack("!H", 2))
    raw.expect(PUBCOMP, what="PUBCOMP")

    sub = Raw(args, 5).connect("nomatch-sub")
    check(sub.subscribe(1, [(f"{t}/+", 0)]) == [0], "SUBACK")
    raw.publish(f"{t}/someone", "x", qos=1, mid=3)
    ack = raw.expect(PUBACK, what="PUBACK")
    check(reason(ack) == 0x00, f"PUBACK reason {reason(ack):#x} with a subscriber, expected 0x00")
    sub.disconnect()
    raw.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
