#!/usr/bin/python3
"""An invalid filter in SUBSCRIBE fails that entry only: SUBACK 0x80 (3.1.1) / 0x8F
(5.0) for it, the valid entries granted, and the connection stays open."""

from mqtt_e2e import Closed, Raw, check, run, topic, PINGREQ, PINGRESP


def scenario(args):
    for version, failure in ((4, 0x80), (5, 0x8F)):
        t = topic(f"badfilter-v{version}")
        raw = Raw(args, version).connect(f"badfilter-v{version}")
        try:
            codes = raw.subscribe(1, [(f"{t}/#/x", 0), (f"{t}/ok", 1), (f"{t}/a+", 0)])
        except Closed:
            check(False, f"v{version}: the broker closed the connection on an invalid filter")
        check(codes == [failure, 1, failure], f"v{version}: SUBACK {[hex(c) for c in codes]}")
        raw.send(PINGREQ, 0, b"")
        raw.expect(PINGRESP, what="PINGRESP after the SUBACK")
        raw.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
