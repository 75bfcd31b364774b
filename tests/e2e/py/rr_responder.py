"""An MQTT 5 responder for `mqfleet rr` tests (not a broker scenario): subscribes to
--request-topic, prints "ready" once the broker acknowledged it, and answers every request
on its Response Topic with "re: <payload>" and the request's Correlation Data. With
--decoy it first sends a response with other correlation data (someone else's answer),
which rr must skip. Exits after --count requests or --timeout seconds."""
import argparse
import sys
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

parser = argparse.ArgumentParser()
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--request-topic", required=True)
parser.add_argument("--count", type=int, default=1)
parser.add_argument("--decoy", action="store_true")
parser.add_argument("--timeout", type=float, default=30)
args = parser.parse_args()

done = threading.Event()
answered = 0


def on_connect(client, userdata, flags, reason, properties=None):
    client.subscribe(args.request_topic, qos=1)


def on_subscribe(client, userdata, mid, granted, properties=None):
    print("ready", flush=True)


def respond(client, topic, payload, correlation):
    props = Properties(PacketTypes.PUBLISH)
    if correlation is not None:
        props.CorrelationData = correlation
    client.publish(topic, payload, qos=1, properties=props)


def on_message(client, userdata, message):
    global answered
    props = message.properties
    topic = getattr(props, "ResponseTopic", None)
    if topic is None:
        print("request without a response topic", file=sys.stderr, flush=True)
        return
    correlation = getattr(props, "CorrelationData", None)
    if args.decoy:
        respond(client, topic, b"decoy", b"not-" + (correlation or b"x"))
    respond(client, topic, b"re: " + message.payload, correlation)
    answered += 1
    if answered >= args.count:
        done.set()


client = mqtt.Client(client_id="rr-responder", protocol=mqtt.MQTTv5)
client.on_connect = on_connect
client.on_subscribe = on_subscribe
client.on_message = on_message
client.connect(args.host, args.port)
client.loop_start()
done.wait(args.timeout)
client.loop_stop()
client.disconnect()
sys.exit(0 if done.is_set() else 1)
