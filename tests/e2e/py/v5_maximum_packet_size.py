#!/usr/bin/python3
"""v5 maximum packet size: the broker never sends a client a packet larger than the
Maximum Packet Size it announced (it drops that message) and keeps delivering the rest."""

from mqtt_e2e import Client, PacketTypes, SubscribeOptions, check, props, run, topic


def scenario(args):
    t = topic("maxpkt")
    sub = Client(args, "maxpkt-sub", version=5,
                 connect_props=props(PacketTypes.CONNECT, MaximumPacketSize=256))
    sub.subscribe(t, options=SubscribeOptions(qos=1))
    pub = Client(args, "maxpkt-pub", version=5)
    pub.publish(t, "small-1", qos=1)
    pub.publish(t, b"x" * 1000, qos=1)
    pub.publish(t, "small-2", qos=1)
    got = sub.expect(2, what="the messages that fit")
    check([m.payload for m in got] == [b"small-1", b"small-2"],
          f"got {[m.payload[:16] for m in got]} (sizes {[len(m.payload) for m in got]})")
    sub.expect_none(1.0, "message larger than Maximum Packet Size")
    check(sub.paho.is_connected(), "subscriber was disconnected instead of the message being dropped")
    sub.disconnect()
    pub.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
