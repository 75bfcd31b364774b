#!/usr/bin/python3
"""The broker's HTTP listener end to end (docs/broker.md, "HTTP listener"): MQTT over
WebSocket with device credentials (paho-mqtt, transport="websockets", path /mqtt) at
QoS 0/1/2, the REST API with tokens (data, aggregation, export, buckets, devices,
messages), tenancy (401/403, no existence leak), /metrics for admin tokens only,
malformed requests answered with 4xx, token reload on SIGHUP.

Usage: web_side.py --bin build/ci/apps/mqfleet/mqfleet --case NAME (or --case all)."""

import argparse
import http.client
import json
import os
import queue
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time

import paho.mqtt.client as mqtt

T0 = 1700000000000


class Fail(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Fail(why)


class Broker:
    """A registry with two accounts, a bucket and tokens, and `mqfleet broker` on free ports."""

    def __init__(self, binary, tmp, extra=(), rules=None, env=None, certs=None):
        """`extra`: more broker flags; `rules`: access rules written into the registry;
        `env`: more environment for the broker process; `certs`: make_certificates()."""
        self.bin, self.tmp, self.certs = binary, tmp, certs
        self.extra = list(extra)
        self.env = dict(os.environ, **(env or {}))
        self.reg = os.path.join(tmp, "reg.json")
        env = dict(os.environ, K1="k1", K2="k2")
        self.cli("device", "add", "acme", "d1", "--registry", self.reg, "--credential-env", "K1", env=env)
        self.cli("device", "add", "beta", "e1", "--registry", self.reg, "--credential-env", "K2", env=env)
        self.cli("bucket", "add", "acme", "W", "--registry", self.reg, "--topic", "w/#")
        self.cli("bucket", "add", "beta", "B", "--registry", self.reg, "--topic", "b/#")
        self.ta = self.cli("token", "add", "acme", "ta", "--registry", self.reg).strip().splitlines()[-1]
        self.tb = self.cli("token", "add", "beta", "tb", "--registry", self.reg).strip().splitlines()[-1]
        self.tadmin = self.cli("token", "add", "--admin", "ops", "--registry", self.reg).strip().splitlines()[-1]
        if rules is not None:
            with open(self.reg) as f:
                registry = json.load(f)
            registry["rules"] = rules
            with open(self.reg, "w") as f:
                json.dump(registry, f)
        self.data_dir = os.path.join(tmp, "data")
        self.log = None
        self.start()

    def start(self):
        """Starts `mqfleet broker` (again, after stop(): same registry and data dir)."""
        if self.log is not None:
            self.log.close()
        self.log = open(os.path.join(self.tmp, "broker.log"), "a")
        self.proc = subprocess.Popen(
            [self.bin, "broker", "--port", "0", "--http-port", "0", "--bind", "127.0.0.1", "--registry", self.reg,
             "--data-dir", self.data_dir, "--sys-interval", "0", *self.extra],
            stdout=subprocess.PIPE, stderr=self.log, text=True, env=self.env)
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        check(ready, "the broker printed no 'listening' line within 20 s")
        line = json.loads(self.proc.stdout.readline())
        self.mqtt_port, self.http_port, self.https_port = line["mqtt"], line.get("http"), line.get("https")
        check(self.http_port, f"no http port in {line}")

    def cli(self, *args, env=None):
        out = subprocess.run([self.bin, *args], capture_output=True, text=True, env=env, timeout=30)
        check(out.returncode == 0, f"mqfleet {' '.join(args)}: exit {out.returncode}: {out.stderr}")
        return out.stdout

    def cli_bytes(self, *args, timeout=30):
        """stdout of `mqfleet ARGS` as bytes (CSV lines end in CRLF)."""
        out = subprocess.run([self.bin, *args], capture_output=True, timeout=timeout)
        check(out.returncode == 0, f"mqfleet {' '.join(args)}: exit {out.returncode}: {out.stderr[-300:]!r}")
        return out.stdout

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def request(self, method, path, token=None, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, data

    def get_json(self, path, token, status=200):
        code, data = self.request("GET", path, token)
        check(code == status, f"GET {path}: HTTP {code}, expected {status}: {data[:300]!r}")
        return json.loads(data)


def ws_client(broker, client_id, user, password):
    c = mqtt.Client(client_id=client_id, transport="websockets", protocol=mqtt.MQTTv311)
    c.ws_set_options(path="/mqtt")
    c.username_pw_set(user, password)
    c.messages = queue.Queue()
    c.acked = []
    connected = queue.Queue()
    c.on_connect = lambda cl, u, f, rc: connected.put(rc)
    c.on_message = lambda cl, u, m: c.messages.put(m)
    c.on_publish = lambda cl, u, mid: c.acked.append(mid)
    c.connect("127.0.0.1", broker.http_port, keepalive=30)
    c.loop_start()
    rc = connected.get(timeout=10)
    c.rc = rc
    return c


def wait_points(broker, count, token=None, path="/v1/users/acme/buckets/W/data?items=1000"):
    deadline = time.time() + 10
    while time.time() < deadline:
        points = broker.get_json(path, token or broker.ta)
        if len(points) >= count:
            return points
        time.sleep(0.1)
    raise Fail(f"bucket W has {len(points)} points after 10 s, expected {count}")


def case_ws_qos(b):
    """QoS 0/1/2 over WebSocket, both ways, with device credentials; TCP sees the same."""
    sub = ws_client(b, "d1", "acme", "k1")
    check(sub.rc == 0, f"WebSocket CONNECT refused: rc {sub.rc}")
    sub.subscribe("w/#", qos=2)
    time.sleep(0.3)
    tcp = mqtt.Client(client_id="d1tcp", protocol=mqtt.MQTTv311)
    # d1tcp is no device: the TCP listener must refuse it exactly like the WebSocket one below.
    tcp_rc = queue.Queue()
    tcp.on_connect = lambda cl, u, f, rc: tcp_rc.put(rc)
    tcp.username_pw_set("acme", "k1")
    tcp.connect("127.0.0.1", b.mqtt_port)
    tcp.loop_start()
    check(tcp_rc.get(timeout=10) != 0, "TCP accepted an unknown device")
    tcp.loop_stop()
    bad = ws_client(b, "d1", "acme", "wrong")
    check(bad.rc != 0, "WebSocket CONNECT with a wrong credential was accepted")
    bad.loop_stop()
    for qos in (0, 1, 2):
        info = sub.publish("w/d1", json.dumps({"ts": T0 + qos, "temperature": qos}), qos=qos)
        info.wait_for_publish(10)
        m = sub.messages.get(timeout=10)
        check(m.topic == "w/d1" and json.loads(m.payload)["temperature"] == qos, f"QoS {qos}: got {m.topic} {m.payload}")
        check(m.qos == qos, f"QoS {qos}: delivered at QoS {m.qos}")
    check(len(sub.acked) == 3, f"publishes acknowledged: {sub.acked}")
    sub.loop_stop()
    sub.disconnect()


def case_ws_frames(b):
    """The broker's own WebSocket framing, with python3-websockets (another client than
    paho): an MQTT packet split over two frames, a ping answered by a pong, a close frame
    answered with close code 1000, and an unmasked frame closing the connection."""
    import asyncio
    import websockets

    async def run():
        url = f"ws://127.0.0.1:{b.http_port}/mqtt"
        async with websockets.connect(url, subprotocols=["mqtt"], ping_interval=None) as ws:
            # CONNECT 3.1.1 as device d1 of acme (user "acme", password "k1"), split in two frames.
            connect = (bytes([0x10, 24, 0, 4]) + b"MQTT" + bytes([4, 0xC2, 0, 30, 0, 2]) + b"d1" +
                       bytes([0, 4]) + b"acme" + bytes([0, 2]) + b"k1")
            await ws.send(connect[:5])
            await ws.send(connect[5:])
            connack = await asyncio.wait_for(ws.recv(), 10)
            check(connack == bytes([0x20, 2, 0, 0]), f"CONNACK over split frames: {connack.hex()}")
            pong = await ws.ping(b"still there?")
            await asyncio.wait_for(pong, 10)
            # SUBSCRIBE w/x and PUBLISH to it in one frame: the broker reads both packets.
            subscribe = bytes([0x82, 8, 0, 1, 0, 3]) + b"w/x" + bytes([0])
            publish = bytes([0x30, 7, 0, 3]) + b"w/x" + b"hi"
            await ws.send(subscribe + publish)
            got = b""
            while len(got) < 5 + 9:
                got += await asyncio.wait_for(ws.recv(), 10)
            check(got == bytes([0x90, 3, 0, 1, 0]) + publish, f"SUBACK + PUBLISH back: {got.hex()}")
            await ws.close()
            check(ws.close_code == 1000, f"close frame answered with code {ws.close_code}")
        # An unmasked client frame (RFC 6455 5.1): the broker closes the connection.
        with socket.create_connection(("127.0.0.1", b.http_port), timeout=10) as raw:
            raw.sendall(b"GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                        b"Sec-WebSocket-Protocol: mqtt\r\n\r\n")
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = raw.recv(4096)
                check(chunk, f"upgrade answer cut short: {answer!r}")
                answer += chunk
            check(answer.startswith(b"HTTP/1.1 101"), f"upgrade answer: {answer[:60]!r}")
            raw.sendall(bytes([0x82, len(connect)]) + connect)  # no mask bit
            raw.settimeout(5)
            try:
                rest = raw.recv(4096)
            except socket.timeout:
                raise Fail("an unmasked frame did not close the connection within 5 s")
            check(rest == b"", f"an unmasked frame was answered: {rest[:20]!r}")

    asyncio.run(run())


def case_ws_rules(b):
    """A WebSocket client cannot reach another account's topics (tenancy like TCP)."""
    a = ws_client(b, "d1", "acme", "k1")
    e = ws_client(b, "e1", "beta", "k2")
    check(a.rc == 0 and e.rc == 0, "CONNECT refused")
    e.subscribe("#", qos=1)
    time.sleep(0.3)
    a.publish("w/secret", "{}", qos=1).wait_for_publish(10)
    time.sleep(0.5)
    check(e.messages.empty(), "beta received acme's message")
    for c in (a, e):
        c.loop_stop()
        c.disconnect()


def publish_series(b, n=20):
    c = ws_client(b, "d1", "acme", "k1")
    for i in range(n):
        c.publish("w/d1", json.dumps({"ts": T0 + i * 60000, "temperature": 20 + i, "humidity": 50}), qos=1)
    deadline = time.time() + 10
    while len(c.acked) < n and time.time() < deadline:
        time.sleep(0.05)
    check(len(c.acked) == n, f"{len(c.acked)} of {n} acknowledged")
    c.loop_stop()
    c.disconnect()
    return wait_points(b, n)


def case_rest_data(b):
    publish_series(b)
    pts = b.get_json("/v1/users/acme/buckets/W/data?items=100&sort=asc", b.ta)
    check(len(pts) == 20 and pts[0]["ts"] == T0 and pts[0]["val"]["temperature"] == 20 and pts[0]["device"] == "d1",
          f"data: {pts[:2]}")
    pts = b.get_json("/v1/users/acme/buckets/W/data?items=3&sort=desc", b.ta)
    check([p["val"]["temperature"] for p in pts] == [39, 38, 37], f"desc items=3: {pts}")
    pts = b.get_json(f"/v1/users/acme/buckets/W/data?min_ts={T0 + 60000}&max_ts={T0 + 120000}", b.ta)
    check([p["ts"] for p in pts] == [T0 + 60000, T0 + 120000], f"min_ts/max_ts: {pts}")
    pts = b.get_json("/v1/users/acme/buckets/W/data?device=nobody", b.ta)
    check(pts == [], f"device filter: {pts}")
    buckets = b.get_json("/v1/users/acme/buckets", b.ta)
    check(len(buckets) == 1 and buckets[0]["id"] == "W" and buckets[0]["points"] == 20 and buckets[0]["first_ts"] == T0,
          f"buckets: {buckets}")
    devices = b.get_json("/v1/users/acme/devices", b.ta)
    check([d["id"] for d in devices] == ["d1"] and devices[0]["connected"] is False, f"devices: {devices}")
    for query, name in (("items=0", "items"), ("items=1001", "items"), ("sort=up", "sort"), ("min_ts=x", "min_ts"),
                        ("bogus=1", "bogus"), ("agg=2h", "agg"), ("agg=1h&agg_type=mode", "agg_type")):
        code, data = b.request("GET", "/v1/users/acme/buckets/W/data?" + query, b.ta)
        err = json.loads(data)["error"]
        check(code == 400 and err["status"] == 400 and name in err["message"], f"{query}: HTTP {code} {err}")


def case_rest_agg(b):
    publish_series(b)
    # 20 points one minute apart from T0 (T0 % 5 min = 0 is not needed: windows align to epoch).
    pts = b.get_json(f"/v1/users/acme/buckets/W/data?agg=1h&agg_type=mean&min_ts={T0}&max_ts={T0 + 3600000}", b.ta)
    total = sum(1 for _ in pts)
    check(total >= 1, f"agg=1h: {pts}")
    count = b.get_json(f"/v1/users/acme/buckets/W/data?agg=1h&agg_type=count&fields=temperature&min_ts={T0}&max_ts={T0 + 3600000}", b.ta)
    check(sum(p["val"]["temperature"] for p in count) == 20 and all(list(p["val"]) == ["temperature"] for p in count),
          f"count: {count}")
    mx = b.get_json(f"/v1/users/acme/buckets/W/data?agg=1d&agg_type=max&min_ts={T0}&max_ts={T0 + 3600000}", b.ta)
    check(len(mx) == 1 and mx[0]["val"]["temperature"] == 39 and mx[0]["val"]["humidity"] == 50, f"max 1d: {mx}")
    spread = b.get_json(f"/v1/users/acme/buckets/W/data?agg=1d&agg_type=spread&min_ts={T0}&max_ts={T0 + 3600000}", b.ta)
    check(spread[0]["val"]["temperature"] == 19, f"spread: {spread}")
    med = b.get_json(f"/v1/users/acme/buckets/W/data?agg=1w&agg_type=median&min_ts={T0}&max_ts={T0 + 3600000}", b.ta)
    check(med[0]["val"]["temperature"] == 29.5, f"median: {med}")
    code, data = b.request("GET", "/v1/users/acme/buckets/W/data?agg=5m&min_ts=0&max_ts=" + str(T0), b.ta)
    check(code == 400 and "windows" in json.loads(data)["error"]["message"], f"unbounded window: HTTP {code} {data!r}")


def case_export(b):
    publish_series(b)
    code, data = b.request("GET", "/v1/users/acme/buckets/W/export?format=csv", b.ta)
    lines = data.decode().strip().splitlines()
    check(code == 200 and len(lines) == 21 and "temperature" in lines[0], f"csv export: HTTP {code} {lines[:2]}")
    for query, flags in (("format=ndjson", ["--format", "ndjson"]), ("format=json", ["--format", "json"]),
                         ("format=arff", ["--format", "arff"]), ("format=csv&fields=humidity,temperature",
                                                                 ["--format", "csv", "--fields", "humidity,temperature"]),
                         (f"format=json&time=iso&device=d1&min_ts={T0 + 60000}&max_ts={T0 + 180000}",
                          ["--format", "json", "--time", "iso", "--device", "d1", "--from", str(T0 + 60000), "--to",
                           str(T0 + 180000)])):
        cli = b.cli_bytes("bucket", "export", "W", "--data-dir", b.data_dir, *flags)
        code, data = b.request("GET", "/v1/users/acme/buckets/W/export?" + query, b.ta)
        check(code == 200 and data == cli,
              f"export?{query} differs from `mqfleet bucket export {' '.join(flags)}`: {data[:200]!r} vs {cli[:200]!r}")
    code, data = b.request("GET", "/v1/users/acme/buckets/W/export?time=local", b.ta)
    check(code == 400 and "time" in json.loads(data)["error"]["message"], f"time=local: HTTP {code}")
    code, data = b.request("DELETE", f"/v1/users/acme/buckets/W/data?min_ts={T0}&max_ts={T0 + 60000 * 9}", b.ta)
    check(code == 200 and json.loads(data) == {"deleted": 10}, f"DELETE: HTTP {code} {data!r}")
    pts = b.get_json("/v1/users/acme/buckets/W/data?items=1000", b.ta)
    check(len(pts) == 10 and pts[0]["ts"] == T0 + 600000, f"after DELETE: {len(pts)} points, first {pts[:1]}")
    code, data = b.request("DELETE", "/v1/users/acme/buckets/W/data?min_ts=0", b.ta)
    check(code == 400 and "max_ts" in json.loads(data)["error"]["message"], f"DELETE without max_ts: HTTP {code}")
    code, _ = b.request("DELETE", f"/v1/users/acme/buckets/W/data?min_ts=0&max_ts={T0 * 2}", b.tb)
    check(code == 403, f"DELETE with beta's token: HTTP {code}")
    code, data = b.request("GET", "/v1/users/acme/buckets/W/export?format=xml", b.ta)
    check(code == 400 and "format" in json.loads(data)["error"]["message"], f"format=xml: HTTP {code}")


def vm_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise Fail(f"no {field} in /proc/{pid}/status")


EXPORT_POINTS = 300_000


def fill_bucket(b, bucket, count):
    """Writes `count` points into the running broker's buckets.sqlite (the schema of
    docs/buckets.md, "Storage"; WAL, so beside the broker's writer): `bucket import` of
    the same rows takes a minute under ASan, this a few seconds."""
    import sqlite3
    db = sqlite3.connect(os.path.join(b.data_dir, "buckets.sqlite"), timeout=30)
    db.execute("INSERT OR IGNORE INTO buckets(id) VALUES (?)", (bucket,))
    key = db.execute("SELECT key FROM buckets WHERE id = ?", (bucket,)).fetchone()[0]
    devices = []
    for d in range(7):
        db.execute("INSERT OR IGNORE INTO devices(name) VALUES (?)", (f"d{d}",))
        devices.append(db.execute("SELECT key FROM devices WHERE name = ?", (f"d{d}",)).fetchone()[0])
    note = "n" * 40

    def rows():
        for i in range(count):
            payload = json.dumps({"ts": T0 + i * 1000, "temperature": 20 + (i % 100) / 10, "humidity": 40 + i % 50,
                                  "status": f"status {i % 13}", "note": f"{note}{i}"}, separators=(",", ":"))
            yield key, devices[i % 7], T0 + i * 1000, 0, f"w/d{i % 7}", payload

    db.executemany("INSERT INTO points(bucket, device, ts, seq, topic, payload) VALUES (?, ?, ?, ?, ?, ?)", rows())
    db.commit()
    db.close()


def case_export_stream(b):
    """GET …/export streams: chunked, byte for byte `mqfleet bucket export` of 300,000
    points (CSV: the column pass and the rows), while other requests are answered, and
    the broker's memory grows by far less than the export (pages of lib/store's
    BucketExport, one part in flight). The broker runs with a small ASan quarantine
    (CASE_BROKER): ASan otherwise keeps up to 256 MiB of freed memory resident, whatever
    the code does."""
    fill_bucket(b, "W", EXPORT_POINTS)
    t0 = time.time()
    expected = b.cli_bytes("bucket", "export", "W", "--data-dir", b.data_dir, "--format", "csv", timeout=240)
    print(f"`mqfleet bucket export`: {len(expected)} bytes in {time.time() - t0:.1f} s")
    lines = expected.count(b"\r\n")
    check(lines == EXPORT_POINTS + 1, f"the CLI exported {lines - 1} points")
    # Warm-up (30,000 points): the export threads, their database connections and page
    # caches and the allocator's buffers for a page exist before the baseline. Measured
    # (ASan): +15 MiB for that, then flat; the old whole-body export: +51 MiB peak.
    code, _ = b.request("GET", f"/v1/users/acme/buckets/W/export?format=csv&max_ts={T0 + 30000 * 1000}", b.ta)
    check(code == 200, f"warm-up export: HTTP {code}")
    for _ in range(4):  # the io threads' own database connections (GET buckets counts the points)
        check(b.request("GET", "/v1/users/acme/buckets", b.ta)[0] == 200, "warm-up GET buckets")
    # Anonymous memory (heap, buffers): the database file's pages that SQLite maps
    # (read-only connections, mmap_size 256 MiB) count in VmRSS as file-backed pages, bounded
    # by that size and reclaimable by the kernel, so they are not what an export may grow.
    baseline = vm_kib(b.proc.pid, "RssAnon")
    t0 = time.time()
    # The column pass sends nothing for a while: the client waits, the broker's deadline
    # moves with every page it reads.
    conn = http.client.HTTPConnection("127.0.0.1", b.http_port, timeout=240)
    conn.request("GET", "/v1/users/acme/buckets/W/export?format=csv", headers={"Authorization": "Bearer " + b.ta})
    resp = conn.getresponse()
    check(resp.status == 200, f"export: HTTP {resp.status}")
    check(resp.getheader("Transfer-Encoding") == "chunked" and resp.getheader("Content-Length") is None,
          f"the export is not streamed: {resp.getheaders()}")
    parts = []
    peak = baseline
    while True:
        part = resp.read(256 * 1024)
        if not part:
            break
        parts.append(part)
        peak = max(peak, vm_kib(b.proc.pid, "RssAnon"))
        if len(parts) == 2:
            # Mid-export, the broker answers others at once (4 connections: both io threads).
            for _ in range(4):
                t1 = time.time()
                code, _ = b.request("GET", "/v1/users/acme/buckets", b.ta)
                check(code == 200 and time.time() - t1 < 5, f"GET buckets during an export: HTTP {code} "
                                                             f"after {time.time() - t1:.1f} s")
    conn.close()
    body = b"".join(parts)
    check(body == expected,
          f"{len(body)} bytes over HTTP, {len(expected)} from `mqfleet bucket export`; first difference at byte "
          f"{next((i for i, (x, y) in enumerate(zip(body, expected)) if x != y), min(len(body), len(expected)))}")
    grown = peak - baseline
    print(f"GET …/export: {len(body)} bytes in {time.time() - t0:.1f} s; broker anonymous RSS {baseline} KiB -> peak {peak} KiB "
          f"(+{grown} KiB = {grown * 1024 / len(body):.3f} x the export)")
    check(grown * 1024 < len(body) / 6, f"the broker grew by {grown} KiB for a {len(body) // 1024} KiB export")


def case_tenancy(b):
    for token, expected in ((None, 401), ("bogus", 401), (b.tb, 403), (b.tadmin, 403)):
        for path in ("/v1/users/acme/buckets/W/data?items=1", "/v1/users/acme/buckets/NOPE/data?items=1",
                     "/v1/users/acme/buckets", "/v1/users/acme/devices", "/v1/users/nobody/buckets/X/data"):
            code, data = b.request("GET", path, token)
            check(code == expected, f"{path} with {'no' if token is None else 'a wrong'} token: HTTP {code}, expected {expected}")
            check(json.loads(data)["error"]["status"] == expected, f"error body: {data!r}")
    code, _ = b.request("GET", "/v1/users/acme/buckets/NOPE/data", b.ta)
    check(code == 404, f"own account, unknown bucket: HTTP {code}")
    code, _ = b.request("GET", "/v1/users/acme/buckets/B/data", b.ta)
    check(code == 404, f"beta's bucket through acme: HTTP {code}")
    code, _ = b.request("GET", "/v1/users/acme/buckets", headers={"Cookie": "a=b; mqfleet_token=" + b.ta})
    check(code == 200, f"cookie token: HTTP {code}")


def case_metrics(b):
    for token, expected in ((None, 401), (b.ta, 403)):
        code, _ = b.request("GET", "/metrics", token)
        check(code == expected, f"/metrics: HTTP {code}, expected {expected}")
    publish_series(b, 3)
    code, data = b.request("GET", "/metrics", b.tadmin)
    text = data.decode()
    check(code == 200 and "mqfleet_messages_received_total 3" in text and "mqfleet_bucket_points_written_total 3" in text,
          f"/metrics: HTTP {code}\n{text}")


def case_messages(b):
    sub = ws_client(b, "d1", "acme", "k1")
    sub.subscribe("cmd/#", qos=1)
    time.sleep(0.3)
    body = json.dumps({"topic": "cmd/setpoint", "payload": "22", "qos": 1, "retain": False})
    code, data = b.request("POST", "/v1/users/acme/messages", b.ta, body=body)
    check(code == 200, f"POST messages: HTTP {code} {data!r}")
    m = sub.messages.get(timeout=5)
    check(m.topic == "cmd/setpoint" and m.payload == b"22", f"delivered {m.topic} {m.payload}")
    code, _ = b.request("POST", "/v1/users/acme/messages", b.tb, body=body)
    check(code == 403, f"POST with beta's token: HTTP {code}")
    for bad, name, status in (('{"topic": "a/+"}', "topic", 400), ('{"topic": "a", "qos": 3}', "qos", 400),
                              ('[1]', "object", 400), ('{"topic": "a", "x": 1}', "x", 400),
                              ('{"topic": "a", "retain": 1}', "retain", 400), ('{"topic": ""}', "topic", 400),
                              ('{"topic": "$SYS/x"}', "publish", 403), ("[" * 100 + "]" * 100, "nests", 400)):
        code, data = b.request("POST", "/v1/users/acme/messages", b.ta, body=bad)
        err = json.loads(data)["error"]
        check(code == status and err["status"] == status and name in err["message"],
              f"body {bad[:30]}: HTTP {code} {data!r}, expected {status}")
    code, _ = b.request("GET", "/v1/users/acme/messages", b.ta)
    check(code == 405, f"GET messages: HTTP {code}")
    check(sub.messages.empty(), "a refused POST was delivered")
    sub.loop_stop()
    sub.disconnect()


def post(b, topic, payload, retain=False, qos=1):
    body = json.dumps({"topic": topic, "payload": payload, "qos": qos, "retain": retain})
    code, data = b.request("POST", "/v1/users/acme/messages", b.ta, body=body)
    return code, json.loads(data)


def case_messages_refused(b):
    """Every refusal of POST .../messages has its own status and is neither delivered nor
    stored: retained quota 403 (like MQTT v5 0x97), access rules 403, payload over
    --max-packet-size 413 (a body over 256 KiB: web_hostile.py). Broker: CASE_BROKER."""
    sub = ws_client(b, "d1", "acme", "k1")
    sub.subscribe("cmd/#", qos=1)
    time.sleep(0.3)
    code, out = post(b, "cmd/a", "1", retain=True)
    check(code == 200, f"first retained message: HTTP {code} {out}")
    check(sub.messages.get(timeout=5).payload == b"1", "first retained message not delivered")
    # --max-account-retained 1: a second retained topic is over the quota.
    code, out = post(b, "cmd/b", "2", retain=True)
    err = out.get("error", {})
    check(code == 403 and err.get("status") == 403 and "quota" in err.get("message", "")
          and "--max-account-retained" in err.get("message", ""), f"retained over the quota: HTTP {code} {out}")
    # Replacing the stored one and a non-retained message are fine; neither was refused.
    code, out = post(b, "cmd/a", "3", retain=True)
    check(code == 200, f"replacing the retained message: HTTP {code} {out}")
    code, out = post(b, "cmd/b", "4")
    check(code == 200, f"non-retained message: HTTP {code} {out}")
    got = [sub.messages.get(timeout=5) for _ in range(2)]
    check([(m.topic, m.payload) for m in got] == [("cmd/a", b"3"), ("cmd/b", b"4")],
          f"delivered {[(m.topic, m.payload) for m in got]}: the refused message went out, or others did not")
    # --max-account-retained-bytes 64: one retained message of more bytes replaces nothing.
    code, out = post(b, "cmd/a", "x" * 100, retain=True)
    check(code == 403 and "quota" in out["error"]["message"], f"retained bytes over the quota: HTTP {code} {out}")
    # Access rules: publish to locked/# is denied.
    code, out = post(b, "locked/x", "5")
    check(code == 403 and "access rules" in out["error"]["message"], f"denied by the rules: HTTP {code} {out}")
    # Payload over --max-packet-size 2048 (the body itself is within 256 KiB).
    code, out = post(b, "cmd/big", "y" * 4096)
    check(code == 413 and "max packet size" in out["error"]["message"], f"payload too large: HTTP {code} {out}")
    time.sleep(0.3)
    check(sub.messages.empty(), f"a refused message was delivered: {sub.messages.queue[0].topic if not sub.messages.empty() else ''}")
    sub.loop_stop()
    sub.disconnect()
    # The stored retained message is still the last accepted one; cmd/b was never stored.
    late = ws_client(b, "d1", "acme", "k1")
    late.subscribe("cmd/#", qos=1)
    m = late.messages.get(timeout=5)
    check((m.topic, m.payload, m.retain) == ("cmd/a", b"3", 1), f"retained after refusals: {m.topic} {m.payload} {m.retain}")
    time.sleep(0.3)
    check(late.messages.empty(), f"a refused message was stored as retained: {late.messages.queue[0].topic if not late.messages.empty() else ''}")
    late.loop_stop()
    late.disconnect()
    b.log.flush()
    log = open(b.log.name).read()
    check('"event":"quota_exceeded"' in log and '"quota":"retained"' in log, "the refusal was not logged")


def device(b, account, token, ident):
    found = [d for d in b.get_json(f"/v1/users/{account}/devices", token) if d["id"] == ident]
    check(len(found) == 1, f"device {ident} not listed")
    return found[0]


def case_last_seen_restart(b):
    """last_seen is stored in state.db: after SIGTERM and a restart on the same --data-dir,
    a device that disconnected before shows the same time, and one still connected at
    the stop shows the stop."""
    d1 = ws_client(b, "d1", "acme", "k1")
    check(d1.rc == 0, f"d1 CONNECT refused: rc {d1.rc}")
    check(device(b, "acme", b.ta, "d1")["connected"] is True, "d1 is not shown connected")
    d1.disconnect()
    d1.loop_stop()
    deadline = time.time() + 5
    while device(b, "acme", b.ta, "d1")["connected"] and time.time() < deadline:
        time.sleep(0.05)
    seen = device(b, "acme", b.ta, "d1")
    check(seen["connected"] is False and isinstance(seen["last_seen"], int), f"d1 after DISCONNECT: {seen}")
    e1 = ws_client(b, "e1", "beta", "k2")
    check(e1.rc == 0, f"e1 CONNECT refused: rc {e1.rc}")
    before_stop = int(time.time() * 1000)
    b.stop()
    after_stop = int(time.time() * 1000)
    e1.loop_stop()
    check(b.proc.returncode in (0, -signal.SIGTERM), f"broker exit {b.proc.returncode} at SIGTERM")
    b.start()
    again = device(b, "acme", b.ta, "d1")
    check(again == seen, f"d1 after the restart: {again}, before it: {seen}")
    e = device(b, "beta", b.tb, "e1")
    check(e["connected"] is False and isinstance(e["last_seen"], int) and before_stop <= e["last_seen"] <= after_stop,
          f"e1, connected until the stop ({before_stop}..{after_stop}), after the restart: {e}")


def make_certificates(tmp):
    """A test CA and a server certificate for localhost and 127.0.0.1 signed by it, made
    the way tests/support/mosquitto_broker.cpp makes the C++ tests' certificates."""
    def path(name):
        return os.path.join(tmp, name)

    def openssl(*args):
        out = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=60)
        check(out.returncode == 0, f"openssl {args[0]}: {out.stderr}")

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=mqfleet test CA",
            "-keyout", path("ca.key"), "-out", path("ca.crt"))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", path("server.key"),
            "-out", path("server.csr"))
    with open(path("server.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", path("server.csr"), "-CA", path("ca.crt"), "-CAkey", path("ca.key"),
            "-CAcreateserial", "-days", "2", "-extfile", path("server.ext"), "-out", path("server.crt"))
    return {"ca": path("ca.crt"), "cert": path("server.crt"), "key": path("server.key")}


def case_live_wss(b):
    """The dashboards' live socket over the HTTPS listener (wss://…/console/acme/live,
    python3-websockets, server certificate verified against the test CA): the page is
    served over https, a PUBLISH (MQTT over wss on /mqtt) arrives as a live point, and
    another account's token is refused."""
    import asyncio
    import ssl

    import websockets

    check(b.https_port, "no https port in the broker's listening line")
    tls = ssl.create_default_context(cafile=b.certs["ca"])
    conn = http.client.HTTPSConnection("127.0.0.1", b.https_port, context=tls, timeout=10)
    conn.request("GET", "/console/acme/dashboards/W?token=" + b.ta)
    resp = conn.getresponse()
    page = resp.read().decode()
    cookie = resp.getheader("Set-Cookie") or ""
    conn.close()
    check(resp.status == 200 and "/live" in page and "wss://" in page, f"https console: HTTP {resp.status}")
    check("HttpOnly" in cookie and "SameSite=Strict" in cookie, f"https console cookie: {cookie}")
    uri = f"wss://127.0.0.1:{b.https_port}/console/acme/live"
    origin = f"https://127.0.0.1:{b.https_port}"

    publisher = mqtt.Client(client_id="d1", transport="websockets", protocol=mqtt.MQTTv311)
    publisher.ws_set_options(path="/mqtt")
    publisher.tls_set(ca_certs=b.certs["ca"])
    publisher.username_pw_set("acme", "k1")
    connected = queue.Queue()
    publisher.on_connect = lambda cl, u, f, rc: connected.put(rc)
    publisher.connect("127.0.0.1", b.https_port, keepalive=30)
    publisher.loop_start()
    check(connected.get(timeout=10) == 0, "MQTT over wss: CONNECT refused")

    def publish(value):
        info = publisher.publish("w/d1", json.dumps({"temperature": value}), qos=1)
        info.wait_for_publish(10)
        check(info.is_published(), "PUBLISH over wss not acknowledged")

    async def run():
        try:
            async with websockets.connect(uri, ssl=tls, origin=origin,
                                          extra_headers={"Cookie": "mqfleet_token=" + b.tb}):
                raise Fail("beta's token opened acme's live socket over wss")
        except websockets.exceptions.InvalidStatusCode as e:
            check(e.status_code == 403, f"beta's token on acme's live socket: HTTP {e.status_code}")
        async with websockets.connect(uri, ssl=tls, origin=origin,
                                      extra_headers={"Cookie": "mqfleet_token=" + b.ta}) as ws:
            loop = asyncio.get_running_loop()
            for value in (41.5, 42.5):
                t0 = time.time()
                await loop.run_in_executor(None, publish, value)
                deadline = t0 + 5
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.time())))
                    points = [p for p in message.get("points", []) if p.get("bucket") == "W"]
                    if any(p["device"] == "d1" and p["val"].get("temperature") == value for p in points):
                        break
                print(f"live over wss: PUBLISH -> live point {value} in {(time.time() - t0) * 1000:.0f} ms")

    try:
        asyncio.run(asyncio.wait_for(run(), 30))
    except asyncio.TimeoutError:
        raise Fail("no live point over wss within 5 s of the PUBLISH")
    except websockets.exceptions.WebSocketException as e:
        raise Fail(f"the live socket over wss: {type(e).__name__}: {e}")
    finally:
        publisher.loop_stop()
        publisher.disconnect()


def raw_http(b, data, read_timeout=5):
    s = socket.create_connection(("127.0.0.1", b.http_port), timeout=read_timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except socket.timeout:
        pass
    finally:
        s.close()
    return out


def case_malformed(b):
    for data in (b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: " + b"a" * 40000 + b"\r\n\r\n",
                 b"POST /v1/users/acme/messages HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n",
                 b"GET /v1/users/%zz HTTP/1.1\r\n\r\n", b"GET /mqtt HTTP/1.1\r\n\r\n",
                 b"GET /mqtt HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: chat\r\n\r\n"):
        out = raw_http(b, data)
        status = out.split(b" ", 2)[1] if out.startswith(b"HTTP/1.1 ") else b""
        check(status[:1] == b"4", f"{data[:40]!r}: answered {out[:80]!r}")
    check(b.proc.poll() is None, "the broker died")
    code, _ = b.request("GET", "/v1/users/acme/buckets", b.ta)
    check(code == 200, "the broker stopped answering")


def case_sighup(b):
    code, _ = b.request("GET", "/v1/users/acme/buckets", b.ta)
    check(code == 200, f"before: HTTP {code}")
    b.cli("token", "rm", "ta", "--registry", b.reg)
    new = b.cli("token", "add", "acme", "ta2", "--registry", b.reg).strip().splitlines()[-1]
    listing = b.cli("token", "list", "--registry", b.reg, "--format", "json")
    check(new not in listing and "ta2" in listing and "sha256" not in listing, f"token list: {listing}")
    b.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 5
    while time.time() < deadline:
        if b.request("GET", "/v1/users/acme/buckets", new)[0] == 200:
            break
        time.sleep(0.1)
    check(b.request("GET", "/v1/users/acme/buckets", new)[0] == 200, "the new token is not accepted after SIGHUP")
    check(b.request("GET", "/v1/users/acme/buckets", b.ta)[0] == 401, "the removed token is still accepted")


def case_console(b):
    """Dashboards: server-rendered widgets with data-widget / data-latest, token cookie, tenancy."""
    b.cli("dashboard", "add", "acme", "main", "--registry", b.reg, "--title", "Main <b>",
          "--widget", "type=timeseries,bucket=W,fields=temperature,humidity",
          "--widget", "type=gauge,bucket=W,field=temperature,min=0,max=50",
          "--widget", "type=led,device=d1", "--widget", "type=slider,topic=cmd/setpoint,min=10,max=30")
    shown = json.loads(b.cli("dashboard", "show", "acme", "main", "--registry", b.reg))
    check(shown["widgets"][0] == {"type": "timeseries", "bucket": "W", "fields": "temperature,humidity"}, f"show: {shown}")
    b.proc.send_signal(signal.SIGHUP)
    publish_series(b)
    deadline = time.time() + 5
    while True:
        code, data = b.request("GET", "/console/acme/dashboards/main?token=" + b.ta)
        if code == 200 or time.time() > deadline:
            break
        time.sleep(0.1)
    page = data.decode()
    check(code == 200, f"console: HTTP {code} {page[:200]}")
    check('data-widget="timeseries"' in page and 'data-widget="gauge"' in page, "widgets missing")
    check('data-latest="39"' in page, "the gauge does not carry the latest temperature (39)")
    check("Main &lt;b&gt;" in page and "Main <b>" not in page, "the title is not escaped")
    check(b.ta not in page, "the token is in the page")
    conn = http.client.HTTPConnection("127.0.0.1", b.http_port, timeout=10)
    conn.request("GET", "/console/acme/dashboards/main?token=" + b.ta)
    resp = conn.getresponse()
    resp.read()
    cookie = resp.getheader("Set-Cookie") or ""
    check("HttpOnly" in cookie and "SameSite=Strict" in cookie and b.ta in cookie, f"cookie: {cookie}")
    code, _ = b.request("GET", "/console/acme/dashboards/main", headers={"Cookie": "mqfleet_token=" + b.ta})
    check(code == 200, f"cookie login: HTTP {code}")
    code, _ = b.request("GET", "/console/acme/dashboards/W", headers={"Cookie": "mqfleet_token=" + b.ta})
    check(code == 200, f"default bucket dashboard: HTTP {code}")
    for token, expected in (("", 401), ("bogus", 401), (b.tb, 403)):
        code, data = b.request("GET", "/console/acme/dashboards/main?token=" + token)
        check(code == expected and b"data-widget" not in data, f"console with token {token[:6]!r}: HTTP {code}")
    code, _ = b.request("GET", "/console/acme/dashboards/nope?token=" + b.ta)
    check(code == 404, f"unknown dashboard: HTTP {code}")


def https_broker(tmp):
    """The HTTPS listener with a fresh test CA's server certificate."""
    certs = make_certificates(tmp)
    return {"extra": ["--https-port", "0", "--cert", certs["cert"], "--key", certs["key"]], "certs": certs}


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}
# Cases that may take longer than 120 s on a loaded machine under ASan (ctest TIMEOUT too).
CASE_SECONDS = {"export_stream": 420}
# Cases whose broker needs more than the defaults: Broker keyword arguments, or a
# function of the case's temporary directory returning them.
CASE_BROKER = {
    "live_wss": https_broker,
    "export_stream": {"env": {"ASAN_OPTIONS": ":".join(filter(None, [os.environ.get("ASAN_OPTIONS", ""),
                                                                    "quarantine_size_mb=1"]))}},
    "messages_refused": {
        "extra": ["--max-account-retained", "1", "--max-account-retained-bytes", "64", "--max-packet-size", "2048"],
        "rules": [{"effect": "deny", "action": "publish", "topic": "locked/#"}, {"effect": "allow", "topic": "#"}],
    },
}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--case", default="all", choices=["all", *CASES])
    args = parser.parse_args()
    names = list(CASES) if args.case == "all" else [args.case]
    signal.alarm(sum(CASE_SECONDS.get(name, 120) for name in names))
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            b = None
            try:
                case_tmp = tempfile.mkdtemp(dir=tmp)
                options = CASE_BROKER.get(name, {})
                b = Broker(args.bin, case_tmp, **(options(case_tmp) if callable(options) else options))
                CASES[name](b)
            except Exception as e:  # whatever it is, the case fails and its broker is stopped
                print(f"FAIL: web_side {name}: {type(e).__name__}: {e}", file=sys.stderr)
                if b is not None:
                    b.stop()
                    b.log.flush()
                    sys.stderr.write(open(b.log.name).read()[-2000:])
                return 1
            b.stop()
            if b.proc.returncode not in (0, -signal.SIGTERM):
                print(f"FAIL: web_side {name}: broker exit {b.proc.returncode}", file=sys.stderr)
                return 1
            print(f"PASS web_side {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
