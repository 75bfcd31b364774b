#!/usr/bin/python3
"""A client's own order holds across its connections: a v5 client ends its session with
DISCONNECT (Session Expiry Interval 0) and reconnects at once with Clean Start 0; the new
CONNACK must say session present 0 every time, however the broker spreads the two
connections over its io threads. Many iterations, bounded by --iterations and the deadline."""

from mqtt_e2e import Raw, check, encode_props, run, DISCONNECT


def extra(parser):
    parser.add_argument("--iterations", type=int, default=300)


def scenario(args):
    for i in range(args.iterations):
        name = f"order-{i}"
        first = Raw(args, 5).connect(name, clean=True, props=[(0x11, 60)])
        # Normal disconnection that sets the Session Expiry Interval to 0: the session ends.
        first.send(DISCONNECT, 0, b"\x00" + encode_props([(0x11, 0)]))
        first.sock.close()
        second = Raw(args, 5).connect(name, clean=False, props=[(0x11, 60)])
        check(not second.session_present,
              f"iteration {i}: the session ended by DISCONNECT came back (session present 1)")
        second.send(DISCONNECT, 0, b"\x00" + encode_props([(0x11, 0)]))
        second.sock.close()


if __name__ == "__main__":
    run(__doc__, scenario, extra)
