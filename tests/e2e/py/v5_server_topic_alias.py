#!/usr/bin/python3
"""v5 topic aliases from the broker: a subscriber that announces Topic Alias Maximum 2
gets aliases 1 and 2 for the first two topics (topic and alias once, then an empty topic
with the alias), never an alias above 2, and every message resolves to its topic."""

from mqtt_e2e import Raw, check, prop, run, topic


def scenario(args):
    t = topic("salias")
    sub = Raw(args, 5).connect("salias-sub", props=[(0x22, 2)])
    check(sub.subscribe(1, [(f"{t}/#", 0)]) == [0], "SUBACK")
    pub = Raw(args, 5).connect("salias-pub")
    sent = [f"{t}/a", f"{t}/a", f"{t}/b", f"{t}/c", f"{t}/b", f"{t}/a", f"{t}/c"]
    for i, name in enumerate(sent):
        pub.publish(name, str(i), qos=0)
    bound = {}
    got = []
    aliased = 0
    for i in range(len(sent)):
        message = sub.read_publish(what=f"message {i}")
        alias = prop(message.props, 0x23)
        if alias is not None:
            check(1 <= alias <= 2, f"alias {alias} outside the client's Topic Alias Maximum 2")
            if message.topic:
                bound[alias] = message.topic
            else:
                check(alias in bound, f"empty topic with unbound alias {alias}")
                aliased += 1
        name = message.topic or bound.get(alias)
        got.append((name, message.payload.decode()))
    check(got == [(name, str(i)) for i, name in enumerate(sent)], f"resolved {got}")
    check(aliased >= 3, f"only {aliased} messages used a bound alias; expected the repeats of a and b")
    pub.disconnect()
    sub.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
