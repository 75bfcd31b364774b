#!/usr/bin/python3
"""Server shutdown (driven by the test, which stops the broker after READY): a v5 client
gets DISCONNECT 0x8B (server shutting down) before the connection closes; a 3.1.1
client's connection just closes."""

import sys

from mqtt_e2e import Raw, check, run


def scenario(args):
    v5 = Raw(args, 5).connect("shutdown-v5")
    v311 = Raw(args, 4).connect("shutdown-v311")
    print("READY", flush=True)
    disconnect = v5.wait_closed(30)
    check(disconnect is not None, "v5 client: connection closed without DISCONNECT")
    check(len(disconnect.body) >= 1 and disconnect.body[0] == 0x8B,
          f"v5 client: DISCONNECT reason {disconnect.body[:1]!r}, expected 0x8b")
    check(v311.wait_closed(30) is None, "3.1.1 client got a DISCONNECT packet")
    sys.stdout.flush()


if __name__ == "__main__":
    run(__doc__, scenario)
