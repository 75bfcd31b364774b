#!/usr/bin/python3
"""v5 no-local: with No Local set a client does not receive its own publishes but still
gets other clients' ones; without it, it receives its own."""

from mqtt_e2e import Client, SubscribeOptions, barrier, check, run, topic


def scenario(args):
    t = topic("nolocal")
    me = Client(args, "nolocal-me", version=5)
    me.subscribe(t, options=SubscribeOptions(qos=1, noLocal=True))
    other = Client(args, "nolocal-other", version=5)
    me.publish(t, "mine", qos=1)
    other.publish(t, "theirs", qos=1)
    got = me.expect(1, what="the other client's message")
    check(got[0].payload == b"theirs", f"got {got[0].payload!r}: own message delivered despite No Local")
    barrier(me, args)
    me.expect_none(0.5, "own message with No Local")

    echo = Client(args, "nolocal-echo", version=5)
    echo.subscribe(t, options=SubscribeOptions(qos=1, noLocal=False))
    echo.publish(t, "echo", qos=1)
    got = echo.expect(1, what="own message without No Local")
    check(got[0].payload == b"echo", f"got {got[0].payload!r}")
    for client in (me, other, echo):
        client.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
