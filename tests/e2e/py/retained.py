#!/usr/bin/python3
"""Retained messages (3.1.1): a new subscriber gets the last retained message with the
retain flag; a newer one replaces it; live subscribers get retained publishes with the
retain flag clear; a non-retained publish leaves it alone; an empty retained payload
deletes it; wildcards collect several retained topics."""

from mqtt_e2e import Client, check, run, topic


def scenario(args):
    t = topic("retained")
    root = t.rsplit("/", 1)[0]
    pub = Client(args, "ret-pub")
    live = Client(args, "ret-live")
    live.subscribe(t, qos=1)

    pub.publish(t, "v1", qos=1, retain=True)
    got = live.expect(1, what="live retained publish")[0]
    check(got.payload == b"v1" and not got.retain, f"live delivery retain={got.retain} (3.1.1 wants 0)")

    first = Client(args, "ret-first")
    first.subscribe(t, qos=1)
    got = first.expect(1, what="retained message on subscribe")[0]
    check(got.payload == b"v1" and got.retain, f"got {got.payload!r} retain={got.retain}")
    first.disconnect()

    pub.publish(t, "v2", qos=1, retain=True)
    pub.publish(t, "not-retained", qos=1, retain=False)
    live.expect(2, what="live publishes")
    second = Client(args, "ret-second")
    second.subscribe(t, qos=1)
    got = second.expect(1, what="replaced retained message")[0]
    check(got.payload == b"v2" and got.retain, f"got {got.payload!r} retain={got.retain}, expected v2")
    second.expect_none(1.0, "second retained message")
    second.disconnect()

    pub.publish(f"{root}/other", "o", qos=1, retain=True)
    wild = Client(args, "ret-wild")
    wild.subscribe(f"{root}/#", qos=1)
    got = wild.expect(2, what="retained messages under a wildcard")
    check(sorted(m.payload for m in got) == [b"o", b"v2"], f"got {[m.payload for m in got]}")
    check(all(m.retain for m in got), "wildcard retained delivery without retain flag")
    wild.disconnect()

    pub.publish(t, b"", qos=1, retain=True)
    pub.publish(f"{root}/other", b"", qos=1, retain=True)
    third = Client(args, "ret-third")
    third.subscribe(f"{root}/#", qos=1)
    third.expect_none(1.5, "retained message after it was deleted")
    third.disconnect()
    live.disconnect()
    pub.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
