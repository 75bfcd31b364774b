#!/usr/bin/python3
"""Session takeover: a second connection with the same client id makes the broker end the
first one — v5: with DISCONNECT reason 0x8E (session taken over); 3.1.1: by closing it —
while the new connection works."""

from mqtt_e2e import Raw, PINGREQ, PINGRESP, check, run


def scenario(args):
    for version in (4, 5):
        old = Raw(args, version).connect(f"takeover-v{version}")
        new = Raw(args, version).connect(f"takeover-v{version}")
        disconnect = old.wait_closed(timeout=10)
        if version == 5:
            check(disconnect is not None, "old v5 connection closed without a DISCONNECT packet")
            check(len(disconnect.body) >= 1 and disconnect.body[0] == 0x8E,
                  f"DISCONNECT reason {disconnect.body[:1].hex() or '0x00'}, expected 0x8e")
        new.send(PINGREQ, 0, b"")
        new.expect(PINGRESP, what="PINGRESP on the new connection")
        new.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
