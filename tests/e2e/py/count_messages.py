#!/usr/bin/python3
"""An independent subscriber (paho): subscribes to --topic at QoS 1, prints READY once the
SUBACK is in, then counts the messages and prints "COUNT <n>" once --idle seconds passed
without one after the first (no message before the overall --timeout fails)."""

import time

from mqtt_e2e import Client, run


def extra(parser):
    parser.add_argument("--topic", required=True)
    parser.add_argument("--idle", type=float, default=3.0)


def scenario(args):
    counter = Client(args, "independent-counter")
    counter.subscribe(args.topic, qos=1)
    print("READY", flush=True)
    count = 0
    last = None  # the idle time counts from the first message
    while last is None or time.monotonic() - last < args.idle:
        try:
            counter.messages.get(timeout=0.2)
            count += 1
            last = time.monotonic()
        except Exception:  # queue.Empty
            pass
    print(f"COUNT {count}", flush=True)
    counter.disconnect()


if __name__ == "__main__":
    run(__doc__, scenario, extra)
