#!/usr/bin/python3
"""v5 shared subscriptions: members of $share/group/filter split the messages between them
(each message to exactly one member, more than one member used) while an ordinary
subscriber to the same filter gets every message; two groups each get every message."""

from mqtt_e2e import Client, SubscribeOptions, check, run, topic


def scenario(args):
    t = topic("shared")
    members = [Client(args, f"share-g1-{i}", version=5) for i in range(3)]
    for member in members:
        member.subscribe(f"$share/g1/{t}", options=SubscribeOptions(qos=1))
    other_group = Client(args, "share-g2", version=5)
    other_group.subscribe(f"$share/g2/{t}", options=SubscribeOptions(qos=1))
    plain = Client(args, "share-plain", version=5)
    plain.subscribe(t, options=SubscribeOptions(qos=1))
    pub = Client(args, "share-pub", version=5)
    total = 30
    for i in range(total):
        pub.publish(t, f"m{i}", qos=1)
    plain.expect(total, what="messages for the ordinary subscriber")
    other_group.expect(total, what="messages for the single-member group")
    counts, payloads = [], []
    for member in members:
        got = []
        while True:
            try:
                got.append(member.messages.get(timeout=1.5))
            except Exception:
                break
        counts.append(len(got))
        payloads += [m.payload for m in got]
    check(sorted(payloads) == sorted(f"m{i}".encode() for i in range(total)),
          f"group g1 got {len(payloads)} messages ({counts} per member), expected each of {total} once")
    check(sum(1 for c in counts if c) >= 2, f"only one member of the group got messages: {counts}")
    print(f"shared group split {counts}")
    for client in members + [other_group, plain, pub]:
        client.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
