#!/usr/bin/python3
"""Hostile clients of the broker's HTTP listener (issue 15 item 8; docs/broker.md, "HTTP
listener"), with raw sockets on 127.0.0.1 against `mqfleet broker --http-port 0
--connect-timeout 2`:

- slowloris: connections trickling header bytes that fill --max-connections are closed by
  the absolute deadline (2 s from accept, whatever they send), then a valid client gets in;
- header_flood: one endless header line, and endless small header lines, are answered 431
  (or closed) after at most the 16 KiB limit, and the broker's memory does not grow;
- header_edge: a request with exactly 16 KiB of header content (method, target, field
  names and values) is served, one byte more is 431, sent in 256-byte writes;
- body: a Content-Length over 256 KiB is 413 before the body is sent; an endless chunked
  body is 413 (or closed), and memory does not grow;
- half_open: an upgrade to WebSocket on /mqtt followed by silence, or by a trickled frame,
  is closed by the same deadline;
- garbage: a garbage request line is a 400 with a JSON error, and the broker goes on.

Every probe is bounded in bytes (64 MiB at most) and time (signal.alarm).
Usage: web_hostile.py --bin build/ci/apps/mqfleet/mqfleet --case NAME (or --case all)."""

import argparse
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time

DEADLINE_S = 2            # --connect-timeout of the broker under test
MAX_CONNECTIONS = 4       # --max-connections of the slowloris case
FLOOD_LIMIT = 64 << 20    # the most any flood sends
ANSWER_BEFORE = 16 << 20  # a flood must be answered or closed before this much is sent
RSS_GROWTH = 32 << 20     # the broker's memory may grow at most this much (a flood is 64 MiB)
UPGRADE = (b"GET /mqtt HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
           b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           b"Sec-WebSocket-Protocol: mqtt\r\n\r\n")


class Fail(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Fail(why)


class Broker:
    """A registry with account acme, its token, and `mqfleet broker` on free ports."""

    def __init__(self, binary, tmp, *extra):
        self.bin = binary
        reg = os.path.join(tmp, "reg.json")
        self.cli("device", "add", "acme", "d1", "--registry", reg, "--credential-env", "K1",
                 env=dict(os.environ, K1="k1"))
        self.token = self.cli("token", "add", "acme", "ta", "--registry", reg).strip().splitlines()[-1]
        self.log = open(os.path.join(tmp, "broker.log"), "w")
        self.proc = subprocess.Popen(
            [binary, "broker", "--port", "0", "--http-port", "0", "--bind", "127.0.0.1", "--registry", reg,
             "--data-dir", os.path.join(tmp, "data"), "--sys-interval", "0",
             "--connect-timeout", str(DEADLINE_S), *extra],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        check(ready, "the broker printed no 'listening' line within 20 s")
        self.port = json.loads(self.proc.stdout.readline()).get("http")
        check(self.port, "no http port in the listening line")

    def cli(self, *args, env=None):
        out = subprocess.run([self.bin, *args], capture_output=True, text=True, env=env, timeout=30)
        check(out.returncode == 0, f"mqfleet {' '.join(args)}: exit {out.returncode}: {out.stderr}")
        return out.stdout

    def rss(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise Fail("no VmRSS for the broker")

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=5)

    def valid_get(self, timeout=5):
        """The status of GET /v1/users/acme/buckets with the token; None when closed unanswered."""
        s = self.connect()
        try:
            s.settimeout(timeout)
            s.sendall(b"GET /v1/users/acme/buckets HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                      b"Authorization: Bearer " + self.token.encode() + b"\r\n\r\n")
            head = read_until_closed(s, timeout)
        finally:
            s.close()
        return status_of(head)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def status_of(reply):
    if not reply.startswith(b"HTTP/1.1 "):
        return None
    return int(reply[9:12])


def read_until_closed(s, timeout):
    """What the peer sends until it closes (or resets), at most `timeout` seconds."""
    out = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ready, _, _ = select.select([s], [], [], max(0.0, end - time.monotonic()))
        if not ready:
            break
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        out += chunk
    return out


def closed_by(s, until):
    """Reads (and drops) what arrives until `until`; True when the peer closed or reset."""
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([s], [], [], left)
        if not ready:
            return False
        try:
            if not s.recv(65536):
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True


def trickle(socks, first, byte, every, limit_s):
    """Sends `first` on each socket, then one `byte` on each every `every` seconds, and
    returns the seconds after which each was closed (None: still open after `limit_s`)."""
    start = time.monotonic()
    closed = [None] * len(socks)
    for s in socks:
        s.sendall(first)
    while time.monotonic() - start < limit_s and None in closed:
        tick = time.monotonic() + every
        for i, s in enumerate(socks):
            if closed[i] is not None:
                continue
            try:
                s.send(byte)
            except OSError:
                closed[i] = time.monotonic() - start
                continue
            if closed_by(s, time.monotonic() + 0.001):
                closed[i] = time.monotonic() - start
        time.sleep(max(0.0, tick - time.monotonic()))
    return closed


def flood(b, head, piece, limit=FLOOD_LIMIT):
    """Sends `head`, then `piece` over and over (at most `limit` bytes, 20 s), until the
    broker answers or closes. Returns (bytes sent, the answer's status or None)."""
    s = b.connect()
    s.setblocking(False)
    sent, answer = 0, b""
    end = time.monotonic() + 20
    data = head
    try:
        while sent < limit and time.monotonic() < end:
            readable, writable, _ = select.select([s], [s], [], 1)
            if readable:
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                answer += chunk
                continue
            if writable:
                try:
                    n = s.send(data)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += n
                data = data[n:] or piece
        check(time.monotonic() < end, f"the flood was neither answered nor closed within 20 s ({sent} bytes sent)")
        if not answer:
            s.setblocking(True)
            answer = read_until_closed(s, 2)
    finally:
        s.close()
    return sent, status_of(answer)


def case_slowloris(b):
    """--max-connections slots taken by trickled headers are freed by the absolute deadline."""
    attackers = [b.connect() for _ in range(MAX_CONNECTIONS)]
    time.sleep(0.3)
    extra = b.connect()  # the broker is full: this one is closed at once, unanswered
    check(closed_by(extra, time.monotonic() + 1), "a connection beyond --max-connections was not refused")
    extra.close()
    closed = trickle(attackers, b"GET /v1/users/acme/buckets HTTP/1.1\r\nHost: x\r\nX-Slow: ", b"a", 0.2, 8)
    for s in attackers:
        s.close()
    check(None not in closed, f"trickling connections still open after 8 s: closed after {closed} s")
    check(all(DEADLINE_S - 1 <= t <= DEADLINE_S + 2 for t in closed),
          f"closed after {closed} s, not at the {DEADLINE_S} s deadline")
    status = None
    end = time.monotonic() + 3
    while status != 200 and time.monotonic() < end:
        status = b.valid_get()
        time.sleep(0.1)
    check(status == 200, f"a valid client after the attack: HTTP {status}")


def case_header_flood(b):
    """An endless header line and endless header lines: 431 or a close, no growth."""
    before = b.rss()
    for head, piece in ((b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: ", b"a" * 65536),
                        (b"GET / HTTP/1.1\r\nHost: x\r\n", b"X-Flood: 1\r\n" * 5000)):
        sent, status = flood(b, head, piece)
        check(status in (431, None), f"{head[-10:]!r} flood answered HTTP {status}, expected 431 or a close")
        check(sent < ANSWER_BEFORE, f"{head[-10:]!r} flood: {sent} bytes sent before an answer or close")
    grown = b.rss() - before
    check(grown < RSS_GROWTH, f"the broker's memory grew by {grown} bytes")
    check(b.valid_get() == 200, "the broker stopped answering")


def header_edge_status(b, total):
    """The status of a GET whose method, target and field names and values hold `total`
    bytes, sent in 256-byte writes (Beast's own limit once let such a block 45 bytes over
    16 KiB through; fuzz_http found it)."""
    fixed = len(b"GET") + len(b"/v1/users/acme/buckets") + len(b"Host") + len(b"x") + len(b"Authorization") \
        + len(b"Bearer " + b.token.encode()) + len(b"Connection") + len(b"close") + len(b"X-Pad")
    request = (b"GET /v1/users/acme/buckets HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
               b"Authorization: Bearer " + b.token.encode() + b"\r\nX-Pad: " + b"p" * (total - fixed) + b"\r\n\r\n")
    s = b.connect()
    try:
        for i in range(0, len(request), 256):
            s.sendall(request[i:i + 256])
        return status_of(read_until_closed(s, 5))
    except OSError:
        return None
    finally:
        s.close()


def case_header_edge(b):
    """Exactly at the 16 KiB header limit a request is served; one byte over, 431."""
    at = header_edge_status(b, 16 * 1024)
    check(at == 200, f"a request with exactly 16 KiB of header content answered HTTP {at}, expected 200")
    over = header_edge_status(b, 16 * 1024 + 1)
    check(over == 431, f"a request with 16 KiB + 1 byte of header content answered HTTP {over}, expected 431")


def case_body(b):
    """A body over 256 KiB: 413 before it is sent (Content-Length) or while it streams."""
    s = b.connect()
    s.sendall(b"POST /v1/users/acme/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 10485760\r\n"
              b"Authorization: Bearer " + b.token.encode() + b"\r\n\r\n")
    status = status_of(read_until_closed(s, 5))
    s.close()
    check(status == 413, f"Content-Length 10 MiB: HTTP {status}, expected 413 before the body")
    before = b.rss()
    chunk = b"10000\r\n" + b"{" * 65536 + b"\r\n"
    sent, status = flood(b, b"POST /v1/users/acme/messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                         b"Authorization: Bearer " + b.token.encode() + b"\r\n\r\n", chunk)
    check(status in (413, None), f"endless chunked body: HTTP {status}, expected 413 or a close")
    check(sent < ANSWER_BEFORE, f"endless chunked body: {sent} bytes sent before an answer or close")
    grown = b.rss() - before
    check(grown < RSS_GROWTH, f"the broker's memory grew by {grown} bytes")
    check(b.valid_get() == 200, "the broker stopped answering")


def case_half_open(b):
    """An upgrade to WebSocket, then silence or a trickled frame: closed by the deadline."""
    silent, trickling = b.connect(), b.connect()
    for s in (silent, trickling):
        s.sendall(UPGRADE)
    for s in (silent, trickling):
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            check(chunk, "closed before the 101")
            head += chunk
        check(status_of(head) == 101, f"the upgrade was answered {head[:40]!r}")
    # A binary frame (mask key 0) announcing 200 bytes, carrying the start of an MQTT CONNECT
    # of 200 bytes, then one byte at a time: neither the frame nor the packet ever completes.
    start = time.monotonic()
    closed = trickle([trickling], b"\x82\xfe\x00\xc8\x00\x00\x00\x00\x10\xc8\x01", b"x", 0.2, 8)[0]
    silent_closed = closed_by(silent, start + 8)
    silent_took = time.monotonic() - start
    for s in (silent, trickling):
        s.close()
    check(closed is not None and silent_closed,
          f"half-open upgrades still open after 8 s: trickling closed after {closed} s, silent closed: {silent_closed}")
    check(DEADLINE_S - 1 <= closed <= DEADLINE_S + 2, f"the trickling upgrade was closed after {closed:.1f} s")
    check(silent_took <= DEADLINE_S + 2, f"the silent upgrade was closed after {silent_took:.1f} s")


def case_garbage(b):
    """Garbage request lines: a 400 with the JSON error, then the broker goes on."""
    for data in (b"GARBAGE\r\n\r\n", b"\x00\xff\x16\x03\x01 junk\r\n\r\n", b"GET / FTP/1.0\r\n\r\n",
                 b"GET\r\nHost: x\r\n\r\n"):
        s = b.connect()
        s.sendall(data)
        reply = read_until_closed(s, 5)
        s.close()
        check(status_of(reply) == 400, f"{data!r}: answered {reply[:60]!r}, expected 400")
        body = reply.split(b"\r\n\r\n", 1)[1]
        check(json.loads(body)["error"]["status"] == 400, f"{data!r}: body {body[:80]!r}")
    check(b.proc.poll() is None, "the broker died")
    check(b.valid_get() == 200, "the broker stopped answering")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}
EXTRA_ARGS = {"slowloris": ["--max-connections", str(MAX_CONNECTIONS)]}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--case", default="all", choices=["all", *CASES])
    args = parser.parse_args()
    names = list(CASES) if args.case == "all" else [args.case]
    signal.alarm(60 * len(names))
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            b = None
            try:
                b = Broker(args.bin, tempfile.mkdtemp(dir=tmp), *EXTRA_ARGS.get(name, []))
                CASES[name](b)
            except Exception as e:  # whatever it is, the case fails and its broker is stopped
                print(f"FAIL: web_hostile {name}: {type(e).__name__}: {e}", file=sys.stderr)
                if b is not None:
                    b.stop()
                    b.log.flush()
                    sys.stderr.write(open(b.log.name).read()[-2000:])
                return 1
            b.stop()
            if b.proc.returncode not in (0, -signal.SIGTERM):
                print(f"FAIL: web_hostile {name}: broker exit {b.proc.returncode}", file=sys.stderr)
                return 1
            print(f"PASS web_hostile {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
