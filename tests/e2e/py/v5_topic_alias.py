#!/usr/bin/python3
"""v5 topic aliases from the client: the broker advertises Topic Alias Maximum; a PUBLISH
that sets alias 1 with a topic, then PUBLISHes with an empty topic and alias 1, all reach
subscribers under the full topic; an alias can be remapped."""

from mqtt_e2e import Client, Raw, PUBACK, SubscribeOptions, check, prop, run, topic


def scenario(args):
    t = topic("alias")
    sub = Client(args, "alias-sub", version=5)
    sub.subscribe(f"{t}/#", options=SubscribeOptions(qos=1))
    raw = Raw(args, 5).connect("alias-pub")
    maximum = prop(raw.connack_props, 0x22, 0)
    check(maximum >= 1, f"broker advertises Topic Alias Maximum {maximum}; aliases cannot be used")
    raw.publish(f"{t}/a", "first", qos=1, mid=1, props=[(0x23, 1)])
    raw.expect(PUBACK, what="PUBACK 1")
    raw.publish("", "second", qos=1, mid=2, props=[(0x23, 1)])
    raw.expect(PUBACK, what="PUBACK for the aliased publish")
    raw.publish(f"{t}/b", "third", qos=1, mid=3, props=[(0x23, 1)])
    raw.expect(PUBACK, what="PUBACK 3")
    raw.publish("", "fourth", qos=1, mid=4, props=[(0x23, 1)])
    raw.expect(PUBACK, what="PUBACK for the remapped alias")
    got = sub.expect(4, what="aliased messages")
    check([(m.topic, m.payload) for m in got] ==
          [(f"{t}/a", b"first"), (f"{t}/a", b"second"), (f"{t}/b", b"third"), (f"{t}/b", b"fourth")],
          f"got {[(m.topic, m.payload) for m in got]}")
    raw.disconnect()
    sub.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
