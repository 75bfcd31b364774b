#!/usr/bin/python3
"""The broker's goodbye arrives: a v5 client exceeds the broker's Receive Maximum with
QoS 2 PUBLISHes (no PUBREL) and keeps sending; it must read DISCONNECT 0x93 without a
connection reset, and its sends must not fail (EPIPE / ECONNRESET) before it has seen the
reason: the broker half-closes and drains instead of closing with unread input."""

import select
import struct
import time

from mqtt_e2e import Raw, check, fail, prop, run, utf8, varint, DISCONNECT, PUBLISH


def publish_qos2(t, mid):
    body = utf8(t) + struct.pack("!H", mid) + b"\x00" + b"x" * 32
    return bytes([(PUBLISH << 4) | 0x04]) + varint(len(body)) + body


def lost(detail):
    """The connection failed before the goodbye was read. Which call sees it first (send or
    receive) and which errno (EPIPE or ECONNRESET) varies from run to run: the detail goes to
    stdout, the failure line stays the same, so an expected failure can match it exactly."""
    print(detail, flush=True)
    fail("the connection failed (reset or broken pipe) before the DISCONNECT was read")


def scenario(args):
    raw = Raw(args, 5).connect("goodbye", props=[(0x21, 65535)])
    maximum = prop(raw.connack_props, 0x21, 65535)
    check(maximum < 2000, f"the broker's Receive Maximum {maximum} is too large for this scenario")
    # One burst past the window, then more input that the broker will not read before
    # it closes: 4000 further PUBLISHes (about 160 KB).
    burst = b"".join(publish_qos2("goodbye/t", mid) for mid in range(1, maximum + 2))
    tail = b"".join(publish_qos2("goodbye/t", 1 + (mid % 60000)) for mid in range(maximum + 2, maximum + 4002))
    sock = raw.sock
    sock.sendall(burst)
    sock.setblocking(False)
    pending = tail
    received = b""
    seen_reason = None
    deadline = time.monotonic() + 10
    while seen_reason is None and time.monotonic() < deadline:
        readable, writable, _ = select.select([sock], [sock] if pending else [], [], 0.2)
        if writable and pending:
            try:
                sent = sock.send(pending[:16384])
                pending = pending[sent:]
            except BlockingIOError:
                pass
            except OSError as error:
                lost(f"send failed: {error!r}")
        if readable:
            try:
                chunk = sock.recv(65536)
            except OSError as error:
                lost(f"receive failed: {error!r}")
            if not chunk:
                break
            received += chunk
            raw.buffer, packets = received, []
            while True:
                packet = raw._parse()
                if packet is None:
                    break
                if packet.kind == DISCONNECT:
                    seen_reason = packet.body[0] if packet.body else 0
            received = raw.buffer
    check(seen_reason is not None, "no DISCONNECT was read before the connection closed")
    check(seen_reason == 0x93, f"DISCONNECT reason {seen_reason:#x}, expected 0x93 (receive maximum exceeded)")
    sock.close()


if __name__ == "__main__":
    run(__doc__, scenario)
