#!/usr/bin/python3
"""Access rules for one device (exact --username/--password/--client-id): subscribing to a
refused filter gets SUBACK 0x80 (3.1.1) / 0x87 (5.0) while an allowed one is granted; a
refused PUBLISH is dropped (5.0: PUBACK 0x87) and an allowed one is delivered."""

import struct

from mqtt_e2e import PUBACK, Publish, Raw, check, run


def extra(parser):
    parser.add_argument("--allowed-filter", required=True, help="a filter the device may subscribe to")
    parser.add_argument("--denied-filter", required=True, help="a filter the device may not subscribe to")
    parser.add_argument("--allowed-topic", required=True, help="publishable, matched by --allowed-filter")
    parser.add_argument("--denied-topic", required=True, help="not publishable, matched by --allowed-filter")


def scenario(args):
    for version in (4, 5):
        raw = Raw(args, version).connect("")
        codes = raw.subscribe(1, [(args.allowed_filter, 1), (args.denied_filter, 1)])
        refused = 0x80 if version == 4 else 0x87
        check(codes == [1, refused], f"v{version} SUBACK {[hex(c) for c in codes]}, expected ['0x1', {hex(refused)}]")
        raw.publish(args.denied_topic, "refused", qos=1, mid=10)
        raw.publish(args.allowed_topic, "allowed", qos=1, mid=11)
        acks, messages = {}, []
        while len(acks) < 2 or not messages:
            packet = raw.read(10)
            check(packet is not None, f"v{version}: missing PUBACKs or delivery (acks {acks}, messages {messages})")
            if packet.kind == PUBACK:
                mid = struct.unpack("!H", packet.body[:2])[0]
                acks[mid] = packet.body[2] if len(packet.body) > 2 else 0
            elif packet.kind == 3:
                msg = Publish(packet, version)
                raw.ack(PUBACK, msg.mid)
                messages.append(msg)
        check([m.payload for m in messages] == [b"allowed"], f"v{version}: delivered {messages}")
        check(acks[11] == 0, f"v{version}: allowed publish acknowledged with {acks[11]:#x}")
        if version == 5:
            check(acks[10] == 0x87, f"v5: refused publish acknowledged with {acks[10]:#x}, expected 0x87")
        packet = raw.read(1.0)
        check(packet is None or packet.kind != 3, f"v{version}: refused publish was delivered")
        raw.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario, extra)
