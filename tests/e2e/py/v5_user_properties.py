#!/usr/bin/python3
"""v5 properties passed through: user properties (repeated keys, order kept), content type,
response topic, correlation data and payload format reach the subscriber unchanged."""

from mqtt_e2e import Client, PacketTypes, SubscribeOptions, check, props, run, topic


def scenario(args):
    t = topic("userprops")
    sub = Client(args, "up-sub", version=5)
    sub.subscribe(t, options=SubscribeOptions(qos=1))
    pub = Client(args, "up-pub", version=5)
    sent = [("a", "1"), ("a", "2"), ("b", "x y"), ("ünï", "çødé")]
    pub.publish(t, "hello", qos=1, props=props(
        PacketTypes.PUBLISH, UserProperty=sent, ContentType="text/plain", ResponseTopic=f"{t}/reply",
        CorrelationData=b"\x00\x01corr", PayloadFormatIndicator=1))
    got = sub.expect(1, what="message with properties")[0]
    p = got.properties
    check(getattr(p, "UserProperty", None) == sent, f"user properties {getattr(p, 'UserProperty', None)}")
    check(getattr(p, "ContentType", None) == "text/plain", "content type lost")
    check(getattr(p, "ResponseTopic", None) == f"{t}/reply", "response topic lost")
    check(getattr(p, "CorrelationData", None) == b"\x00\x01corr", "correlation data lost")
    check(getattr(p, "PayloadFormatIndicator", None) == 1, "payload format indicator lost")
    sub.disconnect()
    pub.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
