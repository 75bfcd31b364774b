#!/usr/bin/python3
"""v5 retain handling: 0 sends retained messages on every SUBSCRIBE (also a repeat), 1 only
when the subscription is new, 2 never."""

from mqtt_e2e import Client, SubscribeOptions, check, run, topic


def scenario(args):
    t = topic("rh")
    pub = Client(args, "rh-pub", version=5)
    pub.publish(t, "kept", qos=1, retain=True)

    for handling, first, repeat in ((0, 1, 1), (1, 1, 0), (2, 0, 0)):
        sub = Client(args, f"rh-{handling}", version=5)
        options = SubscribeOptions(qos=1, retainHandling=handling)
        sub.subscribe(t, options=options)
        if first:
            got = sub.expect(1, what=f"retained message with retain handling {handling}")[0]
            check(got.payload == b"kept" and got.retain, f"got {got.payload!r} retain={got.retain}")
        else:
            sub.expect_none(1.0, f"retained message with retain handling {handling}")
        sub.subscribe(t, options=options)
        if repeat:
            sub.expect(1, what=f"retained message on repeated subscribe (handling {handling})")
        else:
            sub.expect_none(1.0, f"retained message on repeated subscribe (handling {handling})")
        sub.disconnect()
    pub.publish(t, b"", qos=1, retain=True)
    pub.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
