#!/usr/bin/python3
"""--max-keepalive (mosquitto's max_keepalive), for a broker started with a maximum of
--max 10: a v5 client asking for more, or for 0, gets Server Keep Alive 10 in CONNACK;
one asking for less gets none; a 3.1.1 client asking for more is refused with CONNACK 2
(mosquitto's behaviour: 3.1.1 has no way to be told)."""

from mqtt_e2e import Raw, check, prop, run


def extra(parser):
    parser.add_argument("--max", type=int, default=10)


def scenario(args):
    over = Raw(args, 5).connect("ka-over", keepalive=args.max * 6)
    check(prop(over.connack_props, 0x13) == args.max,
          f"keepalive {args.max * 6}: Server Keep Alive {prop(over.connack_props, 0x13)}, expected {args.max}")
    over.disconnect()
    zero = Raw(args, 5).connect("ka-zero", keepalive=0)
    check(prop(zero.connack_props, 0x13) == args.max,
          f"keepalive 0: Server Keep Alive {prop(zero.connack_props, 0x13)}, expected {args.max}")
    zero.disconnect()
    under = Raw(args, 5).connect("ka-under", keepalive=args.max - 1)
    check(prop(under.connack_props, 0x13) is None, "Server Keep Alive sent for a keepalive within the maximum")
    under.disconnect()
    Raw(args, 4).connect("ka-v311", keepalive=args.max * 6, expect_rc=2).close()
    Raw(args, 4).connect("ka-v311-ok", keepalive=args.max).disconnect()


if __name__ == "__main__":
    run(__doc__, scenario, extra)
