#!/usr/bin/python3
"""Redelivery after reconnect: QoS 1 and QoS 2 messages sent to a persistent subscriber that
never acknowledged them are sent again (DUP set, same content) when it reconnects, and a
PUBREL whose PUBCOMP never came is sent again; once acknowledged nothing more arrives."""

import struct

from mqtt_e2e import Client, Raw, PUBACK, PUBREC, PUBREL, PUBCOMP, check, run, topic


def session(args, version, name, clean):
    connect_props = [(0x11, 300)] if version == 5 else None
    return Raw(args, version).connect(name, clean=clean, props=connect_props)


def redeliver(args, version):
    t = topic(f"redeliver-v{version}")
    name = f"redeliver-v{version}"
    raw = session(args, version, name, True)
    raw.disconnect()
    raw = session(args, version, name, False)
    check(raw.subscribe(1, [(t, 2)]) == [2], "SUBACK did not grant QoS 2")
    pub = Client(args, f"redeliver-pub-v{version}", version=version)
    pub.publish(t, "a", qos=1)
    pub.publish(t, "b", qos=1)
    pub.publish(t, "c", qos=2)
    first = [raw.read_publish(what=f"publish {i}") for i in range(3)]
    check([(m.payload, m.qos) for m in first] == [(b"a", 1), (b"b", 1), (b"c", 2)],
          f"first delivery {first}")
    raw.close()  # no PUBACK, no PUBREC

    raw = session(args, version, name, False)
    check(raw.session_present, "session present flag not set after reconnect")
    again = [raw.read_publish(what=f"redelivered publish {i}") for i in range(3)]
    check([(m.payload, m.qos) for m in again] == [(b"a", 1), (b"b", 1), (b"c", 2)],
          f"redelivery {again}")
    check(all(m.dup for m in again), f"redelivered PUBLISH without DUP: {again}")
    check([m.mid for m in again] == [m.mid for m in first], "redelivery changed packet ids")
    raw.ack(PUBACK, again[0].mid)
    raw.ack(PUBACK, again[1].mid)
    raw.ack(PUBREC, again[2].mid)
    rel = raw.expect(PUBREL, what="PUBREL")
    check(struct.unpack("!H", rel.body[:2])[0] == again[2].mid, "PUBREL for the wrong packet id")
    raw.close()  # no PUBCOMP

    raw = session(args, version, name, False)
    rel = raw.expect(PUBREL, what="PUBREL resent after reconnect")
    check(struct.unpack("!H", rel.body[:2])[0] == again[2].mid, "resent PUBREL for the wrong packet id")
    raw.ack(PUBCOMP, again[2].mid)
    raw.expect_no_publish(1.0)
    raw.disconnect()
    raw = session(args, version, name, False)
    raw.expect_no_publish(1.0)
    raw.disconnect()
    pub.disconnect()


def scenario(args):
    redeliver(args, 4)
    redeliver(args, 5)


if __name__ == "__main__":
    run(__doc__, scenario)
