#!/usr/bin/python3
"""Command sender for bench/sim_10k.sh: while `mqfleet sim` runs, send commands with an
`id` to random simulated devices at a steady rate and collect their replies.

It waits until the broker reports (via $SYS/broker/clients/connected, so the broker needs
`--sys-interval 1`) that every device is connected (at most `--ready-timeout` seconds;
then it warns and goes on, and commands to devices that are not there will be missing),
gives the devices `--settle` seconds to have their command subscriptions acknowledged,
then sends `--count` QoS 1 commands to
`bench/<device>/cmd` evenly over the time left before `--end-margin` seconds before the
run ends, and listens on `bench/+/ack` for the replies until shortly before the run ends.
Writes one JSON object to `--out`: sent, acked (distinct ids answered), missing (a few
ids with their devices), duplicates, and the end-to-end round trip (send -> reply received) percentiles.
Exit code 0 when it could run (lost commands are for the caller to judge), 1 otherwise.

Needs python3-paho-mqtt 1.x: run with /usr/bin/python3.
"""

import argparse
import json
import random
import sys
import threading
import time

import paho.mqtt.client as mqtt


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--devices", type=int, required=True)
    parser.add_argument("--device-format", default="m-{:05d}", help="device id from its index")
    parser.add_argument("--count", type=int, default=300, help="commands to send")
    parser.add_argument("--duration", type=float, required=True, help="the sim's run length in seconds")
    parser.add_argument("--ready-timeout", type=float, default=30.0,
                        help="seconds to wait for every device to be connected")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds after all devices are connected")
    parser.add_argument("--end-margin", type=float, default=10.0, help="stop sending this long before the end")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    started = time.monotonic()
    run_end = started + args.duration
    lock = threading.Condition()
    state = {"connected": 0, "sent_at": {}, "target": {}, "rtt": {}, "duplicates": 0, "unknown": 0}

    def on_message(client, userdata, message):
        now = time.monotonic()
        with lock:
            if message.topic == "$SYS/broker/clients/connected":
                try:
                    state["connected"] = int(message.payload)
                except ValueError:
                    pass
                lock.notify_all()
                return
            try:
                command_id = json.loads(message.payload)["id"]
            except (ValueError, KeyError, TypeError):
                state["unknown"] += 1
                return
            if command_id not in state["sent_at"]:
                state["unknown"] += 1
            elif command_id in state["rtt"]:
                state["duplicates"] += 1
            else:
                state["rtt"][command_id] = now - state["sent_at"][command_id]
            lock.notify_all()

    client = mqtt.Client(client_id="sim-bench-commander", clean_session=True)
    client.on_message = on_message
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", args.port, keepalive=60)
    client.subscribe([("$SYS/broker/clients/connected", 0), ("bench/+/ack", 1)])
    client.loop_start()
    try:
        with lock:
            ready = lock.wait_for(lambda: state["connected"] >= args.devices + 1,
                                  timeout=max(1.0, min(args.ready_timeout,
                                                       run_end - args.end_margin - 1.0 - time.monotonic())))
            connected = max(state["connected"] - 1, 0)
        if not ready:
            print(f"sim_commands: warning: {connected} of {args.devices} devices connected after waiting; "
                  "sending anyway", file=sys.stderr)
        time.sleep(args.settle)
        first = time.monotonic()
        window = run_end - args.end_margin - first
        if window < 1.0:
            print(f"sim_commands: no time left to send commands ({window:.1f} s); use a longer --duration",
                  file=sys.stderr)
            return 1
        interval = window / args.count
        rng = random.Random(args.seed)
        infos = []
        for n in range(args.count):
            due = first + n * interval
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            device = args.device_format.format(rng.randrange(args.devices))
            command_id = f"c{n:05d}"
            with lock:
                state["sent_at"][command_id] = time.monotonic()
                state["target"][command_id] = device
            infos.append(client.publish(f"bench/{device}/cmd", json.dumps({"id": command_id}), qos=1))
        for info in infos:
            info.wait_for_publish(timeout=max(0.1, run_end - time.monotonic()))
        with lock:
            lock.wait_for(lambda: len(state["rtt"]) >= args.count,
                          timeout=max(0.1, run_end - 1.0 - time.monotonic()))
            rtts = [v * 1000.0 for v in state["rtt"].values()]
            missing = sorted(set(state["sent_at"]) - set(state["rtt"]))
            result = {
                "sent": len(state["sent_at"]),
                "devices_connected_at_start": connected,
                "puback": sum(1 for i in infos if i.is_published()),
                "acked": len(state["rtt"]),
                "missing": [f"{i}@{state['target'][i]}" for i in missing[:10]],
                "missing_count": len(missing),
                "duplicates": state["duplicates"],
                "unknown": state["unknown"],
                "send_rate_per_s": round(args.count / window, 1),
                "rtt_p50_ms": percentile(rtts, 50),
                "rtt_p99_ms": percentile(rtts, 99),
            }
    finally:
        client.loop_stop()
        client.disconnect()
    with open(args.out, "w") as out:
        json.dump(result, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
