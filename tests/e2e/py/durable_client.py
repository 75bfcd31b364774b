#!/usr/bin/python3
"""Client steps for the durable-state tests (test_broker_durable.cpp), which restart or
kill -9 the broker between them. One action per run:

  subscribe  persistent session (clean session 0 / v5 expiry): subscribe, disconnect
  publish    N messages "0".."N-1" (QoS 1 or 2, optionally retained), all acknowledged
  load       QoS 1 messages "0", "1", ... as fast as acks allow until the connection
             drops; prints the index of every acknowledged message, one per line,
             then "END <published>"
  drain      resume the persistent session, print {"session_present":..,"payloads":[..]}
             once nothing arrived for --idle seconds
  retained   subscribe with a clean session, print {"topic": payload} of what arrived
"""

import argparse
import json
import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


def make_client(args, client_id, clean, on_message=None):
    version = mqtt.MQTTv5 if args.version == 5 else mqtt.MQTTv311
    if version == mqtt.MQTTv5:
        client = mqtt.Client(client_id=client_id, protocol=version)
    else:
        client = mqtt.Client(client_id=client_id, clean_session=clean, protocol=version)
    connected = threading.Event()
    state = {"flags": {}}

    def on_connect(c, userdata, flags, rc, properties=None):
        state["flags"] = flags
        connected.set()

    client.on_connect = on_connect
    if on_message:
        client.on_message = on_message  # before CONNECT: queued messages follow CONNACK at once
    if version == mqtt.MQTTv5:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 0 if clean else 3600
        client.connect("127.0.0.1", args.port, keepalive=30, clean_start=clean, properties=props)
    else:
        client.connect("127.0.0.1", args.port, keepalive=30)
    client.loop_start()
    if not connected.wait(20):
        sys.exit("FAIL: no CONNACK")
    return client, state


def subscribe(args):
    client, _ = make_client(args, args.client_id, clean=False)
    done = threading.Event()
    client.on_subscribe = lambda *a: done.set()
    client.subscribe(args.topic, qos=args.qos)
    if not done.wait(20):
        sys.exit("FAIL: no SUBACK")
    client.disconnect()
    client.loop_stop()
    print("OK")


def publish(args):
    client, _ = make_client(args, args.client_id, clean=True)
    infos = [client.publish(args.topic, str(i) if args.payload is None else args.payload, qos=args.qos,
                            retain=args.retain) for i in range(args.count)]
    for info in infos:
        info.wait_for_publish(20)
        if not info.is_published():
            sys.exit("FAIL: a message was not acknowledged")
    client.disconnect()
    client.loop_stop()
    print("OK")


def load(args):
    client, _ = make_client(args, args.client_id, clean=True)
    client.max_inflight_messages_set(args.inflight)
    lock = threading.Lock()
    gone = threading.Event()
    pending = set()

    def on_publish(c, userdata, mid):
        # paho numbers messages 1, 2, ... (below 65535 nothing wraps): message i has mid i + 1.
        with lock:
            pending.discard(mid)
            sys.stdout.write(f"{mid - 1}\n")
            sys.stdout.flush()

    client.on_publish = on_publish
    client.on_disconnect = lambda *a: gone.set()
    published = 0
    while not gone.is_set() and published < 65000:
        with lock:
            room = len(pending) < args.inflight
        if not room:
            time.sleep(0.0005)
            continue
        info = client.publish(args.topic, str(published), qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            break
        if info.mid != published + 1:
            sys.exit(f"FAIL: unexpected message id {info.mid} for message {published}")
        with lock:
            pending.add(info.mid)
        published += 1
    gone.wait(60)
    client.loop_stop()
    with lock:
        sys.stdout.write(f"END {published}\n")
        sys.stdout.flush()


def drain(args):
    payloads = []
    last = [time.monotonic()]
    lock = threading.Lock()

    def on_message(c, userdata, message):
        with lock:
            payloads.append(message.payload.decode())
            last[0] = time.monotonic()

    client, state = make_client(args, args.client_id, clean=False, on_message=on_message)
    while True:
        time.sleep(0.2)
        with lock:
            if time.monotonic() - last[0] > args.idle:
                break
    client.disconnect()
    client.loop_stop()
    flags = state["flags"]
    present = flags.session_present if hasattr(flags, "session_present") else flags.get("session present", 0)
    print(json.dumps({"session_present": bool(present), "payloads": payloads}))


def retained(args):
    got = {}
    lock = threading.Lock()

    def on_message(c, userdata, message):
        with lock:
            got[message.topic] = message.payload.decode()

    client, _ = make_client(args, args.client_id, clean=True, on_message=on_message)
    client.subscribe(args.topic, qos=1)
    time.sleep(args.idle)
    client.disconnect()
    client.loop_stop()
    with lock:
        print(json.dumps(got))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["subscribe", "publish", "load", "drain", "retained"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--version", type=int, default=4, choices=[4, 5])
    parser.add_argument("--client-id", default="")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--qos", type=int, default=1)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--payload", default=None)
    parser.add_argument("--retain", action="store_true")
    parser.add_argument("--inflight", type=int, default=100)
    parser.add_argument("--idle", type=float, default=3.0)
    args = parser.parse_args()
    {"subscribe": subscribe, "publish": publish, "load": load, "drain": drain, "retained": retained}[args.action](args)


if __name__ == "__main__":
    main()
