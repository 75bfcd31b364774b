"""Shared helpers for the end-to-end broker scenarios (python3-paho-mqtt 1.6).

Every scenario script parses the same connection arguments, runs under an overall
deadline (SIGALRM), prints PASS on success and exits 0, or prints "FAIL: <why>" on
stderr and exits 1. Two client flavours: `Client` (paho, for the normal flows) and
`Raw` (a socket speaking MQTT by hand, for what paho will not do: withhold acks,
close without DISCONNECT, stop pinging, read server DISCONNECT reason codes).
"""

import argparse
import os
import queue
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.subscribeoptions import SubscribeOptions

NAME = os.path.basename(sys.argv[0])


class ScenarioFailure(Exception):
    """Raised by check(); reported once by run()."""


def fail(message):
    raise ScenarioFailure(message)


def check(condition, message):
    if not condition:
        fail(message)


def parse_args(description, extra=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tls-port", type=int, default=0, help="use TLS on this port instead")
    parser.add_argument("--cafile", default="")
    parser.add_argument("--username", default="")
    parser.add_argument("--password", default="")
    parser.add_argument("--client-id", default="", help="prefix for every client id")
    parser.add_argument("--timeout", type=float, default=40.0, help="overall deadline, seconds")
    if extra:
        extra(parser)
    return parser.parse_args()


def run(description, scenario, extra=None):
    """Parses the arguments and runs scenario(args) under the deadline."""
    args = parse_args(description, extra)

    def on_alarm(_signum, _frame):
        sys.stderr.write(f"FAIL: {NAME}: overall deadline of {args.timeout:.0f}s passed\n")
        sys.stderr.flush()
        os._exit(3)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(args.timeout))
    try:
        scenario(args)
    except ScenarioFailure as error:
        sys.stderr.write(f"FAIL: {NAME}: {error}\n")
        sys.exit(1)
    except (OSError, ConnectionError) as error:
        sys.stderr.write(f"FAIL: {NAME}: socket error: {error}\n")
        sys.exit(2)
    print(f"PASS {NAME}")
    sys.exit(0)


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def client_id(args, name):
    return f"{args.client_id}{name}"


def topic(name):
    """A fresh topic under a random root so scenarios never see each other's retained data."""
    return f"e2e/{uuid.uuid4().hex[:8]}/{name}"


def _port(args):
    return args.tls_port if args.tls_port else args.port


# ---------------------------------------------------------------------------------------
# paho client


class Client:
    """A connected paho client whose received messages land in a queue."""

    def __init__(self, args, name, version=4, clean=True, keepalive=60, will=None,
                 connect_props=None, expect_rc=0, auto_connect=True):
        self.args = args
        self.version = version
        self.messages = queue.Queue()
        self.connack = threading.Event()
        self.connack_rc = None
        self.connack_flags = None
        self.connack_props = None
        self.acks = {}
        self.ack_event = threading.Condition()
        self.disconnected = threading.Event()
        self.disconnect_rc = None
        proto = mqtt.MQTTv5 if version == 5 else (mqtt.MQTTv31 if version == 3 else mqtt.MQTTv311)
        cid = client_id(args, name)
        if version == 5:
            self.paho = mqtt.Client(cid, protocol=proto)
        else:
            self.paho = mqtt.Client(cid, clean_session=clean, protocol=proto)
        self.clean = clean
        self.keepalive = keepalive
        self.connect_props = connect_props
        if args.tls_port:
            self.paho.tls_set(ca_certs=args.cafile or None)
        if args.username:
            self.paho.username_pw_set(args.username, args.password or None)
        if will:
            self.paho.will_set(*will[:4], properties=will[4] if len(will) > 4 else None)
        self.paho.on_connect = self._on_connect
        self.paho.on_message = lambda _c, _u, msg: self.messages.put(msg)
        self.paho.on_subscribe = self._on_subscribe
        self.paho.on_disconnect = self._on_disconnect
        if auto_connect:
            self.connect(expect_rc)

    def connect(self, expect_rc=0, timeout=10):
        self.connack.clear()
        if self.version == 5:
            self.paho.connect(self.args.host, _port(self.args), self.keepalive,
                              clean_start=self.clean, properties=self.connect_props)
        else:
            self.paho.connect(self.args.host, _port(self.args), self.keepalive)
        self.paho.loop_start()
        check(self.connack.wait(timeout), f"no CONNACK within {timeout}s")
        check(self.connack_rc == expect_rc,
              f"CONNACK code {self.connack_rc}, expected {expect_rc}")
        return self

    def _on_connect(self, _c, _u, flags, rc, props=None):
        self.connack_rc = rc.value if hasattr(rc, "value") else rc
        self.connack_flags = flags
        self.connack_props = props
        self.connack.set()

    def _on_subscribe(self, _c, _u, mid, granted, _props=None):
        with self.ack_event:
            self.acks[mid] = [g.value if hasattr(g, "value") else g for g in granted]
            self.ack_event.notify_all()

    def _on_disconnect(self, _c, _u, rc, _props=None):
        self.disconnect_rc = rc.value if hasattr(rc, "value") else rc
        self.disconnected.set()

    def subscribe(self, filter_, qos=0, options=None, props=None, timeout=10):
        """Subscribes and returns the granted QoS / reason codes."""
        if self.version == 5:
            result, mid = self.paho.subscribe(filter_, options=options or SubscribeOptions(qos=qos),
                                              properties=props)
        else:
            result, mid = self.paho.subscribe(filter_, qos)
        check(result == mqtt.MQTT_ERR_SUCCESS, f"subscribe({filter_}) failed locally: {result}")
        deadline = time.monotonic() + timeout
        with self.ack_event:
            while mid not in self.acks:
                left = deadline - time.monotonic()
                check(left > 0, f"no SUBACK for {filter_} within {timeout}s")
                self.ack_event.wait(left)
            return self.acks[mid]

    def publish(self, topic_, payload, qos=0, retain=False, props=None, timeout=10):
        info = self.paho.publish(topic_, payload, qos=qos, retain=retain, properties=props)
        check(info.rc == mqtt.MQTT_ERR_SUCCESS, f"publish to {topic_} failed locally: {info.rc}")
        if qos > 0:
            info.wait_for_publish(timeout)
            check(info.is_published(), f"QoS {qos} publish to {topic_} not acknowledged in {timeout}s")
        return info

    def expect(self, count, timeout=10, what="messages"):
        """Returns exactly `count` messages or fails."""
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < count:
            left = deadline - time.monotonic()
            try:
                got.append(self.messages.get(timeout=max(left, 0.001)))
            except queue.Empty:
                fail(f"expected {count} {what}, received {len(got)}: "
                     f"{[(m.topic, m.payload) for m in got]}")
        return got

    def expect_none(self, seconds=1.0, what="message"):
        """Fails if anything arrives within `seconds` (a bounded quiet period, not a timing check)."""
        try:
            msg = self.messages.get(timeout=seconds)
        except queue.Empty:
            return
        fail(f"unexpected {what}: topic={msg.topic} payload={msg.payload!r} retain={msg.retain}")

    def disconnect(self):
        self.paho.disconnect()
        self.disconnected.wait(5)
        self.paho.loop_stop()

    def stop(self):
        """Stops the network loop and drops the socket without DISCONNECT."""
        self.paho.loop_stop()
        sock = self.paho.socket()
        if sock is not None:
            sock.close()


def props(packet_type, **values):
    """Builds paho Properties, e.g. props(PacketTypes.PUBLISH, MessageExpiryInterval=2)."""
    p = Properties(packet_type)
    for key, value in values.items():
        setattr(p, key, value)
    return p


def barrier(client, args, name="barrier"):
    """Round trip through the broker so everything published before has been routed."""
    t = topic(name)
    client.subscribe(t, qos=1) if client.version != 5 else client.subscribe(t, options=SubscribeOptions(qos=1))
    client.publish(t, b"sync", qos=1)
    while True:
        msg = client.expect(1, what="barrier message")[0]
        if msg.topic == t:
            return
        client.messages.put(msg)


# ---------------------------------------------------------------------------------------
# raw socket client

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 10, 11, 12, 13, 14

_BYTE = {0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A}
_TWO = {0x13, 0x21, 0x22, 0x23}
_FOUR = {0x02, 0x11, 0x18, 0x27}
_VARINT = {0x0B}
_BINARY = {0x09, 0x16}
_PAIR = {0x26}


def varint(value):
    out = bytearray()
    while True:
        byte = value % 128
        value //= 128
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def utf8(text):
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("!H", len(data)) + data


def encode_props(items):
    """items: list of (id, value)."""
    body = bytearray()
    for pid, value in items or []:
        body += varint(pid)
        if pid in _BYTE:
            body += struct.pack("!B", value)
        elif pid in _TWO:
            body += struct.pack("!H", value)
        elif pid in _FOUR:
            body += struct.pack("!I", value)
        elif pid in _VARINT:
            body += varint(value)
        elif pid in _PAIR:
            body += utf8(value[0]) + utf8(value[1])
        else:
            body += utf8(value)
    return varint(len(body)) + bytes(body)


def decode_varint(data, pos):
    value, mult = 0, 1
    while True:
        byte = data[pos]
        pos += 1
        value += (byte & 0x7F) * mult
        mult *= 128
        if not byte & 0x80:
            return value, pos


def decode_props(data, pos):
    length, pos = decode_varint(data, pos)
    end = pos + length
    items = []
    while pos < end:
        pid, pos = decode_varint(data, pos)
        if pid in _BYTE:
            value, pos = data[pos], pos + 1
        elif pid in _TWO:
            value, pos = struct.unpack_from("!H", data, pos)[0], pos + 2
        elif pid in _FOUR:
            value, pos = struct.unpack_from("!I", data, pos)[0], pos + 4
        elif pid in _VARINT:
            value, pos = decode_varint(data, pos)
        elif pid in _PAIR:
            k_len = struct.unpack_from("!H", data, pos)[0]
            key = data[pos + 2:pos + 2 + k_len].decode()
            pos += 2 + k_len
            v_len = struct.unpack_from("!H", data, pos)[0]
            value = (key, data[pos + 2:pos + 2 + v_len].decode())
            pos += 2 + v_len
        else:
            n = struct.unpack_from("!H", data, pos)[0]
            value = data[pos + 2:pos + 2 + n]
            if pid not in _BINARY:
                value = value.decode()
            pos += 2 + n
        items.append((pid, value))
    return items, end


def prop(items, pid, default=None):
    for key, value in items:
        if key == pid:
            return value
    return default


class Packet:
    def __init__(self, kind, flags, body):
        self.kind, self.flags, self.body = kind, flags, body

    def __repr__(self):
        return f"Packet(type={self.kind}, flags={self.flags:#x}, body={self.body[:32]!r})"


class Publish:
    """A decoded PUBLISH."""

    def __init__(self, packet, version):
        body = packet.body
        self.dup = bool(packet.flags & 8)
        self.qos = (packet.flags >> 1) & 3
        self.retain = bool(packet.flags & 1)
        n = struct.unpack_from("!H", body, 0)[0]
        self.topic = body[2:2 + n].decode()
        pos = 2 + n
        self.mid = None
        if self.qos:
            self.mid = struct.unpack_from("!H", body, pos)[0]
            pos += 2
        self.props = []
        if version == 5:
            self.props, pos = decode_props(body, pos)
        self.payload = body[pos:]

    def __repr__(self):
        return f"Publish(topic={self.topic!r}, qos={self.qos}, dup={self.dup}, mid={self.mid}, payload={self.payload!r})"


class Closed(Exception):
    """The broker closed the connection."""


class Raw:
    """An MQTT client written by hand over a socket."""

    def __init__(self, args, version=4):
        self.args = args
        self.version = version
        self.buffer = b""
        sock = socket.create_connection((args.host, _port(args)), timeout=10)
        if args.tls_port:
            context = ssl.create_default_context(cafile=args.cafile or None)
            sock = context.wrap_socket(sock, server_hostname=args.host)
        self.sock = sock

    def send(self, kind, flags, body):
        self.sock.sendall(bytes([(kind << 4) | flags]) + varint(len(body)) + body)

    def read(self, timeout=10):
        """The next packet; None on timeout; raises Closed when the broker closes."""
        deadline = time.monotonic() + timeout
        while True:
            packet = self._parse()
            if packet:
                return packet
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            except (ConnectionResetError, ssl.SSLError):
                raise Closed()
            if not chunk:
                raise Closed()
            self.buffer += chunk

    def _parse(self):
        if len(self.buffer) < 2:
            return None
        length, mult, pos = 0, 1, 1
        while True:
            if pos >= len(self.buffer):
                return None
            byte = self.buffer[pos]
            length += (byte & 0x7F) * mult
            mult *= 128
            pos += 1
            if not byte & 0x80:
                break
        if len(self.buffer) < pos + length:
            return None
        first = self.buffer[0]
        body = self.buffer[pos:pos + length]
        self.buffer = self.buffer[pos + length:]
        return Packet(first >> 4, first & 0x0F, body)

    def expect(self, kind, timeout=10, what=None):
        packet = self.read(timeout)
        check(packet is not None, f"expected {what or kind} within {timeout}s, got nothing")
        check(packet.kind == kind, f"expected {what or kind}, got {packet}")
        return packet

    def connect(self, name, clean=True, keepalive=60, will=None, props=None, expect_rc=0):
        """will: (topic, payload, qos, retain[, will_props])."""
        cid = client_id(self.args, name)
        flags = 0x02 if clean else 0
        payload = utf8(cid)
        if will:
            flags |= 0x04 | (will[2] << 3) | (0x20 if will[3] else 0)
            if self.version == 5:
                payload += encode_props(will[4] if len(will) > 4 else [])
            payload += utf8(will[0]) + utf8(will[1])
        if self.args.username:
            flags |= 0x80
            payload += utf8(self.args.username)
            if self.args.password:
                flags |= 0x40
                payload += utf8(self.args.password)
        body = utf8("MQTT") + bytes([self.version, flags]) + struct.pack("!H", keepalive)
        if self.version == 5:
            body += encode_props(props)
        self.send(CONNECT, 0, body + payload)
        packet = self.expect(CONNACK, what="CONNACK")
        self.session_present = bool(packet.body[0] & 1)
        self.connack_rc = packet.body[1]
        self.connack_props = decode_props(packet.body, 2)[0] if self.version == 5 and len(packet.body) > 2 else []
        check(self.connack_rc == expect_rc, f"CONNACK code {self.connack_rc:#x}, expected {expect_rc:#x}")
        return self

    def subscribe(self, mid, filters, props=None):
        """filters: list of (filter, options byte). Returns the SUBACK codes."""
        body = struct.pack("!H", mid)
        if self.version == 5:
            body += encode_props(props)
        for filter_, options in filters:
            body += utf8(filter_) + bytes([options])
        self.send(SUBSCRIBE, 2, body)
        packet = self.expect(SUBACK, what="SUBACK")
        check(struct.unpack_from("!H", packet.body, 0)[0] == mid, "SUBACK for another packet id")
        pos = 2
        if self.version == 5:
            _, pos = decode_props(packet.body, pos)
        return list(packet.body[pos:])

    def publish(self, topic_, payload, qos=0, mid=None, retain=False, dup=False, props=None):
        flags = (qos << 1) | (1 if retain else 0) | (8 if dup else 0)
        body = utf8(topic_)
        if qos:
            body += struct.pack("!H", mid)
        if self.version == 5:
            body += encode_props(props)
        self.send(PUBLISH, flags, body + (payload.encode() if isinstance(payload, str) else payload))

    def ack(self, kind, mid):
        self.send(kind, 2 if kind == PUBREL else 0, struct.pack("!H", mid))

    def read_publish(self, timeout=10, what="PUBLISH"):
        packet = self.expect(PUBLISH, timeout, what)
        return Publish(packet, self.version)

    def expect_no_publish(self, seconds=1.0):
        packet = self.read(seconds)
        if packet is not None:
            check(packet.kind != PUBLISH, f"unexpected {Publish(packet, self.version)}")

    def disconnect(self, reason=None):
        body = b"" if reason is None else bytes([reason]) + b"\x00"
        self.send(DISCONNECT, 0, body)
        self.sock.close()

    def close(self):
        """Drops the connection without DISCONNECT."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def wait_closed(self, timeout):
        """Reads until the broker closes; returns the DISCONNECT packet seen (or None)."""
        deadline = time.monotonic() + timeout
        seen = None
        while True:
            left = deadline - time.monotonic()
            check(left > 0, f"broker did not close the connection within {timeout}s")
            try:
                packet = self.read(left)
            except Closed:
                return seen
            if packet is not None and packet.kind == DISCONNECT:
                seen = packet
