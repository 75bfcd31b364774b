#!/usr/bin/python3
"""v5 receive maximum: a subscriber announcing Receive Maximum 2 never has more than two
unacknowledged QoS 1 messages outstanding; each PUBACK lets one more through; all arrive."""

from mqtt_e2e import Client, Raw, PUBACK, check, run, topic


def scenario(args):
    t = topic("recvmax")
    raw = Raw(args, 5).connect("recvmax-sub", props=[(0x21, 2)])
    check(raw.subscribe(1, [(t, 1)]) == [1], "SUBACK did not grant QoS 1")
    pub = Client(args, "recvmax-pub", version=5)
    for i in range(6):
        pub.publish(t, f"m{i}", qos=1)
    window = [raw.read_publish(what=f"message {i} of the first window") for i in range(2)]
    packet = raw.read(1.5)
    check(packet is None, f"a third unacknowledged message arrived with Receive Maximum 2: {packet}")
    received = list(window)
    while len(received) < 6:
        raw.ack(PUBACK, window.pop(0).mid)
        msg = raw.read_publish(what=f"message {len(received)} after a PUBACK")
        window.append(msg)
        received.append(msg)
        extra = raw.read(0.3)
        check(extra is None, f"3 unacknowledged QoS 1 messages outstanding with Receive Maximum 2 "
                             f"(one PUBACK released more than one message)")
    for msg in window:
        raw.ack(PUBACK, msg.mid)
    check([m.payload for m in received] == [f"m{i}".encode() for i in range(6)],
          f"got {[m.payload for m in received]}")
    raw.disconnect()
    pub.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
