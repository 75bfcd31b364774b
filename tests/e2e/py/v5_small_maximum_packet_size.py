#!/usr/bin/python3
"""v5 Maximum Packet Size below the broker's usual packets: no packet the broker sends
is larger than the client allowed, CONNACK and DISCONNECT included (the Reason String is
what it drops) [MQTT-3.1.2-24]; and a PUBLISH from a client carrying a Subscription
Identifier is a protocol error [MQTT-3.3.4-6]."""

import struct

from mqtt_e2e import (Closed, Raw, check, client_id, encode_props, run, topic, utf8, varint, CONNACK, CONNECT,
                      DISCONNECT)


def size(packet):
    return 1 + len(varint(len(packet.body))) + len(packet.body)


def read_all(raw, limit, timeout):
    """Every packet until the broker closes (or the timeout); each checked against limit."""
    packets = []
    try:
        while True:
            packet = raw.read(timeout)
            if packet is None:
                return packets, False
            check(size(packet) <= limit, f"{packet} is {size(packet)} bytes, the client allowed {limit}")
            packets.append(packet)
    except Closed:
        return packets, True


def scenario(args):
    # A refused CONNECT (unknown authentication method): the CONNACK fits in 16 bytes.
    raw = Raw(args, 5)
    props = encode_props([(0x27, 16), (0x15, "no-such-method")])
    body = utf8("MQTT") + bytes([5, 0x02]) + struct.pack("!H", 60) + props + utf8(client_id(args, "small-refused"))
    raw.send(CONNECT, 0, body)
    packets, _ = read_all(raw, 16, 3)
    check(packets and packets[0].kind == CONNACK, f"expected a CONNACK, got {packets}")
    check(packets[0].body[1] >= 0x80, f"CONNECT with an unknown authentication method accepted: {packets[0]}")
    raw.close()

    # Accepted with Maximum Packet Size 40; a PUBLISH with a Subscription Identifier ends
    # the connection, and what the broker says on the way fits too.
    raw = Raw(args, 5).connect("small-accepted", props=[(0x27, 40)])
    raw.publish(topic("small"), "x", qos=1, mid=1, props=[(0x0B, 5)])
    packets, closed = read_all(raw, 40, 5)
    check(closed, f"a PUBLISH with a Subscription Identifier did not end the connection: {packets}")
    for packet in packets:
        if packet.kind == DISCONNECT:
            check(packet.body[0] == 0x82, f"DISCONNECT reason {packet.body[0]:#x}, expected 0x82 protocol error")
    raw.close()


if __name__ == "__main__":
    run(__doc__, scenario)
