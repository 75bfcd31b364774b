#!/usr/bin/python3
"""v5 Request Problem Information 0 (MQTT-3.1.2-29): the server sends no Reason String
and no User Property on packets other than PUBLISH, CONNACK and DISCONNECT. A PUBLISH
to `$SYS/...` is refused by both brokers; its PUBACK must then carry no reason string."""

import struct

from mqtt_e2e import PUBACK, Raw, check, decode_props, prop, run


def puback_props(raw, mid):
    raw.publish("$SYS/e2e/problem-information", b"x", qos=1, mid=mid)
    while True:
        packet = raw.expect(PUBACK, what="PUBACK")
        if struct.unpack_from("!H", packet.body, 0)[0] == mid:
            break
    if len(packet.body) <= 3:
        return packet.body[2] if len(packet.body) > 2 else 0, []
    items, _ = decode_props(packet.body, 3)
    return packet.body[2], items


def scenario(args):
    quiet = Raw(args, 5).connect("rpi-off", props=[(0x17, 0)])
    code, items = puback_props(quiet, 7)
    check(code >= 0x80, f"PUBACK {code:#x} to a PUBLISH on $SYS is not a refusal")
    check(prop(items, 0x1F) is None, f"PUBACK {code:#x} carries a reason string with Request Problem Information 0")
    check(prop(items, 0x26) is None, f"PUBACK {code:#x} carries a user property with Request Problem Information 0")
    quiet.disconnect()

    # The default (1) may carry them: the same refusal is still acknowledged.
    talkative = Raw(args, 5).connect("rpi-on")
    code, _ = puback_props(talkative, 8)
    check(code >= 0x80, f"PUBACK {code:#x} to a PUBLISH on $SYS is not a refusal")
    talkative.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
