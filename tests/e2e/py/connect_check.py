#!/usr/bin/python3
"""CONNECT with exactly the given username, password and client id and check the CONNACK
code (3.1.1: 0 or 5 "not authorized"; 5.0: 0 or 0x87). On success, also make a QoS 1
round trip through the broker on --topic."""

from mqtt_e2e import PUBACK, Publish, Raw, check, run


def extra(parser):
    parser.add_argument("--version", type=int, choices=(4, 5), default=4)
    parser.add_argument("--expect-rc", type=lambda v: int(v, 0), default=0)
    parser.add_argument("--topic", default="telemetry")


def scenario(args):
    raw = Raw(args, args.version).connect("", expect_rc=args.expect_rc)
    if args.expect_rc != 0:
        raw.wait_closed(timeout=10)
        return
    check(raw.subscribe(1, [(args.topic, 1)])[0] == 1, "SUBACK did not grant QoS 1")
    raw.publish(args.topic, "round-trip", qos=1, mid=2)
    seen_ack = seen_msg = False
    while not (seen_ack and seen_msg):
        packet = raw.read(10)
        check(packet is not None, f"round trip incomplete (PUBACK {seen_ack}, message {seen_msg})")
        if packet.kind == PUBACK:
            seen_ack = True
        elif packet.kind == 3:
            msg = Publish(packet, args.version)
            check(msg.payload == b"round-trip", f"got {msg}")
            raw.ack(PUBACK, msg.mid)
            seen_msg = True
    raw.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario, extra)
