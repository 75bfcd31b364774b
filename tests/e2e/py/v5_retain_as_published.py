#!/usr/bin/python3
"""v5 retain-as-published: a live retained publish reaches a subscriber with RAP=1 with
the retain flag set and a subscriber with RAP=0 with it clear; retained messages sent on
subscribe always carry the flag."""

from mqtt_e2e import Client, SubscribeOptions, check, run, topic


def scenario(args):
    t = topic("rap")
    keep = Client(args, "rap-keep", version=5)
    keep.subscribe(t, options=SubscribeOptions(qos=1, retainAsPublished=True))
    clear = Client(args, "rap-clear", version=5)
    clear.subscribe(t, options=SubscribeOptions(qos=1, retainAsPublished=False))
    pub = Client(args, "rap-pub", version=5)
    pub.publish(t, "r", qos=1, retain=True)
    pub.publish(t, "n", qos=1, retain=False)
    got = keep.expect(2, what="deliveries with RAP=1")
    check([(m.payload, m.retain) for m in got] == [(b"r", True), (b"n", False)],
          f"RAP=1 got {[(m.payload, m.retain) for m in got]}")
    got = clear.expect(2, what="deliveries with RAP=0")
    check([(m.payload, m.retain) for m in got] == [(b"r", False), (b"n", False)],
          f"RAP=0 got {[(m.payload, m.retain) for m in got]}")
    late = Client(args, "rap-late", version=5)
    late.subscribe(t, options=SubscribeOptions(qos=1, retainAsPublished=False))
    got = late.expect(1, what="retained message on subscribe")[0]
    check(got.retain, "retained message on subscribe without the retain flag")
    pub.publish(t, b"", qos=1, retain=True)
    for client in (keep, clear, late, pub):
        client.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
