#!/usr/bin/python3
"""MQTT 3.1 is 3.1, not 3.1.1: a zero-length client id gets CONNACK 2 (identifier
rejected); the CONNECT fixed-header flags and the reserved connect flag, unused in 3.1,
are ignored; a resent PUBREL with DUP=1 (legal in 3.1) is answered with PUBCOMP and the
connection stays."""

import struct

from mqtt_e2e import (Closed, Raw, check, client_id, run, topic, utf8, CONNACK, CONNECT, PINGREQ, PINGRESP,
                      PUBCOMP, PUBREC, PUBREL)


def connect31(args, cid, header_flags=0, connect_flags=0x02):
    raw = Raw(args, 3)
    body = utf8("MQIsdp") + bytes([3, connect_flags]) + struct.pack("!H", 60) + utf8(cid)
    if args.username:
        body = utf8("MQIsdp") + bytes([3, connect_flags | 0xC0]) + struct.pack("!H", 60) + utf8(cid)
        body += utf8(args.username) + utf8(args.password)
    raw.send(CONNECT, header_flags, body)
    return raw, raw.expect(CONNACK, what="CONNACK")


def scenario(args):
    # Zero-length client id: 3.1 requires 1 to 23 characters.
    raw, connack = connect31(args, "")
    check(connack.body[1] == 2, f"empty 3.1 client id: CONNACK code {connack.body[1]}, expected 2")
    try:
        raw.read(2)
    except Closed:
        pass
    raw.close()

    # Unused fixed-header flags (DUP) and reserved connect flag bit 0: accepted in 3.1.
    raw, connack = connect31(args, client_id(args, "mqtt31"), header_flags=0x08, connect_flags=0x03)
    check(connack.body[1] == 0, f"3.1 CONNECT with unused flags set refused with {connack.body[1]}")

    # QoS 2 publish; PUBREL, then the same PUBREL resent with DUP=1 as 3.1 allows.
    raw.publish(topic("mqtt31"), "x", qos=2, mid=7)
    rec = raw.expect(PUBREC, what="PUBREC")
    check(struct.unpack("!H", rec.body[:2])[0] == 7, "PUBREC for another packet id")
    raw.send(PUBREL, 0x02, struct.pack("!H", 7))
    raw.expect(PUBCOMP, what="PUBCOMP")
    raw.send(PUBREL, 0x0A, struct.pack("!H", 7))  # DUP=1, QoS 1
    try:
        raw.expect(PUBCOMP, what="PUBCOMP for the resent PUBREL (DUP=1)")
        raw.send(PINGREQ, 0, b"")
        raw.expect(PINGRESP, what="PINGRESP after the resent PUBREL")
    except Closed:
        check(False, "the broker closed the 3.1 connection on a PUBREL with DUP=1")
    raw.send(14, 0, b"")
    raw.close()


if __name__ == "__main__":
    run(__doc__, scenario)
