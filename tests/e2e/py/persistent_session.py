#!/usr/bin/python3
"""Persistent sessions: a subscriber with clean_session=False (3.1.1) or clean_start=False
plus a session expiry (5.0) goes offline; QoS 1 and QoS 2 messages published meanwhile are
queued and delivered after it reconnects (session present); a clean session discards them."""

from mqtt_e2e import Client, PacketTypes, SubscribeOptions, check, props, run, topic


def offline_queue(args, version):
    t = topic(f"persist-v{version}")
    name = f"persist-sub-v{version}"
    connect_props = props(PacketTypes.CONNECT, SessionExpiryInterval=300) if version == 5 else None
    sub = Client(args, name, version=version, clean=True, connect_props=connect_props)
    sub.disconnect()
    sub = Client(args, name, version=version, clean=False, connect_props=connect_props)
    granted = sub.subscribe(t, qos=2) if version != 5 else sub.subscribe(t, options=SubscribeOptions(qos=2))
    check(granted == [2], f"v{version}: SUBACK {granted}, expected QoS 2")
    sub.disconnect()

    pub = Client(args, f"persist-pub-v{version}", version=version)
    expected = []
    for i in range(3):
        pub.publish(t, f"q1-{i}", qos=1)
        expected.append((f"q1-{i}", 1))
    for i in range(3):
        pub.publish(t, f"q2-{i}", qos=2)
        expected.append((f"q2-{i}", 2))

    sub = Client(args, name, version=version, clean=False, connect_props=connect_props)
    check(sub.connack_flags.get("session present") == 1, f"v{version}: session present flag not set")
    got = sub.expect(len(expected), what=f"v{version} queued messages")
    check([(m.payload.decode(), m.qos) for m in got] == expected,
          f"v{version}: got {[(m.payload, m.qos) for m in got]}, expected {expected}")
    sub.expect_none(1.0, "extra queued message")
    sub.disconnect()

    # Starting clean throws the session away: nothing queued, no session present.
    pub.publish(t, "after", qos=1)
    clean = Client(args, name, version=version, clean=True)
    check(not clean.connack_flags.get("session present"), f"v{version}: clean start reported a session")
    clean.expect_none(1.0, "message from a discarded session")
    clean.disconnect()
    pub.disconnect()


def scenario(args):
    offline_queue(args, 4)
    offline_queue(args, 5)


if __name__ == "__main__":
    run(__doc__, scenario)
