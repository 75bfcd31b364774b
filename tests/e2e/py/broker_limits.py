#!/usr/bin/python3
"""The reference broker's limits and refusals (docs/broker.md), one case per run (--case),
each against a broker started with the flags the case names:
  max_connections  (--max-connections 2) a third TCP connection is closed before CONNECT
  max_packet_size  (--max-packet-size 1024) announced; a larger packet is refused from its
                   fixed header alone: v5 DISCONNECT 0x95, 3.1.1 closed
  receive_maximum  (--max-inflight 2) announced as Receive Maximum; a third QoS 2 PUBLISH
                   awaiting PUBREL gets DISCONNECT 0x93
  max_queued       (--max-inflight 5 --max-queued 10 --sys-interval 1) a connected QoS 1
                   subscriber that stops acknowledging while 40 messages are published gets
                   the first 5 + 10 in order, nothing else; the 25 newest are dropped and
                   counted in $SYS/broker/messages/dropped (delivered + dropped = published)
  keepalive_v5     a silent v5 client gets DISCONNECT 0x8D
  empty_client_id  v5: Assigned Client Identifier; 3.1.1 clean session 1 accepted, 0 refused (2)
  enhanced_auth    a CONNECT with an Authentication Method gets CONNACK 0x8C
  will_refused     (a registry whose rules allow publishing only under ok/) a will on a
                   refused topic is not published, one on an allowed topic is
  durable_ack_failure (--data-dir, --durable-ack; the broker may not grow a file past
                   256 KiB, as on a full disk) a retained message that fits is
                   acknowledged; one whose commit fails gets v5 PUBACK 0x80, and a 3.1.1
                   publisher is disconnected without an acknowledgement
  connack          prints the CONNACK's Maximum Packet Size and Receive Maximum
  stall            a v5 subscriber that stops reading while ~24 MB are published to it;
                   prints READY and holds on, so a broker shutdown cannot finish at once
"""

import struct
import time

from mqtt_e2e import (PUBACK, PUBLISH, PUBREC, Client, Closed, Publish, Raw, check,
                      fail, prop, run, topic, utf8, varint)


def extra(parser):
    parser.add_argument("--case", required=True)


def disconnect_reason(raw, timeout=10):
    packet = raw.wait_closed(timeout)
    if packet is None:
        return None
    return packet.body[0] if packet.body else 0


def max_connections(args):
    first = Raw(args, 5).connect("mc-1")
    second = Raw(args, 5).connect("mc-2")
    third = Raw(args, 5)
    try:
        packet = third.read(5)
    except Closed:
        packet = "closed"
    check(packet == "closed", f"a third connection over --max-connections 2 was not closed at once: {packet}")
    first.disconnect()
    # The slot is free again once the broker has seen the first connection end.
    deadline = time.monotonic() + 10
    while True:
        try:
            Raw(args, 5).connect("mc-3").disconnect()
            break
        except (Closed, OSError):
            check(time.monotonic() < deadline, "no connection accepted after one of two ended")
            time.sleep(0.2)
    second.disconnect()


def max_packet_size(args):
    t = topic("mps")
    v5 = Raw(args, 5).connect("mps-v5")
    check(prop(v5.connack_props, 0x27) == 1024, f"CONNACK Maximum Packet Size {prop(v5.connack_props, 0x27)}")
    v5.publish(t, b"x" * 900, qos=1, mid=1)  # under the limit: accepted
    ack = v5.expect(PUBACK, what="PUBACK of a packet under the limit")
    check(struct.unpack_from("!H", ack.body, 0)[0] == 1, "PUBACK for another packet id")
    # A PUBLISH announcing 5000 bytes, of which only the start is sent: the fixed header
    # alone must be enough to refuse it.
    body = utf8(t) + struct.pack("!H", 2) + b"\x00"
    v5.sock.sendall(bytes([(PUBLISH << 4) | 2]) + varint(5000) + body + b"y" * 20)
    code = disconnect_reason(v5)
    check(code == 0x95, f"v5 client over the maximum packet size: DISCONNECT {code!r}, expected 0x95")

    v4 = Raw(args, 4).connect("mps-v4")
    body = utf8(t) + struct.pack("!H", 2)
    v4.sock.sendall(bytes([(PUBLISH << 4) | 2]) + varint(5000) + body + b"y" * 20)
    code = disconnect_reason(v4)
    check(code is None, f"3.1.1 client got a DISCONNECT packet {code!r}")


def receive_maximum(args):
    raw = Raw(args, 5).connect("rm")
    check(prop(raw.connack_props, 0x21) == 2, f"CONNACK Receive Maximum {prop(raw.connack_props, 0x21)}, expected 2")
    t = topic("rm")
    for mid in (1, 2):
        raw.publish(t, b"x", qos=2, mid=mid)
        rec = raw.expect(PUBREC, what=f"PUBREC {mid}")
        check(struct.unpack_from("!H", rec.body, 0)[0] == mid, "PUBREC for another packet id")
    raw.publish(t, b"x", qos=2, mid=3)  # a third awaiting PUBREL: over Receive Maximum 2
    code = disconnect_reason(raw)
    check(code == 0x93, f"third QoS 2 PUBLISH over Receive Maximum 2: DISCONNECT {code!r}, expected 0x93")


def max_queued(args):
    t = topic("mq")
    sub = Raw(args, 4).connect("mq-sub")
    check(sub.subscribe(1, [(t, 1)]) == [1], "SUBACK did not grant QoS 1")
    pub = Raw(args, 4).connect("mq-pub")
    for i in range(40):  # each acknowledged, so the broker has routed it
        pub.publish(t, str(i), qos=1, mid=i + 1)
        ack = pub.expect(PUBACK, what=f"PUBACK {i + 1}")
        check(struct.unpack_from("!H", ack.body, 0)[0] == i + 1, "PUBACK for another packet id")
    window = []
    while (packet := sub.read(1.0)) is not None:  # the in-flight window, unacknowledged
        check(packet.kind == PUBLISH, f"expected PUBLISH, got {packet}")
        window.append(Publish(packet, 4))
    check(len(window) == 5, f"{len(window)} PUBLISH in flight unacknowledged, expected --max-inflight 5")
    got = [m.payload.decode() for m in window]
    for m in window:
        sub.ack(PUBACK, m.mid)
    while (packet := sub.read(2.0)) is not None:  # the queue, acknowledged as it arrives
        check(packet.kind == PUBLISH, f"expected PUBLISH, got {packet}")
        m = Publish(packet, 4)
        check(m.qos == 1 and not m.dup, f"queued message sent as {m}")
        got.append(m.payload.decode())
        sub.ack(PUBACK, m.mid)
    check(got == [str(i) for i in range(15)], f"delivered {got}, expected 0..14 (5 in flight + 10 queued)")
    probe = Raw(args, 4).connect("mq-sys")
    probe.subscribe(1, [("$SYS/broker/messages/dropped", 0)])
    deadline, value = time.monotonic() + 5, None
    while value != b"25" and time.monotonic() < deadline:
        packet = probe.read(2.0)
        if packet is not None and packet.kind == PUBLISH:
            value = Publish(packet, 4).payload
    check(value == b"25", f"$SYS/broker/messages/dropped {value!r}, expected 25 (40 published - 15 delivered)")
    for raw in (sub, pub, probe):
        raw.disconnect()


def keepalive_v5(args):
    raw = Raw(args, 5).connect("ka-v5", keepalive=1)
    code = disconnect_reason(raw, timeout=10)
    check(code == 0x8D, f"silent v5 client: DISCONNECT {code!r}, expected 0x8D keep alive timeout")


def empty_client_id(args):
    first = Raw(args, 5).connect("")
    assigned = prop(first.connack_props, 0x12)
    check(bool(assigned), f"v5 CONNACK with an empty client id has no Assigned Client Identifier: {first.connack_props}")
    second = Raw(args, 5).connect("")
    other = prop(second.connack_props, 0x12)
    check(other and other != assigned, f"two empty client ids were assigned {assigned!r} and {other!r}")
    first.disconnect()
    second.disconnect()
    Raw(args, 4).connect("", clean=True).disconnect()
    refused = Raw(args, 4).connect("", clean=False, expect_rc=2)
    check(disconnect_reason(refused) is None, "the refused 3.1.1 connection was not closed")


def enhanced_auth(args):
    raw = Raw(args, 5).connect("auth", props=[(0x15, "SCRAM-SHA-1")], expect_rc=0x8C)
    check(disconnect_reason(raw) is None, "a refused CONNECT left the connection open")


def will_refused(args):
    watcher = Client(args, "watcher", version=5)
    watcher.subscribe("#", qos=1)
    refused = Raw(args, 5).connect("d1", will=("secret/w", "refused-will", 1, False))
    refused.close()
    watcher.expect_none(2.0, "a will on a topic the access rules refuse")
    allowed = Raw(args, 5).connect("d1", will=("ok/w", "allowed-will", 1, False))
    allowed.close()
    got = watcher.expect(1, what="a will on an allowed topic")
    check((got[0].topic, got[0].payload) == ("ok/w", b"allowed-will"), f"got {got[0].topic} {got[0].payload!r}")
    watcher.disconnect()


def durable_ack_failure(args):
    t = topic("durable")
    v5 = Raw(args, 5).connect("da-v5")
    v5.publish(t + "/fits", b"small", qos=1, mid=1, retain=True)
    ack = v5.expect(PUBACK, what="PUBACK of a message that fits on the disk")
    check(ack.body[:2] == struct.pack("!H", 1), f"PUBACK for another packet id: {ack}")
    check(len(ack.body) < 3 or ack.body[2] < 0x80, f"a message that fits was refused: {ack}")
    v5.publish(t + "/big", b"x" * 400000, qos=1, mid=2, retain=True)  # its commit cannot fit
    ack = v5.expect(PUBACK, timeout=20, what="PUBACK of a message whose commit failed")
    check(ack.body[:2] == struct.pack("!H", 2), f"PUBACK for another packet id: {ack}")
    check(len(ack.body) >= 3 and ack.body[2] == 0x80, f"failed commit: PUBACK {ack}, expected reason 0x80")
    v5.disconnect()

    v4 = Raw(args, 4).connect("da-v4")
    v4.publish(t + "/big4", b"y" * 400000, qos=1, mid=3, retain=True)
    deadline = time.monotonic() + 20
    while True:
        check(time.monotonic() < deadline, "the 3.1.1 publisher of a failed commit was not disconnected")
        try:
            packet = v4.read(1)
        except Closed:
            break
        check(packet is None, f"the 3.1.1 publisher of a failed commit got {packet}, expected to be disconnected")


def connack(args):
    raw = Raw(args, 5).connect("connack")
    print(f"maximum_packet_size={prop(raw.connack_props, 0x27)} receive_maximum={prop(raw.connack_props, 0x21)}")
    raw.disconnect()


def stall(args):
    t = topic("stall")
    reader = Raw(args, 5).connect("stalled-reader")
    check(reader.subscribe(1, [(t, 0)]) == [0], "SUBACK did not grant QoS 0")
    writer = Raw(args, 5).connect("stall-writer")
    chunk = b"z" * 8192
    for _ in range(3000):
        writer.publish(t, chunk)
    writer.publish(t, b"end", qos=1, mid=1)
    writer.expect(PUBACK, timeout=30, what="PUBACK after the 24 MB")
    print("READY", flush=True)
    time.sleep(30)


CASES = {f.__name__: f for f in (max_connections, max_packet_size, receive_maximum, max_queued, keepalive_v5,
                                 empty_client_id, enhanced_auth, will_refused, durable_ack_failure, connack, stall)}


def scenario(args):
    if args.case not in CASES:
        fail(f"unknown case {args.case}")
    CASES[args.case](args)


if __name__ == "__main__":
    run(__doc__, scenario, extra)
