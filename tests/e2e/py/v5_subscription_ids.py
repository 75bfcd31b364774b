#!/usr/bin/python3
"""v5 subscription identifiers: a delivery carries the identifier of every subscription of
the client that matched it (in one message or one per subscription), and none when the
matching subscription had no identifier."""

from mqtt_e2e import Client, PacketTypes, SubscribeOptions, check, props, run, topic


def ids(message):
    value = getattr(message.properties, "SubscriptionIdentifier", None)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def scenario(args):
    root = topic("subid")
    sub = Client(args, "subid-sub", version=5)
    sub.subscribe(f"{root}/+", options=SubscribeOptions(qos=1),
                  props=props(PacketTypes.SUBSCRIBE, SubscriptionIdentifier=7))
    sub.subscribe(f"{root}/both", options=SubscribeOptions(qos=1),
                  props=props(PacketTypes.SUBSCRIBE, SubscriptionIdentifier=900))
    sub.subscribe(f"{root}/plain/#", options=SubscribeOptions(qos=1))
    pub = Client(args, "subid-pub", version=5)

    pub.publish(f"{root}/one", "1", qos=1)
    got = sub.expect(1, what="message for one subscription")[0]
    check(ids(got) == [7], f"identifiers {ids(got)}, expected [7]")

    pub.publish(f"{root}/both", "2", qos=1)
    first = sub.expect(1, what="message for two subscriptions")[0]
    seen = ids(first)
    if len(seen) < 2:  # the broker may send one copy per subscription instead
        seen += ids(sub.expect(1, what="second copy for the second subscription")[0])
    check(sorted(seen) == [7, 900], f"identifiers {seen}, expected 7 and 900")
    sub.expect_none(1.0, "extra copy")

    pub.publish(f"{root}/plain/x", "3", qos=1)
    got = sub.expect(1, what="message for a subscription without identifier")[0]
    check(ids(got) == [], f"identifiers {ids(got)} on a subscription without one")
    sub.disconnect()
    pub.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
