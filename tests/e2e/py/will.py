#!/usr/bin/python3
"""Wills: published when a client's socket closes without DISCONNECT; not published after a
clean DISCONNECT; v5: published after DISCONNECT 0x04 (with will message); v5 will delay
holds the will back and a reconnect within the delay cancels it."""

import time

from mqtt_e2e import Client, Raw, check, run, topic


def scenario(args):
    t = topic("will")
    watcher = Client(args, "will-watcher")
    watcher.subscribe(t, qos=1)

    for version in (4, 5):
        raw = Raw(args, version).connect(f"will-abrupt-v{version}", will=(t, f"gone-v{version}", 1, False))
        raw.close()
        got = watcher.expect(1, what=f"v{version} will after socket close")
        check(got[0].payload == f"gone-v{version}".encode(), f"will payload {got[0].payload!r}")
        check(got[0].qos == 1, f"will delivered at QoS {got[0].qos}")

        raw = Raw(args, version).connect(f"will-clean-v{version}", will=(t, "must-not-appear", 1, False))
        raw.disconnect()
        watcher.expect_none(1.5, f"will after a clean v{version} DISCONNECT")

    raw = Raw(args, 5).connect("will-0x04", will=(t, "with-will", 0, False))
    raw.disconnect(reason=0x04)
    got = watcher.expect(1, what="will after DISCONNECT 0x04")
    check(got[0].payload == b"with-will", f"will payload {got[0].payload!r}")

    # Will delay 3 s with a session that outlives it: nothing at once, the will later.
    raw = Raw(args, 5).connect("will-delay", props=[(0x11, 60)], will=(t, "delayed", 0, False, [(0x18, 3)]))
    raw.close()
    closed = time.monotonic()
    got = watcher.expect(1, timeout=15, what="delayed will")
    waited = time.monotonic() - closed
    check(got[0].payload == b"delayed", f"will payload {got[0].payload!r}")
    check(2.9 <= waited <= 5.0, f"a will with a 3 s delay arrived {waited:.2f}s after the close")

    # A reconnect within the delay cancels the will.
    raw = Raw(args, 5).connect("will-cancel", clean=True, props=[(0x11, 60)],
                               will=(t, "cancelled", 0, False, [(0x18, 4)]))
    raw.close()
    raw = Raw(args, 5).connect("will-cancel", clean=False, props=[(0x11, 60)])
    watcher.expect_none(6.0, "will of a client that reconnected within the will delay")
    raw.disconnect()
    watcher.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario)
